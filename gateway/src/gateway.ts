import type { IncomingMessage } from 'node:http';
import { ApolloGateway, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { graphqlError, IDENTITY_HEADERS, maskUnexpectedError, serveGraphQL, signIdentity, type HttpService, type Identity, type LimitsConfig, type Logger, type Route } from '@itsm/kit';
import type { TokenVerifier } from './auth.js';
import { createGatewayLimits, type GatewayLimits } from './limits/index.js';
import { createGatewayObservability, ObservedDataSource, type GatewayMetrics } from './observability/index.js';
import type { SubscriptionLimits } from './subscriptions/federated-subscription.js';
import { attachSubscriptionServer, type SubscriptionServer } from './subscriptions/server.js';
import { DEFAULT_PERF, tuneDataSource, tuneTokenVerifier, type GatewayPerfOptions } from './perf/index.js';

/** Per-request context of the gateway: the verified caller and a request id for the logs. */
export interface GatewayContext {
  identity: Identity;
  requestId: string;
}

/** Forwards the caller's identity to subgraphs in HMAC-signed headers. */
class SignedDataSource extends ObservedDataSource<GatewayContext> {
  constructor(url: string, private readonly serviceName: string, metrics: GatewayMetrics, private readonly internalSecret: string) {
    super(url, serviceName, metrics);
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (!('identity' in context) || !context.identity) return;
    for (const [name, value] of Object.entries(signIdentity(context.identity, this.internalSecret))) request.http?.headers.set(name, value);
    request.http?.headers.set(IDENTITY_HEADERS.requestId, context.requestId);
  }

  /**
   * A subgraph that does not answer (connection refused or reset, a gateway in between saying 502-504) is a
   * SUBGRAPH_UNAVAILABLE error of that subgraph: the fields of the other subgraphs still arrive beside it.
   */
  override didEncounterError(error: Error, _request: unknown, response?: { status: number }): void {
    if (!response || [502, 503, 504].includes(response.status)) {
      throw graphqlError('SUBGRAPH_UNAVAILABLE', `the ${this.serviceName} subgraph did not answer`, { serviceName: this.serviceName });
    }
    throw error;
  }

  /**
   * A subgraph refuses a request it cannot coerce (a DateTime that is not an instant) with HTTP 400 and a coded
   * GraphQL error; Apollo's data source would replace it with a bare "400: Bad Request", masked as an internal
   * error. The subgraph's own error is what the client needs.
   */
  override async errorFromResponse(response: Parameters<ObservedDataSource<GatewayContext>['errorFromResponse']>[0]): Promise<GraphQLError> {
    const error = await super.errorFromResponse(response);
    const body = (error.extensions['response'] as { body?: { errors?: GraphQLFormattedError[] } } | undefined)?.body;
    const first = typeof body === 'object' ? body?.errors?.[0] : undefined;
    const code = first?.extensions?.['code'];
    if (response.status >= 500 || typeof code !== 'string' || code === 'INTERNAL_SERVER_ERROR') return error;
    return new GraphQLError(first!.message, { extensions: { ...first!.extensions, serviceName: this.serviceName } });
  }
}

export interface GatewayOptions {
  supergraphSdl: string;
  /** Where each subgraph (by its name in the supergraph) listens. */
  subgraphUrls: Record<string, string>;
  internalSecret: string;
  verifyToken: TokenVerifier;
  logger: Logger;
  host: string;
  port: number;
  routes?: Route[];
  /** Abuse limits (config.limits); defaults without it. */
  limits?: LimitsConfig;
  /** Buffer and retry limits of subscriptions over graphql-ws. */
  subscriptionLimits?: Partial<SubscriptionLimits>;
  /** Performance settings; defaults (DEFAULT_PERF) are what `pnpm bench` showed to help. */
  perf?: Partial<GatewayPerfOptions>;
}

export interface RunningGateway extends HttpService {
  apollo: ApolloServer<GatewayContext>;
  gateway: ApolloGateway;
  /** Rate limit and operation limits, also for subscriptions: admit(identity), checkOperationLimits(document, identity, facts). */
  limits: GatewayLimits;
  /** Prometheus metrics served on /metrics; subscriptionStarted() for the live subscriptions gauge. */
  metrics: GatewayMetrics;
  /** graphql-ws on `/graphql`: federated subscriptions. */
  subscriptions: SubscriptionServer;
  /** Serves a new supergraph without a restart; live subscriptions end with SCHEMA_RELOADED. */
  reloadSupergraph(supergraphSdl: string): void;
}

/** Starts the gateway: verifies tokens, plans queries over the committed supergraph, signs subgraph calls. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  // The data sources are kept by name: subscriptions run the rest of their plans through them too.
  const dataSources: Record<string, SignedDataSource> = {};
  const perf = { ...DEFAULT_PERF, ...options.perf };
  const verifyToken = tuneTokenVerifier(options.verifyToken, perf);
  const limits = createGatewayLimits(options.limits);
  let schemaLoaded = false;
  const observability = createGatewayObservability({ logger: options.logger, subgraphUrls: options.subgraphUrls, schemaLoaded: () => schemaLoaded });
  let updateSupergraph: ((supergraphSdl: string) => void) | undefined;
  // @apollo/gateway otherwise starts an OpenTelemetry exporter to Apollo's hosted endpoint and probes cloud metadata
  // servers (AWS, GCP, Azure...) at construction: an on-premises ITSM backend must not phone out.
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: async ({ update }) => {
      updateSupergraph = update;
      return { supergraphSdl: options.supergraphSdl };
    },
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`no URL configured for subgraph ${name}`);
      return (dataSources[name] = tuneDataSource(new SignedDataSource(target, name, observability.metrics, options.internalSecret), perf));
    },
    ...(perf.queryPlanCacheMiB ? { experimental_approximateQueryPlanStoreMiB: perf.queryPlanCacheMiB } : {}),
  });
  gateway.onSchemaLoadOrUpdate(() => {
    schemaLoaded = true;
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: maskUnexpectedError(options.logger),
    includeStacktraceInErrorResponses: false,
    // Clients authenticate with an Authorization header, which no cross-site simple request can carry: it counts as
    // the preflight-forcing header, so plain GET queries (GraphQL over HTTP) work without apollo-require-preflight.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    plugins: [observability.plugin, limits.plugin],
    persistedQueries: limits.apolloPersistedQueries,
    // Refused in production by the limits plugin, with INTROSPECTION_DISABLED rather than Apollo's validation error.
    introspection: true,
    // The process that hosts the gateway handles SIGTERM/SIGINT (drain, end subscriptions, exit): Apollo's own
    // handlers would stop the server and re-raise the signal halfway through.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const http = await serveGraphQL({
    apollo,
    host: options.host,
    port: options.port,
    routes: [...observability.routes, ...(options.routes ?? [])],
    maxBodyBytes: limits.settings.maxBodyBytes,
    onFinished: observability.onFinished,
    context: async (req: IncomingMessage, request) => {
      const identity = await verifyToken(req.headers.authorization);
      limits.admit(identity);
      return { identity, requestId: request.requestId };
    },
  });
  const subscriptions = attachSubscriptionServer({
    server: http.server,
    gateway,
    apollo,
    supergraphSdl: options.supergraphSdl,
    dataSources,
    subgraphUrl: (name) => dataSources[name]?.url ?? options.subgraphUrls[name] ?? '',
    internalSecret: options.internalSecret,
    verifyToken: options.verifyToken,
    logger: options.logger,
    subscriptionLimits: options.subscriptionLimits,
    operationLimits: limits,
    metrics: observability.metrics,
  });
  options.logger.info({ url: http.url }, 'gateway listening');
  return {
    ...http,
    apollo,
    gateway,
    limits,
    metrics: observability.metrics,
    subscriptions,
    reloadSupergraph: (supergraphSdl) => updateSupergraph?.(supergraphSdl),
    close: async () => {
      await subscriptions.close();
      await http.close();
      await apollo.stop();
    },
  };
}
