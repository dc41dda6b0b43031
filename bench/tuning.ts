import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { GatewayPerfOptions } from '@itsm/gateway';
import { cpuMsOf, startProcess, sampleRss, type BenchProcess } from './lib/ipc.js';
import type { LoadResult } from './processes/load.js';
import { gatewayEnv, withoutClockFields, type Graph } from './lib/graph.js';
import { gqlClient } from './seed.js';
import { SchemaInfo } from './lib/schema-info.js';
import { buildWorkloads, type BenchData } from './workloads.js';

/**
 * `pnpm bench --tuning`: our gateway with each performance change on its own, all of them, and other settings, side by
 * side in one run (each variant its own process, rounds interleaved), on the service-desk list, the detail, and a list
 * whose problems' changes repeat entities (where deduplication can matter). Writes bench/results/tuning-measured.md.
 */
const OFF: Partial<GatewayPerfOptions> = { keepAliveFetcher: false, dedupeRepresentations: false, tokenCacheEntries: 0 };

interface Variant {
  name: string;
  tuning: { perf?: Partial<GatewayPerfOptions>; cluster?: number };
}

const VARIANTS: Variant[] = [
  { name: 'none (stock data source, no token cache)', tuning: { perf: OFF } },
  { name: 'keep-alive node:http fetcher only', tuning: { perf: { ...OFF, keepAliveFetcher: true } } },
  { name: 'dedupe representations only', tuning: { perf: { ...OFF, dedupeRepresentations: true } } },
  { name: 'verified-token cache only', tuning: { perf: { ...OFF, tokenCacheEntries: 10_000 } } },
  { name: 'all three (DEFAULT_PERF)', tuning: {} },
  { name: 'DEFAULT_PERF + plan cache 2 MiB', tuning: { perf: { queryPlanCacheMiB: 2 } } },
  { name: 'DEFAULT_PERF + 2 cluster workers', tuning: { cluster: 2 } },
];

export async function runTuning(ctx: {
  graph: Graph;
  load: BenchProcess;
  data: BenchData;
  log: (...parts: unknown[]) => void;
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
}): Promise<void> {
  const { graph, load, data, log } = ctx;
  const processes: BenchProcess[] = [];
  try {
    for (const v of VARIANTS) processes.push(await startProcess(`ours ${v.name}`, 'gateway-ours', gatewayEnv(graph, v.tuning as Record<string, unknown>)));
    // The list without SLAs: with them the incident subgraph saturates first and no gateway setting moves the needle.
    const workloads = ['service-desk-list-no-sla', 'incident-detail', 'problem-changes-list'];
    const results = new Map<string, { rounds: LoadResult[]; peak: number; cpu: number[] }>();
    // Every variant must answer what the untuned one answers (deduplication must not change a byte of data).
    const all = buildWorkloads(new SchemaInfo(graph.apiSdl));
    const checks: string[] = [];
    for (const name of workloads) {
      const [request] = all.find((w) => w.name === name)!.sample({ ...data, incidentNumbers: [data.incidentNumbers[0]!] });
      const answers = await Promise.all(processes.map((p) => gqlClient(p.url, data.token)(request!.query, request!.variables)));
      const differ = VARIANTS.filter((_, i) => !isDeepStrictEqual(withoutClockFields(answers[i]), withoutClockFields(answers[0]))).map((v) => v.name);
      checks.push(differ.length ? `${name}: ${differ.join(', ')} answered differently` : `${name}: identical answers`);
      log(`tuning check ${checks.at(-1)}`);
    }
    for (const workload of workloads) {
      const run = (p: BenchProcess, seconds: number) =>
        load.call<LoadResult>('autocannon', { apiSdl: graph.apiSdl, workload, data, connections: ctx.connections, seconds, url: p.url });
      for (const p of processes) await run(p, ctx.warmup);
      for (let round = 0; round < ctx.rounds; round++) {
        for (let i = 0; i < processes.length; i++) {
          const index = (i + round) % processes.length;
          const p = processes[index]!;
          const sampler = sampleRss(p.pid);
          const cpuBefore = cpuMsOf(p.pid);
          const result = await run(p, ctx.seconds);
          const peak = sampler.stop();
          const key = `${workload}|${index}`;
          const entry = results.get(key) ?? { rounds: [], peak: 0, cpu: [] };
          entry.rounds.push(result);
          if (result.requests) entry.cpu.push((cpuMsOf(p.pid) - cpuBefore) / result.requests);
          entry.peak = Math.max(entry.peak, peak);
          results.set(key, entry);
          log(`tuning ${workload} [${VARIANTS[index]!.name}] round ${round + 1}: ${result.rps.toFixed(0)} req/s p50 ${result.p50} ms p99 ${result.p99} ms${result.errors ? ` errors ${result.errors} ${result.firstError}` : ''}`);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lines = [
      '# Tuning measurements',
      '',
      `Our gateway in ${VARIANTS.length} variants, each its own process, ${ctx.rounds} interleaved rounds of ${ctx.seconds} s after ${ctx.warmup} s warm-up, ${ctx.connections} connections, same subgraphs and data. Medians; Δ is against the first row of each workload (no tuning).`,
      '',
      '| workload | variant | req/s | Δ req/s | p50 ms | p99 ms | gateway CPU ms/req | Δ CPU | peak RSS MiB | errors |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const workload of workloads) {
      const base = median(results.get(`${workload}|0`)!.rounds.map((r) => r.rps));
      const baseCpu = median(results.get(`${workload}|0`)!.cpu);
      VARIANTS.forEach((v, index) => {
        const r = results.get(`${workload}|${index}`)!;
        const rps = median(r.rounds.map((x) => x.rps));
        lines.push(
          `| ${workload} | ${v.name} | ${rps.toFixed(0)} | ${index === 0 ? '—' : `${(((rps - base) / base) * 100).toFixed(1)} %`} | ${median(r.rounds.map((x) => x.p50)).toFixed(1)} | ${median(r.rounds.map((x) => x.p99)).toFixed(1)} | ${median(r.cpu).toFixed(2)} | ${index === 0 ? '—' : `${(((median(r.cpu) - baseCpu) / baseCpu) * 100).toFixed(1)} %`} | ${(r.peak / 1048576).toFixed(0)} | ${r.rounds.reduce((a, x) => a + x.errors, 0)} |`,
        );
      });
    }
    lines.push('', `Answer checks: ${checks.join('; ')}.`);
    writeFileSync(new URL('./results/tuning-measured.md', import.meta.url), lines.join('\n') + '\n');
    console.log('\n' + lines.join('\n'));
    log('wrote bench/results/tuning-measured.md');
  } finally {
    for (const p of processes) await p.stop().catch(() => {});
  }
}
