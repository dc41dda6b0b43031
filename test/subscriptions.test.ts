import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenVerifier, startGateway, type RunningGateway } from '@itsm/gateway';
import { incidentSubgraph } from '@itsm/incident';
import { appendEvents, latestEventCursor, openDatabase, readEvents, type DatabaseHandle, type SubgraphService } from '@itsm/kit';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { createIncident as createIncidentAt } from '../subgraphs/incident/src/services/incidents.js';
import { startTestGraph, type TestGraph } from './harness.js';
import { subscribeOverWebSocket } from './ws-client.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const SLA_EVENTS = /* GraphQL */ `
  subscription ($after: String, $kinds: [SlaEventKind!]) {
    slaEvents(after: $after, kinds: $kinds) {
      cursor kind slaKind level percent dueAt firedAt
      incident { number problem { number } relatedChanges { number } }
    }
  }
`;

const NORMAL_CHANGE = 'NORMAL';

interface SlaEventResult {
  slaEvents: {
    cursor: string;
    kind: string;
    slaKind: string;
    level: number | null;
    percent: number;
    dueAt: string;
    firedAt: string;
    incident: { number: string; problem: { number: string } | null; relatedChanges: { number: string }[] };
  };
}

/** Writes SLA outbox rows the way the SLA monitor does, one transaction for all of them. */
async function appendSlaEvents(
  database: DatabaseHandle,
  tenantId: string,
  incident: { id: string; number: string },
  count: number,
  type: 'SLA_WARNING' | 'SLA_ESCALATION' | 'SLA_BREACHED' = 'SLA_BREACHED',
): Promise<void> {
  const firedAt = new Date('2026-03-02T10:00:00.000Z');
  await database.db.transaction((tx) =>
    appendEvents(
      tx,
      'incident',
      Array.from({ length: count }, (_, i) => ({
        tenantId,
        type,
        payload: {
          incidentId: incident.id,
          incidentNumber: incident.number,
          slaId: randomUUID(),
          kind: 'RESOLUTION',
          level: type === 'SLA_BREACHED' ? null : 1,
          percent: type === 'SLA_BREACHED' ? 100 : 70,
          dueAt: '2026-03-02T10:00:00.000Z',
          firedAt: new Date(firedAt.getTime() + i * 1000).toISOString(),
        },
      })),
    ),
  );
}

/**
 * The tenant's SLA event cursors after `after`, once `count` of them are readable: a reader sees an event only when
 * every older transaction of the cluster has finished, which can take a moment after its commit.
 */
async function outboxCursors(database: DatabaseHandle, tenantId: string, after: string, count: number): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const events = await readEvents(database.db, 'incident', { tenantId, after, limit: count + 100, types: ['SLA_WARNING', 'SLA_ESCALATION', 'SLA_BREACHED'] });
    if (events.length >= count || attempt === 200) return events.map((e) => e.cursor);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Another gateway replica in this process, in front of the given subgraph URLs (the test graph's by default). */
function startExtraGateway(urls: Partial<Record<'incident' | 'problem' | 'change', string>> = {}, subscriptionLimits?: Parameters<typeof startGateway>[0]['subscriptionLimits']): Promise<RunningGateway> {
  return startGateway({
    supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: {
      incident: urls.incident ?? graph.subgraphs.incident.url,
      problem: urls.problem ?? graph.subgraphs.problem.url,
      change: urls.change ?? graph.subgraphs.change.url,
    },
    internalSecret: graph.config.internalSecret,
    verifyToken: createTokenVerifier(graph.config.jwt),
    logger: graph.logger.child({ service: 'gateway-replica' }),
    host: '127.0.0.1',
    port: 0,
    limits: { ...graph.config.limits, rateLimitPerMinute: 0 },
    subscriptionLimits,
  });
}

/** Another incident subgraph process's worth: its own connection pool against the test database, on a port of its own. */
async function startIncidentReplica(port = 0): Promise<{ database: DatabaseHandle; service: SubgraphService; stop(): Promise<void> }> {
  const database = await openDatabase({
    url: graph.config.subgraphs.incident.databaseUrl,
    schemaName: incidentSubgraph.schemaName,
    migrationsFolder: incidentSubgraph.migrationsFolder,
  });
  const service = await incidentSubgraph.start({
    database,
    host: '127.0.0.1',
    port,
    internalSecret: graph.config.internalSecret,
    logger: graph.logger.child({ subgraph: 'incident-replica' }),
  });
  return { database, service, stop: async () => (await service.close(), await database.close()) };
}

/** The tenant id inside a test token (tokens are made per tenant). */
async function newTenant(roles: ('agent' | 'manager' | 'change_manager' | 'admin')[] = ['agent', 'change_manager']) {
  const tenantId = randomUUID();
  return { tenantId, token: await graph.token({ tenant: tenantId, roles }) };
}

async function createIncident(token: string, title: string): Promise<{ id: string; number: string }> {
  const res = await graph.request<any>(
    `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number } errors { code message } } }`,
    { input: { title, impact: 2, urgency: 2 } },
    token,
  );
  expect(res.body.errors).toBeUndefined();
  return res.body.data.createIncident.incident;
}

describe('federated subscriptions through the gateway', () => {
  it('delivers a breach written by the SLA monitor with the incident number, its problem number and its related changes numbers', async () => {
    const { tenantId, token } = await newTenant();
    const after = await latestEventCursor(graph.databases.incident, 'incident');
    // A P1 logged three hours ago: its 24x7 SLAs (response 15 min, resolution 1 h) are long due, so the
    // in-process SLA monitor fires every threshold as soon as the timers are written.
    const openedAt = new Date(Date.UTC(2026, 2, 2, 8, 0, 0));
    const created = await createIncidentAt(
      graph.databases.incident.db,
      { userId: 'test-user', tenantId, roles: ['agent'] },
      { title: 'Payroll batch fails', impact: 1, urgency: 1 },
      openedAt,
    );
    expect(created.errors).toEqual([]);
    const incident = created.incident!;
    const problem = await graph.request<any>(`mutation { createProblem(input: { title: "Payroll batch memory leak" }) { problem { id number } errors { code } } }`, {}, token);
    const problemRow = problem.body.data.createProblem.problem;
    await graph.request(`mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { errors { code } } }`, { p: problemRow.id, i: incident.id }, token);
    const changes: string[] = [];
    for (const title of ['Raise payroll heap', 'Patch payroll job']) {
      const change = await graph.request<any>(
        `mutation ($t: String!) { createChangeRequest(input: { title: $t, type: NORMAL }) { changeRequest { id number } errors { code message } } }`,
        { t: title },
        token,
      );
      const row = change.body.data.createChangeRequest.changeRequest;
      changes.push(row.number);
      await graph.request(`mutation ($c: ID!, $i: ID!) { linkChangeToIncident(input: { changeRequestId: $c, incidentId: $i }) { errors { code } } }`, { c: row.id, i: incident.id }, token);
    }

    // Subscribed from before the incident existed: the monitor's breaches arrive whether it fired already or not.
    const subscriber = subscribeOverWebSocket<SlaEventResult>(graph.url, token, SLA_EVENTS, { after, kinds: ['BREACHED'] });
    const events = await subscriber.received(2);
    await subscriber.close();

    const fired = await outboxCursors(graph.databases.incident, tenantId, after, 8);
    expect(fired).toHaveLength(8); // 70, 90, 100 and 110 % of both SLAs
    const expectedIncident = { number: incident.number, problem: { number: problemRow.number }, relatedChanges: expect.arrayContaining(changes.map((number) => ({ number }))) };
    const bySla = Object.fromEntries(events.map((e) => [e.data!.slaEvents.slaKind, e.data!.slaEvents]));
    expect(events.every((e) => e.errors === undefined)).toBe(true);
    expect(bySla['RESPONSE']).toMatchObject({ kind: 'BREACHED', level: null, percent: 100, dueAt: '2026-03-02T08:15:00.000Z', incident: expectedIncident });
    expect(bySla['RESOLUTION']).toMatchObject({ kind: 'BREACHED', level: null, percent: 100, dueAt: '2026-03-02T09:00:00.000Z', incident: expectedIncident });
    expect(events.map((e) => e.data!.slaEvents.incident.relatedChanges)).toEqual([expect.any(Array), expect.any(Array)]);
    expect(events.every((e) => e.data!.slaEvents.incident.relatedChanges.length === 2)).toBe(true);
    // Each carries its own outbox cursor, in stream order.
    const cursors = events.map((e) => e.data!.slaEvents.cursor);
    expect(fired).toEqual(expect.arrayContaining(cursors));
    expect(fired.indexOf(cursors[0]!)).toBeLessThan(fired.indexOf(cursors[1]!));
  });

  it('gives each of two tenants subscribed at once only its own events', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const incidentA = await createIncident(a.token, 'VPN down (A)');
    const incidentB = await createIncident(b.token, 'VPN down (B)');
    const after = await latestEventCursor(graph.databases.incident, 'incident');
    const subscriberA = subscribeOverWebSocket<SlaEventResult>(graph.url, a.token, SLA_EVENTS, { after });
    // B also names A's tenant in every field a subgraph reads identity from: the gateway takes the tenant from the token only.
    const subscriberB = subscribeOverWebSocket<SlaEventResult>(graph.url, b.token, SLA_EVENTS, { after }, {
      connectionParams: { authorization: `Bearer ${b.token}`, tenant: a.tenantId, 'x-itsm-tenant': a.tenantId },
    });
    for (let round = 0; round < 3; round++) {
      await appendSlaEvents(graph.databases.incident, a.tenantId, incidentA, 2, 'SLA_WARNING');
      await appendSlaEvents(graph.databases.incident, b.tenantId, incidentB, 1, 'SLA_ESCALATION');
    }
    // A last event for each, written after all others: anything foreign would have arrived before it.
    await appendSlaEvents(graph.databases.incident, b.tenantId, incidentB, 1);
    await appendSlaEvents(graph.databases.incident, a.tenantId, incidentA, 1);
    const receivedA = await subscriberA.received(7);
    const receivedB = await subscriberB.received(4);
    await Promise.all([subscriberA.close(), subscriberB.close()]);

    expect(receivedA.map((r) => r.data!.slaEvents.cursor)).toEqual(await outboxCursors(graph.databases.incident, a.tenantId, after, 7));
    expect(receivedB.map((r) => r.data!.slaEvents.cursor)).toEqual(await outboxCursors(graph.databases.incident, b.tenantId, after, 4));
    expect(receivedA.map((r) => r.data!.slaEvents.kind)).toEqual(['WARNING', 'WARNING', 'WARNING', 'WARNING', 'WARNING', 'WARNING', 'BREACHED']);
    expect(receivedB.map((r) => r.data!.slaEvents.kind)).toEqual(['ESCALATION', 'ESCALATION', 'ESCALATION', 'BREACHED']);
    expect(new Set(receivedA.map((r) => r.data!.slaEvents.incident.number))).toEqual(new Set([incidentA.number]));
  });

  it('resumes a client that missed 50 events with exactly those 50, in order', async () => {
    const { tenantId, token } = await newTenant();
    const incident = await createIncident(token, 'Printer queue stuck');
    const start = await latestEventCursor(graph.databases.incident, 'incident');
    const first = subscribeOverWebSocket<SlaEventResult>(graph.url, token, SLA_EVENTS, { after: start });
    await appendSlaEvents(graph.databases.incident, tenantId, incident, 5, 'SLA_WARNING');
    const seen = await first.received(5);
    const lastCursor = seen[4]!.data!.slaEvents.cursor;
    await first.close();

    // 50 events in ten transactions while nobody listens.
    for (let i = 0; i < 10; i++) await appendSlaEvents(graph.databases.incident, tenantId, incident, 5);
    const missed = await outboxCursors(graph.databases.incident, tenantId, lastCursor, 50);
    expect(missed).toHaveLength(50);

    const resumed = subscribeOverWebSocket<SlaEventResult>(graph.url, token, SLA_EVENTS, { after: lastCursor });
    await resumed.received(50);
    // One more live event: it must come right after the 50, with nothing else in between.
    await appendSlaEvents(graph.databases.incident, tenantId, incident, 1, 'SLA_ESCALATION');
    const all = await resumed.received(51);
    await resumed.close();
    expect(all.slice(0, 50).map((r) => r.data!.slaEvents.cursor)).toEqual(missed);
    expect(all.slice(0, 50).every((r) => r.data!.slaEvents.kind === 'BREACHED')).toBe(true);
    expect(all).toHaveLength(51);
    expect(all[50]!.data!.slaEvents.kind).toBe('ESCALATION');
  });

  it('two gateways over two incident replicas deliver 1,000 events in cursor order once each, and a client resumes on the other gateway when one is killed', async () => {
    const { tenantId, token } = await newTenant();
    const incident = await createIncident(token, 'Core switch flapping');
    const replica = await startIncidentReplica();
    const replicaDb = replica.database;
    const gateway1 = await startExtraGateway();
    const gateway2 = await startExtraGateway({ incident: replica.service.url });
    const query = `subscription ($after: String) { slaEvents(after: $after) { cursor kind incident { number } } }`;
    try {
      const after = await latestEventCursor(graph.databases.incident, 'incident');
      const steady = subscribeOverWebSocket<SlaEventResult>(gateway2.url, token, query, { after });
      const moving = subscribeOverWebSocket<SlaEventResult>(gateway1.url, token, query, { after });

      // 1,000 breaches in 100 transactions of 10, five at a time through both replicas' pools, so commits interleave.
      const fire = (async () => {
        for (let batch = 0; batch < 20; batch++) {
          await Promise.all(
            Array.from({ length: 5 }, (_, i) => appendSlaEvents(i % 2 ? replicaDb : graph.databases.incident, tenantId, incident, 10)),
          );
        }
      })();

      await moving.received(500);
      await gateway1.close();
      const end = await moving.ended;
      const held = new Map(moving.results.map((r) => [r.data!.slaEvents.cursor, r]));
      const lastCursor = moving.results[moving.results.length - 1]!.data!.slaEvents.cursor;
      // A stopping gateway ends the subscription with SHUTTING_DOWN and the cursor of the last event it sent.
      expect(end).toMatchObject({ kind: 'errors', errors: [{ extensions: { code: 'SHUTTING_DOWN', resumeAfter: lastCursor } }] });
      const resumed = subscribeOverWebSocket<SlaEventResult>(gateway2.url, token, query, { after: lastCursor });
      await fire;
      const fired = await outboxCursors(graph.databases.incident, tenantId, after, 1000);
      expect(fired).toHaveLength(1000);

      const steadyResults = await steady.received(1000);
      await resumed.received(1000 - moving.results.length);
      for (const r of resumed.results) held.set(r.data!.slaEvents.cursor, r);
      await Promise.all([steady.close(), resumed.close()]);

      expect(steadyResults.map((r) => r.data!.slaEvents.cursor)).toEqual(fired);
      expect(steadyResults.every((r) => r.data!.slaEvents.incident.number === incident.number)).toBe(true);
      expect(moving.results.length + resumed.results.length).toBe(1000);
      expect([...held.keys()].sort()).toEqual([...fired].sort());
      expect([...moving.results, ...resumed.results].map((r) => r.data!.slaEvents.cursor)).toEqual(fired);
    } finally {
      await gateway2.close();
      await gateway1.close().catch(() => undefined);
      await replica.stop();
    }
  }, 180_000);

  it('delivers a conflict alert from scheduling overlapping changes with both change numbers', async () => {
    const { token } = await newTenant(['change_manager']);
    const after = await latestEventCursor(graph.databases.change, 'change');
    const subscriber = subscribeOverWebSocket<any>(
      graph.url,
      token,
      `subscription ($after: String) { changeConflicts(after: $after) { cursor kind severity message changeRequest { number } otherChangeRequest { number } } }`,
      { after },
    );
    const create = async (title: string, start: string, end: string) => {
      const res = await graph.request<any>(
        `mutation ($input: CreateChangeRequestInput!) { createChangeRequest(input: $input) { changeRequest { id number } errors { code message } } }`,
        { input: { title, type: NORMAL_CHANGE, configurationItems: ['db-cluster-01'], plannedStart: start, plannedEnd: end } },
        token,
      );
      expect(res.body.data.createChangeRequest.errors).toEqual([]);
      return res.body.data.createChangeRequest.changeRequest as { id: string; number: string };
    };
    const first = await create('Upgrade PostgreSQL minor version', '2026-06-01T20:00:00Z', '2026-06-01T22:00:00Z');
    const second = await create('Rotate database certificates', '2026-06-01T21:00:00Z', '2026-06-01T23:00:00Z');
    const [event] = await subscriber.received(1);
    await subscriber.close();
    expect(event!.errors).toBeUndefined();
    const alert = event!.data.changeConflicts;
    expect(alert.kind).toBe('OVERLAPPING_CHANGE');
    expect(new Set([alert.changeRequest.number, alert.otherChangeRequest.number])).toEqual(new Set([first.number, second.number]));
    expect(alert.cursor).toEqual(expect.any(String));
  });

  it('delivers a problem the recurrence detector opened, with the numbers of its incidents', async () => {
    const { token } = await newTenant(['agent']);
    const after = await latestEventCursor(graph.databases.problem, 'problem');
    const subscriber = subscribeOverWebSocket<any>(
      graph.url,
      token,
      `subscription ($after: String) { problemEvents(after: $after) { cursor type problem { number origin incidentCount } incidents { number } } }`,
      { after },
    );
    const incidents = [];
    for (const title of ['Printer on floor 3 jams', 'floor 3 printer paper jam again', 'Paper jam floor 3 printer']) {
      const res = await graph.request<any>(
        `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number } errors { code } } }`,
        { input: { title, category: 'Hardware', impact: 3, urgency: 3 } },
        token,
      );
      incidents.push(res.body.data.createIncident.incident as { id: string; number: string });
    }
    const [event] = await subscriber.received(1);
    await subscriber.close();
    expect(event!.errors).toBeUndefined();
    const detected = event!.data.problemEvents;
    expect(detected).toMatchObject({ type: 'PROBLEM_DETECTED', problem: { origin: 'RECURRENCE_DETECTION', incidentCount: 3 } });
    expect(detected.problem.number).toMatch(/^PRB\d{10}$/);
    expect(detected.incidents.map((i: { number: string }) => i.number).sort()).toEqual(incidents.map((i) => i.number).sort());
  });

  it('keeps a stream going across a restart of the subgraph that owns it, continuing after the last cursor', async () => {
    const { tenantId, token } = await newTenant();
    const incident = await createIncident(token, 'Mail relay restarts');
    const replica = await startIncidentReplica();
    const port = replica.service.port;
    const gateway = await startExtraGateway({ incident: replica.service.url });
    let restarted: Awaited<ReturnType<typeof startIncidentReplica>> | undefined;
    try {
      const after = await latestEventCursor(graph.databases.incident, 'incident');
      const subscriber = subscribeOverWebSocket<SlaEventResult>(gateway.url, token, SLA_EVENTS, { after });
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 3, 'SLA_WARNING');
      await subscriber.received(3);
      await replica.stop();
      // Written while the owning subgraph is down; the gateway keeps retrying with backoff.
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 4, 'SLA_ESCALATION');
      restarted = await startIncidentReplica(port);
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 2);
      const results = await subscriber.received(9);
      await subscriber.close();
      expect(results.map((r) => r.data!.slaEvents.cursor)).toEqual(await outboxCursors(graph.databases.incident, tenantId, after, 9));
      expect(results.map((r) => r.data!.slaEvents.kind)).toEqual([...Array(3).fill('WARNING'), ...Array(4).fill('ESCALATION'), 'BREACHED', 'BREACHED']);
      expect(results.every((r) => r.errors === undefined)).toBe(true);
    } finally {
      await gateway.close();
      await restarted?.stop();
    }
  });

  it('delivers an event with a GraphQL error when another subgraph fails, and keeps the stream', async () => {
    const { tenantId, token } = await newTenant();
    const incident = await createIncident(token, 'Badge readers offline');
    // The problem subgraph of this gateway is unreachable (nothing listens on the port).
    const dead = await startIncidentReplica();
    const deadUrl = dead.service.url;
    await dead.stop();
    const gateway = await startExtraGateway({ problem: deadUrl });
    try {
      const after = await latestEventCursor(graph.databases.incident, 'incident');
      const subscriber = subscribeOverWebSocket<SlaEventResult>(gateway.url, token, SLA_EVENTS, { after });
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 1, 'SLA_WARNING');
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 1);
      const [warning, breach] = await subscriber.received(2);
      await subscriber.close();
      for (const event of [warning!, breach!]) {
        expect(event.data!.slaEvents.incident).toEqual({ number: incident.number, problem: null, relatedChanges: [] });
        expect(event.errors).toHaveLength(1);
        expect(event.errors![0]).toEqual({ message: 'the problem subgraph did not answer', extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'problem' } });
      }
      expect([warning!.data!.slaEvents.kind, breach!.data!.slaEvents.kind]).toEqual(['WARNING', 'BREACHED']);
    } finally {
      await gateway.close();
    }
  });

  it('refuses connections without a valid token and ends the stream with TOKEN_EXPIRED when the token expires', async () => {
    const anonymous = subscribeOverWebSocket(graph.url, undefined, SLA_EVENTS);
    expect(await anonymous.ended).toEqual({ kind: 'closed', code: 4401, reason: expect.stringMatching(/^UNAUTHENTICATED: /) });
    await anonymous.close();

    const { tenantId } = await newTenant();
    const expired = await graph.token({ tenant: tenantId, expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const late = subscribeOverWebSocket(graph.url, expired, SLA_EVENTS);
    expect(await late.ended).toEqual({ kind: 'closed', code: 4401, reason: expect.stringMatching(/^TOKEN_EXPIRED: /) });
    await late.close();

    // A token valid for a few more seconds is accepted; the stream then ends with the code when it expires
    // (the reason differs from the refusal at connect: this one was closed by the expiry timer).
    const shortLived = await graph.token({ tenant: tenantId, expiresIn: '3s' });
    const subscriber = subscribeOverWebSocket<SlaEventResult>(graph.url, shortLived, SLA_EVENTS);
    expect(await subscriber.ended).toEqual({ kind: 'closed', code: 4401, reason: 'TOKEN_EXPIRED: reconnect with a new token and resubscribe after your last cursor' });
    await subscriber.close();
  });

  it('lets only the gateway open subscriptions on a subgraph: a connection without the signed identity is refused', async () => {
    const { token } = await newTenant();
    const direct = subscribeOverWebSocket(graph.subgraphs.incident.url, token, `subscription { slaEvents { cursor } }`);
    expect(await direct.ended).toEqual({ kind: 'closed', code: 4403, reason: expect.stringMatching(/^UNSIGNED_REQUEST: /) });
    await direct.close();
  });

  it('ends live subscriptions with SCHEMA_RELOADED and the cursor to resume after when the supergraph is reloaded', async () => {
    const { tenantId, token } = await newTenant();
    const incident = await createIncident(token, 'Storage array degraded');
    const gateway = await startExtraGateway();
    try {
      const after = await latestEventCursor(graph.databases.incident, 'incident');
      const subscriber = subscribeOverWebSocket<SlaEventResult>(gateway.url, token, SLA_EVENTS, { after });
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 2, 'SLA_WARNING');
      const seen = await subscriber.received(2);
      gateway.reloadSupergraph(`${readFileSync(SUPERGRAPH_FILE, 'utf8')}\n# reloaded\n`);
      expect(await subscriber.ended).toEqual({
        kind: 'errors',
        errors: [{ message: expect.any(String), extensions: { code: 'SCHEMA_RELOADED', resumeAfter: seen[1]!.data!.slaEvents.cursor } }],
      });
      await subscriber.close();
      // Resubscribing after that cursor on the reloaded schema continues the stream.
      await appendSlaEvents(graph.databases.incident, tenantId, incident, 1);
      const resumed = subscribeOverWebSocket<SlaEventResult>(gateway.url, token, SLA_EVENTS, { after: seen[1]!.data!.slaEvents.cursor });
      const [next] = await resumed.received(1);
      await resumed.close();
      expect(next!.data!.slaEvents.kind).toBe('BREACHED');
    } finally {
      await gateway.close();
    }
  });

  it('ends a slow subscriber with SUBSCRIBER_TOO_SLOW and its resume cursor when its buffer overflows, without slowing the others', async () => {
    const { tenantId, token } = await newTenant();
    const res = await graph.request<any>(
      `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number } errors { code } } }`,
      { input: { title: 'Log shipping backlog', impact: 3, urgency: 3, description: 'x'.repeat(20_000) } },
      token,
    );
    const incident = res.body.data.createIncident.incident as { id: string; number: string };
    // Each event carries the 20 kB description 20 times (400 kB): a client that stops reading fills the
    // socket buffers (a few MB) after some events, then the gateway's buffer of 20, which it then leaves
    // untouched for a second.
    const aliases = Array.from({ length: 20 }, (_, i) => `d${i}: description`).join(' ');
    const query = `subscription ($after: String) { slaEvents(after: $after) { cursor incident { number ${aliases} } } }`;
    const gateway = await startExtraGateway({}, { maxBufferedEvents: 20, stallTimeoutMs: 1000 });
    try {
      const after = await latestEventCursor(graph.databases.incident, 'incident');
      const fast = subscribeOverWebSocket<any>(gateway.url, token, query, { after });

      // A raw graphql-ws client that stops reading its socket right after subscribing.
      const slow = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      const messages: { type: string; id?: string; payload?: any }[] = [];
      slow.on('message', (data) => messages.push(JSON.parse(String(data))));
      await new Promise((resolve) => slow.once('open', resolve));
      slow.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      await until(() => messages.some((m) => m.type === 'connection_ack'));
      slow.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query, variables: { after } } }));
      slow.pause();

      // 60 events in rounds of 10 that the reading subscriber takes as they come (never 20 behind).
      for (let round = 1; round <= 6; round++) {
        await appendSlaEvents(graph.databases.incident, tenantId, incident, 10, 'SLA_WARNING');
        await fast.received(round * 10);
      }
      const all = fast.results;
      await fast.close();
      // Both have stopped being live: the reader unsubscribed, the stalled one was ended.
      await until(() => gateway.subscriptions.activeCount === 0);
      const fired = await outboxCursors(graph.databases.incident, tenantId, after, 60);
      expect(all.map((r) => r.data.slaEvents.cursor)).toEqual(fired);
      expect(all.every((r) => r.errors === undefined)).toBe(true);

      slow.resume();
      await until(() => messages.some((m) => m.type === 'error' || m.type === 'complete'));
      const nexts = messages.filter((m) => m.type === 'next');
      const end = messages.find((m) => m.type === 'error')!;
      expect(nexts.length).toBeLessThan(60);
      expect(nexts.map((m) => m.payload.data.slaEvents.cursor)).toEqual(fired.slice(0, nexts.length));
      const resumeAfter = nexts.length ? nexts[nexts.length - 1]!.payload.data.slaEvents.cursor : after;
      expect(end).toEqual({
        id: 'slow',
        type: 'error',
        payload: [{ message: expect.stringMatching(/resubscribe with after = resumeAfter/), extensions: { code: 'SUBSCRIBER_TOO_SLOW', resumeAfter } }],
      });
      slow.close();

      // Resuming after that cursor gives exactly the rest.
      const resumed = subscribeOverWebSocket<any>(gateway.url, token, `subscription ($after: String) { slaEvents(after: $after) { cursor } }`, { after: resumeAfter });
      const rest = await resumed.received(60 - nexts.length);
      await resumed.close();
      expect(rest.map((r) => r.data.slaEvents.cursor)).toEqual(fired.slice(nexts.length));
    } finally {
      await gateway.close();
    }
  }, 180_000);

  it('runs queries over the same connection with the caller identity, and refuses invalid subscriptions with coded errors', async () => {
    const { token } = await newTenant();
    const incident = await createIncident(token, 'Laptop will not boot');
    const query = subscribeOverWebSocket<any>(graph.url, token, `query ($id: ID) { incident(id: $id) { number } }`, { id: incident.id });
    expect(await query.received(1)).toEqual([{ data: { incident: { number: incident.number } } }]);
    expect(await query.ended).toEqual({ kind: 'complete' });
    await query.close();

    const invalid = subscribeOverWebSocket(graph.url, token, `subscription { slaEvents { cursor noSuchField } }`);
    expect(await invalid.ended).toEqual({
      kind: 'errors',
      errors: [expect.objectContaining({ message: 'Cannot query field "noSuchField" on type "SlaEvent".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })],
    });
    await invalid.close();

    const badCursor = subscribeOverWebSocket(graph.url, token, `subscription { slaEvents(after: "not-a-cursor") { cursor } }`);
    expect(await badCursor.ended).toEqual({
      kind: 'errors',
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'after', serviceName: 'incident' }) })],
    });
    await badCursor.close();
  });
});

/** Resolves once `condition` holds (checked every 20 ms). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
