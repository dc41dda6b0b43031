import { and, asc, count, desc, eq, inArray, lt, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { queryRows, type Db } from '@itsm/kit';
import {
  changeDependencies,
  changeIncidents,
  changeProblems,
  changeRequests,
  changeTransitions,
  type ChangeRequestRow,
  type ChangeTransitionRow,
} from './schema.js';

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

/** Compare-and-set update of a change request: undefined when the version moved on (or the change is gone). */
export async function updateChange(
  db: Db,
  tenantId: string,
  id: string,
  expectedVersion: number,
  values: Partial<Omit<typeof changeRequests.$inferInsert, 'tenantId' | 'id' | 'version' | 'plannedRange'>>,
): Promise<ChangeRequestRow | undefined> {
  const [row] = await db
    .update(changeRequests)
    .set({ ...values, version: sql`${changeRequests.version} + 1` })
    .where(and(eq(changeRequests.tenantId, tenantId), eq(changeRequests.id, id), eq(changeRequests.version, expectedVersion)))
    .returning();
  return row;
}

/** Records one state change of a change request. */
export async function insertTransition(db: Db, values: typeof changeTransitions.$inferInsert): Promise<void> {
  await db.insert(changeTransitions).values(values);
}

/** The transitions of several changes, oldest first. */
export async function getTransitionsByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]): Promise<ChangeTransitionRow[]> {
  if (!changeIds.length) return [];
  return db
    .select()
    .from(changeTransitions)
    .where(and(eq(changeTransitions.tenantId, tenantId), inArray(changeTransitions.changeId, [...changeIds])))
    .orderBy(asc(changeTransitions.occurredAt), asc(changeTransitions.id));
}

/** Replaces the set of changes a change depends on. */
export async function replaceDependencies(db: Db, tenantId: string, changeId: string, dependsOnIds: readonly string[]): Promise<void> {
  await db.delete(changeDependencies).where(and(eq(changeDependencies.tenantId, tenantId), eq(changeDependencies.changeId, changeId)));
  if (dependsOnIds.length) {
    await db.insert(changeDependencies).values(dependsOnIds.map((dependsOnId) => ({ tenantId, changeId, dependsOnId })));
  }
}

/** The changes each of several changes depends on. */
export async function getDependenciesByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]) {
  if (!changeIds.length) return [];
  return db
    .select({ changeId: changeDependencies.changeId, dependency: changeRequests })
    .from(changeDependencies)
    .innerJoin(changeRequests, and(eq(changeRequests.tenantId, changeDependencies.tenantId), eq(changeRequests.id, changeDependencies.dependsOnId)))
    .where(and(eq(changeDependencies.tenantId, tenantId), inArray(changeDependencies.changeId, [...changeIds])))
    .orderBy(asc(changeRequests.number));
}

/** Ids of the changes that depend on a change. */
export async function getDependentIds(db: Db, tenantId: string, changeId: string): Promise<string[]> {
  const rows = await db
    .select({ changeId: changeDependencies.changeId })
    .from(changeDependencies)
    .where(and(eq(changeDependencies.tenantId, tenantId), eq(changeDependencies.dependsOnId, changeId)));
  return rows.map((r) => r.changeId);
}

/** Whether `toId` can be reached from `fromId` along depends-on edges (adding to -> from would close a cycle). */
export async function dependencyPathExists(db: Db, tenantId: string, fromIds: readonly string[], toId: string): Promise<boolean> {
  if (!fromIds.length) return false;
  const rows = await queryRows<{ found: boolean }>(
    db,
    sql`with recursive reach(id) as (
          select unnest(${sql`array[${sql.join(fromIds.map((id) => sql`${id}::uuid`), sql`, `)}]`})
          union
          select d.depends_on_id from ${changeDependencies} d join reach r on d.change_id = r.id where d.tenant_id = ${tenantId}
        )
        select exists(select 1 from reach where id = ${toId}::uuid) as found`,
  );
  return rows[0]?.found === true;
}

const INACTIVE_STATES = ['CANCELLED', 'CLOSED'];

/**
 * Active changes other than `excludeId` whose planned interval overlaps [start, end) and that share a configuration
 * item or a service or have this assignee: the candidates conflict detection looks at. The && on planned_range is
 * answered by the (tenant_id, planned_range) GiST index.
 */
