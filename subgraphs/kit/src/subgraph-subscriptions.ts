import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  print,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { graphqlError } from './errors.js';
import { MAX_BODY_BYTES } from './http.js';
import { STREAM_POSITION_EXTENSION } from './event-stream.js';
import { IDENTITY_HEADERS, verifyIdentity, type Identity } from './identity.js';
import type { Logger } from './logger.js';

/** The identity context every subgraph operation starts from (the subgraph builds the rest). */
interface BaseContext {
  identity: Identity;
  requestId: string;
  logger: Logger;
}

// Where an operation's context keeps the factory of fresh contexts, one per event.
const CONTEXT_PER_EVENT = Symbol('contextPerEvent');
// Set on an operation's context when the gateway asked for the stream's start position (subscribe extensions).
const REPORT_POSITION = Symbol('reportPosition');


/**
 * Serves graphql-ws on the subgraph's `/graphql`, for the gateway only: a connection must carry the
 * gateway-signed identity in its connectionParams (the same values as the signed HTTP headers).
 * Each event of a subscription executes with a fresh context, so DataLoader caches never outlive
 * one event.
 */
export function serveSubgraphSubscriptions<TContext extends object>(options: {
  name: string;
  server: Server;
  schema: GraphQLSchema;
  internalSecret: string;
  logger: Logger;
  createContext: (base: BaseContext) => TContext;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}): { close(): Promise<void> } {
  // Messages are bounded like HTTP bodies: ws would take 100 MiB and parse it before the signature is checked.
  const wsServer = new WebSocketServer({ server: options.server, path: '/graphql', maxPayload: MAX_BODY_BYTES });
  const identities = new WeakMap<object, Identity>();
  const server = useServer<Record<string, unknown>>(
    {
      schema: options.schema,
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        const get = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
        const verified = verifyIdentity(get, options.internalSecret);
        if ('reason' in verified) {
          options.logger.warn({ reason: verified.reason }, `${options.name} subgraph refused a WebSocket connection`);
          ctx.extra.socket.close(4403, `UNSIGNED_REQUEST: ${verified.reason}`.slice(0, 120));
          return false;
        }
        identities.set(ctx.extra, verified.identity);
        return true;
      },
      context: (ctx, _id, payload) => {
        const identity = identities.get(ctx.extra);
        if (!identity) throw graphqlError('UNSIGNED_REQUEST', 'connection is not authenticated');
        const header = payload.extensions?.[IDENTITY_HEADERS.requestId];
        const requestId = typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : randomUUID();
        const make = () =>
          options.createContext({ identity, requestId, logger: options.logger.child({ requestId, tenantId: identity.tenantId }) });
        return Object.assign(make(), { [CONTEXT_PER_EVENT]: make, [REPORT_POSITION]: payload.extensions?.[STREAM_POSITION_EXTENSION] === true });
      },
      subscribe: subscribeWithContextPerEvent,
      onNext: (_ctx, _id, _payload, _args, result) => formatResult(result, options.formatError),
    },
    wsServer,
  );
  return {
    close: async () => {
      // The gateway gets 1001 Going away (and reconnects elsewhere); a peer that does not answer within a second is cut off.
      const cutOff = setTimeout(() => wsServer.clients.forEach((client) => client.terminate()), 1_000);
      await server.dispose();
      clearTimeout(cutOff);
    },
  };
}

/**
 * An event's result per operation, shared by the subscriptions that receive the same event object (an outbox
 * feed hands one object to every live stream of a tenant) with the same operation, variables and roles.
 */
const sharedResults = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

/**
 * graphql-js `subscribe`, except each event runs with a new context from the operation's factory, once for all
 * subscriptions that would resolve it alike: a hundred dashboards of a tenant cost one execution per event.
 */
async function subscribeWithContextPerEvent(args: ExecutionArgs) {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterator(source)) return source as ExecutionResult;
  const contextValue = args.contextValue as { [CONTEXT_PER_EVENT]?: () => unknown; [REPORT_POSITION]?: boolean; identity?: Identity } | undefined;
  const fresh = contextValue?.[CONTEXT_PER_EVENT];
  const run = (event: unknown) => execute({ ...args, rootValue: event, contextValue: fresh ? fresh() : args.contextValue }) as Promise<ExecutionResult>;
  const key = sharingKey(args, contextValue?.identity);
  const positioned = source as AsyncIterator<unknown> & { position?: () => Promise<string> };
  const first = contextValue?.[REPORT_POSITION] && typeof positioned.position === 'function' ? positioned.position.bind(positioned) : undefined;
  return mapEvents(source, first, (event) => {
    if (typeof event !== 'object' || event === null) return run(event);
    let results = sharedResults.get(event);
    if (!results) sharedResults.set(event, (results = new Map()));
    let result = results.get(key);
    if (!result) results.set(key, (result = run(event)));
    return result;
  });
}

/**
 * What decides how an event resolves: the operation, its variables (but the one bound to the stream position
 * `after`, which only says where the stream starts) and the caller's roles. The tenant is the event's own.
 */
function sharingKey(args: ExecutionArgs, identity: Identity | undefined): string {
  const operation = getOperationAST(args.document, args.operationName);
  const root = operation?.selectionSet.selections[0];
  const after = root?.kind === Kind.FIELD ? root.arguments?.find((a) => a.name.value === 'after')?.value : undefined;
  const afterVariable = after?.kind === Kind.VARIABLE ? after.name.value : undefined;
  const variables = Object.entries(args.variableValues ?? {}).filter(([name]) => name !== afterVariable);
  return JSON.stringify([print(args.document), args.operationName ?? null, variables, [...(identity?.roles ?? [])].sort()]);
}

function isAsyncIterator(value: unknown): value is AsyncIterator<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Maps a source stream to results without an async generator, whose `return()` would wait for the
 * next event: here `return()` reaches the source at once, so an unsubscribe frees it immediately.
 * A failing source ends with a SUBGRAPH_UNAVAILABLE error the gateway retries from its cursor.
 */
function mapEvents(
  source: AsyncIterator<unknown>,
  position: (() => Promise<string>) | undefined,
  map: (event: unknown) => Promise<ExecutionResult>,
): AsyncGenerator<ExecutionResult> {
  let failed = false;
  let reportPosition = position;
  const done = { done: true, value: undefined } as const;
  const iterator: AsyncGenerator<ExecutionResult> = {
    async next() {
      if (failed) return done;
      let step: IteratorResult<unknown>;
      try {
        if (reportPosition) {
          const streamPosition = await reportPosition();
          reportPosition = undefined;
          return { done: false, value: { extensions: { streamPosition } } };
        }
        step = await source.next();
      } catch {
        failed = true;
        return {
          done: false,
          value: { errors: [graphqlError('SUBGRAPH_UNAVAILABLE', 'the event stream was interrupted; resubscribe after your last cursor')] },
        };
      }
      if (step.done) return done;
      return { done: false, value: await map(step.value) };
    },
    async return() {
      await source.return?.();
      return done;
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

function formatResult(
  result: ExecutionResult,
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): FormattedExecutionResult {
  const { errors, ...rest } = result;
  if (!errors?.length) return rest as FormattedExecutionResult;
  return {
    ...rest,
    errors: errors.map((error) => formatError(error instanceof GraphQLError ? error.toJSON() : { message: String(error) }, error)),
  } as FormattedExecutionResult;
}
