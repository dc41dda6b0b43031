import { isUuid, payloadErrors, validateCalendar, type BusinessCalendar, type Db, type FieldProblem, type Identity, type PayloadError } from '@itsm/kit';
import type { BusinessCalendarRow, SlaPolicyRow } from '../db/schema.js';
import {
  calendarNameTaken,
  clearDefaultPolicy,
  getCalendarsByIds,
  getPoliciesByIds,
  insertCalendar,
  insertPolicy,
  listCalendars,
  listPolicies,
  policyNameTaken,
  replaceTargets,
  updateCalendarIfVersion,
  updatePolicyIfVersion,
} from '../db/sla-queries.js';
import { validateSlaPolicy } from '../domain/sla-policy.js';
import { ensureSlaDefaults, recomputeRunningSlas } from './sla-engine.js';

const MAX_NAME = 100;

function forbidden<K extends string>(key: K) {
  return { [key]: null, errors: [payloadErrors.forbidden(['admin'])] } as { [P in K]: null } & { errors: PayloadError[] };
}

function invalid<K extends string>(key: K, problems: FieldProblem[]) {
  return { [key]: null, errors: problems.map(payloadErrors.validation) } as { [P in K]: null } & { errors: PayloadError[] };
}

function failure<K extends string>(key: K, error: PayloadError) {
  return { [key]: null, errors: [error] } as { [P in K]: null } & { errors: PayloadError[] };
}

// ---------------------------------------------------------------- calendars

export type BusinessCalendarKindName = 'ALWAYS' | 'BUSINESS';

/** A calendar as the API takes it: weekdays as a list, holidays with optional names. */
export interface BusinessCalendarInput {
  name: string;
  timeZone: string;
  kind: BusinessCalendarKindName;
  workingHours?: { weekday: number; intervals: { start: string; end: string }[] }[] | null;
  holidays?: { date: string; recurring?: boolean | null; name?: string | null }[] | null;
}

/** Calendar problems with fields named as in the input (workingHours is a list of weekdays there). */
function checkCalendar(input: BusinessCalendarInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const name = input.name?.trim() ?? '';
  if (!name) problems.push({ field: 'input.name', rule: 'required', message: 'name must not be empty' });
  else if (name.length > MAX_NAME) problems.push({ field: 'input.name', rule: 'maxLength', message: `name must be at most ${MAX_NAME} characters` });

  const days = input.kind === 'ALWAYS' ? [] : (input.workingHours ?? []);
  const indexOfWeekday = new Map<number, number>();
  days.forEach((day, i) => {
    if (!Number.isInteger(day.weekday) || day.weekday < 1 || day.weekday > 7) {
      problems.push({ field: `input.workingHours[${i}].weekday`, rule: 'range', message: `weekday must be 1 (Monday) to 7 (Sunday), got ${day.weekday}` });
    } else if (indexOfWeekday.has(day.weekday)) {
      problems.push({ field: `input.workingHours[${i}].weekday`, rule: 'duplicate', message: `weekday ${day.weekday} is listed twice` });
    } else indexOfWeekday.set(day.weekday, i);
  });
  (input.holidays ?? []).forEach((holiday, i) => {
    problems.push(...(holiday.name && holiday.name.length > MAX_NAME ? [{ field: `input.holidays[${i}].name`, rule: 'maxLength', message: `name must be at most ${MAX_NAME} characters` }] : []));
  });
  if (problems.length) return problems;

  for (const problem of validateCalendar(toCalendar(input))) {
    const day = /^workingHours\.(\d+)(.*)$/.exec(problem.field);
    const field = day
      ? `input.workingHours[${indexOfWeekday.get(Number(day[1]))}].intervals${day[2]}`
      : `input.${problem.field}`;
    problems.push({ ...problem, field });
  }
  return problems;
}

function toCalendar(input: BusinessCalendarInput): BusinessCalendar {
  return {
    timeZone: input.timeZone,
    kind: input.kind === 'ALWAYS' ? '24x7' : 'business',
    workingHours:
      input.kind === 'ALWAYS' ? {} : Object.fromEntries((input.workingHours ?? []).map((d) => [d.weekday, d.intervals.map((i) => ({ start: i.start, end: i.end }))])),
    holidays: (input.holidays ?? []).map((h) => ({ date: h.date, recurring: h.recurring ?? false })),
  };
}

