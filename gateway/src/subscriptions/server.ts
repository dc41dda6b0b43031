import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ApolloGateway, GraphQLDataSource } from '@apollo/gateway';
import type { ApolloServer } from '@apollo/server';
import { GraphQLError, type ExecutionArgs, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer } from 'ws';
import { graphqlError, MAX_BODY_BYTES, maskUnexpectedError, type Identity, type Logger } from '@itsm/kit';
import type { TokenVerifier } from '../auth.js';
import type { GatewayContext } from '../gateway.js';
import type { GatewayLimits } from '../limits/index.js';
import type { GatewayMetrics } from '../observability/index.js';
import { DEFAULT_SUBSCRIPTION_LIMITS, FederatedSubscription, type SubscriptionLimits } from './federated-subscription.js';
import { SubscriptionPlanner, type PlannedSubscription } from './planner.js';
import { SharedEventResults } from './shared-results.js';
import { UpstreamClients } from './upstream.js';

/**
 * Close codes of the gateway's graphql-ws connections. 4401 is graphql-ws's own "Unauthorized";
 * the reason starts with the error code (TOKEN_EXPIRED, INVALID_TOKEN, UNAUTHENTICATED). 1012 is WebSocket's
 * "Service Restart": the gateway is stopping, reconnect and resume (reason SHUTTING_DOWN: ...).
 * Subscriptions that end on their own (SCHEMA_RELOADED, SUBSCRIBER_TOO_SLOW, SUBGRAPH_UNAVAILABLE, SHUTTING_DOWN)
 * end with a graphql-ws `error` message whose extensions carry `code` and `resumeAfter`.
 */
export const SUBSCRIPTION_CLOSE_CODES = { unauthorized: 4401, shuttingDown: 1012 } as const;

// How long clients get to answer the close frame when the gateway stops.
const CLOSE_GRACE_MS = 1_000;
// setTimeout fires at once beyond 2^31-1 ms; a token living longer is checked again then.
const MAX_TIMER_MS = 2_147_483_647;

export interface SubscriptionServerOptions {
  server: Server;
  gateway: ApolloGateway;
  /** Runs queries and mutations that arrive over graphql-ws, like HTTP ones. */
  apollo: ApolloServer<GatewayContext>;
  supergraphSdl: string;
  dataSources: Readonly<Record<string, GraphQLDataSource>>;
  subgraphUrl: (serviceName: string) => string;
  internalSecret: string;
  verifyToken: TokenVerifier;
  logger: Logger;
  /** Buffer and retry limits of each subscription. */
  subscriptionLimits?: Partial<SubscriptionLimits>;
  /** The rate limit and operation limits HTTP requests get, applied to every operation over graphql-ws too. */
  operationLimits?: GatewayLimits;
  /** The live-subscriptions gauge. */
  metrics?: GatewayMetrics;
}

export interface SubscriptionServer {
  /** Subscriptions open now (all connections). */
  readonly activeCount: number;
  close(): Promise<void>;
}

interface Connection {
  identity: Identity;
  expiry?: NodeJS.Timeout;
  /** Ids of the subscriptions this connection opened; those no longer in graphql-ws's own table have ended. */
  subscriptions: Set<string>;
}

type OperationContext =
  | { kind: 'subscription'; planned: PlannedSubscription; planner: SubscriptionPlanner; gateway: GatewayContext }
  | { kind: 'operation'; query: string; variables: Record<string, unknown> | undefined; gateway: GatewayContext };

