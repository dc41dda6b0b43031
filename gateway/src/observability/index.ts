import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { healthRoutes, logRequest, metricsRoute, observedRequestPlugin, processMetricsRegistry, type Logger, type ObservedRequest, type Route } from '@itsm/kit';
import { subgraphsAnswer } from './health.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';

export * from './data-source.js';
export * from './health.js';
export * from './metrics.js';

export interface GatewayObservability {
  metrics: GatewayMetrics;
  /** Apollo Server plugin noting operation name and type, tenant and error codes of each request. */
  plugin: ApolloServerPlugin<BaseContext>;
  /** For serveGraphQL's onFinished: one JSON log line and the request metrics per `/graphql` request. */
  onFinished(request: ObservedRequest, status: number): void;
  /** `/health`, `/ready` (schema loaded and every subgraph's /health answers) and `/metrics`. */
  routes: Route[];
}

/** Logs, metrics and probes of the gateway (docs: README.md beside this file). */
export function createGatewayObservability(options: {
  logger: Logger;
  subgraphUrls: Record<string, string>;
  schemaLoaded: () => boolean;
}): GatewayObservability {
  const metrics = createGatewayMetrics();
  const urls = Object.values(options.subgraphUrls);
  return {
    metrics,
    plugin: observedRequestPlugin(),
    onFinished(request, status) {
      metrics.observeRequest(request, status);
      logRequest(options.logger, request, status);
    },
    routes: [
      healthRoutes(async () => options.schemaLoaded() && (await subgraphsAnswer(urls))),
      metricsRoute([metrics.registry, processMetricsRegistry()]),
    ],
  };
}
