import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Route } from './http.js';
import { outcomeOf, type ObservedRequest } from './request-log.js';

export { Counter, Gauge, Histogram, Registry };

/** Latency buckets in seconds, shared by the gateway's and the subgraphs' histograms. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Metrics of the process (CPU, memory, event-loop lag, GC), collected once however many services the process hosts
 * (the embedded mode runs the gateway and all subgraphs in one process) and served by each of their /metrics.
 */
let processRegistry: Registry | undefined;
export function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Metrics that a subgraph's background work sets (the SLA monitor's lag); served by the subgraphs' /metrics. */
export const domainMetricsRegistry = new Registry();

let slaMonitorLag: Gauge | undefined;

/**
 * Sets `sla_monitor_lag_seconds`: how far behind the SLA monitor runs, i.e. now minus the due time of the oldest
 * timer it has not fired yet (0 when nothing is overdue). The gauge appears on the first call, so only the process
 * that runs the monitor exposes it.
 */
export function setSlaMonitorLag(seconds: number): void {
  slaMonitorLag ??= new Gauge({
    name: 'sla_monitor_lag_seconds',
    help: 'Now minus the due time of the oldest SLA timer not fired yet (0 when none is overdue).',
    registers: [domainMetricsRegistry],
  });
  slaMonitorLag.set(Math.max(0, seconds));
}

/** A subgraph's own request metrics, one registry per subgraph so that one process can host several. */
export interface SubgraphMetrics {
  registry: Registry;
  /** Counts and times one finished `/graphql` request. */
  observe(request: ObservedRequest, status: number): void;
}

export function createSubgraphMetrics(): SubgraphMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'subgraph_requests_total',
    help: 'GraphQL requests served by this subgraph, by operation type and outcome (ok, partial, error, refused).',
    labelNames: ['operation_type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'subgraph_request_duration_seconds',
    help: 'Time from request arrival to the last byte of the response.',
    labelNames: ['operation_type', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    observe(request, status) {
      const labels = { operation_type: request.operationType ?? 'unknown', outcome: outcomeOf(request, status) };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - request.startedAt) / 1000);
    },
  };
}

/**
 * `GET /metrics` in the Prometheus text format, concatenating the given registries. It is served on the service's
 * own port: keep that port off the public network (or behind the proxy's auth) as with any metrics endpoint.
 */
export function metricsRoute(registries: readonly Registry[]): Route {
  return async (req, res) => {
    if (req.url !== '/metrics' || req.method !== 'GET') return false;
    const texts = await Promise.all(registries.map((r) => r.metrics()));
    res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE });
    res.end(texts.filter((t) => t.trim().length > 0).join('\n'));
    return true;
  };
}
