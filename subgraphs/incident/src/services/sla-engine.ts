import { sql } from 'drizzle-orm';
import type { BusinessCalendar, Db, Holiday, IsoWeekday, WorkingInterval } from '@itsm/kit';
import { getIncidentsByIds, getTenantSettings } from '../db/queries.js';
import type { BusinessCalendarRow, IncidentRow, SlaPolicyRow, SlaPolicyTargetRow, TaskSlaRow } from '../db/schema.js';
import {
  getCalendarsByIds,
  getDefaultPolicy,
  getFiredLevels,
  getPoliciesByIds,
  getRunningSlasForUpdate,
  getSlasForUpdate,
  getTargetsByPolicyIds,
  insertCalendarIfAbsent,
  insertFirings,
  insertPolicyIfAbsent,
  insertTaskSla,
  recordSlaFirings,
  replaceTargets,
  replaceTimers,
  updateTaskSla,
} from '../db/sla-queries.js';
import { computeSla, thresholdInstants, type SlaPause, type SlaState, type SlaThresholdLevel } from '../domain/sla.js';
import { DEFAULT_CALENDAR_NAMES, DEFAULT_POLICY_NAME, DEFAULT_SLA_TARGETS, defaultCalendars } from '../domain/sla-policy.js';
import { advanceSlaClock, SLA_KINDS, startSlaClock, type IncidentSlaFacts, type SlaClock, type SlaKind } from '../domain/task-sla.js';
import type { IncidentState } from '../domain/lifecycle.js';
import { appendTenantEvents } from './incident-events.js';

/** NOTIFY channel that tells monitors a timer was scheduled; the payload is its due instant (ISO). */
export const TIMER_CHANNEL = 'incident_timers';

/** Outbox event types of SLA thresholds. */
export const SLA_EVENT_TYPES = { warning: 'SLA_WARNING', escalation: 'SLA_ESCALATION', breached: 'SLA_BREACHED' } as const;

/**
 * What an SLA event carries: level 1-3 for warnings and escalations, null for the breach (percent 100);
 * dueAt is when the SLA is (or was) due, thresholdAt the instant the threshold fell, firedAt when the
 * event was written (at or after thresholdAt).
 */
export interface SlaEventPayload {
  incidentId: string;
  incidentNumber: string;
  slaId: string;
  kind: SlaKind;
  level: 1 | 2 | 3 | null;
  percent: number;
  dueAt: string;
  thresholdAt: string;
  firedAt: string;
  [key: string]: unknown;
}

const PERCENT: Record<string, number> = { '1': 70, '2': 90, BREACH: 100, '3': 110 };

// ---------------------------------------------------------------- calendars

// Calendar rows become kit calendars once per (id, version): the kit compiles each calendar object once.
const calendarCache = new Map<string, BusinessCalendar>();
const CALENDAR_CACHE_LIMIT = 10_000;

/** The kit calendar a stored calendar describes. */
export function toBusinessCalendar(row: BusinessCalendarRow): BusinessCalendar {
  const key = `${row.tenantId}:${row.id}:${row.version}`;
  const cached = calendarCache.get(key);
  if (cached) return cached;
  const holidays = (row.holidays as (Holiday & { name?: string | null })[]).map((h) => ({ date: h.date, recurring: h.recurring }));
  const calendar: BusinessCalendar = {
    timeZone: row.timeZone,
    kind: row.kind as BusinessCalendar['kind'],
    workingHours: row.workingHours as Partial<Record<IsoWeekday, WorkingInterval[]>>,
    holidays,
  };
  if (calendarCache.size >= CALENDAR_CACHE_LIMIT) calendarCache.clear();
  calendarCache.set(key, calendar);
  return calendar;
}

// ---------------------------------------------------------------- policies

/** A policy with its targets by priority. */
export interface LoadedPolicy {
  policy: SlaPolicyRow;
  targets: Map<number, SlaPolicyTargetRow>;
}

/**
 * The tenant's default policy, created on first use with the design's targets: P1 on a 24x7 calendar, P2-P5
 * on Mon-Fri 09:00-17:00, both in the tenant's zone. Concurrent first uses create it once (unique names).
 */
