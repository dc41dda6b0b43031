import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { issueToken } from '@itsm/gateway';
import { SUBGRAPHS, type Identity, type Role, type SubgraphName } from '@itsm/kit';
import { createDatabase, gatewayEnv, startSubgraphs, statementCounts, withSubgraphUrls, withoutClockFields, type Graph } from './lib/graph.js';
import { cpuMsOf, startProcess, sampleRss, type BenchProcess } from './lib/ipc.js';
import { SchemaInfo } from './lib/schema-info.js';
import type { LoadResult } from './processes/load.js';
import { gqlClient, seedReadTenant } from './seed.js';
import { buildWorkloads, type BenchData, type Workload } from './workloads.js';

/**
 * `pnpm bench [--scale] [--quick] [--rounds n] [--seconds s] [--connections c]`: starts the graph on a fresh
 * PostgreSQL database, seeds it through the graph, and measures each workload through our gateway, Hive Gateway,
 * stock @apollo/gateway and the floor (direct subgraph calls), each gateway in its own process, load from another.
 */
const { values: flags } = parseArgs({
  options: {
    scale: { type: 'boolean', default: false },
    'scale-only': { type: 'boolean', default: false },
    tuning: { type: 'boolean', default: false },
    'skip-replay': { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    targets: { type: 'string' },
    out: { type: 'string' },
  },
});

const ROUNDS = Number(flags.rounds ?? (flags.quick ? 1 : 3));
const SECONDS = Number(flags.seconds ?? (flags.quick ? 3 : 7));
const WARMUP = Number(flags.warmup ?? (flags.quick ? 2 : 3));
const CONNECTIONS = Number(flags.connections ?? 16);
const RESULTS_DIR = new URL('./results/', import.meta.url);

export type TargetName = 'ours' | 'hive' | 'apollo' | 'floor';
const TARGETS: { name: TargetName; label: string; script?: string }[] = [
  { name: 'ours', label: 'ours (@itsm/gateway)', script: 'gateway-ours' },
  { name: 'hive', label: '@graphql-hive/gateway 2.15.1', script: 'gateway-hive' },
  { name: 'apollo', label: 'stock @apollo/gateway 2.14.4', script: 'gateway-apollo' },
  { name: 'floor', label: 'floor (direct subgraph calls)' },
];

const log = (...parts: unknown[]) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

interface Measured {
  workload: string;
  target: TargetName;
  rounds: LoadResult[];
  peakRss?: number;
  /** Gateway CPU time per request, per round (ms). */
  cpuPerRequest: number[];
  /** CPU time per request of each subgraph process and of the load generator, per round (ms). */
  otherCpu: Record<string, number[]>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const READ_ROLES: Role[] = ['agent', 'change_manager'];

/** Load averages seen during the run: other work on the machine skews every figure, so the report says how busy it was. */
const loadSamples: number[] = [];

async function main(): Promise<void> {
  const started = Date.now();
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]!), 5_000);
  loadTimer.unref();
  const database = await createDatabase();
  log(`database ${database.name}`);
  const stops: (() => Promise<void>)[] = [];
  try {
    const graph = await startSubgraphs(database.url);
    stops.push(() => graph.stop());
    log(`subgraphs up: ${Object.entries(graph.subgraphUrls).map(([n, u]) => `${n} ${u}`).join(', ')}`);
    if (!graph.supergraphFresh) log('note: schema/supergraph.graphql is stale against the SDLs; the bench uses the fresh composition');
    const schema = new SchemaInfo(graph.apiSdl);
    const workloads = buildWorkloads(schema).filter((w) => !w.tuningOnly && (!flags.only || flags.only.split(',').includes(w.name)));

    const gateways = {} as Record<Exclude<TargetName, 'floor'>, BenchProcess>;
    const targets = TARGETS.filter((t) => (!flags.targets || flags.targets.split(',').includes(t.name) || t.name === 'ours') && (!(flags['scale-only'] || flags.tuning) || t.name === 'ours'));
    for (const target of targets) {
      if (!target.script) continue;
      // BENCH_PROFILE_DIR=/some/dir writes a V8 CPU profile of each gateway there when the run ends (speedscope, DevTools).
      const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/${target.name}`] : [];
      gateways[target.name as Exclude<TargetName, 'floor'>] = await startProcess(target.name, target.script, gatewayEnv(graph), profile);
      stops.push(() => gateways[target.name as Exclude<TargetName, 'floor'>].stop());
      log(`${target.label} up at ${gateways[target.name as Exclude<TargetName, 'floor'>].url}`);
    }
    const load = await startProcess('load', 'load');
    stops.push(() => load.stop());

    if (flags['scale-only']) {
      const { runScale } = await import('./scale.js');
      await runScale({ graph, gatewayUrl: gateways.ours.url, jwtSecret: graph.jwtSecret, log });
      return;
    }

    const readIdentity: Identity = { userId: 'bench-agent', tenantId: randomUUID(), roles: READ_ROLES };
    const writeIdentity: Identity = { userId: 'bench-agent', tenantId: randomUUID(), roles: READ_ROLES };
    const token = await issueToken(graph.jwtSecret, { sub: readIdentity.userId, tenant: readIdentity.tenantId, roles: READ_ROLES }, '2h');
    const writeToken = await issueToken(graph.jwtSecret, { sub: writeIdentity.userId, tenant: writeIdentity.tenantId, roles: READ_ROLES }, '2h');

    // The calendar: the two weeks from next Monday; the workload asks for the first.
    const monday = new Date();
    monday.setUTCHours(0, 0, 0, 0);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7) + 7);
    log('seeding the read tenant through our gateway (domain services)');
    const adminToken = await issueToken(graph.jwtSecret, { sub: 'bench-admin', tenant: readIdentity.tenantId, roles: ['admin'] }, '2h');
    const seed = await seedReadTenant(gqlClient(gateways.ours.url, adminToken), schema, monday);
    log(`seeded ${seed.incidentNumbers.length} incidents, ${seed.problems} problems, ${seed.changes} changes (${seed.scheduled} scheduled), ${seed.knownErrors} known errors, ${seed.links} links in ${seed.seconds.toFixed(1)} s`);
    for (const note of seed.notes) log(`seed: ${note}`);
    const iso = (ms: number) => new Date(ms).toISOString();
    const calendarRanges: BenchData['calendarRanges'] = {};
    for (const size of [10, 50, 100]) {
      const last = seed.plannedStarts[Math.min(size, seed.plannedStarts.length) - 1];
      if (last !== undefined) calendarRanges[size] = { from: iso(monday.getTime()), to: iso(last + 60_000) };
    }
    const data: BenchData = {
      token,
      writeToken,
      incidentNumbers: seed.incidentNumbers,
      calendarRanges,
      calendarWeek: { from: monday.toISOString(), to: new Date(monday.getTime() + 7 * 86_400_000).toISOString() },
      scheduleBase: new Date(monday.getTime() + 14 * 86_400_000).toISOString(),
    };
    const floorSetup = { subgraphUrls: graph.subgraphUrls, internalSecret: graph.internalSecret, identities: { read: readIdentity, write: writeIdentity } };

    // Same answers from every target before anything is timed; a workload that fails here is reported, not timed.
    const checks: string[] = [];
    const broken = new Map<string, string>();
    for (const workload of workloads.filter((w) => w.available && !w.writes)) {
      const fixed = { ...data, incidentNumbers: [data.incidentNumbers[0]!] };
      const answers: Partial<Record<TargetName, unknown>> = {};
      try {
        for (const target of targets) {
          if (target.name === 'floor') {
            const [answer] = await load.call<unknown[]>('floorOnce', { apiSdl: graph.apiSdl, workload: workload.name, data: fixed, connections: 1, seconds: 0, ...floorSetup });
            answers.floor = answer;
          } else {
            const [request] = workload.sample(fixed);
            answers[target.name] = await gqlClient(gateways[target.name as Exclude<TargetName, 'floor'>].url, token)(request!.query, request!.variables);
          }
        }
      } catch (error) {
        broken.set(workload.name, String(error).split('\n')[0]!.slice(0, 300));
        log(`check ${workload.name}: FAILED, not timed: ${broken.get(workload.name)}`);
        continue;
      }
      const differing = targets.filter((t) => !isDeepStrictEqual(withoutClockFields(answers[t.name]), withoutClockFields(answers.ours))).map((t) => t.name);
      if (differing.length) checks.push(`${workload.name}: ${differing.join(', ')} answered differently from ours`);
      log(`check ${workload.name}: ${differing.length ? `${differing.join(', ')} answered differently from ours` : 'every target answered the same data'}`);
    }
    for (const workload of workloads) if (broken.has(workload.name)) {
      workload.available = false;
      workload.notes.push(`failed its check: ${broken.get(workload.name)}`);
    }

    if (flags.tuning) {
      const { runTuning } = await import('./tuning.js');
      await runTuning({ graph, load, data, log, rounds: ROUNDS, seconds: SECONDS, warmup: WARMUP, connections: CONNECTIONS });
      return;
    }

    const measure = async (
      list: Workload[],
      on: Record<Exclude<TargetName, 'floor'>, BenchProcess>,
      floor: typeof floorSetup,
      extraPids: [string, number][],
      label = '',
    ): Promise<Measured[]> => {
      const measured: Measured[] = [];
      for (const workload of list) {
        const rows = new Map<TargetName, Measured>();
        for (const target of targets) rows.set(target.name, { workload: workload.name, target: target.name, rounds: [], cpuPerRequest: [], otherCpu: {} });
        const run = (target: TargetName, seconds: number) => {
          const common = { apiSdl: graph.apiSdl, workload: workload.name, data, connections: CONNECTIONS, seconds };
          return target === 'floor' ? load.call<LoadResult>('floor', { ...common, ...floor }) : load.call<LoadResult>('autocannon', { ...common, url: on[target].url });
        };
        for (const target of targets) await run(target.name, WARMUP);
        for (let round = 0; round < ROUNDS; round++) {
          // Rotate the order each round so no target always runs first (or right after a write burst).
          const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
          for (const target of order) {
            const gateway = target.name === 'floor' ? undefined : on[target.name];
            const sampler = gateway ? sampleRss(gateway.pid) : undefined;
            const cpuBefore = gateway ? cpuMsOf(gateway.pid) : 0;
            const others: [string, number][] = [...SUBGRAPHS.map((n) => [n, graph.subgraphs[n].pid] as [string, number]), ...extraPids, ['load generator', load.pid]];
            const othersBefore = others.map(([, pid]) => cpuMsOf(pid));
            const result = await run(target.name, SECONDS);
            const peak = sampler?.stop();
            const row = rows.get(target.name)!;
            row.rounds.push(result);
            if (gateway && result.requests) row.cpuPerRequest.push((cpuMsOf(gateway.pid) - cpuBefore) / result.requests);
            others.forEach(([name, pid], i) => {
              if (result.requests) (row.otherCpu[name] ??= []).push((cpuMsOf(pid) - othersBefore[i]!) / result.requests);
            });
            if (peak !== undefined) row.peakRss = Math.max(row.peakRss ?? 0, peak);
            log(`${label}${workload.name} round ${round + 1} ${target.name}: ${result.rps.toFixed(0)} req/s p50 ${result.p50} ms p99 ${result.p99} ms${result.errors ? ` errors ${result.errors} (${result.firstError})` : ''}`);
          }
        }
        measured.push(...rows.values());
      }
      return measured;
    };
    const measured = await measure(workloads.filter((w) => w.available), gateways, floorSetup, []);

    // Gateway-bound: the same gateways in new processes in front of stand-in subgraphs that replay recorded answers.
    let replayed: { measured: Measured[]; stats: { recorded: number; hits: number; misses: number } } | undefined;
    const replayWorkloads = workloads.filter((w) => w.available && ['service-desk-list', 'service-desk-list-no-sla'].includes(w.name));
    if (!flags['skip-replay'] && replayWorkloads.length) {
      log('gateway-bound comparison: recording subgraph answers, then replaying them');
      const replay = await startProcess('replay', 'replay', { BENCH_REPLAY_TARGETS: JSON.stringify(graph.subgraphUrls) });
      stops.push(() => replay.stop());
      const replayGraph = withSubgraphUrls(graph, JSON.parse(replay.url) as Record<SubgraphName, string>);
      const replayGateways = {} as Record<Exclude<TargetName, 'floor'>, BenchProcess>;
      for (const target of targets) {
        if (!target.script) continue;
        const p = await startProcess(`${target.name} (replay)`, target.script, gatewayEnv(replayGraph));
        replayGateways[target.name as Exclude<TargetName, 'floor'>] = p;
        stops.push(() => p.stop());
      }
      const replayFloor = { ...floorSetup, subgraphUrls: replayGraph.subgraphUrls };
      // Record: every target sends its own subgraph requests once (they differ between gateways), answers are kept.
      for (const workload of replayWorkloads) {
        const [request] = workload.sample(data);
        for (const target of targets) {
          if (target.name === 'floor') await load.call('floorOnce', { apiSdl: graph.apiSdl, workload: workload.name, data, connections: 1, seconds: 0, ...replayFloor });
          else await gqlClient(replayGateways[target.name as Exclude<TargetName, 'floor'>].url, token)(request!.query, request!.variables);
        }
      }
      await replay.call('replay');
      replayed = { measured: await measure(replayWorkloads, replayGateways, replayFloor, [['replay', replay.pid]], 'replayed '), stats: await replay.call('stats') };
      log(`replay: ${JSON.stringify(replayed.stats)}`);
    }

    log('statements per request (our gateway, one request at a time)');
    const statements = await measureStatements(graph, gateways.ours.url, workloads, data);

    const report = renderReport({ measured, replayed, workloads, targets, statements, checks, seed, graph, started });
    console.log('\n' + report);
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(new URL(flags.out ?? 'latest.md', RESULTS_DIR), report);
    log(`wrote bench/results/${flags.out ?? 'latest.md'}`);

    if (flags.scale) {
      const { runScale } = await import('./scale.js');
      await runScale({ graph, gatewayUrl: gateways.ours.url, jwtSecret: graph.jwtSecret, log });
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error) => log('stop failed', error));
    await database.drop();
    log(`dropped ${database.name}; total ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  }
}

