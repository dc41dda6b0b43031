import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, startGateway } from '@itsm/gateway';
import { createLogger, setSlaMonitorLag } from '@itsm/kit';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { startTestGraph, type TestGraph } from './harness.js';

/** Every line any service logged, parsed. */
const lines: Record<string, unknown>[] = [];
const capture = { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) };

let graph: TestGraph;
beforeAll(async () => {
  // No background work: nothing but the test's own requests moves the counters.
  graph = await startTestGraph({ logger: createLogger('info', 'itsm', capture), background: false });
});
afterAll(async () => {
  await graph?.stop();
});

async function post(query: string, options: { token?: string; requestId?: string; variables?: Record<string, unknown> } = {}) {
  const response = await fetch(graph.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.requestId ? { 'x-request-id': options.requestId } : {}),
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, requestId: response.headers.get('x-request-id'), body: (await response.json()) as { data?: any; errors?: unknown[] } };
}

async function scrape(graphqlUrl: string): Promise<string> {
  const response = await fetch(new URL('/metrics', graphqlUrl));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** The value of one series in Prometheus text (0 when absent), matched on its exact label set. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    if (JSON.stringify(found.sort()) === wanted) return Number(match[3]);
  }
  return 0;
}

const logLinesOf = (requestId: string) => lines.filter((l) => l['requestId'] === requestId && l['msg'] === 'graphql request');

describe('request ids and structured logs', () => {
  it("carries the client's x-request-id into the gateway's log line and every subgraph's", async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant });
    await post(`mutation { createIncident(input: { title: "VPN drops", impact: 2, urgency: 2 }) { errors { code } } }`, { token });

    const requestId = `client-${randomUUID()}`;
    const query = `query IncidentsWithLinks { incidents(first: 5) { edges { node { number problem { number } relatedChanges { number } } } } }`;
    const response = await post(query, { token, requestId });
    expect(response.body.errors).toBeUndefined();
    expect(response.requestId).toBe(requestId);

    await vi.waitFor(() => expect(logLinesOf(requestId)).toHaveLength(4));
    const [gatewayLine, ...subgraphLines] = [
      logLinesOf(requestId).find((l) => l['service'] === 'gateway')!,
      ...logLinesOf(requestId).filter((l) => l['subgraph']).sort((a, b) => String(a['subgraph']).localeCompare(String(b['subgraph']))),
    ];
    expect(gatewayLine).toMatchObject({
      level: 30,
      service: 'gateway',
      requestId,
      operationName: 'IncidentsWithLinks',
      operationType: 'query',
      tenantId: tenant,
      status: 200,
      outcome: 'ok',
    });
    expect(typeof gatewayLine['durationMs']).toBe('number');
    expect(typeof gatewayLine['time']).toBe('string');
    expect(subgraphLines.map((l) => l['subgraph'])).toEqual(['change', 'incident', 'problem']);
    for (const line of subgraphLines) {
      expect(line).toMatchObject({ requestId, tenantId: tenant, operationType: 'query', status: 200, outcome: 'ok' });
    }
  });

  it('logs a refused request with its status, code and outcome, under a fresh uuid when the sent id is unsafe', async () => {
    const response = await post('{ incidents { totalCount } }', { requestId: 'not a safe id' });
    expect(response.status).toBe(401);
    const requestId = response.requestId!;
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await vi.waitFor(() => expect(logLinesOf(requestId)).toHaveLength(1));
    expect(logLinesOf(requestId)[0]).toMatchObject({
      service: 'gateway',
      status: 401,
      outcome: 'refused',
      tenantId: null,
      operationType: null,
      errorCodes: ['UNAUTHENTICATED'],
    });
  });
});