function calendarColumns(input: BusinessCalendarInput) {
  const calendar = toCalendar(input);
  return {
    name: input.name.trim(),
    timeZone: calendar.timeZone,
    kind: calendar.kind,
    workingHours: calendar.workingHours,
    holidays: (input.holidays ?? []).map((h) => ({ date: h.date, recurring: h.recurring ?? false, name: h.name ?? null })),
  };
}

/** The tenant's calendars (the two defaults are created on first use). */
export async function getBusinessCalendars(db: Db, tenantId: string, now = new Date()): Promise<BusinessCalendarRow[]> {
  return db.transaction(async (tx) => {
    await ensureSlaDefaults(tx, tenantId, now);
    return listCalendars(tx, tenantId);
  });
}

type CalendarResult = { businessCalendar: BusinessCalendarRow | null; errors: PayloadError[] };

/** Adds a business calendar (admin only). */
export async function createBusinessCalendar(db: Db, identity: Identity, input: BusinessCalendarInput, now = new Date()): Promise<CalendarResult> {
  if (!identity.roles.includes('admin')) return forbidden('businessCalendar');
  const problems = checkCalendar(input);
  if (problems.length) return invalid('businessCalendar', problems);
  return db.transaction(async (tx) => {
    await ensureSlaDefaults(tx, identity.tenantId, now);
    const row = await insertCalendar(tx, { tenantId: identity.tenantId, ...calendarColumns(input), createdAt: now, updatedAt: now });
    if (!row) return invalid('businessCalendar', [{ field: 'input.name', rule: 'unique', message: `a calendar named "${input.name.trim()}" exists` }]);
    return { businessCalendar: row, errors: [] };
  });
}

/** Replaces a business calendar (admin only) and recomputes the due times of the running SLAs on it. */
export async function updateBusinessCalendar(
  db: Db,
  identity: Identity,
  input: BusinessCalendarInput & { id: string; version: number },
  now = new Date(),
): Promise<CalendarResult> {
  if (!identity.roles.includes('admin')) return forbidden('businessCalendar');
  const problems = checkCalendar(input);
  if (problems.length) return invalid('businessCalendar', problems);
  const [current] = isUuid(input.id) ? await getCalendarsByIds(db, identity.tenantId, [input.id]) : [];
  if (!current) return failure('businessCalendar', payloadErrors.notFound('business calendar', input.id));
  if (current.version !== input.version) {
    return failure('businessCalendar', payloadErrors.versionConflict(`calendar ${current.name}`, input.version, current.version));
  }
  if (await calendarNameTaken(db, identity.tenantId, input.name.trim(), input.id)) {
    return invalid('businessCalendar', [{ field: 'input.name', rule: 'unique', message: `a calendar named "${input.name.trim()}" exists` }]);
  }
  return db.transaction(async (tx) => {
    const row = await updateCalendarIfVersion(tx, identity.tenantId, input.id, input.version, { ...calendarColumns(input), updatedAt: now });
    if (!row) {
      const [winner] = await getCalendarsByIds(tx, identity.tenantId, [input.id]);
      return failure('businessCalendar', payloadErrors.versionConflict(`calendar ${current.name}`, input.version, winner?.version ?? input.version));
    }
    await recomputeRunningSlas(tx, identity.tenantId, { calendarId: row.id }, now);
    return { businessCalendar: row, errors: [] };
  });
}

// ---------------------------------------------------------------- policies

export interface SlaTargetInput {
  priority: number;
  responseMinutes: number;
  resolutionMinutes: number;
  calendarId: string;
}

async function checkTargets(db: Db, tenantId: string, name: string, targets: readonly SlaTargetInput[]): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = validateSlaPolicy({ name, targets: targets.map((t) => ({ ...t, calendar: t.calendarId })) }).map((p) => ({
    ...p,
    field: `input.${p.field}`,
  }));
  const ids = [...new Set(targets.map((t) => t.calendarId).filter(isUuid))];
  const known = new Set((await getCalendarsByIds(db, tenantId, ids)).map((c) => c.id));
  targets.forEach((t, i) => {
    if (t.calendarId && !known.has(t.calendarId)) {
      problems.push({ field: `input.targets[${i}].calendarId`, rule: 'exists', message: `calendar ${t.calendarId} does not exist` });
    }
  });
  return problems;
}

/** The tenant's SLA policies, the default first (created on first use). */
export async function getSlaPolicies(db: Db, tenantId: string, now = new Date()): Promise<SlaPolicyRow[]> {
  return db.transaction(async (tx) => {
    await ensureSlaDefaults(tx, tenantId, now);
    return listPolicies(tx, tenantId);
  });
}