interface StatementRow {
  workload: string;
  size: number | undefined;
  perSubgraph: Record<SubgraphName, number>;
  total: number;
}

/** SQL statements per request for each workload, at list sizes 10, 50 and 100 where the workload has a list. */
async function measureStatements(graph: Graph, url: string, workloads: Workload[], data: BenchData): Promise<StatementRow[]> {
  const rows: StatementRow[] = [];
  for (const workload of workloads.filter((w) => w.available)) {
    for (const size of workload.sized ? [10, 50, 100] : [undefined]) {
      let best: StatementRow | undefined;
      // The SLA monitor may run a statement between two reads: take the smallest of three tries.
      // One request first, uncounted: per-tenant caches (calendars, policies) fill on first use, and steady state is what counts.
      for (const request of workload.sample(data, size)) await gqlClient(url, request.write ? data.writeToken : data.token)(request.query, request.variables);
      for (let attempt = 0; attempt < 3; attempt++) {
        const before = await statementCounts(graph);
        for (const request of workload.sample(data, size)) await gqlClient(url, request.write ? data.writeToken : data.token)(request.query, request.variables);
        const after = await statementCounts(graph);
        const perSubgraph = Object.fromEntries(SUBGRAPHS.map((n) => [n, after[n] - before[n]])) as Record<SubgraphName, number>;
        const total = Object.values(perSubgraph).reduce((a, b) => a + b, 0);
        if (!best || total < best.total) best = { workload: workload.name, size, perSubgraph, total };
      }
      rows.push(best!);
    }
  }
  return rows;
}

