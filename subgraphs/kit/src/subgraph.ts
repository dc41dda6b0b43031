import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { pingDatabase, type DatabaseHandle, type Db } from './db.js';
import { commonTypeDefs, graphqlError } from './errors.js';
import type { SubgraphName } from './config.js';
import { backgroundDb } from './background-db.js';
import { eventFeedRoute } from './event-feed.js';
import { healthRoutes, serveGraphQL, type HttpService, type Route } from './http.js';
import { verifyIdentity, type Identity } from './identity.js';
import { createSubgraphMetrics, domainMetricsRegistry, metricsRoute, processMetricsRegistry, type SubgraphMetrics } from './metrics.js';
import { refuseNulCharacters } from './nul-characters.js';
import { logRequest, observedRequestPlugin, type ObservedRequest } from './request-log.js';
import { OutboxEvents } from './event-stream.js';
import { serveSubgraphSubscriptions } from './subgraph-subscriptions.js';
import type { Logger } from './logger.js';

/** What every subgraph's per-request context starts from. */
export interface BaseSubgraphContext {
  identity: Identity;
  requestId: string;
  logger: Logger;
}

export interface SubgraphService extends HttpService {
  name: string;
  apollo: ApolloServer<BaseSubgraphContext>;
  /** Request count and latency, served on /metrics. */
  metrics: SubgraphMetrics;
}

/** Hides internals (SQL, stack traces) of unexpected errors while keeping coded ones. */
export function maskUnexpectedError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    logger.error({ err: error }, 'unexpected error');
    return { message: 'internal error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** Starts one subgraph: refuses any request whose gateway signature does not verify. */
export async function startSubgraph<TContext extends BaseSubgraphContext>(options: {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TContext>;
  host: string;
  port: number;
  internalSecret: string;
  logger: Logger;
  createContext: (base: BaseSubgraphContext) => TContext;
  ready: () => Promise<boolean>;
  routes?: Route[];
}): Promise<SubgraphService> {
  const logger = options.logger;
  const schema = buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: options.resolvers as GraphQLResolverMap<unknown> }]);
  const apollo = new ApolloServer<BaseSubgraphContext>({
    schema,
    formatError: maskUnexpectedError(logger),
    includeStacktraceInErrorResponses: false,
    // Traces go to Apollo's hosted studio, which this deployment never uses.
    plugins: [ApolloServerPluginInlineTraceDisabled(), observedRequestPlugin(), refuseNulCharacters()],
    // The hosting process handles SIGTERM/SIGINT (scripts/start.ts, scripts/serve.ts); Apollo's own handlers would
    // stop the server and re-raise the signal before the gateway in front has drained.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const context = async (req: IncomingMessage, request: ObservedRequest): Promise<TContext> => {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const verified = verifyIdentity(header, options.internalSecret);
    if ('reason' in verified) throw graphqlError('UNSIGNED_REQUEST', `${options.name} subgraph refused the request: ${verified.reason}`);
    // The gateway's request id (x-request-id), so one request can be followed through every service's logs.
    const requestId = request.requestId;
    return options.createContext({
      identity: verified.identity,
      requestId,
      logger: logger.child({ requestId, tenantId: verified.identity.tenantId }),
    });
  };

  const metrics = createSubgraphMetrics();
  const http = await serveGraphQL({
    apollo: apollo as unknown as ApolloServer<TContext>,
    context,
    host: options.host,
    port: options.port,
    routes: [
      healthRoutes(options.ready),
      metricsRoute([metrics.registry, domainMetricsRegistry, processMetricsRegistry()]),
      ...(options.routes ?? []),
    ],
    onFinished: (request, status) => {
      metrics.observe(request, status);
      logRequest(logger, request, status);
    },
  });
  // graphql-ws on the same port and path, for the gateway's subscription fetches.
  const subscriptions = serveSubgraphSubscriptions({ ...options, server: http.server, schema, formatError: maskUnexpectedError(logger) });
  logger.info({ url: http.url }, `${options.name} subgraph listening`);
  return {
    ...http,
    name: options.name,
    apollo,
    metrics,
    close: async () => {
      await subscriptions.close();
      await http.close();
      await apollo.stop();
    },
  };
}

/** Everything the process that hosts a subgraph needs to know about it. */
export interface SubgraphModule {
  name: string;
  /** schema.graphql plus the shared types, as composition and the server see it. */
  sdl: string;
  typeDefs: DocumentNode;
  /** The subgraph's own Postgres schema. */
  schemaName: string;
  /** Its drizzle-kit migrations. */
  migrationsFolder: string;
  start(options: StartSubgraphOptions): Promise<SubgraphService>;
  /**
   * Work the subgraph runs in its process beside the HTTP server (timers, monitors); absent for most subgraphs.
   * Resolves once started, to a function that stops it.
   */
  startBackground?: (database: DatabaseHandle, logger: Logger, services?: BackgroundServices) => Promise<StopBackground>;
}

/** What background work may need of the other services: their URLs (for internal event feeds) and the secret to sign with. */
export interface BackgroundServices {
  internalSecret: string;
  /** Base URL of each subgraph that is known to this process (started here, or configured). */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
}

/** Stops background work started by SubgraphModule.startBackground; resolves when it has finished. */
export type StopBackground = () => Promise<void>;

export interface StartSubgraphOptions {
  database: DatabaseHandle;
  host: string;
  port: number;
  internalSecret: string;
  logger: Logger;
}

/** Declares a subgraph from its schema file, resolvers and per-request loaders. */
export function defineSubgraph<TLoaders>(definition: {
  name: string;
  schemaFile: URL;
  schemaName: string;
  migrationsFolder: URL;
  resolvers: object;
  createLoaders: (db: Db, tenantId: string) => TLoaders;
  /** Optional background work (e.g. the SLA monitor) each process hosting the subgraph starts. */
  background?: (database: DatabaseHandle, logger: Logger, services?: BackgroundServices) => Promise<StopBackground>;
}): SubgraphModule {
  const sdl = commonTypeDefs + readFileSync(fileURLToPath(definition.schemaFile), 'utf8');
  const typeDefs = parse(sdl);
  return {
    name: definition.name,
    sdl,
    typeDefs,
    schemaName: definition.schemaName,
    migrationsFolder: fileURLToPath(definition.migrationsFolder),
    start: async ({ database, ...options }) => {
      const { db } = database;
      // Tenant event streams over this subgraph's outbox, for its Subscription fields (context.events).
      const events = new OutboxEvents(database, definition.schemaName, options.logger);
      const service = await startSubgraph({
        ...options,
        name: definition.name,
        typeDefs,
        resolvers: definition.resolvers as GraphQLResolverMap<BaseSubgraphContext>,
        createContext: (base) => {
          // Row-level security stands behind every query's own tenant filter.
          const tenantDb = database.forTenant(base.identity.tenantId);
          return { ...base, db: tenantDb, events, loaders: definition.createLoaders(tenantDb, base.identity.tenantId) };
        },
        ready: () => pingDatabase(db),
        // The outbox of every tenant, for other subgraphs' event consumers (service-signed requests only).
        routes: [eventFeedRoute({ db: backgroundDb(database), schemaName: definition.schemaName, internalSecret: options.internalSecret })],
      });
      return { ...service, close: () => service.close().finally(() => events.close()) };
    },
    ...(definition.background ? { startBackground: definition.background } : {}),
  };
}
