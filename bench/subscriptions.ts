import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import postgres from 'postgres';
import WebSocket from 'ws';
import { issueToken } from '@itsm/gateway';
import { incidentSubgraph } from '@itsm/incident';
import { appendEvents, latestEventCursor, loadConfig, openDatabase, SUBGRAPHS, type DatabaseHandle, type SubgraphName } from '@itsm/kit';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { startProcess, type BenchProcess } from './lib/ipc.js';
import type { BenchGatewayConfig } from './lib/gateway-config.js';

/**
 * `tsx bench/subscriptions.ts [--subscribers 1000] [--tenants 10] [--events 200] [--rate 10] [--query federated,primary]`
 *
 * Latency from an SLA event's commit to its delivery at each subscriber, through our gateway, with N concurrent
 * graphql-ws subscribers spread over T tenants (every subscriber its own connection and its own user, so its own
 * upstream connection too), and the gateway's memory per subscriber. The subgraphs and the gateway each run in
 * their own process on a fresh PostgreSQL database; the subscribers run here and take the receive time, so the
 * latency includes this process's event-loop delay with N sockets open. Writes bench/results/subscriptions.md.
 */
const { values: flags } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '1000' },
    tenants: { type: 'string', default: '10' },
    events: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10' },
    query: { type: 'string', default: 'federated,primary' },
    out: { type: 'string', default: 'subscriptions.md' },
  },
});
const SUBSCRIBERS = Number(flags.subscribers);
const TENANTS = Number(flags.tenants);
const EVENTS = Number(flags.events);
const RATE = Number(flags.rate);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const QUERIES: Record<string, string> = {
  // Fields of all three subgraphs: every event runs the rest of the plan (a problem and a change fetch).
  federated: `subscription ($after: String) { slaEvents(after: $after) { cursor slaId kind incident { number problem { number } relatedChanges { number } } } }`,
  // Fields of the owning subgraph only: the primary fetch alone.
  primary: `subscription ($after: String) { slaEvents(after: $after) { cursor slaId kind incident { number } } }`,
};
const VARIANTS = flags.query!.split(',');
for (const variant of VARIANTS) if (!QUERIES[variant]) throw new Error(`--query takes ${Object.keys(QUERIES).join(', ')} (comma-separated)`);

