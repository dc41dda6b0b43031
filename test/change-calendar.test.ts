import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { outbox } from '../subgraphs/change/src/db/schema.js';
import { CHANGE_FIELDS, CREATE_CHANGE, ERRORS, SCHEDULE, TRANSITION, newTenant, type ChangeTenant } from './change-test-kit.js';
import { serverAvailable, startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;

/**
 * The tenant's outbox rows, read directly: readEvents holds back rows newer than the cluster-wide snapshot xmin,
 * which other test files' transactions move, while these tests only ask what was written.
 */
async function outboxOf(tenantId: string) {
  return graph.databases.change.db.select().from(outbox).where(eq(outbox.tenantId, tenantId)).orderBy(asc(outbox.position));
}
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

// All instants are in 2030 so that windows added "now" still see these changes as upcoming.
const CONFLICTS = /* GraphQL */ `
  query ($id: ID!, $all: Boolean) {
    changeRequest(id: $id) {
      number
      conflicts(includeResolved: $all) { kind severity message otherChangeRequest { number } window { name } resolvedAt }
    }
  }
`;
const CREATE_WINDOW = /* GraphQL */ `
  mutation ($input: CreateChangeWindowInput!) {
    createChangeWindow(input: $input) {
      window { id name kind timeZone start durationMinutes rrule appliesToAll configurationItems services }
      newConflicts { kind severity changeRequest { number } window { name } }
      ${ERRORS}
    }
  }
`;

async function create(t: ChangeTenant, token: string, input: Record<string, unknown>) {
  const data = await t.run(token, CREATE_CHANGE, { input: { title: 'A change', type: 'NORMAL', ...input } });
  expect(data.createChangeRequest.errors).toEqual([]);
  return data.createChangeRequest.changeRequest;
}

async function schedule(t: ChangeTenant, token: string, change: { id: string; version: number }, plannedStart: string, plannedEnd: string) {
  return (await t.run(token, SCHEDULE, { input: { changeRequestId: change.id, version: change.version, plannedStart, plannedEnd } })).scheduleChangeRequest;
}

async function conflictsOf(t: ChangeTenant, token: string, change: { id: string }, includeResolved = false) {
  return (await t.run(token, CONFLICTS, { id: change.id, all: includeResolved })).changeRequest.conflicts;
}

async function addWindow(t: ChangeTenant, token: string, input: Record<string, unknown>) {
  const data = await t.run(token, CREATE_WINDOW, { input });
  expect(data.createChangeWindow.errors).toEqual([]);
  return data.createChangeWindow;
}

const BERLIN_SATURDAY_BLACKOUT = {
  name: 'Weekend freeze',
  kind: 'BLACKOUT',
  timeZone: 'Europe/Berlin',
  start: '2030-01-05T00:00', // a Saturday
  durationMinutes: 360,
  rrule: 'FREQ=WEEKLY;BYDAY=SA',
  scope: { configurationItems: ['erp-db'] },
};

describe('conflict detection', () => {
  it('finds no conflict for touching ends, one for an overlap on the same item, shows it on both changes, streams it to the outbox and resolves it when moved', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const a = await create(t, agent, { title: 'A', configurationItems: ['db-01'] });
    const b = await create(t, agent, { title: 'B', configurationItems: ['db-01', 'app-01'] });
    const scheduledA = await schedule(t, agent, a, '2030-03-04T10:00:00Z', '2030-03-04T12:00:00Z');
    expect(scheduledA.conflicts).toEqual([]);
    const touching = await schedule(t, agent, b, '2030-03-04T12:00:00Z', '2030-03-04T14:00:00Z');
    expect(touching.errors).toEqual([]);
    expect(touching.conflicts).toEqual([]);
    expect(await conflictsOf(t, agent, a)).toEqual([]);

    const overlapping = await schedule(t, agent, touching.changeRequest, '2030-03-04T11:00:00Z', '2030-03-04T13:00:00Z');
    expect(overlapping.conflicts).toEqual([
      {
        kind: 'OVERLAPPING_CHANGE',
        severity: 'HIGH',
        message: `Overlaps ${a.number} (2030-03-04T10:00Z to 2030-03-04T12:00Z) on configuration item db-01`,
        otherChangeRequest: { number: a.number },
        window: null,
      },
    ]);
    expect(await conflictsOf(t, agent, a)).toEqual([
      {
        kind: 'OVERLAPPING_CHANGE',
        severity: 'HIGH',
        message: `Overlaps ${b.number} (2030-03-04T11:00Z to 2030-03-04T13:00Z) on configuration item db-01`,
        otherChangeRequest: { number: b.number },
        window: null,
        resolvedAt: null,
      },
    ]);

    // Every new conflict is an outbox event in the same transaction, with exactly these fields.
    const events = await outboxOf(t.tenantId);
    expect(events.map((e) => e.type)).toEqual(['CHANGE_CONFLICT_DETECTED', 'CHANGE_CONFLICT_DETECTED']);
    const payloads = events.map((e) => e.payload as Record<string, unknown>);
    expect(payloads.map((p) => Object.keys(p).sort())).toEqual(
      Array(2).fill(['changeId', 'changeNumber', 'conflictId', 'detectedAt', 'kind', 'message', 'otherChangeId', 'otherChangeNumber', 'severity', 'windowId']),
    );
    expect(payloads.map((p) => [p.changeNumber, p.otherChangeNumber, p.changeId, p.otherChangeId, p.kind, p.severity, p.windowId])).toEqual(
      expect.arrayContaining([
        [b.number, a.number, b.id, a.id, 'OVERLAPPING_CHANGE', 'HIGH', null],
        [a.number, b.number, a.id, b.id, 'OVERLAPPING_CHANGE', 'HIGH', null],
      ]),
    );

    const onB = payloads.find((p) => p.changeId === b.id)!;
    expect(onB).toEqual({
      conflictId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      changeId: b.id,
      changeNumber: b.number,
      otherChangeId: a.id,
      otherChangeNumber: a.number,
      windowId: null,
      kind: 'OVERLAPPING_CHANGE',
      severity: 'HIGH',
      message: `Overlaps ${a.number} (2030-03-04T10:00Z to 2030-03-04T12:00Z) on configuration item db-01`,
      detectedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });

    // Moving B back to touch A resolves the conflict on both sides and announces nothing new.
    const moved = await schedule(t, agent, overlapping.changeRequest, '2030-03-04T12:00:00Z', '2030-03-04T14:00:00Z');
    expect(moved.conflicts).toEqual([]);
    expect(await conflictsOf(t, agent, a)).toEqual([]);
    const history = await conflictsOf(t, agent, b, true);
    expect(history).toHaveLength(1);
    expect(history[0].resolvedAt).not.toBeNull();
    expect(await outboxOf(t.tenantId)).toHaveLength(2);
  });

  it('ignores cancelled and closed changes, and cancelling a change resolves the conflicts with it', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const a = await create(t, agent, { configurationItems: ['svc-x'] });
    await schedule(t, agent, a, '2030-03-05T10:00:00Z', '2030-03-05T12:00:00Z');
    const b = await create(t, agent, { services: ['payroll'], configurationItems: ['svc-x'] });
    const bScheduled = await schedule(t, agent, b, '2030-03-05T11:00:00Z', '2030-03-05T13:00:00Z');
    expect(bScheduled.conflicts.map((c: any) => c.kind)).toEqual(['OVERLAPPING_CHANGE']);
    const cancelled = await t.run(agent, TRANSITION, {
      input: { changeRequestId: bScheduled.changeRequest.id, version: bScheduled.changeRequest.version, to: 'CANCELLED' },
    });
    expect(cancelled.transitionChangeRequest.errors).toEqual([]);
    expect(await conflictsOf(t, agent, a)).toEqual([]);
    expect(await conflictsOf(t, agent, b)).toEqual([]);
    const c = await create(t, agent, { configurationItems: ['svc-x'] });
    expect((await schedule(t, agent, c, '2030-03-05T11:00:00Z', '2030-03-05T13:00:00Z')).conflicts.map((x: any) => x.otherChangeRequest.number)).toEqual([a.number]);
  });

  it('finds shared services, dependency order and double-booked assignees', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const first = await create(t, agent, { services: ['billing'], assigneeId: 'dana' });
    await schedule(t, agent, first, '2030-03-06T10:00:00Z', '2030-03-06T12:00:00Z');
    const second = await create(t, agent, { services: ['billing'], configurationItems: ['other'], dependsOn: [first.id] });
    const secondScheduled = await schedule(t, agent, second, '2030-03-06T11:30:00Z', '2030-03-06T12:30:00Z');
    expect(secondScheduled.conflicts.map((c: any) => [c.kind, c.severity, c.otherChangeRequest.number])).toEqual([
      ['DEPENDENCY_ORDER', 'HIGH', first.number],
      ['OVERLAPPING_CHANGE', 'HIGH', first.number],
    ]);
    const third = await create(t, agent, { configurationItems: ['unrelated'], assigneeId: 'dana' });
    const thirdScheduled = await schedule(t, agent, third, '2030-03-06T09:00:00Z', '2030-03-06T10:30:00Z');
    expect(thirdScheduled.conflicts.map((c: any) => [c.kind, c.severity, c.otherChangeRequest.number, c.message])).toEqual([
      ['ASSIGNEE_DOUBLE_BOOKED', 'MEDIUM', first.number, `The assignee is also booked on ${first.number} (2030-03-06T10:00Z to 2030-03-06T12:00Z)`],
    ]);
    // Moving the dependency earlier clears the order conflict on the change that depends on it.
    const firstNow = (await t.run(agent, `query ($id: ID!) { changeRequest(id: $id) { id version } }`, { id: first.id })).changeRequest;
    await schedule(t, agent, firstNow, '2030-03-06T07:00:00Z', '2030-03-06T08:00:00Z');
    expect((await conflictsOf(t, agent, second)).map((c: any) => c.kind)).toEqual([]);
  });

  it('refuses a normal change in a weekly Saturday 00:00-06:00 Europe/Berlin blackout on both sides of the DST changes, writing nothing; emergencies pass with a recorded conflict', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const blackout = (await addWindow(t, manager, BERLIN_SATURDAY_BLACKOUT)).window;
    expect(blackout).toMatchObject({ kind: 'BLACKOUT', timeZone: 'Europe/Berlin', start: '2030-01-05T00:00', appliesToAll: false, configurationItems: ['erp-db'] });
    const change = await create(t, agent, { configurationItems: ['erp-db'] });

    // Saturday 30 March 2030, 00:30-01:30 CET (UTC+1): the night before clocks go forward.
    const winter = await schedule(t, agent, change, '2030-03-29T23:30:00Z', '2030-03-30T00:30:00Z');
    expect(winter.changeRequest).toBeNull();
    expect(winter.errors).toEqual([
      {
        __typename: 'BlackoutRefusal',
        code: 'CONFLICT',
        message: `${change.number} cannot be scheduled into blackout "Weekend freeze" (2030-03-29T23:00:00.000Z to 2030-03-30T05:00:00.000Z); only emergency changes may`,
        window: { id: blackout.id, name: 'Weekend freeze' },
        occurrenceStart: '2030-03-29T23:00:00.000Z',
        occurrenceEnd: '2030-03-30T05:00:00.000Z',
      },
    ]);
    // Saturday 6 April 2030, 00:30-01:30 CEST (UTC+2): the same local time is an hour earlier in UTC.
    const summer = await schedule(t, agent, change, '2030-04-05T22:30:00Z', '2030-04-05T23:30:00Z');
    expect(summer.errors[0]).toMatchObject({ __typename: 'BlackoutRefusal', occurrenceStart: '2030-04-05T22:00:00.000Z', occurrenceEnd: '2030-04-06T04:00:00.000Z' });
    // Saturday 2 November 2030, after clocks went back: 00:00-06:00 CET again.
    const autumn = await schedule(t, agent, change, '2030-11-02T04:30:00Z', '2030-11-02T05:30:00Z');
    expect(autumn.errors[0]).toMatchObject({ __typename: 'BlackoutRefusal', occurrenceStart: '2030-11-01T23:00:00.000Z', occurrenceEnd: '2030-11-02T05:00:00.000Z' });
    const unchanged = await t.run(agent, `query ($id: ID!) { changeRequest(id: $id) { plannedStart version conflicts(includeResolved: true) { kind } } }`, { id: change.id });
    expect(unchanged.changeRequest).toEqual({ plannedStart: null, version: 1, conflicts: [] });

    // Friday 22:30-23:30 CEST ends before the blackout; 06:00-07:00 CET Saturday starts as it ends.
    expect((await schedule(t, agent, change, '2030-04-05T20:30:00Z', '2030-04-05T21:30:00Z')).errors).toEqual([]);
    const current = (await t.run(agent, `query ($id: ID!) { changeRequest(id: $id) { id version } }`, { id: change.id })).changeRequest;
    expect((await schedule(t, agent, current, '2030-03-30T05:00:00Z', '2030-03-30T06:00:00Z')).errors).toEqual([]);
    // The blackout is scoped: another item may be changed in it.
    const elsewhere = await create(t, agent, { configurationItems: ['crm-db'] });
    expect((await schedule(t, agent, elsewhere, '2030-03-29T23:30:00Z', '2030-03-30T00:30:00Z')).errors).toEqual([]);

    const emergency = await create(t, agent, { type: 'EMERGENCY', configurationItems: ['erp-db'] });
    const forced = await schedule(t, agent, emergency, '2030-04-05T22:30:00Z', '2030-04-05T23:30:00Z');
    expect(forced.errors).toEqual([]);
    expect(forced.conflicts).toEqual([
      {
        kind: 'BLACKOUT',
        severity: 'HIGH',
        message: 'Falls in blackout "Weekend freeze" (2030-04-05T22:00Z to 2030-04-06T04:00Z)',
        otherChangeRequest: null,
        window: { name: 'Weekend freeze' },
      },
    ]);
  });

  it('reports a Monday change on an item with a Sunday 01:00-05:00 maintenance window as outside the maintenance window', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    await addWindow(t, manager, {
      name: 'Sunday maintenance',
      kind: 'MAINTENANCE',
      timeZone: 'Europe/Berlin',
      start: '2030-01-06T01:00', // a Sunday
      durationMinutes: 240,
      rrule: 'FREQ=WEEKLY;BYDAY=SU',
      scope: { configurationItems: ['mail-01'] },
    });
    const monday = await create(t, agent, { configurationItems: ['mail-01'] });
    const scheduled = await schedule(t, agent, monday, '2030-05-06T10:00:00Z', '2030-05-06T11:00:00Z');
    expect(scheduled.errors).toEqual([]);
    expect(scheduled.conflicts).toEqual([
      {
        kind: 'OUTSIDE_MAINTENANCE_WINDOW',
        severity: 'MEDIUM',
        message: 'Not inside one occurrence of an applicable maintenance window ("Sunday maintenance")',
        otherChangeRequest: null,
        window: null,
      },
    ]);
    // Sunday 5 May 2030 01:00-03:00 CEST is inside.
    const sunday = await create(t, agent, { configurationItems: ['mail-01'] });
    expect((await schedule(t, agent, sunday, '2030-05-04T23:00:00Z', '2030-05-05T01:00:00Z')).conflicts).toEqual([]);
  });

  it('checks existing changes when a window is added and resolves the conflicts when it is deleted', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const change = await create(t, agent, { configurationItems: ['erp-db'] });
    await schedule(t, agent, change, '2030-04-05T22:30:00Z', '2030-04-05T23:30:00Z');
    const other = await create(t, agent, { configurationItems: ['crm-db'] });
    await schedule(t, agent, other, '2030-04-05T22:30:00Z', '2030-04-05T23:30:00Z');
    const byAgent = await t.run(agent, CREATE_WINDOW, { input: BERLIN_SATURDAY_BLACKOUT });
    expect(byAgent.createChangeWindow.errors[0]).toMatchObject({ __typename: 'Forbidden' });
    const added = await addWindow(t, manager, BERLIN_SATURDAY_BLACKOUT);
    expect(added.newConflicts).toEqual([{ kind: 'BLACKOUT', severity: 'HIGH', changeRequest: { number: change.number }, window: { name: 'Weekend freeze' } }]);
    const events = await outboxOf(t.tenantId);
    expect(events.map((e) => [e.type, ...['changeNumber', 'kind', 'windowId', 'otherChangeId'].map((k) => (e.payload as Record<string, unknown>)[k])])).toEqual([
      ['CHANGE_CONFLICT_DETECTED', change.number, 'BLACKOUT', added.window.id, null],
    ]);
    const deleted = await t.run(manager, `mutation ($id: ID!) { deleteChangeWindow(input: { windowId: $id }) { window { deletedAt } ${ERRORS} } }`, { id: added.window.id });
    expect(deleted.deleteChangeWindow.errors).toEqual([]);
    expect(await conflictsOf(t, agent, change)).toEqual([]);
    expect((await conflictsOf(t, agent, change, true)).map((c: any) => [c.kind, c.window.name, c.resolvedAt !== null])).toEqual([['BLACKOUT', 'Weekend freeze', true]]);
  });

  it('refuses bad windows and bad schedules with the field and rule, writing nothing', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const badZone = await t.run(manager, CREATE_WINDOW, { input: { ...BERLIN_SATURDAY_BLACKOUT, timeZone: 'Europe/Atlantis' } });
    expect(badZone.createChangeWindow.errors).toEqual([expect.objectContaining({ field: 'input.timeZone', rule: 'format' })]);
    const badRule = await t.run(manager, CREATE_WINDOW, { input: { ...BERLIN_SATURDAY_BLACKOUT, rrule: 'FREQ=SOMETIMES' } });
    expect(badRule.createChangeWindow.errors).toEqual([expect.objectContaining({ field: 'input.rrule', rule: 'format' })]);
    const noScope = await t.run(manager, CREATE_WINDOW, { input: { ...BERLIN_SATURDAY_BLACKOUT, scope: {} } });
    expect(noScope.createChangeWindow.errors).toEqual([expect.objectContaining({ field: 'input.scope', rule: 'required' })]);
    expect((await t.run(agent, `{ changeWindows { id } }`)).changeWindows).toEqual([]);

    const change = await create(t, agent, { configurationItems: ['x'] });
    const backwards = await schedule(t, agent, change, '2030-03-04T12:00:00Z', '2030-03-04T10:00:00Z');
    expect(backwards.errors).toEqual([expect.objectContaining({ field: 'input.plannedEnd', rule: 'order' })]);
    const stale = await t.run(agent, SCHEDULE, { input: { changeRequestId: change.id, version: 7, plannedStart: '2030-03-04T10:00:00Z', plannedEnd: '2030-03-04T11:00:00Z' } });
    expect(stale.scheduleChangeRequest.errors[0]).toMatchObject({ __typename: 'VersionConflict', code: 'VERSION_CONFLICT' });
    const partner = await t.as('partner-1', ['partner']);
    const byPartner = await t.run(partner, SCHEDULE, { input: { changeRequestId: change.id, version: 1, plannedStart: '2030-03-04T10:00:00Z', plannedEnd: '2030-03-04T11:00:00Z' } });
    expect(byPartner.scheduleChangeRequest.errors[0]).toMatchObject({ __typename: 'Forbidden' });
    const after = await t.run(agent, `query ($id: ID!) { changeRequest(id: $id) { plannedStart version } }`, { id: change.id });
    expect(after.changeRequest).toEqual({ plannedStart: null, version: 1 });
  });
});

