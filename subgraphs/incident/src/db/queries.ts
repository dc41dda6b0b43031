import { and, asc, count, desc, eq, getTableColumns, gt, gte, inArray, lt, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { incidentHistory, incidents, SEARCH_CONFIG, tenantSettings, type IncidentRow } from './schema.js';

export interface IncidentListFilter {
  state?: string[] | null;
  priority?: number[] | null;
  number?: string | null;
  assignmentGroup?: string | null;
  assignee?: string | null;
  category?: string | null;
  major?: boolean | null;
  openedFrom?: Date | null;
  openedTo?: Date | null;
  /** Web-search syntax over title and description. */
  search?: string | null;
}

export type IncidentSortField = 'PRIORITY' | 'OPENED_AT' | 'UPDATED_AT';
export type SortDirection = 'ASC' | 'DESC';

// The generated search document stays in the database: no reader needs it.
const { search: _search, ...incidentColumns } = getTableColumns(incidents);

function filterConditions(tenantId: string, filter: IncidentListFilter | null | undefined): SQL[] {
  const where: SQL[] = [eq(incidents.tenantId, tenantId)];
  if (filter?.state?.length) where.push(inArray(incidents.state, filter.state));
  if (filter?.priority?.length) where.push(inArray(incidents.priority, filter.priority));
  if (filter?.number) where.push(eq(incidents.number, filter.number));
  if (filter?.assignmentGroup) where.push(eq(incidents.assignmentGroup, filter.assignmentGroup));
  if (filter?.assignee) where.push(eq(incidents.assignee, filter.assignee));
  if (filter?.category) where.push(eq(incidents.category, filter.category));
  if (filter?.major != null) where.push(eq(incidents.major, filter.major));
  if (filter?.openedFrom) where.push(gte(incidents.openedAt, filter.openedFrom));
  if (filter?.openedTo) where.push(lt(incidents.openedAt, filter.openedTo));
  if (filter?.search?.trim()) {
    where.push(sql`${incidents.search} @@ websearch_to_tsquery(${SEARCH_CONFIG}::regconfig, ${filter.search})`);
  }
  return where;
}

/** One key of a sort order: the column, its direction and the row field holding its value. */
export interface SortKey {
  column: AnyColumn;
  direction: SortDirection;
  field: 'priority' | 'openedAt' | 'updatedAt' | 'id';
}

/** Sort keys of a sort, most significant first; the id last makes the order total for keyset paging. */
export function sortKeys(field: IncidentSortField, direction: SortDirection): SortKey[] {
  const id: SortKey = { column: incidents.id, direction, field: 'id' };
  switch (field) {
    case 'PRIORITY':
      return [
        { column: incidents.priority, direction, field: 'priority' },
        { column: incidents.openedAt, direction: 'DESC', field: 'openedAt' },
        { ...id, direction: 'DESC' },
      ];
    case 'UPDATED_AT':
      return [{ column: incidents.updatedAt, direction, field: 'updatedAt' }, id];
    case 'OPENED_AT':
      return [{ column: incidents.openedAt, direction, field: 'openedAt' }, id];
  }
}

/** Rows strictly after `values` in the order of `keys`: (k1 > v1) or (k1 = v1 and (k2 > v2 or ...)). */
function afterKeyset(keys: SortKey[], values: readonly unknown[]): SQL {
  const [first, ...rest] = keys;
  const value = values[0];
  const beyond = first!.direction === 'ASC' ? gt(first!.column, value) : lt(first!.column, value);
  if (!rest.length) return beyond;
  return or(beyond, and(eq(first!.column, value), afterKeyset(rest, values.slice(1))))!;
}

/** Incidents of a tenant by id, in no particular order (loaders reorder). */
export async function getIncidentsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<IncidentRow[]> {
  if (!ids.length) return [];
  return db
    .select(incidentColumns)
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), inArray(incidents.id, [...ids])));
}

/** One incident by id, locked until the transaction ends (SLA and timer changes follow). */
export async function getIncidentForUpdate(db: Db, tenantId: string, id: string): Promise<IncidentRow | undefined> {
  const [row] = await db
    .select(incidentColumns)
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.id, id)))
    .for('update');
  return row;
}

