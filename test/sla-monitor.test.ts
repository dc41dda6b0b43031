import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, ManualClock, openDatabase, type DatabaseHandle, type Identity } from '@itsm/kit';
import { incidentSubgraph } from '@itsm/incident';
import { getSlasByIncidentIds, getSlasForUpdate, getTimers } from '../subgraphs/incident/src/db/sla-queries.js';
import { getHistoryByIncidentIds, getIncidentsByIds } from '../subgraphs/incident/src/db/queries.js';
import { createIncident, transitionIncident, updateIncident, type IncidentResult } from '../subgraphs/incident/src/services/incidents.js';
import { createBusinessCalendar, createSlaPolicy } from '../subgraphs/incident/src/services/sla-admin.js';
import { setIncidentSettings } from '../subgraphs/incident/src/services/settings.js';
import { createSlaMonitor, type SlaMonitor, type SlaMonitorOptions } from '../subgraphs/incident/src/services/sla-monitor.js';
import { createTestDatabase, serverAvailable } from './harness.js';
import { eventually, outboxEvents } from './incident-test-kit.js';

/*
 * The monitor against PostgreSQL directly: no graph runs on these databases, so nothing but the monitors
 * under test fires timers, and a ManualClock decides what "now" is.
 */

const logger = createLogger('silent', 'sla-monitor-test');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A fresh database with `replicas` handles on it (each its own connection pool, as replicas have). */
async function freshDatabase(replicas = 1): Promise<DatabaseHandle[]> {
  const database = await createTestDatabase();
  const handles: DatabaseHandle[] = [];
  for (let i = 0; i < replicas; i++) {
    handles.push(await openDatabase({ url: database.url, schemaName: incidentSubgraph.schemaName, migrationsFolder: incidentSubgraph.migrationsFolder }));
  }
  cleanups.push(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await database.drop();
  });
  return handles;
}

function monitorOn(handle: DatabaseHandle, clock: ManualClock, options: Partial<SlaMonitorOptions> = {}): SlaMonitor {
  const monitor = createSlaMonitor({ database: handle, logger, clock, maxSleepMs: 7 * 86_400_000, ...options });
  cleanups.push(() => monitor.stop());
  return monitor;
}

function ok(result: IncidentResult) {
  expect(result.errors).toEqual([]);
  return result.incident!;
}

/** A tenant with one policy whose every priority has the given targets on the given calendar. */
async function tenantWithPolicy(handle: DatabaseHandle, calendar: Parameters<typeof createBusinessCalendar>[2], response: number, resolution: number) {
  const admin: Identity = { userId: 'admin', tenantId: randomUUID(), roles: ['admin'] };
  const cal = await createBusinessCalendar(handle.db, admin, calendar);
  expect(cal.errors).toEqual([]);
  const policy = await createSlaPolicy(handle.db, admin, {
    name: 'Monitor test',
    targets: [1, 2, 3, 4, 5].map((priority) => ({ priority, responseMinutes: response, resolutionMinutes: resolution, calendarId: cal.businessCalendar!.id })),
  });
  expect(policy.errors).toEqual([]);
  const agent: Identity = { ...admin, userId: 'agent', roles: ['agent'] };
  return { admin, agent, tenantId: admin.tenantId, policyId: policy.slaPolicy!.id };
}

const PARIS_OFFICE = {
  name: 'Paris office',
  timeZone: 'Europe/Paris',
  kind: 'BUSINESS' as const,
  workingHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, intervals: [{ start: '08:00', end: '18:00' }] })),
};
const ALWAYS_UTC = { name: '24x7 UTC', timeZone: 'UTC', kind: 'ALWAYS' as const };

function slaEvents(handle: DatabaseHandle, tenantId: string) {
  return outboxEvents(handle, tenantId, ['SLA_WARNING', 'SLA_ESCALATION', 'SLA_BREACHED']);
}