function renderReport(input: {
  measured: Measured[];
  replayed?: { measured: Measured[]; stats: { recorded: number; hits: number; misses: number } };
  workloads: Workload[];
  targets: typeof TARGETS;
  statements: StatementRow[];
  checks: string[];
  seed: Awaited<ReturnType<typeof seedReadTenant>>;
  graph: Graph;
  started: number;
}): string {
  const lines: string[] = [];
  const mib = (b?: number) => (b ? (b / 1024 / 1024).toFixed(0) : '—');
  lines.push('# Benchmark results', '');
  lines.push(
    `Run ${new Date().toISOString().slice(0, 16)}Z on ${process.platform} ${process.arch}, Node ${process.version}, ${ROUNDS} round(s) of ${SECONDS} s after a ${WARMUP} s warm-up, ` +
      `${CONNECTIONS} connections (autocannon 9.0.0 in its own process; the floor runs the same client-side calls with undici in that process). ` +
      `Each gateway in its own process; each subgraph in its own process on one PostgreSQL database. Figures are medians over rounds; memory is the peak RSS of the gateway process sampled every 100 ms.`,
    '',
  );
  const busiest = Math.max(0, ...loadSamples);
  lines.push(
    `Machine: ${cpus().length} cores; 1-minute load average during the run ${Math.min(...loadSamples, busiest).toFixed(1)}-${busiest.toFixed(1)}` +
      (busiest > cpus().length + 1 ? ' — **the machine was busy with other work: treat absolute figures with care; ratios from interleaved rounds hold better.**' : '.'),
    '',
  );
  lines.push(
    `Seed: ${input.seed.incidentNumbers.length} incidents, ${input.seed.problems} problems, ${input.seed.changes} changes, ${input.seed.links} links, created through our gateway's mutations (the domain services) in ${input.seed.seconds.toFixed(1)} s.`,
    '',
  );
  const table = (measured: Measured[]) => {
    lines.push(
      '| workload | target | req/s | p50 ms | p99 ms | peak RSS MiB | gateway CPU ms/req | req/s vs ours | errors |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const workload of input.workloads.filter((w) => w.available)) {
      const ours = measured.find((m) => m.workload === workload.name && m.target === 'ours');
      const oursRps = ours ? median(ours.rounds.map((r) => r.rps)) : NaN;
      for (const target of input.targets) {
        const m = measured.find((x) => x.workload === workload.name && x.target === target.name);
        if (!m || !m.rounds.length) continue;
        const rps = median(m.rounds.map((r) => r.rps));
        const errors = m.rounds.reduce((a, r) => a + r.errors, 0);
        lines.push(
          `| ${workload.title} | ${target.label} | ${rps.toFixed(0)} | ${median(m.rounds.map((r) => r.p50)).toFixed(1)} | ${median(m.rounds.map((r) => r.p99)).toFixed(1)} | ${mib(m.peakRss)} | ${m.cpuPerRequest.length ? median(m.cpuPerRequest).toFixed(2) : '—'} | ${(rps / oursRps).toFixed(2)}x | ${errors} |`,
        );
      }
    }
    lines.push('');
  };
  table(input.measured);
  if (input.replayed) {
    lines.push(
      '### Gateway-bound: subgraphs replayed from memory',
      '',
      `The same gateways, each in a new process, in front of stand-in subgraphs (\`processes/replay.ts\`) that answer each subgraph request body with the answer the real subgraph gave it when recorded (every target's own requests recorded first). The subgraphs then cost almost nothing, so the gateway is what limits throughput. Replay: ${input.replayed.stats.recorded} answers recorded, ${input.replayed.stats.hits} served from memory, ${input.replayed.stats.misses} forwarded (not recorded).`,
      '',
    );
    table(input.replayed.measured);
  }
  lines.push('');
  const missing = input.workloads.filter((w) => !w.available);
  if (missing.length) lines.push(`Not measured (fields not in the schema yet): ${missing.map((w) => `${w.name} (${w.notes.join('; ')})`).join(', ')}.`, '');
  lines.push('What each workload asks for:', '');
  for (const w of input.workloads.filter((x) => x.available)) lines.push(`- **${w.name}**: ${w.notes.join('; ')}`);
  lines.push('');
  lines.push(input.checks.length ? `Answer checks FAILED: ${input.checks.join('; ')}` : 'Answer check: before timing, every target returned identical data for each read workload.', '');
  lines.push(
    '## Where the CPU goes',
    '',
    'CPU time per request of each process (ms, medians over rounds), from /proc: the machine has 2 cores for all of them and PostgreSQL.',
    '',
    '| workload | target | gateway | incident | problem | change | replay stand-in | load generator |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const m of [...input.measured, ...(input.replayed?.measured ?? []).map((r) => ({ ...r, target: `${r.target} (replayed)` }))]) {
    const cell = (xs?: number[]) => (xs?.length ? median(xs).toFixed(2) : '—');
    lines.push(`| ${m.workload} | ${m.target} | ${cell(m.cpuPerRequest)} | ${cell(m.otherCpu.incident)} | ${cell(m.otherCpu.problem)} | ${cell(m.otherCpu.change)} | ${cell(m.otherCpu.replay)} | ${cell(m.otherCpu['load generator'])} |`);
  }
  lines.push('');
  lines.push('## SQL statements per request', '', '| workload | list size | incident | problem | change | total |', '|---|---:|---:|---:|---:|---:|');
  for (const r of input.statements) lines.push(`| ${r.workload} | ${r.size ?? '—'} | ${r.perSubgraph.incident} | ${r.perSubgraph.problem} | ${r.perSubgraph.change} | ${r.total} |`);
  lines.push('');
  return lines.join('\n');
}

await main();