/** One incident by its human number. */
export async function getIncidentByNumber(db: Db, tenantId: string, number: string): Promise<IncidentRow | undefined> {
  const [row] = await db
    .select(incidentColumns)
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.number, number)));
  return row;
}

/** A page of incidents in `sort` order after a keyset position (the sort key values of the last row seen); fetches one extra row. */
export async function listIncidents(
  db: Db,
  tenantId: string,
  options: {
    filter?: IncidentListFilter | null;
    sort?: { field: IncidentSortField; direction: SortDirection };
    after?: readonly unknown[];
    limit: number;
  },
): Promise<IncidentRow[]> {
  const where = filterConditions(tenantId, options.filter);
  const keys = sortKeys(options.sort?.field ?? 'OPENED_AT', options.sort?.direction ?? 'DESC');
  if (options.after) where.push(afterKeyset(keys, options.after));
  return db
    .select(incidentColumns)
    .from(incidents)
    .where(and(...where))
    .orderBy(...keys.map((k) => (k.direction === 'ASC' ? asc(k.column) : desc(k.column))))
    .limit(options.limit + 1);
}

/** How many incidents match a filter. */
export async function countIncidents(db: Db, tenantId: string, filter?: IncidentListFilter | null): Promise<number> {
  const [row] = await db.select({ n: count() }).from(incidents).where(and(...filterConditions(tenantId, filter)));
  return row?.n ?? 0;
}

/** Counts of matching incidents per state and per priority, in one scan. */
export async function countIncidentsByStateAndPriority(
  db: Db,
  tenantId: string,
  filter?: IncidentListFilter | null,
): Promise<{ state: string; priority: number; n: number }[]> {
  return db
    .select({ state: incidents.state, priority: incidents.priority, n: count() })
    .from(incidents)
    .where(and(...filterConditions(tenantId, filter)))
    .groupBy(incidents.state, incidents.priority);
}

/** Inserts one incident and returns it. */
export async function insertIncident(db: Db, values: typeof incidents.$inferInsert): Promise<IncidentRow> {
  const [row] = await db.insert(incidents).values(values).returning(incidentColumns);
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
    .returning(incidentColumns);
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

/** RESOLVED incidents of a tenant with their resolution time (auto-close rescheduling). */
export async function getResolvedIncidents(db: Db, tenantId: string): Promise<{ id: string; resolvedAt: Date | null }[]> {
  return db
    .select({ id: incidents.id, resolvedAt: incidents.resolvedAt })
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.state, 'RESOLVED')));
}

export type TenantSettingsRow = typeof tenantSettings.$inferSelect;

/** The tenant's settings row, if it ever changed a default. */
export async function getTenantSettings(db: Db, tenantId: string): Promise<TenantSettingsRow | undefined> {
  const [row] = await db.select().from(tenantSettings).where(eq(tenantSettings.tenantId, tenantId));
  return row;
}

/** Writes some settings of a tenant, creating its row on first use. */
export async function saveTenantSettings(
  db: Db,
  tenantId: string,
  values: Partial<Pick<TenantSettingsRow, 'priorityMatrix' | 'taxonomy' | 'timeZone' | 'autoCloseDays'>>,
  now = new Date(),
): Promise<TenantSettingsRow> {
  const [row] = await db
    .insert(tenantSettings)
    .values({ tenantId, ...values, updatedAt: now })
    .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { ...values, updatedAt: now } })
    .returning();
  return row!;
}

/** The tenant's stored priority matrix, if it replaced the default. */
export async function getStoredPriorityMatrix(db: Db, tenantId: string): Promise<unknown | undefined> {
  return (await getTenantSettings(db, tenantId))?.priorityMatrix ?? undefined;
}

/** Stores the tenant's priority matrix. */
export async function savePriorityMatrix(db: Db, tenantId: string, matrix: unknown): Promise<void> {
  await saveTenantSettings(db, tenantId, { priorityMatrix: matrix });
}
