import { and, asc, desc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import { queryRows, type Db } from '@itsm/kit';
import {
  businessCalendars,
  incidents,
  slaFirings,
  slaPolicies,
  slaPolicyTargets,
  taskSlas,
  timers,
  type BusinessCalendarRow,
  type SlaPolicyRow,
  type SlaPolicyTargetRow,
  type TaskSlaRow,
} from './schema.js';

// ---------------------------------------------------------------- calendars

/** Calendars of a tenant by id, in no particular order. */
export async function getCalendarsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<BusinessCalendarRow[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(businessCalendars)
    .where(and(eq(businessCalendars.tenantId, tenantId), inArray(businessCalendars.id, [...ids])));
}

/** Every calendar of a tenant, by name. */
export async function listCalendars(db: Db, tenantId: string): Promise<BusinessCalendarRow[]> {
  return db.select().from(businessCalendars).where(eq(businessCalendars.tenantId, tenantId)).orderBy(asc(businessCalendars.name));
}

/** Inserts a calendar unless the tenant has one of that name; returns the one stored under the name. */
export async function insertCalendarIfAbsent(db: Db, values: typeof businessCalendars.$inferInsert): Promise<BusinessCalendarRow> {
  await db.insert(businessCalendars).values(values).onConflictDoNothing();
  const [row] = await db
    .select()
    .from(businessCalendars)
    .where(and(eq(businessCalendars.tenantId, values.tenantId), eq(businessCalendars.name, values.name)));
  return row!;
}

/** Inserts a calendar; undefined when the tenant already has one of that name. */
export async function insertCalendar(db: Db, values: typeof businessCalendars.$inferInsert): Promise<BusinessCalendarRow | undefined> {
  const [row] = await db.insert(businessCalendars).values(values).onConflictDoNothing().returning();
  return row;
}

/** Compare-and-set update of a calendar. */
export async function updateCalendarIfVersion(
  db: Db,
  tenantId: string,
  id: string,
  version: number,
  patch: Partial<typeof businessCalendars.$inferInsert>,
): Promise<BusinessCalendarRow | undefined> {
  const [row] = await db
    .update(businessCalendars)
    .set({ ...patch, version: sql`${businessCalendars.version} + 1` })
    .where(and(eq(businessCalendars.tenantId, tenantId), eq(businessCalendars.id, id), eq(businessCalendars.version, version)))
    .returning();
  return row;
}

/** True when another calendar of the tenant already has this name. */
export async function calendarNameTaken(db: Db, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  const rows = await db
    .select({ id: businessCalendars.id })
    .from(businessCalendars)
    .where(
      and(
        eq(businessCalendars.tenantId, tenantId),
        eq(businessCalendars.name, name),
        exceptId ? ne(businessCalendars.id, exceptId) : undefined,
      ),
    );
  return rows.length > 0;
}

// ---------------------------------------------------------------- policies

/** Every policy of a tenant, the default first. */
export async function listPolicies(db: Db, tenantId: string): Promise<SlaPolicyRow[]> {
  return db
    .select()
    .from(slaPolicies)
    .where(eq(slaPolicies.tenantId, tenantId))
    .orderBy(desc(slaPolicies.isDefault), asc(slaPolicies.name));
}

/** Policies of a tenant by id, in no particular order. */
export async function getPoliciesByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<SlaPolicyRow[]> {
  if (!ids.length) return [];
  return db
    .select()
    .from(slaPolicies)
    .where(and(eq(slaPolicies.tenantId, tenantId), inArray(slaPolicies.id, [...ids])));
}

/** The tenant's default policy. */
export async function getDefaultPolicy(db: Db, tenantId: string): Promise<SlaPolicyRow | undefined> {
  const [row] = await db
    .select()
    .from(slaPolicies)
    .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.isDefault, true)));
  return row;
}

