import { Counter, Gauge, Histogram, LATENCY_BUCKETS, outcomeOf, Registry, type ObservedRequest } from '@itsm/kit';

/** The gateway's Prometheus metrics, in a registry of its own (one process may host several services). */
export interface GatewayMetrics {
  registry: Registry;
  /** Counts and times one finished `/graphql` request, and counts its error codes. */
  observeRequest(request: ObservedRequest, status: number): void;
  /** Times one fetch to a subgraph and counts the errors it returned (or one if it failed outright). */
  observeSubgraphFetch(subgraph: string, seconds: number, result: { errors: number } | { failed: true }): void;
  /** A subscription went live; call the returned function when it ends (the live_subscriptions gauge). */
  subscriptionStarted(): () => void;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'gateway_requests_total',
    help: 'GraphQL requests at the gateway by operation type (query, mutation, subscription, unknown) and outcome (ok, partial, error, refused).',
    labelNames: ['operation_type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request arrival at the gateway to the last byte of its response.',
    labelNames: ['operation_type', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'gateway_errors_total',
    help: 'Errors sent to clients, by extensions.code (refusals such as RATE_LIMITED included).',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const subgraphFetches = new Histogram({
    name: 'gateway_subgraph_fetch_duration_seconds',
    help: 'Time of one fetch from the gateway to a subgraph.',
    labelNames: ['subgraph'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const subgraphErrors = new Counter({
    name: 'gateway_subgraph_errors_total',
    help: 'Errors from subgraphs seen by the gateway: kind graphql counts errors in responses, kind fetch counts fetches that failed (down, timeout, non-GraphQL answer).',
    labelNames: ['subgraph', 'kind'] as const,
    registers: [registry],
  });
  const liveSubscriptions = new Gauge({
    name: 'gateway_live_subscriptions',
    help: 'Subscriptions currently live on this gateway replica.',
    registers: [registry],
  });
  return {
    registry,
    observeRequest(request, status) {
      const labels = { operation_type: request.operationType ?? 'unknown', outcome: outcomeOf(request, status) };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - request.startedAt) / 1000);
      for (const code of request.errorCodes) errors.inc({ code });
    },
    observeSubgraphFetch(subgraph, seconds, result) {
      subgraphFetches.observe({ subgraph }, seconds);
      if ('failed' in result) subgraphErrors.inc({ subgraph, kind: 'fetch' });
      else if (result.errors > 0) subgraphErrors.inc({ subgraph, kind: 'graphql' }, result.errors);
    },
    subscriptionStarted() {
      liveSubscriptions.inc();
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        liveSubscriptions.dec();
      };
    },
  };
}
