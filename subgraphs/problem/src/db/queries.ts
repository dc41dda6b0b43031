import { and, asc, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { problemIncidents, problems, type ProblemIncidentRow, type ProblemRow } from './schema.js';

export interface ProblemListFilter {
  state?: string[] | null;
  number?: string | null;
  externalRef?: string | null;
}

function filterConditions(tenantId: string, filter: ProblemListFilter | null | undefined): SQL[] {
  const where: SQL[] = [eq(problems.tenantId, tenantId)];
  if (filter?.state?.length) where.push(inArray(problems.state, filter.state));
  if (filter?.number) where.push(eq(problems.number, filter.number));
  if (filter?.externalRef) where.push(eq(problems.externalRef, filter.externalRef));
  return where;
}

/** Problems of a tenant by id. */
export async function getProblemsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<ProblemRow[]> {
  if (!ids.length) return [];
  return db.select().from(problems).where(and(eq(problems.tenantId, tenantId), inArray(problems.id, [...ids])));
}

/** One problem by number or by external reference. */
export async function getProblemBy(db: Db, tenantId: string, key: { number?: string; externalRef?: string }): Promise<ProblemRow | undefined> {
  const [row] = await db
    .select()
    .from(problems)
    .where(and(...filterConditions(tenantId, key)));
  return row;
}

/** A page of problems, newest first, after a keyset position (one extra row fetched). */
export async function listProblems(
  db: Db,
  tenantId: string,
  options: { filter?: ProblemListFilter | null; after?: { openedAt: Date; id: string }; limit: number },
): Promise<ProblemRow[]> {
  const where = filterConditions(tenantId, options.filter);
  if (options.after) {
    const { openedAt, id } = options.after;
    where.push(or(lt(problems.openedAt, openedAt), and(eq(problems.openedAt, openedAt), lt(problems.id, id)))!);
  }
  return db
    .select()
    .from(problems)
    .where(and(...where))
    .orderBy(desc(problems.openedAt), desc(problems.id))
    .limit(options.limit + 1);
}

/** How many problems match a filter. */
export async function countProblems(db: Db, tenantId: string, filter?: ProblemListFilter | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(problems).where(and(...filterConditions(tenantId, filter)));
  return row?.n ?? 0;
}

/** Inserts a problem. */
export async function insertProblem(db: Db, values: typeof problems.$inferInsert): Promise<ProblemRow> {
  const [row] = await db.insert(problems).values(values).returning();
  return row!;
}

/** Links an incident; an existing link is kept as it was. Returns true when a link was added. */
export async function insertIncidentLink(db: Db, values: typeof problemIncidents.$inferInsert): Promise<boolean> {
  const rows = await db.insert(problemIncidents).values(values).onConflictDoNothing().returning({ id: problemIncidents.incidentId });
  return rows.length > 0;
}

/** Links of several problems, oldest first. */
export async function getLinksByProblemIds(db: Db, tenantId: string, problemIds: readonly string[]): Promise<ProblemIncidentRow[]> {
  if (!problemIds.length) return [];
  return db
    .select()
    .from(problemIncidents)
    .where(and(eq(problemIncidents.tenantId, tenantId), inArray(problemIncidents.problemId, [...problemIds])))
    .orderBy(asc(problemIncidents.linkedAt), asc(problemIncidents.incidentId));
}

/** Problems linked to each of several incidents, with the link, oldest link first. */
export async function getProblemsByIncidentIds(db: Db, tenantId: string, incidentIds: readonly string[]) {
  if (!incidentIds.length) return [];
  return db
    .select({ incidentId: problemIncidents.incidentId, problem: problems })
    .from(problemIncidents)
    .innerJoin(problems, and(eq(problems.tenantId, problemIncidents.tenantId), eq(problems.id, problemIncidents.problemId)))
    .where(and(eq(problemIncidents.tenantId, tenantId), inArray(problemIncidents.incidentId, [...incidentIds])))
    .orderBy(asc(problemIncidents.linkedAt), asc(problems.number));
}

/** Incident counts of several problems. */
export async function countLinksByProblemIds(db: Db, tenantId: string, problemIds: readonly string[]) {
  if (!problemIds.length) return [];
  return db
    .select({ problemId: problemIncidents.problemId, n: sql<number>`count(*)::int` })
    .from(problemIncidents)
    .where(and(eq(problemIncidents.tenantId, tenantId), inArray(problemIncidents.problemId, [...problemIds])))
    .groupBy(problemIncidents.problemId);
}