describe.skipIf(!serverAvailable)('SLA monitor', () => {
  it('fires warning 12:48, escalation 13:36, breach 14:00 and escalation 14:24 (Paris, Mon-Fri 08:00-18:00, 4 h from Mon 10:00), each once', async () => {
    const [handle] = await freshDatabase();
    const t = await tenantWithPolicy(handle!, PARIS_OFFICE, 60, 240);
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    // Assigned at once: the response SLA is met, only the resolution clock runs.
    const incident = ok(await createIncident(handle!.db, t.agent, { title: 'Order entry down', impact: 3, urgency: 3, assignee: 'ana', slaPolicyId: t.policyId }, clock.now()));
    const [sla] = (await getSlasByIncidentIds(handle!.db, t.tenantId, [incident.id])).filter((s) => s.kind === 'RESOLUTION');
    const monitor = monitorOn(handle!, clock);

    const firedAt = async (instant: string) => {
      clock.set(instant);
      return (await monitor.runDue()).fired;
    };
    expect(await firedAt('2026-03-02T11:47:59.999Z')).toBe(0);
    expect(await firedAt('2026-03-02T11:48:00.000Z')).toBe(1);
    expect(await firedAt('2026-03-02T12:35:59.999Z')).toBe(0);
    expect(await firedAt('2026-03-02T12:36:00.000Z')).toBe(1);
    expect(await firedAt('2026-03-02T13:00:00.000Z')).toBe(1);
    expect(await firedAt('2026-03-02T13:24:00.000Z')).toBe(1);
    expect(await firedAt('2026-03-09T00:00:00.000Z')).toBe(0);

    const common = { incidentId: incident.id, incidentNumber: incident.number, slaId: sla!.id, kind: 'RESOLUTION', dueAt: '2026-03-02T13:00:00.000Z' };
    const events = await slaEvents(handle!, t.tenantId);
    expect(events.map((e) => [e.type, e.payload, e.occurredAt.toISOString()])).toEqual([
      ['SLA_WARNING', { ...common, level: 1, percent: 70, thresholdAt: '2026-03-02T11:48:00.000Z', firedAt: '2026-03-02T11:48:00.000Z' }, '2026-03-02T11:48:00.000Z'],
      ['SLA_ESCALATION', { ...common, level: 2, percent: 90, thresholdAt: '2026-03-02T12:36:00.000Z', firedAt: '2026-03-02T12:36:00.000Z' }, '2026-03-02T12:36:00.000Z'],
      ['SLA_BREACHED', { ...common, level: null, percent: 100, thresholdAt: '2026-03-02T13:00:00.000Z', firedAt: '2026-03-02T13:00:00.000Z' }, '2026-03-02T13:00:00.000Z'],
      ['SLA_ESCALATION', { ...common, level: 3, percent: 110, thresholdAt: '2026-03-02T13:24:00.000Z', firedAt: '2026-03-02T13:24:00.000Z' }, '2026-03-02T13:24:00.000Z'],
    ]);
    const [after] = (await getSlasByIncidentIds(handle!.db, t.tenantId, [incident.id])).filter((s) => s.kind === 'RESOLUTION');
    expect([after!.escalationLevel, after!.breachedAt?.toISOString()]).toEqual([3, '2026-03-02T13:00:00.000Z']);
    expect(await getTimers(handle!.db, t.tenantId, 'SLA', [sla!.id])).toEqual([]);
  });

  it('sleeps until the earliest due instant, is woken by NOTIFY when a sooner one is scheduled, and not by a later one', async () => {
    const [handle] = await freshDatabase();
    const office = await tenantWithPolicy(handle!, PARIS_OFFICE, 600, 600);
    const fast = await tenantWithPolicy(handle!, ALWAYS_UTC, 30, 60);
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const monitor = monitorOn(handle!, clock);
    await monitor.start();
    await monitor.whenIdle();
    // Nothing pending: it sleeps for its longest sleep, no scanning in between.
    expect(monitor.sleepingUntil()?.toISOString()).toBe('2026-03-09T09:00:00.000Z');

    // 10 working hours from Mon 10:00 Paris: 70 % (7 h) falls Mon 17:00 Paris.
    ok(await createIncident(handle!.db, office.agent, { title: 'slow', impact: 3, urgency: 3, assignee: 'ana', slaPolicyId: office.policyId }, clock.now()));
    await eventually(async () => (monitor.sleepingUntil()?.toISOString() === '2026-03-02T16:00:00.000Z' ? true : undefined));
    expect(monitor.stats().wakeUps).toBe(1);

    // A 24x7 incident: its response warning (70 % of 30 min) is due at 09:21, sooner: the monitor wakes for it.
    const urgent = ok(await createIncident(handle!.db, fast.agent, { title: 'urgent', impact: 1, urgency: 1, slaPolicyId: fast.policyId }, clock.now()));
    await eventually(async () => (monitor.sleepingUntil()?.toISOString() === '2026-03-02T09:21:00.000Z' ? true : undefined));
    expect(monitor.stats().wakeUps).toBe(2);

    // A later timer (an incident logged for tomorrow) does not wake it.
    ok(await createIncident(handle!.db, office.agent, { title: 'later', impact: 5, urgency: 5, assignee: 'bo', slaPolicyId: office.policyId }, new Date('2026-03-03T09:00:00Z')));
    await new Promise((resolve) => setTimeout(resolve, 300)); // time for its NOTIFY to arrive, were it to wake the monitor
    expect(monitor.stats().wakeUps).toBe(2);
    expect(monitor.sleepingUntil()?.toISOString()).toBe('2026-03-02T09:21:00.000Z');

    // Reaching the instant fires exactly that threshold, then it sleeps until the next one (24 min: 90 % of 30).
    const before = monitor.stats().fired;
    clock.set('2026-03-02T09:21:00Z');
    await eventually(async () => (monitor.sleepingUntil()?.toISOString() === '2026-03-02T09:27:00.000Z' ? true : undefined));
    expect(monitor.stats().fired - before).toBe(1);
    const events = await eventually(async () => {
      const read = await slaEvents(handle!, fast.tenantId);
      return read.length ? read : undefined;
    });
    expect(events.map((e) => [e.type, e.payload.kind, e.payload.incidentNumber, e.payload.firedAt])).toEqual([
      ['SLA_WARNING', 'RESPONSE', urgent.number, '2026-03-02T09:21:00.000Z'],
    ]);
  });

  it('writes each threshold event exactly once with two replicas on two database handles', async () => {
    const [a, b] = await freshDatabase(2);
    const tenants = [await tenantWithPolicy(a!, ALWAYS_UTC, 15, 60), await tenantWithPolicy(b!, ALWAYS_UTC, 30, 120)];
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const incidents = 60;
    for (let i = 0; i < incidents; i++) {
      const t = tenants[i % 2]!;
      ok(await createIncident((i % 2 ? b : a)!.db, t.agent, { title: `incident ${i}`, impact: 3, urgency: 3, slaPolicyId: t.policyId }, new Date(clock.now().getTime() + i * 1000)));
    }
    // Small batches so the replicas interleave on the same rows.
    const replicas = [monitorOn(a!, clock, { batchSize: 7 }), monitorOn(b!, clock, { batchSize: 7 })];
    await Promise.all(replicas.map((m) => m.start()));
    await Promise.all(replicas.map((m) => m.whenIdle()));
    clock.set('2026-03-02T12:00:00Z');
    const expected = incidents * 2 * 4;
    await eventually(async () => (replicas.reduce((n, m) => n + m.stats().fired, 0) >= expected ? true : undefined), 60_000);
    await Promise.all(replicas.map((m) => m.whenIdle()));

    const events = [...(await slaEvents(a!, tenants[0]!.tenantId)), ...(await slaEvents(a!, tenants[1]!.tenantId))];
    const keys = events.map((e) => `${e.payload.slaId}:${e.payload.level}`);
    expect(events).toHaveLength(expected);
    expect(new Set(keys).size).toBe(expected);
    const fired = replicas.map((m) => m.stats().fired);
    expect(fired[0]! + fired[1]!).toBe(expected);
    // Both replicas did part of the work.
    expect(fired.every((n) => n > 0)).toBe(true);
    expect(await getTimers(a!.db, tenants[0]!.tenantId, 'SLA', [])).toEqual([]);
  });

  it('keeps paused SLAs silent, fires the rest shifted by the hold, and never fires a level twice', async () => {
    const [handle] = await freshDatabase();
    const t = await tenantWithPolicy(handle!, ALWAYS_UTC, 60, 60);
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const monitor = monitorOn(handle!, clock);
    const incident = ok(await createIncident(handle!.db, t.agent, { title: 'held', impact: 3, urgency: 3, assignee: 'ana', slaPolicyId: t.policyId }, clock.now()));
    clock.set('2026-03-02T09:42:00Z');
    expect((await monitor.runDue()).fired).toBe(1);
    const held = ok(await transitionIncident(handle!.db, t.agent, { id: incident.id, version: incident.version, to: 'ON_HOLD', holdReason: 'AWAITING_CALLER' }, new Date('2026-03-02T09:45:00Z')));
    clock.set('2026-03-02T10:40:00Z');
    expect((await monitor.runDue()).fired).toBe(0);
    ok(await transitionIncident(handle!.db, t.agent, { id: incident.id, version: held.version, to: 'IN_PROGRESS' }, new Date('2026-03-02T10:45:00Z')));
    clock.set('2026-03-02T12:00:00Z');
    expect((await monitor.runDue()).fired).toBe(3);
    const events = await slaEvents(handle!, t.tenantId);
    expect(events.map((e) => [e.payload.level, e.payload.thresholdAt])).toEqual([
      [1, '2026-03-02T09:42:00.000Z'],
      [2, '2026-03-02T10:54:00.000Z'],
      [null, '2026-03-02T11:00:00.000Z'],
      [3, '2026-03-02T11:06:00.000Z'],
    ]);
  });

  it('skips an SLA a writer holds instead of waiting for it, and fires it once the writer commits', async () => {
    const [a, b] = await freshDatabase(2);
    const t = await tenantWithPolicy(a!, ALWAYS_UTC, 60, 60);
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const monitor = monitorOn(b!, clock);
    const incident = ok(await createIncident(a!.db, t.agent, { title: 'locked', impact: 3, urgency: 3, assignee: 'ana', slaPolicyId: t.policyId }, clock.now()));
    clock.set('2026-03-02T09:42:00Z');
    await a!.db.transaction(async (tx) => {
      await getSlasForUpdate(tx, t.tenantId, incident.id);
      expect(await monitor.runDue()).toMatchObject({ fired: 0, skipped: 1 });
    });
    expect(await monitor.runDue()).toMatchObject({ fired: 1, skipped: 0 });
  });

  it('auto-closes a RESOLVED incident when the tenant delay has passed, as the system, once', async () => {
    const [handle] = await freshDatabase();
    const t = await tenantWithPolicy(handle!, ALWAYS_UTC, 60, 600);
    expect((await setIncidentSettings(handle!.db, t.admin, { autoCloseDays: 2 })).errors).toEqual([]);
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const monitor = monitorOn(handle!, clock);
    const incident = ok(await createIncident(handle!.db, t.agent, { title: 'done soon', impact: 3, urgency: 3, assignee: 'ana', slaPolicyId: t.policyId }, clock.now()));
    ok(await transitionIncident(handle!.db, t.agent, { id: incident.id, version: 1, to: 'RESOLVED', resolutionCode: 'RESOLVED_BY_SUPPORT', resolutionNotes: 'ok' }, new Date('2026-03-02T10:00:00Z')));
    clock.set('2026-03-04T09:59:59.999Z');
    expect((await monitor.runDue()).closed).toBe(0);
    clock.set('2026-03-04T10:00:00Z');
    expect((await monitor.runDue()).closed).toBe(1);
    expect((await monitor.runDue()).closed).toBe(0);
    const [closed] = await getIncidentsByIds(handle!.db, t.tenantId, [incident.id]);
    expect([closed!.state, closed!.closedAt?.toISOString(), closed!.version]).toEqual(['CLOSED', '2026-03-04T10:00:00.000Z', 3]);
    const history = await getHistoryByIncidentIds(handle!.db, t.tenantId, [incident.id]);
    expect(history.map((h) => [h.actor, h.fromValue, h.toValue])).toEqual([
      ['agent', null, 'NEW'],
      ['agent', 'NEW', 'RESOLVED'],
      ['system', 'RESOLVED', 'CLOSED'],
    ]);
    const events = await outboxEvents(handle!, t.tenantId, ['INCIDENT_STATE_CHANGED']);
    expect(events.map((e) => [e.payload.state, e.occurredAt.toISOString()])).toEqual([
      ['RESOLVED', '2026-03-02T10:00:00.000Z'],
      ['CLOSED', '2026-03-04T10:00:00.000Z'],
    ]);
    // A priority change after the stop leaves the measured SLA alone.
    const reopenedUpdate = await updateIncident(handle!.db, t.agent, { id: incident.id, version: 3, impact: 1 }, new Date('2026-03-05T10:00:00Z'));
    expect(reopenedUpdate.incident?.priority).toBe(2);
    const slas = await getSlasByIncidentIds(handle!.db, t.tenantId, [incident.id]);
    expect(slas.map((s) => [s.kind, s.priority, s.stage])).toEqual([
      ['RESPONSE', 3, 'COMPLETED'],
      ['RESOLUTION', 3, 'COMPLETED'],
    ]);
  });
});