export async function ensureSlaDefaults(tx: Db, tenantId: string, now: Date): Promise<SlaPolicyRow> {
  const existing = await getDefaultPolicy(tx, tenantId);
  if (existing) return existing;
  const timeZone = (await getTenantSettings(tx, tenantId))?.timeZone ?? 'UTC';
  const definitions = defaultCalendars(timeZone);
  const calendarIds = {} as Record<keyof typeof definitions, string>;
  for (const ref of ['ALWAYS', 'OFFICE_HOURS'] as const) {
    const definition = definitions[ref];
    const row = await insertCalendarIfAbsent(tx, {
      tenantId,
      name: DEFAULT_CALENDAR_NAMES[ref],
      timeZone: definition.timeZone,
      kind: definition.kind,
      workingHours: definition.workingHours,
      holidays: definition.holidays,
      createdAt: now,
      updatedAt: now,
    });
    calendarIds[ref] = row.id;
  }
  const { policy, inserted } = await insertPolicyIfAbsent(tx, { tenantId, name: DEFAULT_POLICY_NAME, isDefault: true, createdAt: now, updatedAt: now });
  if (inserted) {
    await replaceTargets(
      tx,
      tenantId,
      policy.id,
      DEFAULT_SLA_TARGETS.map((t) => ({
        priority: t.priority,
        responseMinutes: t.responseMinutes,
        resolutionMinutes: t.resolutionMinutes,
        calendarId: calendarIds[t.calendar],
      })),
    );
  }
  return policy;
}

/** A policy of the tenant with its targets, or undefined when the id is not one of the tenant's. */
export async function loadPolicy(tx: Db, tenantId: string, policyId: string): Promise<LoadedPolicy | undefined> {
  const [policy] = await getPoliciesByIds(tx, tenantId, [policyId]);
  if (!policy) return undefined;
  const targets = await getTargetsByPolicyIds(tx, tenantId, [policyId]);
  return { policy, targets: new Map(targets.map((t) => [t.priority, t])) };
}

function targetMinutes(target: SlaPolicyTargetRow, kind: SlaKind): number {
  return kind === 'RESPONSE' ? target.responseMinutes : target.resolutionMinutes;
}

// ---------------------------------------------------------------- clocks

/** The clock stored in a task SLA row. */
export function clockOf(row: Pick<TaskSlaRow, 'startedAt' | 'pauses' | 'stoppedAt' | 'cancelled'>): SlaClock {
  return {
    startedAt: row.startedAt,
    pauses: (row.pauses as { from: string; to: string | null }[]).map((p) => ({ from: new Date(p.from), to: p.to ? new Date(p.to) : null })),
    stoppedAt: row.stoppedAt,
    cancelled: row.cancelled,
  };
}

/** The domain state of a task SLA row on its calendar. */
export function slaStateOf(row: TaskSlaRow, calendar: BusinessCalendar): SlaState {
  return { ...clockOf(row), targetMinutes: row.targetMinutes, calendar };
}

function storedPauses(pauses: readonly SlaPause[]) {
  return pauses.map((p) => ({ from: p.from.toISOString(), to: p.to ? p.to.toISOString() : null }));
}

function factsOf(incident: Pick<IncidentRow, 'state' | 'assignee'>): IncidentSlaFacts {
  return { state: incident.state as IncidentState, assignee: incident.assignee };
}

/** Columns derived from the clock at `now`, kept on the row so reports and the monitor need no calendar arithmetic. */
function derive(state: SlaState, now: Date) {
  const status = computeSla(state, now);
  const thresholds = thresholdInstants(state);
  return {
    thresholds,
    /** The due time, projected as if resumed now while paused. */
    slaDueAt: status.dueAt,
    columns: {
      stage: status.stage,
      // While paused the due time moves with the hold: it is only known again on resume.
      dueAt: status.stage === 'PAUSED' ? null : status.dueAt,
      warnAt: thresholds.find((t) => t.level === 1)?.at ?? null,
      breachedAt: status.breached ? status.breachedAt : null,
      elapsedWorkingMinutes: state.stoppedAt ? status.elapsedWorkingMinutes : null,
    },
  };
}

interface SlaTarget {
  policyId: string;
  priority: number;
  targetMinutes: number;
  calendarId: string;
  calendar: BusinessCalendar;
}

/**
 * Writes a task SLA's clock and target with everything derived from them, fires at once every threshold
 * already reached that never fired (a raised priority can put the breach in the past), and replaces the
 * pending timers with the thresholds still ahead.
 */
async function persistSla(
  tx: Db,
  sla: TaskSlaRow,
  clock: SlaClock,
  target: SlaTarget,
  incident: Pick<IncidentRow, 'id' | 'number'>,
  now: Date,
): Promise<TaskSlaRow> {
  const { thresholds, columns, slaDueAt } = derive({ ...clock, targetMinutes: target.targetMinutes, calendar: target.calendar }, now);
  const updated = await updateTaskSla(tx, sla.tenantId, sla.id, {
    policyId: target.policyId,
    priority: target.priority,
    calendarId: target.calendarId,
    targetMinutes: target.targetMinutes,
    pauses: storedPauses(clock.pauses),
    stoppedAt: clock.stoppedAt,
    cancelled: clock.cancelled,
    ...columns,
    updatedAt: now,
  });
  const fired = new Set((await getFiredLevels(tx, sla.tenantId, [sla.id])).map((f) => f.level));
  await scheduleThresholds(tx, updated, slaDueAt, thresholds, fired, incident, now);
  return updated;
}

