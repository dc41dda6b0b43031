import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { signIdentity, type Identity } from '@itsm/kit';
import { SchemaInfo } from '../lib/schema-info.js';
import { serveProcess } from '../lib/ipc.js';
import { buildWorkloads, type BenchData, type SubgraphClient, type Workload } from '../workloads.js';

/**
 * The load generator, in its own process: autocannon against a gateway, or the floor (the same data by direct
 * subgraph calls, entity fetches done here, at the same concurrency and duration, timed with the HDR histogram
 * autocannon itself uses).
 */

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx statuses, socket errors, timeouts and responses carrying GraphQL or payload errors. */
  errors: number;
  firstError?: string;
}

interface Common {
  apiSdl: string;
  workload: string;
  size?: number;
  data: BenchData;
  connections: number;
  seconds: number;
}

interface FloorSetup {
  subgraphUrls: Record<string, string>;
  internalSecret: string;
  identities: { read: Identity; write: Identity };
}

let cached: { sdl: string; workloads: Workload[] } | undefined;
function workloadNamed(apiSdl: string, name: string): Workload {
  if (cached?.sdl !== apiSdl) cached = { sdl: apiSdl, workloads: buildWorkloads(new SchemaInfo(apiSdl)) };
  const workload = cached.workloads.find((w) => w.name === name);
  if (!workload) throw new Error(`no workload ${name}`);
  return workload;
}

const hasErrors = (text: string) => text.includes('"errors":[{');

async function runAutocannon(job: Common & { url: string }): Promise<LoadResult> {
  const workload = workloadNamed(job.apiSdl, job.workload);
  let errors = 0;
  let firstError: string | undefined;
  const requests: autocannon.Request[] = workload.autocannonRequests(job.data, job.size).map((r) => {
    const inner = r.onResponse;
    return {
      ...r,
      onResponse: (status: number, text: string, context: object, headers: autocannon.Request['headers']) => {
        if (status !== 200 || hasErrors(text)) {
          errors++;
          firstError ??= `${status} ${text.slice(0, 300)}`;
        }
        if (typeof inner === 'function') inner(status, text, context, headers);
      },
    };
  });
  const result = await autocannon({
    url: job.url,
    method: 'POST',
    connections: job.connections,
    duration: job.seconds,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${workload.writes ? job.data.writeToken : job.data.token}` },
    requests,
    timeout: 30,
  });
  const total = result.requests.total;
  return {
    requests: total,
    seconds: result.duration,
    rps: total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: errors + result.errors + result.timeouts,
    ...(firstError ? { firstError } : {}),
  };
}

function subgraphClient(setup: FloorSetup, connections: number): SubgraphClient & { close(): Promise<void> } {
  const pools = new Map<string, { pool: Pool; path: string }>();
  for (const [name, url] of Object.entries(setup.subgraphUrls)) {
    const u = new URL(url);
    pools.set(name, { pool: new Pool(u.origin, { connections, pipelining: 1 }), path: u.pathname });
  }
  return {
    async query(subgraph, query, variables = {}, write = false) {
      const target = pools.get(subgraph)!;
      const identity = write ? setup.identities.write : setup.identities.read;
      const response = await target.pool.request({
        path: target.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signIdentity(identity, setup.internalSecret) },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200 || hasErrors(text)) throw new Error(`${subgraph} answered ${response.statusCode}: ${text.slice(0, 300)}`);
      return JSON.parse(text).data;
    },
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.pool.close()));
    },
  };
}

async function runFloor(job: Common & FloorSetup): Promise<LoadResult> {
  const workload = workloadNamed(job.apiSdl, job.workload);
  const client = subgraphClient(job, job.connections);
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const end = started + job.seconds * 1000;
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      const context: Record<string, any> = {};
      let step = 0;
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await workload.floor[step]!(client, job.data, context, job.size);
          histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
          requests++;
        } catch (error) {
          errors++;
          firstError ??= String(error);
          step = -1; // a failed step restarts the sequence, as autocannon does
        }
        step = (step + 1) % workload.floor.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return {
    requests,
    seconds,
    rps: requests / seconds,
    p50: histogram.getValueAtPercentile(50) / 1000,
    p99: histogram.getValueAtPercentile(99) / 1000,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

/** Runs each floor step once and returns what it answered (compared with the gateways' answers). */
async function floorOnce(job: Common & FloorSetup): Promise<unknown[]> {
  const workload = workloadNamed(job.apiSdl, job.workload);
  const client = subgraphClient(job, 1);
  const context: Record<string, any> = {};
  const out: unknown[] = [];
  try {
    for (const step of workload.floor) out.push(await step(client, job.data, context, job.size));
  } finally {
    await client.close();
  }
  return out;
}

serveProcess(
  '',
  {
    autocannon: (job: Common & { url: string }) => runAutocannon(job),
    floor: (job: Common & FloorSetup) => runFloor(job),
    floorOnce: (job: Common & FloorSetup) => floorOnce(job),
  },
  async () => {},
);
