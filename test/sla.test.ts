import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Identity } from '@itsm/kit';
import { getTimers } from '../subgraphs/incident/src/db/sla-queries.js';
import { createIncident, transitionIncident, updateIncident, type IncidentResult } from '../subgraphs/incident/src/services/incidents.js';
import { startTestGraph, type TestGraph } from './harness.js';
import { ERRORS, eventually, outboxEvents, tenantOf } from './incident-test-kit.js';

let graph: TestGraph;
let db: Db;
beforeAll(async () => {
  graph = await startTestGraph();
  db = graph.databases.incident.db;
});
afterAll(async () => {
  await graph?.stop();
});

const WEEKDAYS = [1, 2, 3, 4, 5];
const office = (timeZone: string, start: string, end: string, holidays: { date: string; recurring?: boolean }[] = []) => ({
  timeZone,
  kind: 'BUSINESS',
  workingHours: WEEKDAYS.map((weekday) => ({ weekday, intervals: [{ start, end }] })),
  holidays,
});
const always = (timeZone: string) => ({ timeZone, kind: 'ALWAYS' });

const CALENDAR_FIELDS = 'id name timeZone kind version workingHours { weekday intervals { start end } } holidays { date recurring name }';
const POLICY_FIELDS = 'id name isDefault version targets { priority responseMinutes resolutionMinutes calendar { name } }';
const SLA_FIELDS = `id kind priority targetMinutes startedAt dueAt stoppedAt elapsedWorkingMinutes percentElapsed remainingWorkingMinutes
  onHoldWorkingMinutes stage breached breachedAt escalationLevel policy { name } calendar { name }`;
const SLAS = `query ($id: ID, $asOf: DateTime) { incident(id: $id) { number slas(asOf: $asOf) { ${SLA_FIELDS} } } }`;

type Tenant = Awaited<ReturnType<typeof tenantOf>>;

/** Creates a calendar and a policy on it through the gateway; targets per priority [response, resolution]. */
async function policyOn(t: Tenant, name: string, calendar: Record<string, unknown>, targets: Record<number, [number, number]>) {
  const cal = await t.admin(`mutation ($input: CreateBusinessCalendarInput!) { createBusinessCalendar(input: $input) { businessCalendar { id } ${ERRORS} } }`, {
    input: { name, ...calendar },
  });
  expect(cal.createBusinessCalendar.errors).toEqual([]);
  const calendarId = cal.createBusinessCalendar.businessCalendar.id;
  const policy = await t.admin(`mutation ($input: CreateSlaPolicyInput!) { createSlaPolicy(input: $input) { slaPolicy { id version } ${ERRORS} } }`, {
    input: {
      name,
      targets: [1, 2, 3, 4, 5].map((priority) => {
        const [responseMinutes, resolutionMinutes] = targets[priority] ?? [60, 600];
        return { priority, responseMinutes, resolutionMinutes, calendarId };
      }),
    },
  });
  expect(policy.createSlaPolicy.errors).toEqual([]);
  return { calendarId, policyId: policy.createSlaPolicy.slaPolicy.id as string };
}

function ok(result: IncidentResult) {
  expect(result.errors).toEqual([]);
  return result.incident!;
}

/** An incident created through the service at an exact instant (P3 unless impact/urgency say otherwise). */
async function openAt(t: Tenant, slaPolicyId: string, at: string, extra: Record<string, unknown> = {}, on: Db = db) {
  return ok(await createIncident(on, t.identity(['agent']), { title: `opened ${at}`, impact: 3, urgency: 3, slaPolicyId, ...extra }, new Date(at)));
}

async function slasOf(t: Tenant, id: string, asOf?: string) {
  const data = await t.agent(SLAS, { id, asOf });
  return Object.fromEntries(data.incident.slas.map((s: any) => [s.kind, s])) as Record<'RESPONSE' | 'RESOLUTION', any>;
}