async function scheduleThresholds(
  tx: Db,
  sla: TaskSlaRow,
  slaDueAt: Date,
  thresholds: { level: SlaThresholdLevel; at: Date | null }[],
  fired: ReadonlySet<string>,
  incident: Pick<IncidentRow, 'id' | 'number'>,
  now: Date,
): Promise<void> {
  const pending = thresholds
    .filter((t): t is { level: SlaThresholdLevel; at: Date } => t.at !== null && !fired.has(String(t.level)))
    .map((t) => ({ level: String(t.level), dueAt: t.at }));
  const reached = pending.filter((t) => t.dueAt.getTime() <= now.getTime());
  const ahead = pending.filter((t) => t.dueAt.getTime() > now.getTime());
  if (reached.length) {
    await fireThresholds(
      tx,
      reached.map((t) => ({ sla, incidentNumber: incident.number, level: t.level, thresholdAt: t.dueAt, slaDueAt })),
      now,
    );
  }
  await replaceTimers(tx, sla.tenantId, 'SLA', sla.id, ahead);
  if (ahead.length) await notifyTimerScheduled(tx, ahead[0]!.dueAt);
}

/** Wakes monitors when the transaction commits, if this timer is sooner than the one they sleep for. */
export async function notifyTimerScheduled(tx: Db, dueAt: Date): Promise<void> {
  await tx.execute(sql`select pg_notify(${TIMER_CHANNEL}, ${dueAt.toISOString()})`);
}

/** One threshold of one SLA to fire. */
export interface ThresholdToFire {
  sla: Pick<TaskSlaRow, 'tenantId' | 'id' | 'incidentId' | 'kind'>;
  incidentNumber: string;
  level: string;
  /** When the threshold falls (the timer's due instant). */
  thresholdAt: Date;
  /** When the SLA itself is due. */
  slaDueAt: Date;
}

/**
 * Fires thresholds in the caller's transaction: records each (SLA, level) once, raises the SLA's escalation
 * level, records the breach, and writes one outbox event per firing. Returns the events written; a
 * threshold that already fired is skipped.
 */
export async function fireThresholds(tx: Db, items: readonly ThresholdToFire[], firedAt: Date): Promise<SlaEventPayload[]> {
  const recorded = await insertFirings(
    tx,
    items.map((i) => ({ tenantId: i.sla.tenantId, slaId: i.sla.id, level: i.level, dueAt: i.thresholdAt, firedAt })),
  );
  const isNew = new Set(recorded.map((r) => `${r.tenantId}:${r.slaId}:${r.level}`));
  const fresh = items.filter((i) => isNew.has(`${i.sla.tenantId}:${i.sla.id}:${i.level}`));
  const events = [];
  const payloads: SlaEventPayload[] = [];
  // One row per SLA: an SLA can cross several thresholds in one batch.
  const perSla = new Map<string, { tenantId: string; slaId: string; escalationLevel: number; breachedAt: Date | null }>();
  for (const item of fresh) {
    const breach = item.level === 'BREACH';
    const level = breach ? null : (Number(item.level) as 1 | 2 | 3);
    const key = `${item.sla.tenantId}:${item.sla.id}`;
    const row = perSla.get(key) ?? { tenantId: item.sla.tenantId, slaId: item.sla.id, escalationLevel: 0, breachedAt: null };
    row.escalationLevel = Math.max(row.escalationLevel, level ?? 0);
    if (breach) row.breachedAt = item.thresholdAt;
    perSla.set(key, row);
    const payload: SlaEventPayload = {
      incidentId: item.sla.incidentId,
      incidentNumber: item.incidentNumber,
      slaId: item.sla.id,
      kind: item.sla.kind as SlaKind,
      level,
      percent: PERCENT[item.level]!,
      dueAt: (breach ? item.thresholdAt : item.slaDueAt).toISOString(),
      thresholdAt: item.thresholdAt.toISOString(),
      firedAt: firedAt.toISOString(),
    };
    payloads.push(payload);
    events.push({
      tenantId: item.sla.tenantId,
      type: breach ? SLA_EVENT_TYPES.breached : level === 1 ? SLA_EVENT_TYPES.warning : SLA_EVENT_TYPES.escalation,
      payload,
      occurredAt: firedAt,
    });
  }
  await recordSlaFirings(tx, [...perSla.values()]);
  await appendTenantEvents(tx, events);
  return payloads;
}

// ---------------------------------------------------------------- incident hooks

async function calendarFor(tx: Db, tenantId: string, calendarId: string): Promise<BusinessCalendar> {
  const [row] = await getCalendarsByIds(tx, tenantId, [calendarId]);
  if (!row) throw new Error(`calendar ${calendarId} of tenant ${tenantId} is missing`);
  return toBusinessCalendar(row);
}