/** Inserts a policy unless the tenant has one of that name; returns the one stored under the name. */
export async function insertPolicyIfAbsent(db: Db, values: typeof slaPolicies.$inferInsert): Promise<{ policy: SlaPolicyRow; inserted: boolean }> {
  const inserted = await db.insert(slaPolicies).values(values).onConflictDoNothing().returning();
  if (inserted[0]) return { policy: inserted[0], inserted: true };
  const [row] = await db
    .select()
    .from(slaPolicies)
    .where(and(eq(slaPolicies.tenantId, values.tenantId), eq(slaPolicies.name, values.name)));
  return { policy: row!, inserted: false };
}

/** Inserts a policy; undefined when the tenant already has one of that name. */
export async function insertPolicy(db: Db, values: typeof slaPolicies.$inferInsert): Promise<SlaPolicyRow | undefined> {
  const [row] = await db.insert(slaPolicies).values(values).onConflictDoNothing().returning();
  return row;
}

/** Compare-and-set update of a policy. */
export async function updatePolicyIfVersion(
  db: Db,
  tenantId: string,
  id: string,
  version: number,
  patch: Partial<typeof slaPolicies.$inferInsert>,
): Promise<SlaPolicyRow | undefined> {
  const [row] = await db
    .update(slaPolicies)
    .set({ ...patch, version: sql`${slaPolicies.version} + 1` })
    .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.id, id), eq(slaPolicies.version, version)))
    .returning();
  return row;
}

/** Takes the default flag off every policy of the tenant but `keepId`. */
export async function clearDefaultPolicy(db: Db, tenantId: string, keepId: string, now: Date): Promise<void> {
  await db
    .update(slaPolicies)
    .set({ isDefault: false, version: sql`${slaPolicies.version} + 1`, updatedAt: now })
    .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.isDefault, true), ne(slaPolicies.id, keepId)));
}

/** True when another policy of the tenant already has this name. */
export async function policyNameTaken(db: Db, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  const rows = await db
    .select({ id: slaPolicies.id })
    .from(slaPolicies)
    .where(and(eq(slaPolicies.tenantId, tenantId), eq(slaPolicies.name, name), exceptId ? ne(slaPolicies.id, exceptId) : undefined));
  return rows.length > 0;
}

/** Targets of several policies, by policy then priority. */
export async function getTargetsByPolicyIds(db: Db, tenantId: string, policyIds: readonly string[]): Promise<SlaPolicyTargetRow[]> {
  if (!policyIds.length) return [];
  return db
    .select()
    .from(slaPolicyTargets)
    .where(and(eq(slaPolicyTargets.tenantId, tenantId), inArray(slaPolicyTargets.policyId, [...policyIds])))
    .orderBy(asc(slaPolicyTargets.policyId), asc(slaPolicyTargets.priority));
}

/** Replaces every target of a policy. */
export async function replaceTargets(db: Db, tenantId: string, policyId: string, targets: Omit<SlaPolicyTargetRow, 'tenantId' | 'policyId'>[]): Promise<void> {
  await db.delete(slaPolicyTargets).where(and(eq(slaPolicyTargets.tenantId, tenantId), eq(slaPolicyTargets.policyId, policyId)));
  if (targets.length) await db.insert(slaPolicyTargets).values(targets.map((t) => ({ ...t, tenantId, policyId })));
}

// ---------------------------------------------------------------- task SLAs

/** Task SLAs of several incidents, RESPONSE before RESOLUTION. */
export async function getSlasByIncidentIds(db: Db, tenantId: string, incidentIds: readonly string[]): Promise<TaskSlaRow[]> {
  if (!incidentIds.length) return [];
  return db
    .select()
    .from(taskSlas)
    .where(and(eq(taskSlas.tenantId, tenantId), inArray(taskSlas.incidentId, [...incidentIds])))
    .orderBy(asc(taskSlas.incidentId), desc(taskSlas.kind));
}

