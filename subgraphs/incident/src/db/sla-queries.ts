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

/** Raises SLAs' escalation levels (never lowering them) and records each breach instant once; one statement. */
export async function recordSlaFirings(
  db: Db,
  rows: readonly { tenantId: string; slaId: string; escalationLevel: number; breachedAt: Date | null }[],
): Promise<void> {
  if (!rows.length) return;
  const values = rows.map(
    (r) => sql`(${r.tenantId}::uuid, ${r.slaId}::uuid, ${r.escalationLevel}::int, ${r.breachedAt ? r.breachedAt.toISOString() : null}::timestamptz)`,
  );
  await db.execute(sql`
    update ${taskSlas} s
    set escalation_level = greatest(s.escalation_level, v.level), breached_at = coalesce(s.breached_at, v.breached_at)
    from (values ${sql.join(values, sql`, `)}) as v(tenant_id, id, level, breached_at)
    where s.tenant_id = v.tenant_id and s.id = v.id`);
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

/** A due SLA threshold the monitor took: its timer is already deleted in the caller's transaction. */
export interface TakenThreshold {
  tenantId: string;
  slaId: string;
  level: string;
  thresholdAt: Date;
  incidentId: string;
  incidentNumber: string;
  slaKind: string;
  /** The SLA's due time (stored; timers exist only while it runs). */
  slaDueAt: Date | null;
}

/**
 * The monitor's take, in one statement: up to `limit` due timers of every tenant, earliest first, locked
 * FOR UPDATE SKIP LOCKED (rows another replica holds are skipped, so replicas never take the same timer).
 * SLA timers whose SLA a writer holds (it is replacing those timers) are skipped too; the others are deleted
 * and returned with what their events name. Due AUTO_CLOSE timers come back locked, not deleted.
 */
export async function takeDueTimers(
  db: Db,
  now: Date,
  limit: number,
): Promise<{ thresholds: TakenThreshold[]; autoClose: TimerRow[]; skipped: number }> {
  const rows = await queryRows<{
    action: 'FIRE' | 'CLOSE' | 'SKIP';
    tenant_id: string;
    subject_id: string;
    level: string;
    due_at: string | Date;
    incident_id: string | null;
    number: string | null;
    sla_kind: string | null;
    sla_due_at: string | Date | null;
  }>(
    db,
    sql`with due as (
          select tenant_id, kind, subject_id, level, due_at from ${timers}
          where due_at <= ${now.toISOString()}::timestamptz
          order by due_at
          limit ${limit}
          for update skip locked
        ), locked as (
          select s.tenant_id, s.id, s.incident_id, s.kind, s.due_at from ${taskSlas} s
          where (s.tenant_id, s.id) in (select tenant_id, subject_id from due where kind = 'SLA')
          for update skip locked
        ), fired as (
          delete from ${timers} t using due d
          where t.tenant_id = d.tenant_id and t.kind = d.kind and t.subject_id = d.subject_id and t.level = d.level
            and d.kind = 'SLA' and exists (select 1 from locked l where l.tenant_id = d.tenant_id and l.id = d.subject_id)
          returning t.tenant_id, t.subject_id, t.level, t.due_at
        )
        select 'FIRE' as action, f.tenant_id, f.subject_id, f.level, f.due_at, l.incident_id, i.number, l.kind as sla_kind, l.due_at as sla_due_at
          from fired f
          join locked l on l.tenant_id = f.tenant_id and l.id = f.subject_id
          join ${incidents} i on i.tenant_id = l.tenant_id and i.id = l.incident_id
        union all
        select 'CLOSE', d.tenant_id, d.subject_id, d.level, d.due_at, null, null, null, null from due d where d.kind = 'AUTO_CLOSE'
        union all
        select 'SKIP', d.tenant_id, d.subject_id, d.level, d.due_at, null, null, null, null from due d
          where d.kind = 'SLA' and not exists (select 1 from locked l where l.tenant_id = d.tenant_id and l.id = d.subject_id)`,
  );
  const thresholds: TakenThreshold[] = [];
  const autoClose: TimerRow[] = [];
  let skipped = 0;
  for (const r of rows) {
    if (r.action === 'SKIP') skipped++;
    else if (r.action === 'CLOSE') autoClose.push({ tenantId: r.tenant_id, kind: 'AUTO_CLOSE', subjectId: r.subject_id, level: r.level, dueAt: new Date(r.due_at) });
    else {
      thresholds.push({
        tenantId: r.tenant_id,
        slaId: r.subject_id,
        level: r.level,
        thresholdAt: new Date(r.due_at),
        incidentId: r.incident_id!,
        incidentNumber: r.number!,
        slaKind: r.sla_kind!,
        slaDueAt: r.sla_due_at ? new Date(r.sla_due_at) : null,
      });
    }
  }
  // Fire in due order (a statement's output order is not guaranteed).
  thresholds.sort((a, b) => a.thresholdAt.getTime() - b.thresholdAt.getTime() || a.slaId.localeCompare(b.slaId));
  return { thresholds, autoClose, skipped };
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