describe('default policy and calendars', () => {
  it('gives a tenant the design defaults: P1 15 min / 1 h on 24x7, P2-P5 on Mon-Fri 09:00-17:00 in its zone', async () => {
    const t = await tenantOf(graph);
    await t.admin(`mutation { setIncidentSettings(input: { timeZone: "Europe/Paris" }) { ${ERRORS} } }`);
    const data = await t.agent(`{ slaPolicies { ${POLICY_FIELDS} } businessCalendars { ${CALENDAR_FIELDS} } }`);
    expect(data.slaPolicies).toHaveLength(1);
    expect(data.slaPolicies[0]).toMatchObject({ name: 'Default', isDefault: true, version: 1 });
    expect(data.slaPolicies[0].targets).toEqual([
      { priority: 1, responseMinutes: 15, resolutionMinutes: 60, calendar: { name: '24x7' } },
      { priority: 2, responseMinutes: 30, resolutionMinutes: 240, calendar: { name: 'Office hours' } },
      { priority: 3, responseMinutes: 60, resolutionMinutes: 1440, calendar: { name: 'Office hours' } },
      { priority: 4, responseMinutes: 240, resolutionMinutes: 4320, calendar: { name: 'Office hours' } },
      { priority: 5, responseMinutes: 480, resolutionMinutes: 10080, calendar: { name: 'Office hours' } },
    ]);
    expect(data.businessCalendars.map((c: any) => ({ ...c, id: undefined }))).toEqual([
      { id: undefined, name: '24x7', timeZone: 'Europe/Paris', kind: 'ALWAYS', version: 1, workingHours: [], holidays: [] },
      {
        id: undefined,
        name: 'Office hours',
        timeZone: 'Europe/Paris',
        kind: 'BUSINESS',
        version: 1,
        workingHours: WEEKDAYS.map((weekday) => ({ weekday, intervals: [{ start: '09:00', end: '17:00' }] })),
        holidays: [],
      },
    ]);
  });

  it('runs a new incident under the default policy: a P2 logged Monday 16:00 Paris is due Tuesday 12:00', async () => {
    const t = await tenantOf(graph);
    await t.admin(`mutation { setIncidentSettings(input: { timeZone: "Europe/Paris" }) { ${ERRORS} } }`);
    const incident = ok(await createIncident(db, t.identity(['agent']), { title: 'Payroll export fails', impact: 2, urgency: 2 }, new Date('2026-03-02T15:00:00Z')));
    const slas = await slasOf(t, incident.id, '2026-03-02T15:00:00Z');
    expect(slas.RESOLUTION).toMatchObject({ priority: 2, targetMinutes: 240, dueAt: '2026-03-03T11:00:00.000Z', policy: { name: 'Default' }, calendar: { name: 'Office hours' } });
    expect(slas.RESPONSE).toMatchObject({ targetMinutes: 30, dueAt: '2026-03-02T15:30:00.000Z' });
  });
});