describe('change calendar and free slots', () => {
  it('returns the changes and window occurrences between two instants, and proposes conflict-free slots inside maintenance windows', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const maintenance = (
      await addWindow(t, manager, {
        name: 'Sunday maintenance',
        kind: 'MAINTENANCE',
        timeZone: 'Europe/Berlin',
        start: '2030-01-06T01:00',
        durationMinutes: 240,
        rrule: 'FREQ=WEEKLY;BYDAY=SU',
        scope: { configurationItems: ['mail-01'] },
      })
    ).window;
    await addWindow(t, manager, { name: 'Elsewhere', kind: 'BLACKOUT', timeZone: 'UTC', start: '2030-05-04T12:00', durationMinutes: 60, scope: { services: ['hr'] } });
    const busy = await create(t, agent, { title: 'Busy', configurationItems: ['mail-01'] });
    await schedule(t, agent, busy, '2030-05-04T23:00:00Z', '2030-05-05T00:30:00Z');
    const unrelated = await create(t, agent, { title: 'Unrelated', configurationItems: ['web-01'] });
    await schedule(t, agent, unrelated, '2030-05-05T10:00:00Z', '2030-05-05T11:00:00Z');

    const CALENDAR = `query ($from: DateTime!, $to: DateTime!, $cis: [String!]) {
      changeCalendar(from: $from, to: $to, configurationItems: $cis) { changes { number } windows { window { name } start end } }
    }`;
    const scoped = await t.run(agent, CALENDAR, { from: '2030-05-04T00:00:00Z', to: '2030-05-06T00:00:00Z', cis: ['mail-01'] });
    expect(scoped.changeCalendar).toEqual({
      changes: [{ number: busy.number }],
      windows: [{ window: { name: 'Sunday maintenance' }, start: '2030-05-04T23:00:00.000Z', end: '2030-05-05T03:00:00.000Z' }],
    });
    const everything = await t.run(agent, CALENDAR, { from: '2030-05-04T00:00:00Z', to: '2030-05-06T00:00:00Z' });
    expect(everything.changeCalendar).toEqual({
      changes: [{ number: busy.number }, { number: unrelated.number }],
      windows: [
        { window: { name: 'Elsewhere' }, start: '2030-05-04T12:00:00.000Z', end: '2030-05-04T13:00:00.000Z' },
        { window: { name: 'Sunday maintenance' }, start: '2030-05-04T23:00:00.000Z', end: '2030-05-05T03:00:00.000Z' },
      ],
    });
    const tooLong = await graph.request<any>(CALENDAR, { from: '2030-01-01T00:00:00Z', to: '2031-06-01T00:00:00Z' }, agent);
    expect(tooLong.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'to', rule: 'range' });

    // One hour on mail-01 from Wednesday 1 May 2030: inside Sunday's window (23:00-03:00 UTC) after Busy ends at 00:30,
    // ending by 03:00; then the next Sunday's window.
    const change = await create(t, agent, { title: 'Needs a slot', configurationItems: ['mail-01'] });
    const slots = await t.run(agent, `query ($id: ID!) { nextFreeChangeSlots(changeRequestId: $id, limit: 5, from: "2030-05-01T00:00:00Z", durationMinutes: 60) { start end } }`, {
      id: change.id,
    });
    expect(slots.nextFreeChangeSlots).toEqual([
      { start: '2030-05-05T00:30:00.000Z', end: '2030-05-05T01:30:00.000Z' },
      { start: '2030-05-05T01:00:00.000Z', end: '2030-05-05T02:00:00.000Z' },
      { start: '2030-05-05T01:30:00.000Z', end: '2030-05-05T02:30:00.000Z' },
      { start: '2030-05-05T02:00:00.000Z', end: '2030-05-05T03:00:00.000Z' },
      { start: '2030-05-11T23:00:00.000Z', end: '2030-05-12T00:00:00.000Z' },
    ]);
    // Scheduling into the first proposal finds nothing to complain about.
    const taken = await schedule(t, agent, change, '2030-05-05T00:30:00Z', '2030-05-05T01:30:00Z');
    expect(taken.conflicts).toEqual([]);
    expect(maintenance.rrule).toBe('FREQ=WEEKLY;BYDAY=SU');
  });
});