type PolicyResult = { slaPolicy: SlaPolicyRow | null; errors: PayloadError[] };

/** Adds an SLA policy (admin only); as the default it replaces the previous default for new incidents. */
export async function createSlaPolicy(
  db: Db,
  identity: Identity,
  input: { name: string; isDefault?: boolean | null; targets: SlaTargetInput[] },
  now = new Date(),
): Promise<PolicyResult> {
  if (!identity.roles.includes('admin')) return forbidden('slaPolicy');
  return db.transaction(async (tx) => {
    await ensureSlaDefaults(tx, identity.tenantId, now);
    const problems = await checkTargets(tx, identity.tenantId, input.name, input.targets);
    if (problems.length) return invalid('slaPolicy', problems);
    let policy = await insertPolicy(tx, { tenantId: identity.tenantId, name: input.name.trim(), isDefault: false, createdAt: now, updatedAt: now });
    if (!policy) return invalid('slaPolicy', [{ field: 'input.name', rule: 'unique', message: `a policy named "${input.name.trim()}" exists` }]);
    await replaceTargets(tx, identity.tenantId, policy.id, input.targets);
    if (input.isDefault) {
      await clearDefaultPolicy(tx, identity.tenantId, policy.id, now);
      policy = (await updatePolicyIfVersion(tx, identity.tenantId, policy.id, policy.version, { isDefault: true, updatedAt: now }))!;
    }
    return { slaPolicy: policy, errors: [] };
  });
}

/** Changes an SLA policy (admin only); new targets recompute the running SLAs under it. */
export async function updateSlaPolicy(
  db: Db,
  identity: Identity,
  input: { id: string; version: number; name?: string | null; isDefault?: boolean | null; targets?: SlaTargetInput[] | null },
  now = new Date(),
): Promise<PolicyResult> {
  if (!identity.roles.includes('admin')) return forbidden('slaPolicy');
  const [current] = isUuid(input.id) ? await getPoliciesByIds(db, identity.tenantId, [input.id]) : [];
  if (!current) return failure('slaPolicy', payloadErrors.notFound('SLA policy', input.id));
  if (current.version !== input.version) return failure('slaPolicy', payloadErrors.versionConflict(`SLA policy ${current.name}`, input.version, current.version));
  const name = input.name ?? current.name;
  const problems: FieldProblem[] = [];
  if (input.isDefault === false && current.isDefault) {
    problems.push({ field: 'input.isDefault', rule: 'default-required', message: 'a tenant always has a default policy: make another policy the default instead' });
  }
  if (input.targets) problems.push(...(await checkTargets(db, identity.tenantId, name, input.targets)));
  else problems.push(...validateSlaPolicy({ name, targets: [] }).filter((p) => p.field === 'name').map((p) => ({ ...p, field: 'input.name' })));
  if (!problems.length && name.trim() !== current.name && (await policyNameTaken(db, identity.tenantId, name.trim(), current.id))) {
    problems.push({ field: 'input.name', rule: 'unique', message: `a policy named "${name.trim()}" exists` });
  }
  if (problems.length) return invalid('slaPolicy', problems);

  return db.transaction(async (tx) => {
    if (input.isDefault && !current.isDefault) await clearDefaultPolicy(tx, identity.tenantId, current.id, now);
    const policy = await updatePolicyIfVersion(tx, identity.tenantId, current.id, input.version, {
      name: name.trim(),
      isDefault: input.isDefault ? true : current.isDefault,
      updatedAt: now,
    });
    if (!policy) {
      const [winner] = await getPoliciesByIds(tx, identity.tenantId, [current.id]);
      // Roll back the default flag taken off another policy.
      throw new PolicyRace(payloadErrors.versionConflict(`SLA policy ${current.name}`, input.version, winner?.version ?? input.version));
    }
    if (input.targets) {
      await replaceTargets(tx, identity.tenantId, policy.id, input.targets);
      await recomputeRunningSlas(tx, identity.tenantId, { policyId: policy.id }, now);
    }
    return { slaPolicy: policy, errors: [] };
  }).catch((error: unknown) => {
    if (error instanceof PolicyRace) return failure('slaPolicy', error.payload);
    throw error;
  });
}

class PolicyRace extends Error {
  constructor(readonly payload: PayloadError) {
    super(payload.message);
  }
}