describe('due times at exact instants', () => {
  it('Mon-Fri 08:00-18:00 Europe/Paris, 4 h: Mon 17:00 -> Tue 11:00; Mon 10:00 -> 14:00', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Paris office', office('Europe/Paris', '08:00', '18:00'), { 3: [60, 240] });
    const late = await openAt(t, policyId, '2026-03-02T16:00:00Z');
    expect((await slasOf(t, late.id)).RESOLUTION.dueAt).toBe('2026-03-03T10:00:00.000Z');
    const morning = await openAt(t, policyId, '2026-03-02T09:00:00Z');
    expect((await slasOf(t, morning.id)).RESOLUTION.dueAt).toBe('2026-03-02T13:00:00.000Z');
    // Its thresholds are timer rows: 70 % at 12:48, 90 % at 13:36, breach at 14:00, 110 % at 14:24 (Paris).
    const sla = (await slasOf(t, morning.id)).RESOLUTION;
    const timers = await getTimers(db, t.tenantId, 'SLA', [sla.id]);
    // The in-process monitor may already have fired some (these instants are in the past): whatever is left is exact.
    const expected = new Map([
      ['1', '2026-03-02T11:48:00.000Z'],
      ['2', '2026-03-02T12:36:00.000Z'],
      ['BREACH', '2026-03-02T13:00:00.000Z'],
      ['3', '2026-03-02T13:24:00.000Z'],
    ]);
    for (const timer of timers) expect(timer.dueAt.toISOString()).toBe(expected.get(timer.level));
  });

  it('24x7, 4 h: 22:00 -> 02:00 the next day (not 02:01), also across the spring DST change', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always Paris', always('Europe/Paris'), { 3: [60, 240] });
    const night = await openAt(t, policyId, '2026-03-02T21:00:00Z');
    expect((await slasOf(t, night.id)).RESOLUTION.dueAt).toBe('2026-03-03T01:00:00.000Z');
    const dst = await openAt(t, policyId, '2026-03-28T22:00:00Z'); // 23:00 CET; 04:00 CEST next day
    expect((await slasOf(t, dst.id)).RESOLUTION.dueAt).toBe('2026-03-29T02:00:00.000Z');
  });

  it('Mon-Fri 09:00-17:00 America/Chicago, 1 h: 08:00 local in June -> 15:00Z, in December -> 16:00Z', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Chicago', office('America/Chicago', '09:00', '17:00'), { 3: [30, 60] });
    const summer = await openAt(t, policyId, '2020-06-18T13:00:00Z');
    const winter = await openAt(t, policyId, '2020-12-01T14:00:00Z');
    expect((await slasOf(t, summer.id)).RESOLUTION.dueAt).toBe('2020-06-18T15:00:00.000Z');
    expect((await slasOf(t, winter.id)).RESOLUTION.dueAt).toBe('2020-12-01T16:00:00.000Z');
  });

  it('Mon-Fri 08:00-18:00, 8 h, Fri 13:00 with a hold Fri 17:00 -> Mon 09:00: due Mon 13:00 (the hold costs 2 working hours)', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Paris office', office('Europe/Paris', '08:00', '18:00'), { 3: [60, 480] });
    const incident = await openAt(t, policyId, '2026-01-09T12:00:00Z');
    const held = ok(await transitionIncident(db, t.identity(['agent']), { id: incident.id, version: 1, to: 'ON_HOLD', holdReason: 'AWAITING_VENDOR' }, new Date('2026-01-09T16:00:00Z')));
    const paused = (await slasOf(t, incident.id, '2026-01-10T12:00:00Z')).RESOLUTION;
    expect(paused).toMatchObject({ stage: 'PAUSED', elapsedWorkingMinutes: 240, onHoldWorkingMinutes: 60 });
    ok(await transitionIncident(db, t.identity(['agent']), { id: incident.id, version: held.version, to: 'IN_PROGRESS' }, new Date('2026-01-12T08:00:00Z')));
    const resumed = (await slasOf(t, incident.id, '2026-01-12T08:00:00Z')).RESOLUTION;
    expect(resumed).toMatchObject({ stage: 'RUNNING', dueAt: '2026-01-12T12:00:00.000Z', onHoldWorkingMinutes: 120, elapsedWorkingMinutes: 240 });
  });

  it('24x7 with P3 = 8 h and P2 = 4 h: opened 09:00 as P3, raised to P2 at 10:00 -> due 13:00', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always UTC', always('UTC'), { 2: [30, 240], 3: [60, 480] });
    const incident = await openAt(t, policyId, '2026-03-02T09:00:00Z');
    expect((await slasOf(t, incident.id)).RESOLUTION.dueAt).toBe('2026-03-02T17:00:00.000Z');
    const raised = ok(await updateIncident(db, t.identity(['agent']), { id: incident.id, version: 1, impact: 2, urgency: 2 }, new Date('2026-03-02T10:00:00Z')));
    expect(raised.priority).toBe(2);
    const sla = (await slasOf(t, incident.id, '2026-03-02T10:00:00Z')).RESOLUTION;
    expect(sla).toMatchObject({ priority: 2, targetMinutes: 240, startedAt: '2026-03-02T09:00:00.000Z', dueAt: '2026-03-02T13:00:00.000Z', elapsedWorkingMinutes: 60, percentElapsed: 25 });
  });

  it('Mon-Fri 09:00-17:00 Europe/London, holidays 2026-12-25 and 2026-12-28, 4 h: Thu 24 Dec 16:00 -> Tue 29 Dec 12:00', async () => {
    const t = await tenantOf(graph);
    const holidays = [{ date: '2026-12-25', name: 'Christmas' }, { date: '2026-12-28', name: 'Boxing Day (substitute)' }];
    const { policyId } = await policyOn(t, 'London', office('Europe/London', '09:00', '17:00', holidays), { 3: [60, 240] });
    const incident = await openAt(t, policyId, '2026-12-24T16:00:00Z');
    expect((await slasOf(t, incident.id)).RESOLUTION.dueAt).toBe('2026-12-29T12:00:00.000Z');
  });
});

