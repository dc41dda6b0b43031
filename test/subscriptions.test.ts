import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, startGateway, type RunningGateway } from '@itsm/gateway';
import { incidentSubgraph } from '@itsm/incident';
import { appendEvents, latestEventCursor, openDatabase, readEvents, type DatabaseHandle, type SubgraphService } from '@itsm/kit';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
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
  it('delivers an SLA breach with the incident number, its problem number and its related changes numbers', async () => {
    const { tenantId, token } = await newTenant();
    const incident = await createIncident(token, 'Payroll batch fails');
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

    const after = await latestEventCursor(graph.databases.incident, 'incident');
    const subscriber = subscribeOverWebSocket<SlaEventResult>(graph.url, token, SLA_EVENTS, { after });
    await appendSlaEvents(graph.databases.incident, tenantId, incident, 1);
    const [event] = await subscriber.received(1);
    await subscriber.close();

    expect(event!.errors).toBeUndefined();
    const [written] = await outboxCursors(graph.databases.incident, tenantId, after, 1);
    expect(event!.data!.slaEvents).toEqual({
      cursor: written,
      kind: 'BREACHED',
      slaKind: 'RESOLUTION',
      level: null,
      percent: 100,
      dueAt: '2026-03-02T10:00:00.000Z',
      firedAt: '2026-03-02T10:00:00.000Z',
      incident: { number: incident.number, problem: { number: problemRow.number }, relatedChanges: expect.arrayContaining(changes.map((number) => ({ number }))) },
    });
    expect(event!.data!.slaEvents.incident.relatedChanges).toHaveLength(2);
  });

  it('gives each of two tenants subscribed at once only its own events', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const incidentA = await createIncident(a.token, 'VPN down (A)');
    const incidentB = await createIncident(b.token, 'VPN down (B)');
    const after = await latestEventCursor(graph.databases.incident, 'incident');
    const subscriberA = subscribeOverWebSocket<SlaEventResult>(graph.url, a.token, SLA_EVENTS, { after });
    const subscriberB = subscribeOverWebSocket<SlaEventResult>(graph.url, b.token, SLA_EVENTS, { after });
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
    // A second incident replica on its own port and connection pool, against the same database.
    const replicaDb = await openDatabase({
      url: graph.config.subgraphs.incident.databaseUrl,
      schemaName: incidentSubgraph.schemaName,
      migrationsFolder: incidentSubgraph.migrationsFolder,
    });
    const replica: SubgraphService = await incidentSubgraph.start({
      database: replicaDb,
      host: '127.0.0.1',
      port: 0,
      internalSecret: graph.config.internalSecret,
      logger: graph.logger.child({ subgraph: 'incident-replica' }),
    });
    const gatewayFor = (incidentUrl: string): Promise<RunningGateway> =>
      startGateway({
        supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
        subgraphUrls: { incident: incidentUrl, problem: graph.subgraphs.problem.url, change: graph.subgraphs.change.url },
        internalSecret: graph.config.internalSecret,
        verifyToken: createTokenVerifier(graph.config.jwt),
        logger: graph.logger.child({ service: 'gateway-replica' }),
        host: '127.0.0.1',
        port: 0,
      });
    const gateway1 = await gatewayFor(graph.subgraphs.incident.url);
    const gateway2 = await gatewayFor(replica.url);
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
      expect(end.kind).toBe('closed');
      const held = new Map(moving.results.map((r) => [r.data!.slaEvents.cursor, r]));
      const lastCursor = moving.results[moving.results.length - 1]!.data!.slaEvents.cursor;
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
      await replica.close();
      await replicaDb.close();
    }
  });
});
