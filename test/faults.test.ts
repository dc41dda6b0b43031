import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '@itsm/gateway';
import { incidentSubgraph } from '@itsm/incident';
import { problemSubgraph } from '@itsm/problem';
import { appendEvents, latestEventCursor, openDatabase, type SubgraphService } from '@itsm/kit';
import { createTestDatabase, serverAvailable, startTestGraph, type TestGraph } from './harness.js';
import { rawRows } from './incident-test-kit.js';
import { subscribeOverWebSocket } from './ws-client.js';

/**
 * Faults, on PostgreSQL: a subgraph killed in the middle of a load of queries, every backend of the test database
 * terminated during a load of writes, and SIGTERM to a process serving the graph (see the last describe).
 */

let graph: TestGraph;
let tenantId: string;
let token: string;

beforeAll(async () => {
  if (!serverAvailable) return;
  graph = await startTestGraph({ background: false });
  tenantId = randomUUID();
  token = await graph.token({ tenant: tenantId, roles: ['agent', 'manager'] });
}, 120_000);

afterAll(async () => {
  await graph?.stop();
});

type Body = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };

async function gql(query: string, variables: Record<string, unknown> = {}): Promise<Body> {
  try {
    return (await graph.request(query, variables, token)).body as Body;
  } catch (error) {
    // The gateway itself did not answer (the graph is stopping after a failed test): an answer without data.
    return { errors: [{ message: String(error), extensions: { code: 'NO_ANSWER' } }] };
  }
}