describe('task SLA clocks', () => {
  it('stops response at the first assignment, pauses on hold, stops resolution at RESOLVED and runs it again on reopen', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always UTC', always('UTC'), { 3: [60, 240] });
    // Resolved in March, it would auto-close long before the reopen below.
    await t.admin(`mutation { setIncidentSettings(input: { autoCloseDays: null }) { ${ERRORS} } }`);
    const agent = t.identity(['agent']);
    const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);
    let incident = await openAt(t, policyId, '2026-03-02T09:00:00Z');
    const step = async (run: (version: number) => Promise<IncidentResult>) => (incident = ok(await run(incident.version)));

    await step((version) => updateIncident(db, agent, { id: incident.id, version, assignmentGroup: 'Desk' }, at('09:10')));
    expect((await slasOf(t, incident.id, '2026-03-02T09:10:00Z')).RESPONSE.stage).toBe('RUNNING');
    await step((version) => updateIncident(db, agent, { id: incident.id, version, assignee: 'ana' }, at('09:20')));
    let slas = await slasOf(t, incident.id, '2026-03-02T09:30:00Z');
    expect(slas.RESPONSE).toMatchObject({ stage: 'COMPLETED', stoppedAt: '2026-03-02T09:20:00.000Z', elapsedWorkingMinutes: 20, remainingWorkingMinutes: 40, breached: false, breachedAt: null });
    expect(slas.RESPONSE.percentElapsed).toBeCloseTo(33.333333, 5);
    expect(slas.RESOLUTION).toMatchObject({ stage: 'RUNNING', elapsedWorkingMinutes: 30, dueAt: '2026-03-02T13:00:00.000Z' });

    await step((version) => transitionIncident(db, agent, { id: incident.id, version, to: 'ON_HOLD', holdReason: 'AWAITING_CALLER' }, at('10:00')));
    slas = await slasOf(t, incident.id, '2026-03-02T11:00:00Z');
    expect(slas.RESOLUTION).toMatchObject({ stage: 'PAUSED', elapsedWorkingMinutes: 60, onHoldWorkingMinutes: 60, dueAt: '2026-03-02T14:00:00.000Z' });
    expect(await getTimers(db, t.tenantId, 'SLA', [slas.RESOLUTION.id])).toEqual([]);

    await step((version) => transitionIncident(db, agent, { id: incident.id, version, to: 'IN_PROGRESS' }, at('12:00')));
    slas = await slasOf(t, incident.id, '2026-03-02T12:00:00Z');
    expect(slas.RESOLUTION).toMatchObject({ stage: 'RUNNING', dueAt: '2026-03-02T15:00:00.000Z', onHoldWorkingMinutes: 120 });

    await step((version) => transitionIncident(db, agent, { id: incident.id, version, to: 'RESOLVED', resolutionCode: 'RESOLVED_BY_SUPPORT', resolutionNotes: 'ok' }, at('14:00')));
    slas = await slasOf(t, incident.id, '2026-03-02T15:30:00Z');
    expect(slas.RESOLUTION).toMatchObject({
      stage: 'COMPLETED',
      stoppedAt: '2026-03-02T14:00:00.000Z',
      elapsedWorkingMinutes: 180,
      percentElapsed: 75,
      remainingWorkingMinutes: 60,
      onHoldWorkingMinutes: 120,
      breached: false,
    });

    await step((version) => transitionIncident(db, agent, { id: incident.id, version, to: 'IN_PROGRESS', reason: 'came back' }, at('16:00')));
    slas = await slasOf(t, incident.id, '2026-03-02T17:30:00Z');
    expect(slas.RESOLUTION).toMatchObject({
      stage: 'RUNNING',
      stoppedAt: null,
      dueAt: '2026-03-02T17:00:00.000Z',
      elapsedWorkingMinutes: 270,
      percentElapsed: 112.5,
      remainingWorkingMinutes: -30,
      onHoldWorkingMinutes: 240,
      breached: true,
      breachedAt: '2026-03-02T17:00:00.000Z',
    });
    expect(slas.RESPONSE.stage).toBe('COMPLETED');
  });

  it('stops the response at the first move to IN_PROGRESS; resolving straight from hold counts no hold time as running', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always UTC', always('UTC'), { 3: [60, 240] });
    const agent = t.identity(['agent']);
    const incident = await openAt(t, policyId, '2026-03-02T09:00:00Z');
    const started = ok(await transitionIncident(db, agent, { id: incident.id, version: 1, to: 'IN_PROGRESS' }, new Date('2026-03-02T10:30:00Z')));
    const held = ok(await transitionIncident(db, agent, { id: incident.id, version: started.version, to: 'ON_HOLD', holdReason: 'AWAITING_CHANGE' }, new Date('2026-03-02T11:00:00Z')));
    ok(await transitionIncident(db, agent, { id: incident.id, version: held.version, to: 'RESOLVED', resolutionCode: 'CONFIGURATION_CHANGE', resolutionNotes: 'change done' }, new Date('2026-03-02T14:00:00Z')));
    const slas = await slasOf(t, incident.id, '2026-03-03T09:00:00Z');
    expect(slas.RESPONSE).toMatchObject({ stage: 'COMPLETED', elapsedWorkingMinutes: 90, percentElapsed: 150, breached: true, breachedAt: '2026-03-02T10:00:00.000Z' });
    expect(slas.RESOLUTION).toMatchObject({ stage: 'COMPLETED', elapsedWorkingMinutes: 120, onHoldWorkingMinutes: 180, percentElapsed: 50, breached: false });
  });

  it('cancels both clocks when the incident is cancelled', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always UTC', always('UTC'), { 3: [60, 240] });
    const incident = await openAt(t, policyId, '2026-03-02T09:00:00Z');
    ok(await transitionIncident(db, t.identity(['agent']), { id: incident.id, version: 1, to: 'CANCELLED' }, new Date('2026-03-02T09:30:00Z')));
    const slas = await slasOf(t, incident.id, '2026-03-02T12:00:00Z');
    expect([slas.RESPONSE.stage, slas.RESOLUTION.stage, slas.RESOLUTION.breached]).toEqual(['CANCELLED', 'CANCELLED', false]);
    expect(await getTimers(db, t.tenantId, 'SLA', [slas.RESPONSE.id, slas.RESOLUTION.id])).toEqual([]);
  });

  it('breaches at once when a raised priority puts the new due time in the past: events written in the same transaction', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always UTC', always('UTC'), { 1: [15, 60], 3: [60, 480] });
    // One transaction, so no monitor sees the P3 timers before the raise replaces them.
    const incident = await db.transaction(async (tx) => {
      const opened = await openAt(t, policyId, '2026-03-02T09:00:00Z', { assignee: 'ana' }, tx);
      return ok(await updateIncident(tx, t.identity(['agent']), { id: opened.id, version: 1, impact: 1, urgency: 1 }, new Date('2026-03-02T11:00:00Z')));
    });
    expect(incident.priority).toBe(1);
    const sla = (await slasOf(t, incident.id, '2026-03-02T11:00:00Z')).RESOLUTION;
    expect(sla).toMatchObject({ targetMinutes: 60, dueAt: '2026-03-02T10:00:00.000Z', breached: true, breachedAt: '2026-03-02T10:00:00.000Z', escalationLevel: 3 });
    const events = await eventually(async () => {
      const read = await outboxEvents(graph.databases.incident, t.tenantId, ['SLA_WARNING', 'SLA_ESCALATION', 'SLA_BREACHED']);
      return read.length >= 4 ? read : undefined;
    });
    const common = { incidentId: incident.id, incidentNumber: incident.number, slaId: sla.id, kind: 'RESOLUTION', dueAt: '2026-03-02T10:00:00.000Z', firedAt: '2026-03-02T11:00:00.000Z' };
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['SLA_WARNING', { ...common, level: 1, percent: 70, thresholdAt: '2026-03-02T09:42:00.000Z' }],
      ['SLA_ESCALATION', { ...common, level: 2, percent: 90, thresholdAt: '2026-03-02T09:54:00.000Z' }],
      ['SLA_BREACHED', { ...common, level: null, percent: 100, thresholdAt: '2026-03-02T10:00:00.000Z' }],
      ['SLA_ESCALATION', { ...common, level: 3, percent: 110, thresholdAt: '2026-03-02T10:06:00.000Z' }],
    ]);
    expect((await t.agent(`query ($id: ID) { incident(id: $id) { escalationLevel } }`, { id: incident.id })).incident.escalationLevel).toBe(3);
  });
});