export async function findOverlappingChanges(
  db: Db,
  tenantId: string,
  options: { excludeId?: string; start: Date; end: Date; configurationItems: readonly string[]; services: readonly string[]; assigneeId: string | null },
): Promise<ChangeRequestRow[]> {
  const touches: SQL[] = [
    sql`${changeRequests.configurationItems} && ${textArray(options.configurationItems)}`,
    sql`${changeRequests.services} && ${textArray(options.services)}`,
  ];
  if (options.assigneeId !== null) touches.push(eq(changeRequests.assigneeId, options.assigneeId));
  return db
    .select()
    .from(changeRequests)
    .where(
      and(
        eq(changeRequests.tenantId, tenantId),
        sql`${changeRequests.plannedRange} && tstzrange(${options.start.toISOString()}::timestamptz, ${options.end.toISOString()}::timestamptz, '[)')`,
        notInArray(changeRequests.state, INACTIVE_STATES),
        options.excludeId ? ne(changeRequests.id, options.excludeId) : undefined,
        or(...touches),
      ),
    )
    .orderBy(asc(changeRequests.plannedStart), asc(changeRequests.id));
}

/** Changes (cancelled ones left out) planned to overlap [from, to), optionally only those on the named items or services. */
export async function getChangesPlannedBetween(
  db: Db,
  tenantId: string,
  options: { from: Date; to: Date; configurationItems?: readonly string[] | null; services?: readonly string[] | null; limit: number },
): Promise<ChangeRequestRow[]> {
  const scoped = options.configurationItems?.length || options.services?.length;
  return db
    .select()
    .from(changeRequests)
    .where(
      and(
        eq(changeRequests.tenantId, tenantId),
        sql`${changeRequests.plannedRange} && tstzrange(${options.from.toISOString()}::timestamptz, ${options.to.toISOString()}::timestamptz, '[)')`,
        ne(changeRequests.state, 'CANCELLED'),
        scoped
          ? or(
              sql`${changeRequests.configurationItems} && ${textArray(options.configurationItems ?? [])}`,
              sql`${changeRequests.services} && ${textArray(options.services ?? [])}`,
            )
          : undefined,
      ),
    )
    .orderBy(asc(changeRequests.plannedStart), asc(changeRequests.number))
    .limit(options.limit);
}

/** Active changes planned to end after `after`, on any of the items or services (or all of them): what a new window may affect. */
export async function getActiveChangesPlannedAfter(
  db: Db,
  tenantId: string,
  options: { after: Date; scope: { all: true } | { configurationItems: readonly string[]; services: readonly string[] } },
): Promise<ChangeRequestRow[]> {
  return db
    .select()
    .from(changeRequests)
    .where(
      and(
        eq(changeRequests.tenantId, tenantId),
        sql`${changeRequests.plannedEnd} > ${options.after.toISOString()}::timestamptz`,
        notInArray(changeRequests.state, INACTIVE_STATES),
        'all' in options.scope
          ? undefined
          : or(
              sql`${changeRequests.configurationItems} && ${textArray(options.scope.configurationItems)}`,
              sql`${changeRequests.services} && ${textArray(options.scope.services)}`,
            ),
      ),
    )
    .orderBy(asc(changeRequests.id));
}

/** Changes in a state (AUTHORIZE) awaiting a given approval path's decision, oldest first. */
export async function getChangesAwaitingApproval(db: Db, tenantId: string, approvalPath: string): Promise<ChangeRequestRow[]> {
  return db
    .select()
    .from(changeRequests)
    .where(
      and(
        eq(changeRequests.tenantId, tenantId),
        eq(changeRequests.state, 'AUTHORIZE'),
        eq(changeRequests.approvalPath, approvalPath),
        eq(changeRequests.approvalStatus, 'PENDING'),
      ),
    )
    .orderBy(asc(changeRequests.openedAt), asc(changeRequests.number));
}

function textArray(values: readonly string[]): SQL {
  return values.length ? sql`array[${sql.join(values.map((v) => sql`${v}`), sql`, `)}]::text[]` : sql`'{}'::text[]`;
}

/** One change request, row-locked until the transaction ends (decisions that do not carry the client's version). */
export async function getChangeForUpdate(db: Db, tenantId: string, id: string): Promise<ChangeRequestRow | undefined> {
  const [row] = await db.select().from(changeRequests).where(and(eq(changeRequests.tenantId, tenantId), eq(changeRequests.id, id))).for('update');
  return row;
}