const log = (...parts: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function createDatabase() {
  const name = `itsm_bench_subs_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await client.unsafe(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

interface Subscriber {
  tenant: number;
  client: Client;
  /** slaId -> receive time (performance.now()). */
  received: Map<string, number>;
  cursors: Set<string>;
  duplicates: number;
  errors: number;
  ended?: string;
}

async function graphql(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** One incident per tenant, with a problem and a change linked, so the federated query has fields to fetch. */
async function seedTenant(gatewayUrl: string, token: string, t: number) {
  const incident = (await graphql(gatewayUrl, token, `mutation { createIncident(input: { title: "Bench incident ${t}", impact: 2, urgency: 2 }) { incident { id number } } }`))
    .createIncident.incident as { id: string; number: string };
  const problem = (await graphql(gatewayUrl, token, `mutation { createProblem(input: { title: "Bench problem ${t}" }) { problem { id } } }`)).createProblem.problem;
  await graphql(gatewayUrl, token, `mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { errors { code } } }`, { p: problem.id, i: incident.id });
  const change = (await graphql(gatewayUrl, token, `mutation { createChangeRequest(input: { title: "Bench change ${t}", type: NORMAL }) { changeRequest { id } } }`)).createChangeRequest
    .changeRequest;
  await graphql(gatewayUrl, token, `mutation ($c: ID!, $i: ID!) { linkChangeToIncident(input: { changeRequestId: $c, incidentId: $i }) { errors { code } } }`, { c: change.id, i: incident.id });
  return incident;
}

async function fire(db: DatabaseHandle, tenantId: string, incident: { id: string; number: string }, slaId: string): Promise<void> {
  const now = new Date().toISOString();
  await db.db.transaction((tx) =>
    appendEvents(tx, 'incident', [
      {
        tenantId,
        type: 'SLA_BREACHED',
        payload: { incidentId: incident.id, incidentNumber: incident.number, slaId, kind: 'RESOLUTION', level: null, percent: 100, dueAt: now, firedAt: now },
      },
    ]),
  );
}

/** One measured run with a fresh database and fresh processes; the rows of its column in the table. */
async function run(variant: string): Promise<[string, string][]> {
  const QUERY = QUERIES[variant]!;
  const config = loadConfig({ NODE_ENV: 'development' });
  const database = await createDatabase();
  const processes: BenchProcess[] = [];
  let writer: DatabaseHandle | undefined;
  const subscribers: Subscriber[] = [];
  try {
    log(`fresh database; starting 3 subgraphs and the gateway, each in its own process`);
    const subgraphUrls = {} as Record<SubgraphName, string>;
    for (const name of SUBGRAPHS) {
      const p = await startProcess(name, 'subgraph', { BENCH_SUBGRAPH: name, DATABASE_URL: database.url });
      processes.push(p);
      subgraphUrls[name] = p.url;
    }
    const gatewayConfig: BenchGatewayConfig = { supergraphFile: SUPERGRAPH_FILE, subgraphUrls, jwtSecret: config.jwt.secret!, internalSecret: config.internalSecret };
    const gateway = await startProcess('gateway', 'gateway-subscriptions', { BENCH_GATEWAY: JSON.stringify(gatewayConfig) });
    processes.push(gateway);
    writer = await openDatabase({ url: database.url, schemaName: incidentSubgraph.schemaName, migrationsFolder: incidentSubgraph.migrationsFolder });

    const tenants = await Promise.all(
      Array.from({ length: TENANTS }, async (_, t) => {
        const tenantId = randomUUID();
        const token = await issueToken(config.jwt.secret!, { sub: `seed-${t}`, tenant: tenantId, roles: ['agent', 'change_manager'] });
        return { tenantId, incident: await seedTenant(gateway.url, token, t) };
      }),
    );
    const idle = await gateway.call<{ rss: number; heapUsed: number; external: number }>('memory');
    const after = await latestEventCursor(writer, 'incident');

    log(`opening ${SUBSCRIBERS} subscribers over ${TENANTS} tenants (each its own connection and user)`);
    const wsUrl = gateway.url.replace(/^http/, 'ws');
    for (let start = 0; start < SUBSCRIBERS; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SUBSCRIBERS - start) }, async (_, k) => {
          const i = start + k;
          const tenant = i % TENANTS;
          const token = await issueToken(config.jwt.secret!, { sub: `dashboard-${i}`, tenant: tenants[tenant]!.tenantId, roles: ['agent'] });
          const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0, lazy: true });
          const subscriber: Subscriber = { tenant, client, received: new Map(), cursors: new Set(), duplicates: 0, errors: 0 };
          subscribers.push(subscriber);
          client.subscribe<any>(
            { query: QUERY, variables: { after } },
            {
              next: (result) => {
                const at = performance.now();
                const event = result.data?.slaEvents;
                if (result.errors) subscriber.errors++;
                if (!event) return;
                if (subscriber.cursors.has(event.cursor)) subscriber.duplicates++;
                subscriber.cursors.add(event.cursor);
                subscriber.received.set(event.slaId, at);
              },
              error: (error) => (subscriber.ended = JSON.stringify(error)),
              complete: () => (subscriber.ended = 'complete'),
            },
          );
        }),
      );
      while ((await gateway.call<number>('subscriptions')) < Math.min(start + 50, SUBSCRIBERS)) await sleep(50);
    }
    // One warm-up event per tenant: every subscription is open end to end once all have it.
    const warmups = tenants.map(() => randomUUID());
    await Promise.all(tenants.map((t, i) => fire(writer!, t.tenantId, t.incident, warmups[i]!)));
    while (subscribers.some((s) => !s.received.has(warmups[s.tenant]!) && !s.ended)) await sleep(50);
    const open = await gateway.call<{ rss: number; heapUsed: number; external: number }>('memory');
    log(`all ${SUBSCRIBERS} subscriptions live; gateway heap ${(open.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(open.rss / 2 ** 20).toFixed(1)} MiB`);

    log(`firing ${EVENTS} SLA events at ${RATE}/s, round-robin over the tenants`);
    const committed = new Map<string, { at: number; tenant: number }>();
    const began = performance.now();
    for (let e = 0; e < EVENTS; e++) {
      const due = began + (e * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const tenant = e % TENANTS;
      const slaId = randomUUID();
      await fire(writer, tenants[tenant]!.tenantId, tenants[tenant]!.incident, slaId);
      committed.set(slaId, { at: performance.now(), tenant });
    }
    const expected = [...committed.values()].reduce((n, c) => n + subscribers.filter((s) => s.tenant === c.tenant).length, 0);
    const deadline = performance.now() + 120_000;
    const count = () => subscribers.reduce((n, s) => n + [...committed.keys()].filter((k) => s.received.has(k)).length, 0);
    while (count() < expected && performance.now() < deadline) await sleep(200);
    const peak = await gateway.call<{ rss: number; heapUsed: number }>('memory');

    const latencies: number[] = [];
    const perEvent = new Map<string, { first: number; last: number }>();
    let foreign = 0;
    for (const s of subscribers) {
      for (const [slaId, at] of s.received) {
        const c = committed.get(slaId);
        if (!c) continue;
        if (c.tenant !== s.tenant) foreign++;
        const latency = at - c.at;
        latencies.push(latency);
        const seen = perEvent.get(slaId);
        perEvent.set(slaId, seen ? { first: Math.min(seen.first, latency), last: Math.max(seen.last, latency) } : { first: latency, last: latency });
      }
    }
    latencies.sort((a, b) => a - b);
    // First delivery of an event says how late it left the outbox; last minus first, what fanning it out cost.
    const firsts = [...perEvent.values()].map((e) => e.first).sort((a, b) => a - b);
    const spreads = [...perEvent.values()].map((e) => e.last - e.first).sort((a, b) => a - b);
    const delivered = latencies.length;
    const perSubscriber = (a: number, b: number) => (b - a) / SUBSCRIBERS / 1024;
    const duplicates = subscribers.reduce((n, s) => n + s.duplicates, 0);
    const errors = subscribers.reduce((n, s) => n + s.errors, 0);
    const ended = subscribers.filter((s) => s.ended).length;

    const rows = [
      ['Subscribers (tenants)', `${SUBSCRIBERS} (${TENANTS}), one connection and one user each`],
      ['Query', variant === 'federated' ? 'incident, its problem and related changes (3 subgraphs)' : 'incident fields only (owning subgraph)'],
      ['Events (rate)', `${EVENTS} SLA_BREACHED at ${RATE}/s`],
      ['Deliveries', `${delivered} of ${expected} expected; ${duplicates} twice; ${foreign} to another tenant; ${errors} with errors; ${ended} streams ended`],
      ['Latency commit -> delivery, median', `${percentile(latencies, 50).toFixed(1)} ms`],
      ['p95', `${percentile(latencies, 95).toFixed(1)} ms`],
      ['p99', `${percentile(latencies, 99).toFixed(1)} ms`],
      ['max', `${percentile(latencies, 100).toFixed(1)} ms`],
      ['First subscriber of each event, median / p99', `${percentile(firsts, 50).toFixed(1)} / ${percentile(firsts, 99).toFixed(1)} ms`],
      ['Last minus first subscriber of each event, median / p99', `${percentile(spreads, 50).toFixed(1)} / ${percentile(spreads, 99).toFixed(1)} ms`],
      ['Gateway heap per subscriber (idle, after GC)', `${perSubscriber(idle.heapUsed, open.heapUsed).toFixed(1)} KiB`],
      ['Gateway RSS per subscriber (idle)', `${perSubscriber(idle.rss, open.rss).toFixed(1)} KiB`],
      ['Gateway heap / RSS with no subscriber', `${(idle.heapUsed / 2 ** 20).toFixed(1)} / ${(idle.rss / 2 ** 20).toFixed(1)} MiB`],
      ['Gateway heap / RSS with all subscribed', `${(open.heapUsed / 2 ** 20).toFixed(1)} / ${(open.rss / 2 ** 20).toFixed(1)} MiB (after the run: ${(peak.heapUsed / 2 ** 20).toFixed(1)} / ${(peak.rss / 2 ** 20).toFixed(1)} MiB)`],
    ];
    return rows as [string, string][];
  } finally {
    await Promise.all(subscribers.map((s) => s.client.dispose()));
    for (const p of processes.reverse()) await p.stop().catch(() => {});
    await writer?.close();
    await database.drop();
  }
}

const loadBefore = loadavg()[0]!;
const columns: [string, string][][] = [];
for (const variant of VARIANTS) {
  log(`--- ${variant} ---`);
  columns.push(await run(variant));
}
const table = [
  `| Measure | ${VARIANTS.map((v) => `\`${v}\``).join(' | ')} |`,
  `|---|${VARIANTS.map(() => '---').join('|')}|`,
  ...columns[0]!.map(([measure], row) => `| ${measure} | ${columns.map((c) => c[row]![1]).join(' | ')} |`),
].join('\n');
const report = [
  `# Subscriptions through the gateway`,
  '',
  `\`tsx bench/subscriptions.ts --subscribers ${SUBSCRIBERS} --tenants ${TENANTS} --events ${EVENTS} --rate ${RATE} --query ${VARIANTS.join(',')}\` on ${new Date().toISOString().slice(0, 10)}:`,
  `${cpus().length} CPU cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadBefore.toFixed(1)} before the run (other work shared the machine), PostgreSQL on 127.0.0.1.`,
  'Each column is a run on a fresh database: three subgraph processes and one gateway process; the subscribers run in the benchmark',
  'process, which takes both the commit time (after COMMIT returns) and the receive time, so the latency includes its own event-loop',
  'delay with all sockets open. Events go round-robin over the tenants, so each reaches subscribers / tenants subscribers.',
  '',
  table,
  '',
  '- First subscriber of each event: how long the event took to leave the outbox (NOTIFY, the visibility guard, the feed read) and',
  '  cross the gateway once; it includes waits behind older transactions anywhere on the PostgreSQL cluster, which the guard must',
  '  let finish. Last minus first: what fanning it out to the tenant\'s subscribers cost.',
  '- Memory per subscriber is (gateway after all subscriptions are live - gateway before any) / subscribers, each after a full GC:',
  '  the client socket, the graphql-ws state, the FederatedSubscription and its upstream connection to the incident subgraph (each',
  '  subscriber is its own user, so no connection is shared).',
  '',
].join('\n');
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/${flags.out}`, import.meta.url), report);
console.log(`\n${table}\n`);
log(`wrote bench/results/${flags.out}`);