describe('concurrent scheduling', () => {
  it.skipIf(!serverAvailable)('two transactions scheduling overlapping changes on one item at the same moment record at least one conflict (20 pairs at once)', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const pairs = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const item = `race-${i}`;
        return [await create(t, agent, { title: `left ${i}`, configurationItems: [item] }), await create(t, agent, { title: `right ${i}`, configurationItems: [item] })];
      }),
    );
    const results = await Promise.all(
      pairs.flatMap(([left, right]) => [
        schedule(t, agent, left, '2030-07-01T10:00:00Z', '2030-07-01T12:00:00Z'),
        schedule(t, agent, right, '2030-07-01T11:00:00Z', '2030-07-01T13:00:00Z'),
      ]),
    );
    expect(results.map((r) => r.errors)).toEqual(Array(40).fill([]));
    for (const [left, right] of pairs) {
      const leftConflicts = await conflictsOf(t, agent, left);
      const rightConflicts = await conflictsOf(t, agent, right);
      // Whichever committed second saw the first: the clash is recorded, on both changes.
      expect([leftConflicts.map((c: any) => c.otherChangeRequest.number), rightConflicts.map((c: any) => c.otherChangeRequest.number)]).toEqual([
        [right.number],
        [left.number],
      ]);
    }
  });
});