/** Starts the response and resolution SLAs of a new incident under a policy (the tenant's default when absent). */
export async function startTaskSlas(tx: Db, incident: IncidentRow, policy: LoadedPolicy, now: Date): Promise<TaskSlaRow[]> {
  const target = policy.targets.get(incident.priority);
  if (!target) throw new Error(`policy ${policy.policy.id} has no target for priority ${incident.priority}`);
  const calendar = await calendarFor(tx, incident.tenantId, target.calendarId);
  const rows: TaskSlaRow[] = [];
  for (const kind of SLA_KINDS) {
    const clock = startSlaClock(kind, factsOf(incident), now);
    const minutes = targetMinutes(target, kind);
    const { thresholds, columns, slaDueAt } = derive({ ...clock, targetMinutes: minutes, calendar }, now);
    const sla = await insertTaskSla(tx, {
      tenantId: incident.tenantId,
      incidentId: incident.id,
      kind,
      policyId: policy.policy.id,
      priority: incident.priority,
      calendarId: target.calendarId,
      targetMinutes: minutes,
      startedAt: clock.startedAt,
      pauses: [],
      stoppedAt: clock.stoppedAt,
      cancelled: false,
      ...columns,
      updatedAt: now,
    });
    await scheduleThresholds(tx, sla, slaDueAt, thresholds, new Set(), incident, now);
    rows.push(sla);
  }
  return rows;
}

/**
 * Moves an incident's SLA clocks after a change (state, assignee, priority) in the same transaction: pause,
 * resume, stop, reopen, cancel; a new priority takes the policy's target for it from the original start.
 */
export async function updateTaskSlas(tx: Db, before: IncidentRow, after: IncidentRow, now: Date): Promise<void> {
  const priorityChanged = before.priority !== after.priority;
  if (before.state === after.state && before.assignee === after.assignee && !priorityChanged) return;
  const slas = await getSlasForUpdate(tx, after.tenantId, after.id);
  const policies = new Map<string, LoadedPolicy>();
  for (const sla of slas) {
    const clock = clockOf(sla);
    const next = advanceSlaClock(sla.kind as SlaKind, clock, factsOf(before), factsOf(after), now);
    // A stopped SLA keeps the target it was measured against.
    const retarget = priorityChanged && next.stoppedAt === null;
    if (next === clock && !retarget) continue;
    let target: SlaTarget = {
      policyId: sla.policyId,
      priority: sla.priority,
      targetMinutes: sla.targetMinutes,
      calendarId: sla.calendarId,
      calendar: await calendarFor(tx, sla.tenantId, sla.calendarId),
    };
    if (retarget) {
      const policy = policies.get(sla.policyId) ?? (await loadPolicy(tx, sla.tenantId, sla.policyId));
      if (!policy) throw new Error(`policy ${sla.policyId} is missing`);
      policies.set(sla.policyId, policy);
      const row = policy.targets.get(after.priority)!;
      target = {
        policyId: sla.policyId,
        priority: after.priority,
        targetMinutes: targetMinutes(row, sla.kind as SlaKind),
        calendarId: row.calendarId,
        calendar: await calendarFor(tx, sla.tenantId, row.calendarId),
      };
    }
    await persistSla(tx, sla, next, target, after, now);
  }
}

/**
 * Recomputes the running SLAs on a calendar (after it was edited) or under a policy (after its targets
 * changed): same start and holds, the calendar's new hours or the policy's new targets.
 */
export async function recomputeRunningSlas(tx: Db, tenantId: string, by: { calendarId: string } | { policyId: string }, now: Date): Promise<number> {
  const slas = await getRunningSlasForUpdate(tx, tenantId, by);
  if (!slas.length) return 0;
  const incidents = new Map((await getIncidentsByIds(tx, tenantId, [...new Set(slas.map((s) => s.incidentId))])).map((i) => [i.id, i]));
  const policies = new Map<string, LoadedPolicy>();
  const calendars = new Map<string, BusinessCalendar>();
  const calendar = async (id: string) => {
    const known = calendars.get(id);
    if (known) return known;
    const loaded = await calendarFor(tx, tenantId, id);
    calendars.set(id, loaded);
    return loaded;
  };
  for (const sla of slas) {
    const policy = policies.get(sla.policyId) ?? (await loadPolicy(tx, tenantId, sla.policyId))!;
    policies.set(sla.policyId, policy);
    const row = policy.targets.get(sla.priority)!;
    await persistSla(
      tx,
      sla,
      clockOf(sla),
      {
        policyId: sla.policyId,
        priority: sla.priority,
        targetMinutes: targetMinutes(row, sla.kind as SlaKind),
        calendarId: row.calendarId,
        calendar: await calendar(row.calendarId),
      },
      incidents.get(sla.incidentId)!,
      now,
    );
  }
  return slas.length;
}