/** Waits until `condition` holds, checking every 10 ms; fails after 30 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `worker` on `concurrency` loops until `stop()` is called; resolves once every loop ended. */
function load(concurrency: number, worker: () => Promise<void>): { stop(): Promise<void> } {
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await worker();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe.skipIf(!serverAvailable)('faults', () => {
  it('answers the other subgraphs\' fields with a coded error on the missing ones while a subgraph is down, and full results once it is back on its port', async () => {
    // Incidents, each linked to a problem (problem subgraph) and a change (change subgraph).
    for (let i = 0; i < 5; i++) {
      const incident = (await gql(`mutation ($t: String!) { createIncident(input: { title: $t, impact: 3, urgency: 3 }) { incident { id } } }`, { t: `Disk ${i} full` })).data
        .createIncident.incident;
      const problem = (await gql(`mutation ($t: String!) { createProblem(input: { title: $t }) { problem { id } } }`, { t: `Disks ${i}` })).data.createProblem.problem;
      await gql(`mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { errors { code } } }`, { p: problem.id, i: incident.id });
      const change = (await gql(`mutation ($t: String!) { createChangeRequest(input: { title: $t, type: NORMAL }) { changeRequest { id } } }`, { t: `Grow disk ${i}` })).data
        .createChangeRequest.changeRequest;
      await gql(`mutation ($c: ID!, $i: ID!) { linkChangeToIncident(input: { changeRequestId: $c, incidentId: $i }) { errors { code } } }`, { c: change.id, i: incident.id });
    }
    const QUERY = `{ incidents(first: 10) { edges { node { number title problem { number title } relatedChanges { number } } } } }`;
    const isFull = (body: Body) =>
      !body.errors && body.data?.incidents.edges.length === 5 && body.data.incidents.edges.every((e: any) => e.node.problem?.number && e.node.relatedChanges.length === 1);
    const isPartial = (body: Body) =>
      !!body.errors?.length &&
      body.data?.incidents.edges.length === 5 &&
      body.data.incidents.edges.every((e: any) => e.node.problem === null && e.node.relatedChanges.length === 1);
    expect(isFull(await gql(QUERY))).toBe(true);

    // Each answer is kept with the phase it started and ended in; answers spanning a change of phase are left out.
    const seen: { phase: 'up' | 'down' | 'back' | 'between'; body: Body }[] = [];
    let phase: 'up' | 'down' | 'back' = 'up';
    const queries = load(4, async () => {
      const started = phase;
      const body = await gql(QUERY);
      seen.push({ phase: started === phase ? started : 'between', body });
    });
    const count = (phaseOf: string, full = false) => seen.filter((e) => e.phase === phaseOf && (!full || isFull(e.body))).length;
    try {
      await until(() => count('up') >= 20, 'answers before the kill');
      // Kill the problem subgraph: stop listening and drop its connections, in-flight requests included.
      const port = graph.subgraphs.problem.port;
      const closed = graph.subgraphs.problem.close();
      graph.subgraphs.problem.server.closeAllConnections();
      await closed;
      phase = 'down';
      await until(() => count('down') >= 40, 'answers while the problem subgraph is down');

      // The same subgraph process's worth started again on the same port; nothing else restarts.
      const restarted: SubgraphService = await problemSubgraph.start({
        database: graph.databases.problem,
        host: graph.config.host,
        port,
        internalSecret: graph.config.internalSecret,
        logger: graph.logger.child({ subgraph: 'problem-restarted' }),
      });
      graph.subgraphs.problem = restarted;
      phase = 'back';
      await until(() => count('back', true) >= 40, 'full answers once it is back');
    } finally {
      await queries.stop();
    }

    const down = seen.filter((e) => e.phase === 'down');
    // While it was down every answer kept the incidents and their changes, with a coded error for the problems.
    expect(down.filter((e) => !isPartial(e.body)).map((e) => JSON.stringify(e.body).slice(0, 300))).toEqual([]);
    const codes = new Set(down.flatMap((e) => (e.body.errors ?? []).map((error) => `${error.extensions?.code} ${error.extensions?.serviceName}`)));
    expect([...codes]).toEqual(['SUBGRAPH_UNAVAILABLE problem']);
    // Once back, answers are full again: after the first full one, every later one is full.
    const back = seen.filter((e) => e.phase === 'back');
    const firstFull = back.findIndex((e) => isFull(e.body));
    expect(back.slice(firstFull).filter((e) => !isFull(e.body)).length).toBe(0);
    expect(seen.filter((e) => e.phase === 'up').every((e) => isFull(e.body))).toBe(true);
  });

  it('keeps every acknowledged write when every backend of the database is terminated during a load of writes, and answers after', async () => {
    const CREATE = `mutation ($t: String!) { createIncident(input: { title: $t, impact: 3, urgency: 3 }) { incident { id number } errors { code } } }`;
    const acknowledged: { id: string; number: string; title: string }[] = [];
    const failed: string[] = [];
    let n = 0;
    const writes = load(6, async () => {
      const title = `Write ${n++}`;
      const body = await gql(CREATE, { t: title });
      const incident = body.data?.createIncident?.incident;
      if (incident && body.data.createIncident.errors.length === 0 && !body.errors) acknowledged.push({ ...incident, title });
      else failed.push(JSON.stringify(body.errors ?? body.data).slice(0, 200));
    });
    // A connection of its own (never terminated: it is the one running pg_terminate_backend).
    const admin = postgres(graph.config.subgraphs.incident.databaseUrl!, { max: 1, onnotice: () => {} });
    let terminated = 0;
    let before = 0;
    try {
      for (let round = 0; round < 4; round++) {
        const count = acknowledged.length;
        await until(() => acknowledged.length >= count + 15, 'writes acknowledged between terminations');
        const rows = await admin.unsafe(`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
        terminated += Number((rows[0] as unknown as { n: number }).n);
      }
      before = acknowledged.length;
      // The services reconnect by themselves: writes are acknowledged again after the last termination.
      await until(() => acknowledged.length >= before + 30, 'writes acknowledged after the last termination');
    } finally {
      await writes.stop();
      await admin.end();
    }
    expect(terminated).toBeGreaterThan(4);

    // Every acknowledged write is in the database, under the number it was acknowledged with.
    const stored = await rawRows<{ id: string; number: string; title: string }>(graph.databases.incident, `select id, number, title from incident.incidents where tenant_id = $1`, [tenantId]);
    const byId = new Map(stored.map((row) => [row.id, row]));
    expect(acknowledged.filter((w) => byId.get(w.id)?.number !== w.number || byId.get(w.id)?.title !== w.title)).toEqual([]);
    // Refused writes are internal errors of a terminated connection, never a half-written incident: numbers stay unique.
    expect(new Set(stored.map((row) => row.number)).size).toBe(stored.length);
    console.log(`writes: ${acknowledged.length} acknowledged, ${failed.length} failed, ${terminated} backends terminated; first failure: ${failed[0] ?? 'none'}`);

    // Every subgraph answers again (the incident subgraph wrote already; problem and change read).
    const after = await gql(`{ incidents(first: 1) { totalCount } problems(first: 1) { totalCount } changeRequests(first: 1) { totalCount } }`);
    expect(after.errors).toBeUndefined();
    expect(after.data.incidents.totalCount).toBe(stored.length);

    // Event streams too: the outbox feed's LISTEN connection was terminated as well; a new event still arrives.
    const cursor = await latestEventCursor(graph.databases.incident, 'incident');
    const stream = subscribeOverWebSocket<any>(graph.url, token, `subscription ($after: String) { slaEvents(after: $after) { cursor incident { number } } }`, { after: cursor });
    const incident = acknowledged[0]!;
    await graph.databases.incident.db.transaction((tx) =>
      appendEvents(tx, 'incident', [
        {
          tenantId,
          type: 'SLA_BREACHED',
          payload: { incidentId: incident.id, incidentNumber: incident.number, slaId: randomUUID(), kind: 'RESPONSE', level: null, percent: 100, dueAt: new Date().toISOString(), firedAt: new Date().toISOString() },
        },
      ]),
    );
    const [event] = await stream.received(1);
    await stream.close();
    expect(event!.data.slaEvents.incident.number).toBe(incident.number);
  });
});

describe.skipIf(!serverAvailable)('SIGTERM', () => {
  it('finishes the requests in flight, ends open subscriptions with a resume code and exits within 10 s', async () => {
    const database = await createTestDatabase();
    const secrets = { JWT_SECRET: `jwt-${randomUUID()}-${randomUUID()}`, INTERNAL_SECRET: `internal-${randomUUID()}-${randomUUID()}` };
    // `pnpm start` as production runs it (Apollo Server would add its own signal handlers there), without demo data.
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        NODE_ENV: 'production',
        ...secrets,
        DATABASE_URL: database.url,
        DEMO_DATA: 'none',
        GATEWAY_PORT: '0',
        INCIDENT_PORT: '0',
        PROBLEM_PORT: '0',
        CHANGE_PORT: '0',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const handle = await openDatabase({ url: database.url, schemaName: incidentSubgraph.schemaName, migrationsFolder: incidentSubgraph.migrationsFolder });
    try {
      await until(() => /ITSM graph ready: (\S+)/.test(output) || child.exitCode !== null, 'the graph process to start');
      const url = /ITSM graph ready: (\S+)/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      const tenant = randomUUID();
      const token = await issueToken(secrets.JWT_SECRET, { sub: 'agent-1', tenant, roles: ['agent'] });
      const request = async (query: string, variables: Record<string, unknown> = {}) => {
        const response = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
        return { status: response.status, body: (await response.json()) as Body };
      };
      const created = await request(`mutation { createIncident(input: { title: "Core switch down", impact: 1, urgency: 1 }) { incident { id number } } }`);
      const incident = created.body.data.createIncident.incident as { id: string; number: string };

      // A dashboard subscribed to SLA events, live: an event is delivered before the signal.
      const dashboard = subscribeOverWebSocket<any>(url!, token, `subscription { slaEvents { cursor kind incident { number } } }`);
      const fire = () =>
        handle.db.transaction((tx) =>
          appendEvents(tx, 'incident', [
            {
              tenantId: tenant,
              type: 'SLA_BREACHED',
              payload: { incidentId: incident.id, incidentNumber: incident.number, slaId: randomUUID(), kind: 'RESPONSE', level: null, percent: 100, dueAt: new Date().toISOString(), firedAt: new Date().toISOString() },
            },
          ]),
        );
      for (let round = 0; !dashboard.results.length; round++) {
        if (round === 100) throw new Error('the subscription did not start');
        await fire();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const lastCursor = dashboard.results[dashboard.results.length - 1]!.data.slaEvents.cursor as string;

      // A load of queries across the three subgraphs; SIGTERM in the middle of it.
      const QUERY = `{ incidents(first: 5) { totalCount edges { node { number title problem { number } relatedChanges { number } slas { kind dueAt } } } } }`;
      let signalledAt = Infinity;
      const answers: { startedAt: number; endedAt: number; status?: number; body?: Body; error?: string }[] = [];
      const queries = load(8, async () => {
        if (child.exitCode !== null) return new Promise((resolve) => setTimeout(resolve, 5));
        const startedAt = Date.now();
        try {
          const { status, body } = await request(QUERY);
          answers.push({ startedAt, endedAt: Date.now(), status, body });
        } catch (error) {
          answers.push({ startedAt, endedAt: Date.now(), error: String((error as { cause?: unknown }).cause ?? error) });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
      await until(() => answers.length >= 40, 'queries before the signal');
      signalledAt = Date.now();
      child.kill('SIGTERM');
      const exit = await exited;
      await queries.stop();

      // Every request sent before the signal was answered in full.
      const beforeSignal = answers.filter((a) => a.startedAt < signalledAt);
      const inFlight = beforeSignal.filter((a) => a.endedAt >= signalledAt);
      expect(beforeSignal.filter((a) => a.status !== 200 || a.body?.errors || a.body?.data?.incidents.totalCount !== 1).map((a) => a.error ?? JSON.stringify(a.body))).toEqual([]);
      // The subscription ended with a code that says to resubscribe after the last cursor received.
      const end = await dashboard.ended;
      expect(end).toMatchObject({ kind: 'errors', errors: [{ extensions: { code: 'SHUTTING_DOWN', resumeAfter: lastCursor } }] });
      expect(exit.code, output.slice(-3000)).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(10_000);
      console.log(`SIGTERM: ${beforeSignal.length} requests sent before it (${inFlight.length} in flight), exit ${exit.code} after ${exit.at - signalledAt} ms`);
      await dashboard.close();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await handle.close();
      await database.drop();
    }
  }, 120_000);
});