describe('Prometheus metrics', () => {
  it('the gateway and the subgraphs count requests by operation type and outcome, and errors per subgraph, exactly', async () => {
    const token = await graph.token();
    const [gatewayBefore, incidentBefore, problemBefore] = await Promise.all([
      scrape(graph.url),
      scrape(graph.subgraphs.incident.url),
      scrape(graph.subgraphs.problem.url),
    ]);

    for (let i = 0; i < 3; i++) expect((await post('query Count { incidents { totalCount } }', { token })).status).toBe(200);
    await post(`mutation { createIncident(input: { title: "Disk full", impact: 3, urgency: 3 }) { errors { code } } }`, { token });
    expect((await post('{ incidents { totalCount } }')).status).toBe(401);
    const invalidPage = await post('{ incidents(first: 0) { totalCount } }', { token });
    expect(invalidPage.body.data).toBeNull();

    // onFinished runs when each response has gone out: wait for the last one to be counted.
    let gatewayAfter = '';
    await vi.waitFor(async () => {
      gatewayAfter = await scrape(graph.url);
      expect(sample(gatewayAfter, 'gateway_requests_total', { operation_type: 'query', outcome: 'error' }) - sample(gatewayBefore, 'gateway_requests_total', { operation_type: 'query', outcome: 'error' })).toBe(1);
    });
    const [incidentAfter, problemAfter] = await Promise.all([scrape(graph.subgraphs.incident.url), scrape(graph.subgraphs.problem.url)]);
    const delta = (before: string, after: string, name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    expect({
      queryOk: delta(gatewayBefore, gatewayAfter, 'gateway_requests_total', { operation_type: 'query', outcome: 'ok' }),
      mutationOk: delta(gatewayBefore, gatewayAfter, 'gateway_requests_total', { operation_type: 'mutation', outcome: 'ok' }),
      refused: delta(gatewayBefore, gatewayAfter, 'gateway_requests_total', { operation_type: 'unknown', outcome: 'refused' }),
      queryError: delta(gatewayBefore, gatewayAfter, 'gateway_requests_total', { operation_type: 'query', outcome: 'error' }),
      queryOkTimed: delta(gatewayBefore, gatewayAfter, 'gateway_request_duration_seconds_count', { operation_type: 'query', outcome: 'ok' }),
      unauthenticated: delta(gatewayBefore, gatewayAfter, 'gateway_errors_total', { code: 'UNAUTHENTICATED' }),
      validationFailed: delta(gatewayBefore, gatewayAfter, 'gateway_errors_total', { code: 'VALIDATION_FAILED' }),
      incidentErrors: delta(gatewayBefore, gatewayAfter, 'gateway_subgraph_errors_total', { subgraph: 'incident', kind: 'graphql' }),
      incidentFetches: delta(gatewayBefore, gatewayAfter, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'incident' }),
      problemFetches: delta(gatewayBefore, gatewayAfter, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'problem' }),
    }).toEqual({
      queryOk: 3,
      mutationOk: 1,
      refused: 1,
      queryError: 1,
      queryOkTimed: 3,
      unauthenticated: 1,
      validationFailed: 1,
      incidentErrors: 1,
      incidentFetches: 5,
      problemFetches: 0,
    });
    expect({
      incidentQueryOk: delta(incidentBefore, incidentAfter, 'subgraph_requests_total', { operation_type: 'query', outcome: 'ok' }),
      incidentMutationOk: delta(incidentBefore, incidentAfter, 'subgraph_requests_total', { operation_type: 'mutation', outcome: 'ok' }),
      incidentQueryError: delta(incidentBefore, incidentAfter, 'subgraph_requests_total', { operation_type: 'query', outcome: 'error' }),
      incidentQueryOkTimed: delta(incidentBefore, incidentAfter, 'subgraph_request_duration_seconds_count', { operation_type: 'query', outcome: 'ok' }),
      problemQueryOk: delta(problemBefore, problemAfter, 'subgraph_requests_total', { operation_type: 'query', outcome: 'ok' }),
    }).toEqual({ incidentQueryOk: 3, incidentMutationOk: 1, incidentQueryError: 1, incidentQueryOkTimed: 3, problemQueryOk: 0 });
    // Process metrics come along on every /metrics.
    expect(gatewayAfter).toContain('process_resident_memory_bytes');
  });

  it('exposes the live subscriptions gauge and the SLA monitor lag that other parts set', async () => {
    const first = graph.gateway.metrics.subscriptionStarted();
    const second = graph.gateway.metrics.subscriptionStarted();
    expect(sample(await scrape(graph.url), 'gateway_live_subscriptions')).toBe(2);
    first();
    first();
    expect(sample(await scrape(graph.url), 'gateway_live_subscriptions')).toBe(1);
    second();
    expect(sample(await scrape(graph.url), 'gateway_live_subscriptions')).toBe(0);

    setSlaMonitorLag(42.5);
    expect(sample(await scrape(graph.subgraphs.incident.url), 'sla_monitor_lag_seconds')).toBe(42.5);
    setSlaMonitorLag(0);
    expect(sample(await scrape(graph.subgraphs.incident.url), 'sla_monitor_lag_seconds')).toBe(0);
    expect(await scrape(graph.url)).not.toContain('sla_monitor_lag_seconds');
  });
});

describe('health and readiness', () => {
  it('the gateway is alive and ready when its schema is loaded and every subgraph answers', async () => {
    const health = await fetch(new URL('/health', graph.url));
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await fetch(new URL('/ready', graph.url));
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    for (const subgraph of Object.values(graph.subgraphs)) expect((await fetch(new URL('/health', subgraph.url))).status).toBe(200);
  });

  it('a gateway one of whose subgraphs does not answer is alive but not ready', async () => {
    const urls = Object.fromEntries(Object.entries(graph.subgraphs).map(([name, s]) => [name, s.url]));
    const gateway = await startGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
      subgraphUrls: { ...urls, change: 'http://127.0.0.1:9/graphql' },
      internalSecret: graph.config.internalSecret,
      verifyToken: createTokenVerifier(graph.config.jwt),
      logger: createLogger('silent', 'gateway'),
      host: '127.0.0.1',
      port: 0,
    });
    try {
      expect((await fetch(new URL('/health', gateway.url))).status).toBe(200);
      const ready = await fetch(new URL('/ready', gateway.url));
      expect([ready.status, await ready.json()]).toEqual([503, { status: 'not ready' }]);
    } finally {
      await gateway.close();
    }
  });
});
