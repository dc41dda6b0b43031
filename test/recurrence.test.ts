import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorReached, encodeEventCursor, readConsumerCursor, readEvents, signIdentity, signServiceRequest, type EventConsumer } from '@itsm/kit';
import { RECURRENCE_CONSUMER, startRecurrenceDetector } from '@itsm/problem';
import { INCIDENT_EVENT_TYPES } from '../subgraphs/problem/src/services/recurrence-detector.js';
import { applyIncidentEvent } from '../subgraphs/problem/src/services/recurrence.js';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
let replacement: EventConsumer | undefined;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await replacement?.stop();
  await graph?.stop();
});

const CREATE_INCIDENT = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number } errors { code message } } }`;
const DETECTED = /* GraphQL */ `
  query {
    problems(filter: { origin: [RECURRENCE_DETECTION] }) {
      totalCount
      edges { node { number title type state origin category incidentCount incidents { number problem { number } } incidentLinks { relation } history { actor to } } }
    }
  }
`;

async function createIncident(token: string, title: string, category = 'Hardware'): Promise<{ id: string; number: string }> {
  const result = await graph.request<any>(CREATE_INCIDENT, { input: { title, category, impact: 3, urgency: 3 } }, token);
  expect(result.body.errors).toBeUndefined();
  expect(result.body.data.createIncident.errors).toEqual([]);
  return result.body.data.createIncident.incident;
}

/** Rows of a raw query on either driver (the tests read outboxes as they are, without the feed's guard). */
async function rows<T>(db: TestGraph['databases']['incident']['db'], query: string): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/**
 * Waits until the detector's stored cursor has reached the newest incident event written so far.
 * The feed serves an event once every older transaction in the cluster has finished, so this can
 * take a moment while other test files run; it waits for the state, never asserts on time.
 */
async function detectorSettled(): Promise<void> {
  const types = INCIDENT_EVENT_TYPES.map((t) => `'${t}'`).join(', ');
  const [last] = await rows<{ txid: string; position: string }>(
    graph.databases.incident.db,
    `select txid, position from incident.outbox where type in (${types}) order by txid desc, position desc limit 1`,
  );
  if (!last) return;
  const newest = encodeEventCursor(Number(last.txid), Number(last.position));
  await waitFor('the recurrence detector to catch up', async () =>
    cursorReached(await readConsumerCursor(graph.databases.problem.db, 'problem', RECURRENCE_CONSUMER), newest),
  );
}

// Generous: the feed's guard is cluster-wide, so a long transaction of anything else on the same
// server (a benchmark's seeding) holds every event back until it ends.
async function waitFor(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 100_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function detectedProblems(token: string) {
  const result = await graph.request<any>(DETECTED, {}, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data.problems;
}

/** Events of one type in the problem outbox, committed ones included that the feed does not serve yet. */
async function problemEvents(tenantId: string, type: string): Promise<{ payload: Record<string, unknown> }[]> {
  return rows(graph.databases.problem.db, `select payload from problem.outbox where tenant_id = '${tenantId}' and type = '${type}' order by position`);
}

describe('recurrence detection through the incident event feed', { timeout: 240_000 }, () => {
  it('opens one problem for three similar Hardware incidents, adds a fourth, and leaves another category out', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['agent'] });
    const a = await createIncident(token, 'Printer on floor 3 jams');
    const b = await createIncident(token, 'floor 3 printer paper jam again');
    await detectorSettled();
    expect((await detectedProblems(token)).totalCount).toBe(0);

    const c = await createIncident(token, 'Paper jam floor 3 printer');
    await detectorSettled();
    let problems = await detectedProblems(token);
    expect(problems.totalCount).toBe(1);
    const problem = problems.edges[0].node;
    expect(problem).toMatchObject({
      title: 'Recurring incidents: Printer on floor 3 jams',
      type: 'REACTIVE',
      state: 'NEW',
      origin: 'RECURRENCE_DETECTION',
      category: 'Hardware',
      incidentCount: 3,
      history: [{ actor: 'recurrence-detector', to: 'NEW' }],
    });
    expect(problem.incidents).toEqual([a, b, c].map((i) => ({ number: i.number, problem: { number: problem.number } })));
    expect(problem.incidentLinks.map((l: any) => l.relation)).toEqual(['RELATED_TO', 'RELATED_TO', 'RELATED_TO']);

    const detected = await problemEvents(tenant, 'PROBLEM_DETECTED');
    expect(detected).toHaveLength(1);
    expect(detected[0]!.payload).toMatchObject({ number: problem.number, category: 'Hardware', threshold: 3, windowDays: 7 });
    expect([...(detected[0]!.payload.incidentIds as string[])].sort()).toEqual([a.id, b.id, c.id].sort());

    const d = await createIncident(token, 'Printer floor 3 jams paper');
    const other = await createIncident(token, 'Printer on floor 3 jams', 'Software');
    await detectorSettled();
    problems = await detectedProblems(token);
    expect(problems.totalCount).toBe(1);
    expect(problems.edges[0].node.incidentCount).toBe(4);
    expect(problems.edges[0].node.incidents.map((i: any) => i.number)).toEqual([a, b, c, d].map((i) => i.number));
    const otherRead = await graph.request<any>(`query ($id: ID) { incident(id: $id) { problem { number } } }`, { id: other.id }, token);
    expect(otherRead.body.data.incident.problem).toBeNull();
    expect(await problemEvents(tenant, 'PROBLEM_DETECTED')).toHaveLength(1);
  });

  it('opens the problem once when the detector is stopped after the first incident and restarted after the third', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['agent'] });
    await createIncident(token, 'Outlook crashes on start');
    await detectorSettled();
    await graph.background.problem!();

    await createIncident(token, 'outlook crashes at start again');
    await createIncident(token, 'Outlook start crashes');
    const stoppedCursor = await readConsumerCursor(graph.databases.problem.db, 'problem', RECURRENCE_CONSUMER);
    expect((await detectedProblems(token)).totalCount).toBe(0);

    replacement = startRecurrenceDetector({
      db: graph.databases.problem.db,
      incidentUrl: graph.subgraphs.incident.url,
      internalSecret: graph.config.internalSecret,
      logger: graph.logger,
    });
    await detectorSettled();
    const afterRestart = await readConsumerCursor(graph.databases.problem.db, 'problem', RECURRENCE_CONSUMER);
    expect(afterRestart).not.toBe(stoppedCursor);
    const problems = await detectedProblems(token);
    expect(problems.totalCount).toBe(1);
    expect(problems.edges[0].node.incidentCount).toBe(3);
    expect(await problemEvents(tenant, 'PROBLEM_DETECTED')).toHaveLength(1);
  });

  it('adds nothing when every incident event is delivered again (at-least-once)', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['agent'] });
    for (const title of ['Badge reader at door B rejects cards', 'door B badge reader rejects card', 'Badge reader rejects cards at door B']) {
      await createIncident(token, title, 'Security');
    }
    await detectorSettled();
    expect((await detectedProblems(token)).edges[0].node.incidentCount).toBe(3);

    const events = await readEvents(graph.databases.incident.db, 'incident', { tenantId: tenant, limit: 1000, types: INCIDENT_EVENT_TYPES });
    expect(events).toHaveLength(3);
    for (const event of [...events, ...events.reverse()]) {
      await graph.databases.problem.db.transaction((tx) => applyIncidentEvent(tx, event));
    }
    const problems = await detectedProblems(token);
    expect(problems.totalCount).toBe(1);
    expect(problems.edges[0].node.incidentCount).toBe(3);
    expect(await problemEvents(tenant, 'PROBLEM_DETECTED')).toHaveLength(1);
  });
});

/** A synthetic INCIDENT_CREATED event, as the incident subgraph writes it. */
function incidentCreated(tenantId: string, title: string, openedAt: Date, extra: Record<string, unknown> = {}) {
  const incidentId = randomUUID();
  return {
    tenantId,
    cursor: '0.0',
    type: 'INCIDENT_CREATED',
    payload: {
      incidentId,
      number: `INC${incidentId.slice(0, 7)}`,
      title,
      description: null,
      category: 'Network',
      subcategory: null,
      configurationItem: null,
      state: 'NEW',
      priority: 3,
      openedAt: openedAt.toISOString(),
      ...extra,
    },
  };
}

describe('recurrence decisions', () => {
  const now = new Date('2026-05-04T12:00:00Z');
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
  const db = () => graph.databases.problem.db;

  // The incidents of these events exist only in the events, so the query stays in the problem subgraph.
  async function problemsOf(tenantId: string) {
    const token = await graph.token({ tenant: tenantId, roles: ['agent'] });
    const result = await graph.request<any>(
      `{ problems(filter: { origin: [RECURRENCE_DETECTION] }) { totalCount edges { node { incidentCount category configurationItem } } } }`,
      {},
      token,
    );
    expect(result.body.errors).toBeUndefined();
    return result.body.data.problems;
  }

  it('opens exactly one problem whatever order the events of a cluster are handled in', async () => {
    const titles = ['Core switch drops packets', 'packets dropped by core switch', 'Core switch dropping packets again', 'core switch drops packets'];
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [2, 0, 3, 1],
      [1, 3, 0, 2],
    ];
    for (const order of orders) {
      const tenant = randomUUID();
      const events = titles.map((title, i) => incidentCreated(tenant, title, hoursAgo(10 - i)));
      for (const i of order) await db().transaction((tx) => applyIncidentEvent(tx, events[i]!, now));
      const problems = await problemsOf(tenant);
      expect(problems.totalCount).toBe(1);
      expect(problems.edges[0].node.incidentCount).toBe(4);
    }
  });

  it('opens exactly one problem when the events are handled concurrently, as by several replicas', async () => {
    const tenant = randomUUID();
    const events = Array.from({ length: 8 }, (_, i) => incidentCreated(tenant, `Core router reboots unexpectedly ${i % 2 ? 'again' : ''}`, hoursAgo(i)));
    await Promise.all([...events, ...events].map((event) => db().transaction((tx) => applyIncidentEvent(tx, event, now))));
    const problems = await problemsOf(tenant);
    expect(problems.totalCount).toBe(1);
    expect(problems.edges[0].node.incidentCount).toBe(8);
    expect(await problemEvents(tenant, 'PROBLEM_DETECTED')).toHaveLength(1);
  });

  it('uses the tenant thresholds: the window, the count, and the configuration item', async () => {
    const tenant = randomUUID();
    const spread = [0, 200, 400].map((h) => incidentCreated(tenant, 'DNS lookups time out', hoursAgo(h)));
    for (const event of spread) await db().transaction((tx) => applyIncidentEvent(tx, event, now));
    expect((await problemsOf(tenant)).totalCount).toBe(0);

    const manager = await graph.token({ tenant, roles: ['manager'] });
    const set = await graph.request<any>(
      `mutation { setRecurrenceSettings(input: { threshold: 2, windowDays: 30 }) { recurrenceSettings { enabled threshold windowDays minSimilarity } errors { code } } }`,
      {},
      manager,
    );
    expect(set.body.data.setRecurrenceSettings).toEqual({ recurrenceSettings: { enabled: true, threshold: 2, windowDays: 30, minSimilarity: 0.5 }, errors: [] });
    const two = [0, 1].map((h) => incidentCreated(tenant, 'VPN gateway refuses logins', hoursAgo(h), { category: null, configurationItem: 'vpn-gw-01' }));
    for (const event of two) await db().transaction((tx) => applyIncidentEvent(tx, event, now));
    const problems = await problemsOf(tenant);
    expect(problems.totalCount).toBe(1);
    expect(problems.edges[0].node).toMatchObject({ incidentCount: 2, category: null });
  });

  it('ignores incidents opened before the window, such as imported history', async () => {
    const tenant = randomUUID();
    const old = [0, 1, 2].map((h) => incidentCreated(tenant, 'Payroll export fails', hoursAgo(24 * 30 + h)));
    for (const event of old) await db().transaction((tx) => applyIncidentEvent(tx, event, now));
    expect((await problemsOf(tenant)).totalCount).toBe(0);
  });

  it('validates thresholds and leaves them to managers', async () => {
    const tenant = randomUUID();
    const agent = await graph.token({ tenant, roles: ['agent'] });
    const SET = `mutation ($input: RecurrenceSettingsInput!) { setRecurrenceSettings(input: $input) { recurrenceSettings { threshold } errors { __typename code ... on ValidationFailed { field rule } } } }`;
    const forbidden = await graph.request<any>(SET, { input: { threshold: 4 } }, agent);
    expect(forbidden.body.data.setRecurrenceSettings.errors).toEqual([{ __typename: 'Forbidden', code: 'FORBIDDEN' }]);
    const manager = await graph.token({ tenant, roles: ['manager'] });
    const bad = await graph.request<any>(SET, { input: { threshold: 1, windowDays: 0, minSimilarity: 1.5 } }, manager);
    expect(bad.body.data.setRecurrenceSettings.errors).toEqual([
      { __typename: 'ValidationFailed', code: 'VALIDATION_FAILED', field: 'input.threshold', rule: 'range' },
      { __typename: 'ValidationFailed', code: 'VALIDATION_FAILED', field: 'input.windowDays', rule: 'range' },
      { __typename: 'ValidationFailed', code: 'VALIDATION_FAILED', field: 'input.minSimilarity', rule: 'range' },
    ]);
    const read = await graph.request<any>(`{ recurrenceSettings { enabled threshold windowDays minSimilarity } }`, {}, agent);
    expect(read.body.data.recurrenceSettings).toEqual({ enabled: true, threshold: 3, windowDays: 7, minSimilarity: 0.5 });
  });
});

describe('internal event feed', { timeout: 240_000 }, () => {
  const feedUrl = (path = '/internal/events?limit=5') => new URL(path, graph.subgraphs.incident.url);

  it('refuses unsigned requests and requests signed as a gateway identity', async () => {
    const unsigned = await fetch(feedUrl());
    expect(unsigned.status).toBe(401);
    const asUser = await fetch(feedUrl(), { headers: signIdentity({ userId: 'u', tenantId: randomUUID(), roles: ['admin'] }, graph.config.internalSecret) });
    expect(asUser.status).toBe(401);
    const wrongSecret = await fetch(feedUrl(), { headers: signServiceRequest('x'.repeat(40), 'problem', 'GET', '/internal/events?limit=5') });
    expect(wrongSecret.status).toBe(401);
    const otherPath = await fetch(feedUrl('/internal/events?limit=6'), {
      headers: signServiceRequest(graph.config.internalSecret, 'problem', 'GET', '/internal/events?limit=5'),
    });
    expect(otherPath.status).toBe(401);
  });

  it('serves every tenant\'s events after a cursor to a signed service', async () => {
    const tenants = [randomUUID(), randomUUID()];
    for (const tenant of tenants) await createIncident(await graph.token({ tenant, roles: ['agent'] }), 'Monitor flickers');
    let all: Awaited<ReturnType<typeof readEvents>> = [];
    await waitFor('both events to be served', async () => {
      all = await readEvents(graph.databases.incident.db, 'incident', { limit: 100_000, types: ['INCIDENT_CREATED'] });
      return all.slice(-2).map((e) => e.tenantId).join() === tenants.join();
    });
    const after = all.at(-3)!.cursor;
    const path = `/internal/events?after=${after}&limit=10&types=INCIDENT_CREATED`;
    const response = await fetch(feedUrl(path), { headers: signServiceRequest(graph.config.internalSecret, 'problem', 'GET', path) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { events: { tenantId: string; cursor: string; type: string }[] };
    expect(body.events.map((e) => e.cursor)).toEqual(all.slice(-2).map((e) => e.cursor));
    expect(body.events.map((e) => e.tenantId)).toEqual(tenants);
    expect(body.events.map((e) => e.type)).toEqual(['INCIDENT_CREATED', 'INCIDENT_CREATED']);
  });
});