/**
 * graphql-ws on the gateway's `/graphql`: authenticates each connection with the same verifier as
 * HTTP (tenant from the token only), validates subscriptions against the API schema, plans them
 * with @apollo/query-planner and runs each as a FederatedSubscription.
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { logger } = options;
  const limits = { ...DEFAULT_SUBSCRIPTION_LIMITS, ...options.subscriptionLimits };
  const mask = maskUnexpectedError(logger);
  const formatError = (error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError && error.originalError instanceof GraphQLError ? error.originalError : error;
    if (original instanceof GraphQLError) return mask(original.toJSON(), original);
    if (isFormattedError(original)) return mask(original, original);
    return mask({ message: String(original) }, original);
  };
  const upstream = new UpstreamClients(options.subgraphUrl, options.internalSecret);
  const shared = new SharedEventResults();
  const connections = new WeakMap<object, Connection>();
  const active = new Set<FederatedSubscription>();
  /** graphql-ws's context of every authenticated connection: its table of operations still running or being answered. */
  const open = new Set<{ subscriptions: Record<string, unknown> }>();
  let planner = new SubscriptionPlanner(options.supergraphSdl);

  const stopWatchingSchema = options.gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    if (coreSupergraphSdl === planner.supergraphSdl) return;
    planner = new SubscriptionPlanner(coreSupergraphSdl);
    logger.info({ subscriptions: active.size }, 'supergraph reloaded: ending live subscriptions');
    for (const subscription of active) {
      subscription.end('SCHEMA_RELOADED', "the graph's schema changed; resubscribe with after = resumeAfter");
    }
  });

  // A message is bounded like an HTTP body (ws would take 100 MiB, and parse it before the token is checked).
  const maxPayload = options.operationLimits?.settings.maxBodyBytes ?? MAX_BODY_BYTES;
  const wsServer = new WebSocketServer({ server: options.server, path: '/graphql', maxPayload });
  const served = useServer<Record<string, unknown>>(
    {
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = params['authorization'] ?? params['Authorization'] ?? (typeof params['token'] === 'string' ? `Bearer ${params['token']}` : undefined);
        const authorization = typeof header === 'string' ? header : undefined;
        let identity: Identity;
        try {
          identity = await options.verifyToken(authorization);
        } catch (error) {
          const code = error instanceof GraphQLError ? String(error.extensions['code']) : 'UNAUTHENTICATED';
          const message = error instanceof Error ? error.message : 'not authenticated';
          ctx.extra.socket.close(SUBSCRIPTION_CLOSE_CODES.unauthorized, `${code}: ${message}`.slice(0, 123));
          return false;
        }
        const connection: Connection = { identity, subscriptions: new Set() };
        connections.set(ctx.extra, connection);
        open.add(ctx);
        const expiresAt = decodeJwt(authorization!.replace(/^Bearer\s+/i, '')).exp;
        if (expiresAt) armExpiry(ctx.extra.socket, connection, expiresAt * 1000);
        return true;
      },
      onClose: (ctx) => {
        open.delete(ctx);
        clearTimeout(connections.get(ctx.extra)?.expiry);
      },
      onSubscribe: (ctx, id, payload) => {
        const connection = connections.get(ctx.extra);
        if (!connection) return [new GraphQLError('not authenticated', { extensions: { code: 'UNAUTHENTICATED' } })];
        const gateway: GatewayContext = { identity: connection.identity, requestId: randomUUID() };
        const current = planner;
        const parsed = current.parse(payload.query, payload.operationName ?? undefined);
        if (!('document' in parsed)) return parsed;
        try {
          options.operationLimits?.admit(connection.identity);
          options.operationLimits?.checkOperationLimits(parsed.document, connection.identity, {
            schema: current.schema,
            variables: payload.variables,
            operationName: payload.operationName,
            source: payload.query,
          });
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const args = { schema: current.schema, document: parsed.document, operationName: payload.operationName, variableValues: payload.variables };
        if (parsed.operation.operation !== 'subscription') {
          return { ...args, contextValue: { kind: 'operation', query: payload.query, variables: payload.variables ?? undefined, gateway } satisfies OperationContext };
        }
        // Counted here, where graphql-ws has already entered this id in its table and nothing has awaited yet: a burst
        // of subscribe messages cannot slip past the cap.
        for (const open of connection.subscriptions) if (!(open in ctx.subscriptions)) connection.subscriptions.delete(open);
        if (connection.subscriptions.size >= limits.maxPerConnection) {
          return [graphqlError('TOO_MANY_SUBSCRIPTIONS', `one connection may hold ${limits.maxPerConnection} subscriptions; end one first or open another connection`)];
        }
        const planned = current.plan(parsed.document, parsed.operation, payload.variables ?? undefined);
        if (!('primary' in planned)) return planned;
        connection.subscriptions.add(id);
        return { ...args, contextValue: { kind: 'subscription', planned, planner: current, gateway } satisfies OperationContext };
      },
      subscribe: (args: ExecutionArgs) => {
        const context = args.contextValue as OperationContext;
        if (context.kind !== 'subscription') throw new Error('not a subscription');
        const env = { planner: context.planner, upstream, dataSources: options.dataSources, limits, shared, logger, formatError: mask };
        const ended = options.metrics?.subscriptionStarted();
        const subscription = new FederatedSubscription(env, context.planned, context.gateway, (s) => {
          active.delete(s);
          ended?.();
        });
        active.add(subscription);
        return subscription as AsyncGenerator<ExecutionResult>;
      },
      execute: async (args: ExecutionArgs) => {
        const context = args.contextValue as OperationContext;
        if (context.kind !== 'operation') throw new Error('not a query or mutation');
        const response = await options.apollo.executeOperation(
          { query: context.query, variables: context.variables, operationName: args.operationName ?? undefined },
          { contextValue: context.gateway },
        );
        if (response.body.kind !== 'single') return { errors: [new GraphQLError('incremental delivery is not served over WebSocket')] };
        return response.body.singleResult as ExecutionResult;
      },
      // A FederatedSubscription formats its events itself; query and mutation results are formatted here.
      onNext: (_ctx, _id, _payload, args, result) =>
        (args.contextValue as OperationContext).kind === 'subscription' ? (result as FormattedExecutionResult) : formatResult(result, formatError),
      onError: (_ctx, _id, _payload, errors) => errors.map(formatError),
    },
    wsServer,
  );

  function armExpiry(socket: { close(code: number, reason: string): void }, connection: Connection, expiresAtMs: number): void {
    const delay = expiresAtMs - Date.now();
    connection.expiry = setTimeout(
      () => {
        if (Date.now() < expiresAtMs) return armExpiry(socket, connection, expiresAtMs);
        socket.close(SUBSCRIPTION_CLOSE_CODES.unauthorized, 'TOKEN_EXPIRED: reconnect with a new token and resubscribe after your last cursor');
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    connection.expiry.unref();
  }

  return {
    get activeCount() {
      return active.size;
    },
    close: async () => {
      stopWatchingSchema();
      // Every subscription ends with SHUTTING_DOWN and the cursor to resume after (once the events already
      // executed for it are sent), then its connection closes with 1012; one that does not answer within a second is cut off.
      for (const subscription of [...active]) subscription.end('SHUTTING_DOWN', 'the gateway is shutting down; reconnect and resubscribe with after = resumeAfter');
      // graphql-ws drops an operation from its table once its last message is sent: queries finish, errors go out.
      const endedBy = Date.now() + CLOSE_GRACE_MS;
      while ([...open].some((ctx) => Object.keys(ctx.subscriptions).length) && Date.now() < endedBy) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const subscription of [...active]) await subscription.return();
      for (const client of wsServer.clients) client.close(SUBSCRIPTION_CLOSE_CODES.shuttingDown, 'SHUTTING_DOWN: reconnect and resubscribe after your last cursor');
      const cutOff = setTimeout(() => wsServer.clients.forEach((client) => client.terminate()), CLOSE_GRACE_MS);
      await served.dispose();
      clearTimeout(cutOff);
      await upstream.close();
    },
  };
}

function isFormattedError(value: unknown): value is GraphQLFormattedError {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** graphql-ws sends what this returns: every error formatted (and masked) like on HTTP. */
function formatResult(result: ExecutionResult | FormattedExecutionResult, formatError: (error: unknown) => GraphQLFormattedError): FormattedExecutionResult {
  const { errors, ...rest } = result;
  return errors?.length ? { ...rest, errors: errors.map(formatError) } : rest;
}