describe('editing calendars and policies', () => {
  it('recomputes running SLAs when their calendar or policy changes, and leaves stopped ones alone', async () => {
    const t = await tenantOf(graph);
    const { policyId, calendarId } = await policyOn(t, 'UTC office', office('UTC', '09:00', '17:00'), { 3: [60, 240] });
    const incident = await openAt(t, policyId, '2026-03-02T09:00:00Z', { assignee: 'ana' });
    const before = await slasOf(t, incident.id, '2026-03-02T09:00:00Z');
    expect([before.RESPONSE.stage, before.RESOLUTION.dueAt]).toEqual(['COMPLETED', '2026-03-02T13:00:00.000Z']);

    const UPDATE_CAL = `mutation ($input: UpdateBusinessCalendarInput!) { updateBusinessCalendar(input: $input) { businessCalendar { version } ${ERRORS} } }`;
    const short = await t.admin(UPDATE_CAL, { input: { id: calendarId, version: 1, name: 'UTC office', ...office('UTC', '09:00', '12:00') } });
    expect(short.updateBusinessCalendar).toEqual({ businessCalendar: { version: 2 }, errors: [] });
    let after = await slasOf(t, incident.id, '2026-03-02T09:00:00Z');
    expect(after.RESOLUTION.dueAt).toBe('2026-03-03T10:00:00.000Z');
    expect(after.RESPONSE).toEqual(before.RESPONSE);
    const timers = await getTimers(db, t.tenantId, 'SLA', [after.RESOLUTION.id]);
    expect(timers.find((timer) => timer.level === 'BREACH')?.dueAt.toISOString() ?? 'fired').toMatch(/2026-03-03T10:00:00.000Z|fired/);

    const stale = await t.admin(UPDATE_CAL, { input: { id: calendarId, version: 1, name: 'UTC office', ...office('UTC', '09:00', '17:00') } });
    expect(stale.updateBusinessCalendar.errors).toEqual([expect.objectContaining({ __typename: 'VersionConflict', currentVersion: 2 })]);

    const UPDATE_POLICY = `mutation ($input: UpdateSlaPolicyInput!) { updateSlaPolicy(input: $input) { slaPolicy { version targets { priority resolutionMinutes } } ${ERRORS} } }`;
    const targets = [1, 2, 3, 4, 5].map((priority) => ({ priority, responseMinutes: 60, resolutionMinutes: priority === 3 ? 120 : 600, calendarId }));
    const edited = await t.admin(UPDATE_POLICY, { input: { id: policyId, version: 1, targets } });
    expect(edited.updateSlaPolicy.errors).toEqual([]);
    after = await slasOf(t, incident.id, '2026-03-02T09:00:00Z');
    expect(after.RESOLUTION).toMatchObject({ targetMinutes: 120, dueAt: '2026-03-02T11:00:00.000Z' });
    expect(after.RESPONSE.targetMinutes).toBe(60);
  });

  it('validates calendars and policies, naming the input fields', async () => {
    const t = await tenantOf(graph);
    const CREATE_CAL = `mutation ($input: CreateBusinessCalendarInput!) { createBusinessCalendar(input: $input) { businessCalendar { id } ${ERRORS} } }`;
    const bad = await t.admin(CREATE_CAL, {
      input: {
        name: 'Broken',
        timeZone: 'Europe/Atlantis',
        kind: 'BUSINESS',
        workingHours: [
          { weekday: 2, intervals: [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '17:00' }] },
          { weekday: 1, intervals: [{ start: '18:00', end: '08:00' }] },
        ],
        holidays: [{ date: '2026-02-30' }],
      },
    });
    expect(bad.createBusinessCalendar.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.timeZone', 'invalid-zone'],
      ['input.workingHours[1].intervals[0]', 'start-not-before-end'],
      ['input.workingHours[0].intervals[1]', 'overlap'],
      ['input.holidays[0].date', 'invalid-date'],
    ]);
    const days = await t.admin(CREATE_CAL, { input: { name: 'Days', timeZone: 'UTC', kind: 'BUSINESS', workingHours: [{ weekday: 8, intervals: [] }, { weekday: 1, intervals: [] }, { weekday: 1, intervals: [] }] } });
    expect(days.createBusinessCalendar.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.workingHours[0].weekday', 'range'],
      ['input.workingHours[2].weekday', 'duplicate'],
    ]);
    const dup = await t.admin(CREATE_CAL, { input: { name: '24x7', timeZone: 'UTC', kind: 'ALWAYS' } });
    expect(dup.createBusinessCalendar.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.name', 'unique']]);

    const calendarId = (await t.admin(`{ businessCalendars { id } }`)).businessCalendars[0].id;
    const CREATE_POLICY = `mutation ($input: CreateSlaPolicyInput!) { createSlaPolicy(input: $input) { slaPolicy { id } ${ERRORS} } }`;
    const policy = await t.admin(CREATE_POLICY, {
      input: {
        name: 'Gold',
        targets: [
          { priority: 1, responseMinutes: 90, resolutionMinutes: 60, calendarId },
          { priority: 2, responseMinutes: 0, resolutionMinutes: 60, calendarId },
          { priority: 3, responseMinutes: 10, resolutionMinutes: 60, calendarId: '00000000-0000-4000-8000-000000000000' },
        ],
      },
    });
    expect(policy.createSlaPolicy.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.targets[0].responseMinutes', 'order'],
      ['input.targets[1].responseMinutes', 'range'],
      ['input.targets', 'missing'],
      ['input.targets[2].calendarId', 'exists'],
    ]);
    const policies = await t.admin(`{ slaPolicies { id isDefault version } }`);
    const undefault = await t.admin(`mutation ($id: ID!, $v: Int!) { updateSlaPolicy(input: { id: $id, version: $v, isDefault: false }) { ${ERRORS} } }`, {
      id: policies.slaPolicies[0].id,
      v: policies.slaPolicies[0].version,
    });
    expect(undefault.updateSlaPolicy.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.isDefault', 'default-required']]);
  });

  it('makes a new default policy apply to new incidents', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'Always UTC', always('UTC'), { 3: [45, 90] });
    const made = await t.admin(`{ slaPolicy(id: "${policyId}") { version } }`);
    await t.admin(`mutation ($id: ID!, $v: Int!) { updateSlaPolicy(input: { id: $id, version: $v, isDefault: true }) { ${ERRORS} } }`, { id: policyId, v: made.slaPolicy.version });
    expect((await t.admin(`{ slaPolicies { name isDefault } }`)).slaPolicies).toEqual([
      { name: 'Always UTC', isDefault: true },
      { name: 'Default', isDefault: false },
    ]);
    const incident = ok(await createIncident(db, t.identity(['agent']), { title: 'x', impact: 3, urgency: 3 }, new Date('2026-03-02T09:00:00Z')));
    expect((await slasOf(t, incident.id)).RESOLUTION).toMatchObject({ policy: { name: 'Always UTC' }, dueAt: '2026-03-02T10:30:00.000Z' });
  });
});