describe('change requests keep their editable fields', () => {
  it('updates plans, items and dependencies with a version check and re-checks the schedule', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const a = await create(t, agent, { configurationItems: ['n-1'] });
    await schedule(t, agent, a, '2030-08-01T10:00:00Z', '2030-08-01T12:00:00Z');
    const b = await create(t, agent, { configurationItems: ['n-2'] });
    const scheduledB = (await schedule(t, agent, b, '2030-08-01T11:00:00Z', '2030-08-01T12:00:00Z')).changeRequest;
    const UPDATE = `mutation ($input: UpdateChangeRequestInput!) { updateChangeRequest(input: $input) { changeRequest { ${CHANGE_FIELDS} dependsOn { number } backoutPlan } ${ERRORS} } }`;
    const cycle = await t.run(agent, UPDATE, { input: { changeRequestId: b.id, version: scheduledB.version, dependsOn: [b.id] } });
    expect(cycle.updateChangeRequest.errors).toEqual([expect.objectContaining({ field: 'input.dependsOn', rule: 'notSelf' })]);
    const updated = await t.run(agent, UPDATE, {
      input: { changeRequestId: b.id, version: scheduledB.version, configurationItems: ['n-2', 'n-1'], backoutPlan: 'restore snapshot' },
    });
    expect(updated.updateChangeRequest.changeRequest).toMatchObject({ configurationItems: ['n-2', 'n-1'], backoutPlan: 'restore snapshot', version: scheduledB.version + 1 });
    expect((await conflictsOf(t, agent, b)).map((c: any) => [c.kind, c.otherChangeRequest.number])).toEqual([['OVERLAPPING_CHANGE', a.number]]);
    const stale = await t.run(agent, UPDATE, { input: { changeRequestId: b.id, version: scheduledB.version, title: 'again' } });
    expect(stale.updateChangeRequest.errors[0]).toMatchObject({ code: 'VERSION_CONFLICT' });
    const depends = await t.run(agent, UPDATE, { input: { changeRequestId: a.id, version: 2, dependsOn: [b.id] } });
    expect(depends.updateChangeRequest.changeRequest.dependsOn).toEqual([{ number: b.number }]);
    const backEdge = await t.run(agent, UPDATE, { input: { changeRequestId: b.id, version: scheduledB.version + 1, dependsOn: [a.id] } });
    expect(backEdge.updateChangeRequest.errors).toEqual([expect.objectContaining({ field: 'input.dependsOn', rule: 'acyclic' })]);
  });
});
