import { and, asc, count, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { changeIncidents, changeProblems, changeRequests, type ChangeRequestRow } from './schema.js';

export interface ChangeListFilter {
  state?: string[] | null;
  type?: string[] | null;
  number?: string | null;
  externalRef?: string | null;
}

function filterConditions(tenantId: string, filter: ChangeListFilter | null | undefined): SQL[] {
  const where: SQL[] = [eq(changeRequests.tenantId, tenantId)];
  if (filter?.state?.length) where.push(inArray(changeRequests.state, filter.state));
  if (filter?.type?.length) where.push(inArray(changeRequests.type, filter.type));
  if (filter?.number) where.push(eq(changeRequests.number, filter.number));
  if (filter?.externalRef) where.push(eq(changeRequests.externalRef, filter.externalRef));
  return where;
}

/** Change requests of a tenant by id. */
export async function getChangesByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<ChangeRequestRow[]> {
  if (!ids.length) return [];
  return db.select().from(changeRequests).where(and(eq(changeRequests.tenantId, tenantId), inArray(changeRequests.id, [...ids])));
}

/** One change request by number or external reference. */
export async function getChangeBy(db: Db, tenantId: string, key: { number?: string; externalRef?: string }): Promise<ChangeRequestRow | undefined> {
  const [row] = await db.select().from(changeRequests).where(and(...filterConditions(tenantId, key)));
  return row;
}

/** A page of change requests, newest first (one extra row fetched). */
export async function listChanges(
  db: Db,
  tenantId: string,
  options: { filter?: ChangeListFilter | null; after?: { openedAt: Date; id: string }; limit: number },
): Promise<ChangeRequestRow[]> {
  const where = filterConditions(tenantId, options.filter);
  if (options.after) {
    const { openedAt, id } = options.after;
    where.push(or(lt(changeRequests.openedAt, openedAt), and(eq(changeRequests.openedAt, openedAt), lt(changeRequests.id, id)))!);
  }
  return db
    .select()
    .from(changeRequests)
    .where(and(...where))
    .orderBy(desc(changeRequests.openedAt), desc(changeRequests.id))
    .limit(options.limit + 1);
}

/** How many change requests match a filter. */
export async function countChanges(db: Db, tenantId: string, filter?: ChangeListFilter | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(changeRequests).where(and(...filterConditions(tenantId, filter)));
  return row?.n ?? 0;
}

/** Inserts a change request. */
export async function insertChange(db: Db, values: typeof changeRequests.$inferInsert): Promise<ChangeRequestRow> {
  const [row] = await db.insert(changeRequests).values(values).returning();
  return row!;
}

/** Links a change to an incident; an existing link stays as it was. */
export async function insertChangeIncident(db: Db, values: typeof changeIncidents.$inferInsert): Promise<void> {
  await db.insert(changeIncidents).values(values).onConflictDoNothing();
}

/** Links a change to a problem; an existing link stays as it was. */
export async function insertChangeProblem(db: Db, values: typeof changeProblems.$inferInsert): Promise<void> {
  await db.insert(changeProblems).values(values).onConflictDoNothing();
}

/** Incident ids linked to each of several changes. */
export async function getIncidentLinksByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]) {
  if (!changeIds.length) return [];
  return db
    .select({ changeId: changeIncidents.changeId, incidentId: changeIncidents.incidentId })
    .from(changeIncidents)
    .where(and(eq(changeIncidents.tenantId, tenantId), inArray(changeIncidents.changeId, [...changeIds])))
    .orderBy(asc(changeIncidents.linkedAt), asc(changeIncidents.incidentId));
}

/** Problem ids linked to each of several changes. */
export async function getProblemLinksByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]) {
  if (!changeIds.length) return [];
  return db
    .select({ changeId: changeProblems.changeId, problemId: changeProblems.problemId })
    .from(changeProblems)
    .where(and(eq(changeProblems.tenantId, tenantId), inArray(changeProblems.changeId, [...changeIds])))
    .orderBy(asc(changeProblems.linkedAt), asc(changeProblems.problemId));
}

/** Changes linked to each of several incidents. */
export async function getChangesByIncidentIds(db: Db, tenantId: string, incidentIds: readonly string[]) {
  if (!incidentIds.length) return [];
  return db
    .select({ incidentId: changeIncidents.incidentId, change: changeRequests })
    .from(changeIncidents)
    .innerJoin(changeRequests, and(eq(changeRequests.tenantId, changeIncidents.tenantId), eq(changeRequests.id, changeIncidents.changeId)))
    .where(and(eq(changeIncidents.tenantId, tenantId), inArray(changeIncidents.incidentId, [...incidentIds])))
    .orderBy(asc(changeRequests.number));
}

/** Changes linked to each of several problems. */
export async function getChangesByProblemIds(db: Db, tenantId: string, problemIds: readonly string[]) {
  if (!problemIds.length) return [];
  return db
    .select({ problemId: changeProblems.problemId, change: changeRequests })
    .from(changeProblems)
    .innerJoin(changeRequests, and(eq(changeRequests.tenantId, changeProblems.tenantId), eq(changeRequests.id, changeProblems.changeId)))
    .where(and(eq(changeProblems.tenantId, tenantId), inArray(changeProblems.problemId, [...problemIds])))
    .orderBy(asc(changeRequests.number));
}