/** The task SLAs of one incident, locked until the transaction ends (in id order, like every SLA lock, so lockers never deadlock). */
export async function getSlasForUpdate(db: Db, tenantId: string, incidentId: string): Promise<TaskSlaRow[]> {
  return db
    .select()
    .from(taskSlas)
    .where(and(eq(taskSlas.tenantId, tenantId), eq(taskSlas.incidentId, incidentId)))
    .orderBy(asc(taskSlas.id))
    .for('update');
}

/** Running (or paused) SLAs on a calendar or under a policy, locked; ordered by id so concurrent recomputes lock alike. */
export async function getRunningSlasForUpdate(
  db: Db,
  tenantId: string,
  by: { calendarId: string } | { policyId: string },
): Promise<TaskSlaRow[]> {
  return db
    .select()
    .from(taskSlas)
    .where(
      and(
        eq(taskSlas.tenantId, tenantId),
        isNull(taskSlas.stoppedAt),
        'calendarId' in by ? eq(taskSlas.calendarId, by.calendarId) : eq(taskSlas.policyId, by.policyId),
      ),
    )
    .orderBy(asc(taskSlas.id))
    .for('update');
}

/** Inserts a task SLA. */
export async function insertTaskSla(db: Db, values: typeof taskSlas.$inferInsert): Promise<TaskSlaRow> {
  const [row] = await db.insert(taskSlas).values(values).returning();
  return row!;
}

/** Writes the clock and its derived columns of one SLA. */
export async function updateTaskSla(db: Db, tenantId: string, id: string, patch: Partial<typeof taskSlas.$inferInsert>): Promise<TaskSlaRow> {
  const [row] = await db
    .update(taskSlas)
    .set(patch)
    .where(and(eq(taskSlas.tenantId, tenantId), eq(taskSlas.id, id)))
    .returning();
  return row!;
}

/** Levels already fired per SLA. */
export async function getFiredLevels(db: Db, tenantId: string, slaIds: readonly string[]): Promise<{ slaId: string; level: string }[]> {
  if (!slaIds.length) return [];
  return db
    .select({ slaId: slaFirings.slaId, level: slaFirings.level })
    .from(slaFirings)
    .where(and(eq(slaFirings.tenantId, tenantId), inArray(slaFirings.slaId, [...slaIds])));
}

/** Records firings; returns only those not recorded before (the primary key makes each level fire once). */
export async function insertFirings(
  db: Db,
  rows: { tenantId: string; slaId: string; level: string; dueAt: Date; firedAt: Date }[],
): Promise<{ tenantId: string; slaId: string; level: string }[]> {
  if (!rows.length) return [];
  return db
    .insert(slaFirings)
    .values(rows)
    .onConflictDoNothing()
    .returning({ tenantId: slaFirings.tenantId, slaId: slaFirings.slaId, level: slaFirings.level });
}

/** Raises an SLA's escalation level (never lowers it) and records its breach instant once. */
export async function recordSlaFiring(db: Db, tenantId: string, slaId: string, escalationLevel: number, breachedAt: Date | null): Promise<void> {
  await db
    .update(taskSlas)
    .set({
      escalationLevel: sql`greatest(${taskSlas.escalationLevel}, ${escalationLevel})`,
      ...(breachedAt ? { breachedAt: sql`coalesce(${taskSlas.breachedAt}, ${breachedAt.toISOString()}::timestamptz)` } : {}),
    })
    .where(and(eq(taskSlas.tenantId, tenantId), eq(taskSlas.id, slaId)));
}

// ---------------------------------------------------------------- timers

export type TimerKind = 'SLA' | 'AUTO_CLOSE';

export interface TimerRow {
  tenantId: string;
  kind: TimerKind;
  subjectId: string;
  level: string;
  dueAt: Date;
}