describe('reports', () => {
  it('reports compliance per policy, priority and kind, risk now, and mean time to resolve in working and real time', async () => {
    const t = await tenantOf(graph);
    const { policyId } = await policyOn(t, 'UTC office', office('UTC', '09:00', '17:00'), { 3: [30, 150] });
    const { policyId: alwaysId } = await policyOn(t, 'Always UTC', always('UTC'), { 3: [90, 100] });
    const agent: Identity = t.identity(['agent']);
    const at = (iso: string) => new Date(iso);
    const resolve = (id: string, version: number, when: string) =>
      transitionIncident(db, agent, { id, version, to: 'RESOLVED', resolutionCode: 'RESOLVED_BY_SUPPORT', resolutionNotes: 'done' }, at(when));

    // A: response 10 min (met), resolved after 120 working / 1080 real minutes (met).
    const a = await openAt(t, policyId, '2026-01-05T16:00:00Z');
    const a1 = ok(await updateIncident(db, agent, { id: a.id, version: 1, assignee: 'ana' }, at('2026-01-05T16:10:00Z')));
    ok(await resolve(a.id, a1.version, '2026-01-06T10:00:00Z'));
    // B: response 40 min (breached), resolved after 90 minutes (met).
    const b = await openAt(t, policyId, '2026-01-05T09:00:00Z');
    const b1 = ok(await transitionIncident(db, agent, { id: b.id, version: 1, to: 'IN_PROGRESS' }, at('2026-01-05T09:40:00Z')));
    ok(await resolve(b.id, b1.version, '2026-01-05T10:30:00Z'));
    // C: response 45 min (breached), resolved after 180 minutes (breached).
    const c = await openAt(t, policyId, '2026-01-05T09:00:00Z');
    const c1 = ok(await transitionIncident(db, agent, { id: c.id, version: 1, to: 'IN_PROGRESS' }, at('2026-01-05T09:45:00Z')));
    ok(await resolve(c.id, c1.version, '2026-01-05T12:00:00Z'));
    // E: never touched: both clocks breached in the period and still running (breached now).
    await openAt(t, policyId, '2026-01-05T09:00:00Z');
    // F: cancelled: not measured.
    const f = await openAt(t, policyId, '2026-01-05T09:00:00Z');
    ok(await transitionIncident(db, agent, { id: f.id, version: 1, to: 'CANCELLED' }, at('2026-01-05T09:10:00Z')));
    // D: on the 24x7 policy, opened 80 minutes ago: response (90 min) and resolution (100 min) both at risk now.
    await openAt(t, alwaysId, new Date(Date.now() - 80 * 60_000).toISOString());

    const REPORT = `query ($from: DateTime!, $to: DateTime!) { slaReport(from: $from, to: $to) {
      from to atRiskCount breachedCount meanTimeToResolve { incidents workingMinutes realMinutes }
      compliance { policy { name } priority kind met breached percentMet } } }`;
    const report = (await t.manager(REPORT, { from: '2026-01-05T00:00:00Z', to: '2026-01-12T00:00:00Z' })).slaReport;
    expect(report).toEqual({
      from: '2026-01-05T00:00:00.000Z',
      to: '2026-01-12T00:00:00.000Z',
      atRiskCount: 2,
      breachedCount: 2,
      meanTimeToResolve: { incidents: 3, workingMinutes: 130, realMinutes: 450 },
      compliance: [
        { policy: { name: 'UTC office' }, priority: 3, kind: 'RESPONSE', met: 1, breached: 3, percentMet: 25 },
        { policy: { name: 'UTC office' }, priority: 3, kind: 'RESOLUTION', met: 2, breached: 2, percentMet: 50 },
      ],
    });
    const empty = (await t.agent(REPORT, { from: '2025-01-05T00:00:00Z', to: '2025-01-12T00:00:00Z' })).slaReport;
    expect(empty).toMatchObject({ compliance: [], meanTimeToResolve: { incidents: 0, workingMinutes: null, realMinutes: null } });

    const partner = await graph.request(REPORT, { from: '2026-01-05T00:00:00Z', to: '2026-01-12T00:00:00Z' }, await t.tokenFor(['partner']));
    expect(partner.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const backwards = await graph.request(REPORT, { from: '2026-01-12T00:00:00Z', to: '2026-01-05T00:00:00Z' }, await t.tokenFor(['agent']));
    expect(backwards.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'to', rule: 'after-from' });
  });
});
