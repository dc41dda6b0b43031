import { and, asc, count, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { incidentHistory, incidents, tenantSettings, type IncidentRow } from './schema.js';

export interface IncidentListFilter {
  state?: string[] | null;
  priority?: number[] | null;
  number?: string | null;
  assignmentGroup?: string | null;
  category?: string | null;
}

function filterConditions(tenantId: string, filter: IncidentListFilter | null | undefined): SQL[] {
  const where: SQL[] = [eq(incidents.tenantId, tenantId)];
  if (filter?.state?.length) where.push(inArray(incidents.state, filter.state));
  if (filter?.priority?.length) where.push(inArray(incidents.priority, filter.priority));
  if (filter?.number) where.push(eq(incidents.number, filter.number));
  if (filter?.assignmentGroup) where.push(eq(incidents.assignmentGroup, filter.assignmentGroup));
  if (filter?.category) where.push(eq(incidents.category, filter.category));
  return where;
}

/** Incidents of a tenant by id, in no particular order (loaders reorder). */
export async function getIncidentsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<IncidentRow[]> {
  if (!ids.length) return [];
  return db.select().from(incidents).where(and(eq(incidents.tenantId, tenantId), inArray(incidents.id, [...ids])));
}

/** One incident by its human number. */
export async function getIncidentByNumber(db: Db, tenantId: string, number: string): Promise<IncidentRow | undefined> {
  const [row] = await db
    .select()
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.number, number)));
  return row;
}

/** A page of incidents, newest opened first, after a keyset position; fetches one extra row. */
export async function listIncidents(
  db: Db,
  tenantId: string,
  options: { filter?: IncidentListFilter | null; after?: { openedAt: Date; id: string }; limit: number },
): Promise<IncidentRow[]> {
  const where = filterConditions(tenantId, options.filter);
  if (options.after) {
    const { openedAt, id } = options.after;
    where.push(or(lt(incidents.openedAt, openedAt), and(eq(incidents.openedAt, openedAt), lt(incidents.id, id)))!);
  }
  return db
    .select()
    .from(incidents)
    .where(and(...where))
    .orderBy(desc(incidents.openedAt), desc(incidents.id))
    .limit(options.limit + 1);
}

/** How many incidents match a filter. */
export async function countIncidents(db: Db, tenantId: string, filter?: IncidentListFilter | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(incidents).where(and(...filterConditions(tenantId, filter)));
  return row?.n ?? 0;
}

/** Inserts one incident and returns it. */
export async function insertIncident(db: Db, values: typeof incidents.$inferInsert): Promise<IncidentRow> {
  const [row] = await db.insert(incidents).values(values).returning();
  return row!;
}

/** Compare-and-set update: writes only when the stored version is still `version`. */
export async function updateIncidentIfVersion(
  db: Db,
  tenantId: string,
  id: string,
  version: number,
  patch: Partial<typeof incidents.$inferInsert>,
): Promise<IncidentRow | undefined> {
  const [row] = await db
    .update(incidents)
    .set({ ...patch, version: sql`${incidents.version} + 1`, updatedAt: patch.updatedAt ?? new Date() })
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.id, id), eq(incidents.version, version)))
    .returning();
  return row;
}

/** Appends history entries. */
export async function insertHistory(db: Db, rows: (typeof incidentHistory.$inferInsert)[]): Promise<void> {
  if (rows.length) await db.insert(incidentHistory).values(rows);
}

/** History of several incidents, oldest first per incident. */
export async function getHistoryByIncidentIds(db: Db, tenantId: string, incidentIds: readonly string[]) {
  if (!incidentIds.length) return [];
  return db
    .select()
    .from(incidentHistory)
    .where(and(eq(incidentHistory.tenantId, tenantId), inArray(incidentHistory.incidentId, [...incidentIds])))
    .orderBy(asc(incidentHistory.incidentId), asc(incidentHistory.id));
}

/** The tenant's stored priority matrix, if it replaced the default. */
export async function getStoredPriorityMatrix(db: Db, tenantId: string): Promise<unknown | undefined> {
  const [row] = await db
    .select({ matrix: tenantSettings.priorityMatrix })
    .from(tenantSettings)
    .where(eq(tenantSettings.tenantId, tenantId));
  return row?.matrix ?? undefined;
}

/** Stores the tenant's priority matrix. */
export async function savePriorityMatrix(db: Db, tenantId: string, matrix: unknown): Promise<void> {
  await db
    .insert(tenantSettings)
    .values({ tenantId, priorityMatrix: matrix })
    .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { priorityMatrix: matrix, updatedAt: new Date() } });
}