/** Replaces the pending timers of one subject. */
export async function replaceTimers(db: Db, tenantId: string, kind: TimerKind, subjectId: string, rows: { level: string; dueAt: Date }[]): Promise<void> {
  await db.delete(timers).where(and(eq(timers.tenantId, tenantId), eq(timers.kind, kind), eq(timers.subjectId, subjectId)));
  if (rows.length) await db.insert(timers).values(rows.map((r) => ({ tenantId, kind, subjectId, level: r.level, dueAt: r.dueAt })));
}

/** Pending timers of some subjects. */
export async function getTimers(db: Db, tenantId: string, kind: TimerKind, subjectIds: readonly string[]): Promise<TimerRow[]> {
  if (!subjectIds.length) return [];
  const rows = await db
    .select()
    .from(timers)
    .where(and(eq(timers.tenantId, tenantId), eq(timers.kind, kind), inArray(timers.subjectId, [...subjectIds])))
    .orderBy(asc(timers.dueAt));
  return rows as TimerRow[];
}

/**
 * Takes up to `limit` due timers of every tenant, earliest first, locked for this transaction; rows another
 * replica holds are skipped, so replicas share the work and never take the same timer.
 */
export async function takeDueTimers(db: Db, now: Date, limit: number): Promise<TimerRow[]> {
  const rows = await queryRows<{ tenant_id: string; kind: TimerKind; subject_id: string; level: string; due_at: string | Date }>(
    db,
    sql`select tenant_id, kind, subject_id, level, due_at from ${timers}
        where due_at <= ${now.toISOString()}::timestamptz
        order by due_at
        limit ${limit}
        for update skip locked`,
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, kind: r.kind, subjectId: r.subject_id, level: r.level, dueAt: new Date(r.due_at) }));
}

/** Deletes timers by key (after acting on them). */
export async function deleteTimers(db: Db, keys: readonly Pick<TimerRow, 'tenantId' | 'kind' | 'subjectId' | 'level'>[]): Promise<void> {
  if (!keys.length) return;
  const tuples = keys.map((k) => sql`(${k.tenantId}::uuid, ${k.kind}, ${k.subjectId}::uuid, ${k.level})`);
  await db.execute(sql`delete from ${timers} where (tenant_id, kind, subject_id, level) in (${sql.join(tuples, sql`, `)})`);
}

/** The earliest pending timer of every tenant: the instant the monitor sleeps until. */
export async function getNextTimerDueAt(db: Db): Promise<Date | null> {
  const rows = await queryRows<{ due_at: string | Date | null }>(db, sql`select min(due_at) as due_at from ${timers}`);
  const dueAt = rows[0]?.due_at;
  return dueAt ? new Date(dueAt) : null;
}

/**
 * Locks the SLAs a batch of timers is about, skipping any a writer holds (it is replacing their timers),
 * with the incident number each event names.
 */
