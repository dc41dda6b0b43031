import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { loadConfig, SUBGRAPHS, type SubgraphName } from '@itsm/kit';
import { apiSchemaOf } from '../../schema/api-schema.js';
import { composeSupergraph, SUPERGRAPH_FILE } from '../../schema/compose.js';
import type { BenchGatewayConfig } from './gateway-config.js';
import { startProcess, type BenchProcess } from './ipc.js';

/** What the benchmark runs against: its own database, the subgraph processes, the supergraph file of every gateway. */

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates the benchmark's own database; dropped at the end whatever happens. */
export async function createDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `itsm_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      await client.unsafe(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

export interface Graph {
  databaseUrl: string;
  subgraphs: Record<SubgraphName, BenchProcess>;
  subgraphUrls: Record<SubgraphName, string>;
  supergraphFile: string;
  supergraphSdl: string;
  apiSdl: string;
  supergraphFresh: boolean;
  jwtSecret: string;
  internalSecret: string;
  stop(): Promise<void>;
}

/** Starts the three subgraphs, each in its own process, and writes the supergraph file every gateway loads. */
export async function startSubgraphs(databaseUrl: string): Promise<Graph> {
  const config = loadConfig({ NODE_ENV: 'development' });
  const subgraphs = {} as Record<SubgraphName, BenchProcess>;
  for (const name of SUBGRAPHS) subgraphs[name] = await startProcess(name, 'subgraph', { BENCH_SUBGRAPH: name, DATABASE_URL: databaseUrl });
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((n) => [n, subgraphs[n].url])) as Record<SubgraphName, string>;
  const composed = composeSupergraph();
  const supergraphFresh = composed === readFileSync(SUPERGRAPH_FILE, 'utf8');
  let supergraphSdl = composed;
  for (const name of SUBGRAPHS) supergraphSdl = supergraphSdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: )"[^"]*"`), `$1"${subgraphUrls[name]}"`);
  const supergraphFile = join(mkdtempSync(join(tmpdir(), 'itsm-bench-')), 'supergraph.graphql');
  writeFileSync(supergraphFile, supergraphSdl);
  return {
    databaseUrl,
    subgraphs,
    subgraphUrls,
    supergraphFile,
    supergraphSdl,
    apiSdl: apiSchemaOf(supergraphSdl),
    supergraphFresh,
    jwtSecret: config.jwt.secret!,
    internalSecret: config.internalSecret,
    stop: async () => {
      await Promise.all(Object.values(subgraphs).map((s) => s.stop()));
    },
  };
}

/** The same graph seen through other subgraph URLs (stand-ins): a supergraph file of its own naming them. */
export function withSubgraphUrls(graph: Graph, urls: Record<SubgraphName, string>): Graph {
  let supergraphSdl = graph.supergraphSdl;
  for (const name of SUBGRAPHS) supergraphSdl = supergraphSdl.replace(new RegExp(`(@join__graph\\(name: "${name}", url: )"[^"]*"`), `$1"${urls[name]}"`);
  const supergraphFile = join(mkdtempSync(join(tmpdir(), 'itsm-bench-')), 'supergraph.graphql');
  writeFileSync(supergraphFile, supergraphSdl);
  return { ...graph, subgraphUrls: urls, supergraphSdl, supergraphFile, stop: async () => {} };
}

export function gatewayEnv(graph: Graph, tuning?: Record<string, unknown>): Record<string, string> {
  const config: BenchGatewayConfig = {
    supergraphFile: graph.supergraphFile,
    subgraphUrls: graph.subgraphUrls,
    jwtSecret: graph.jwtSecret,
    internalSecret: graph.internalSecret,
    ...(tuning ? { tuning } : {}),
  };
  return { BENCH_GATEWAY: JSON.stringify(config) };
}

/** Total SQL statements issued by each subgraph so far. */
export async function statementCounts(graph: Graph): Promise<Record<SubgraphName, number>> {
  const entries = await Promise.all(SUBGRAPHS.map(async (n) => [n, await graph.subgraphs[n].call<number>('statements')] as const));
  return Object.fromEntries(entries) as Record<SubgraphName, number>;
}

/** SLA figures computed at the instant of the request (elapsed, remaining) differ between two requests. */
const CLOCK_FIELDS = new Set(['percentElapsed', 'elapsedWorkingMinutes', 'remainingWorkingMinutes', 'onHoldWorkingMinutes', 'dueAt']);
export function withoutClockFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutClockFields);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => !CLOCK_FIELDS.has(k)).map(([k, v]) => [k, withoutClockFields(v)]));
  return value;
}