export async function lockSlasForFiring(
  db: Db,
  keys: readonly { tenantId: string; slaId: string }[],
): Promise<(TaskSlaRow & { incidentNumber: string })[]> {
  if (!keys.length) return [];
  const tuples = keys.map((k) => sql`(${k.tenantId}::uuid, ${k.slaId}::uuid)`);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select s.tenant_id, s.id, s.incident_id, s.kind, s.policy_id, s.priority, s.calendar_id, s.target_minutes,
               s.started_at, s.stopped_at, s.stage, s.due_at, s.escalation_level, i.number as incident_number
        from ${taskSlas} s
        join ${incidents} i on i.tenant_id = s.tenant_id and i.id = s.incident_id
        where (s.tenant_id, s.id) in (${sql.join(tuples, sql`, `)})
        for update of s skip locked`,
  );
  return rows.map((r) => ({
    tenantId: r.tenant_id as string,
    id: r.id as string,
    incidentId: r.incident_id as string,
    kind: r.kind as string,
    policyId: r.policy_id as string,
    priority: Number(r.priority),
    calendarId: r.calendar_id as string,
    targetMinutes: Number(r.target_minutes),
    startedAt: new Date(r.started_at as string),
    stoppedAt: r.stopped_at ? new Date(r.stopped_at as string) : null,
    stage: r.stage as string,
    dueAt: r.due_at ? new Date(r.due_at as string) : null,
    escalationLevel: Number(r.escalation_level),
    incidentNumber: r.incident_number as string,
  })) as (TaskSlaRow & { incidentNumber: string })[];
}

// ---------------------------------------------------------------- reports

export interface ComplianceCountRow {
  policyId: string;
  priority: number;
  kind: string;
  met: number;
  breached: number;
}

/**
 * Per policy, priority and kind: SLAs that stopped in [from, to) met or breached, plus SLAs still running
 * that breached in [from, to) (by `now`). Cancelled SLAs are not measured.
 */
export async function countSlaCompliance(db: Db, tenantId: string, from: Date, to: Date, now: Date): Promise<ComplianceCountRow[]> {
  const f = from.toISOString();
  const t = to.toISOString();
  const n = now.toISOString();
  const rows = await queryRows<{ policy_id: string; priority: number; kind: string; met: string | number; breached: string | number }>(
    db,
    sql`select policy_id, priority, kind,
               count(*) filter (where breached_at is null and stopped_at is not null) as met,
               count(*) filter (where breached_at is not null or stopped_at is null) as breached
        from ${taskSlas}
        where tenant_id = ${tenantId} and not cancelled
          and ((stopped_at >= ${f}::timestamptz and stopped_at < ${t}::timestamptz)
               or (stopped_at is null and coalesce(breached_at, due_at) >= ${f}::timestamptz
                   and coalesce(breached_at, due_at) < ${t}::timestamptz and coalesce(breached_at, due_at) <= ${n}::timestamptz))
        group by policy_id, priority, kind
        order by policy_id, priority, kind desc`,
  );
  return rows.map((r) => ({ policyId: r.policy_id, priority: Number(r.priority), kind: r.kind, met: Number(r.met), breached: Number(r.breached) }));
}

/** Running or paused SLAs at risk (past 70 %, not breached) and breached, as of `now`. */
export async function countSlaRisk(db: Db, tenantId: string, now: Date): Promise<{ atRisk: number; breached: number }> {
  const n = now.toISOString();
  const rows = await queryRows<{ at_risk: string | number; breached: string | number }>(
    db,
    sql`select
          count(*) filter (where coalesce(breached_at, due_at) <= ${n}::timestamptz) as breached,
          count(*) filter (where warn_at <= ${n}::timestamptz
                             and breached_at is null and (due_at is null or due_at > ${n}::timestamptz)) as at_risk
        from ${taskSlas}
        where tenant_id = ${tenantId} and stage in ('RUNNING', 'PAUSED')`,
  );
  return { atRisk: Number(rows[0]?.at_risk ?? 0), breached: Number(rows[0]?.breached ?? 0) };
}

/** Mean working and real minutes to resolve over resolution SLAs completed in [from, to). */
export async function meanTimeToResolve(
  db: Db,
  tenantId: string,
  from: Date,
  to: Date,
): Promise<{ incidents: number; workingMinutes: number | null; realMinutes: number | null }> {
  const rows = await queryRows<{ n: string | number; working: string | number | null; real: string | number | null }>(
    db,
    sql`select count(*) as n,
               avg(elapsed_working_minutes) as working,
               avg(extract(epoch from (stopped_at - started_at)) / 60) as real
        from ${taskSlas}
        where tenant_id = ${tenantId} and kind = 'RESOLUTION' and stage = 'COMPLETED'
          and stopped_at >= ${from.toISOString()}::timestamptz and stopped_at < ${to.toISOString()}::timestamptz`,
  );
  const row = rows[0];
  const num = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return { incidents: Number(row?.n ?? 0), workingMinutes: num(row?.working), realMinutes: num(row?.real) };
}
