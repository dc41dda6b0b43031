import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { FetchNode, QueryPlan } from '@apollo/query-planner';
import { GraphQLError, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { compareEventCursors, graphqlError, STREAM_POSITION_EXTENSION, type ErrorCode, type Logger } from '@itsm/kit';
import type { GatewayContext } from '../gateway.js';
import { RESUME_AFTER_VARIABLE, RESUME_CURSOR_ALIAS, type PlannedSubscription, type SubscriptionPlanner } from './planner.js';
import type { SharedEventResults } from './shared-results.js';
import type { UpstreamClients, UpstreamEnd } from './upstream.js';

export interface SubscriptionLimits {
  /**
   * Events ready for a client and not yet taken by its socket. When the buffer is full the gateway stops
   * executing (and soon stops reading from the subgraph, which it resumes after the last cursor later).
   */
  maxBufferedEvents: number;
  /** A full buffer the client takes nothing from for this long ends the subscription with SUBSCRIBER_TOO_SLOW. */
  stallTimeoutMs: number;
  /** Events received from the subgraph and not yet executed; beyond it the primary fetch is paused and reopened after the last cursor. */
  upstreamHighWater: number;
  /** First and longest wait between attempts to reopen the primary fetch. */
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  /** Consecutive failed attempts (no event in between) before the subscription ends with SUBGRAPH_UNAVAILABLE. */
  retryMaxAttempts: number;
  /** Subscriptions one graphql-ws connection may hold at once; one more is refused with TOO_MANY_SUBSCRIPTIONS. */
  maxPerConnection: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = {
  maxBufferedEvents: 1_000,
  stallTimeoutMs: 5_000,
  upstreamHighWater: 500,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 5_000,
  retryMaxAttempts: 30,
  maxPerConnection: 100,
};

/** Everything a federated subscription needs from the gateway around it. */
export interface SubscriptionEnvironment {
  planner: SubscriptionPlanner;
  upstream: UpstreamClients;
  /** The gateway's data sources by subgraph name (signed HTTP fetches for the rest of the plan). */
  dataSources: Readonly<Record<string, GraphQLDataSource>>;
  limits: SubscriptionLimits;
  /** Results of the rest of the plan, shared between subscribers of the same tenant and roles. */
  shared: SharedEventResults;
  logger: Logger;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** Codes a subscription ends with on purpose; `extensions.resumeAfter` carries the cursor to resubscribe after. */
export type SubscriptionEndCode = Extract<ErrorCode, 'SCHEMA_RELOADED' | 'SUBSCRIBER_TOO_SLOW' | 'SUBGRAPH_UNAVAILABLE' | 'SHUTTING_DOWN'>;

type RawEvent = FormattedExecutionResult<Record<string, unknown>, unknown>;
type RequestContext = Parameters<typeof executeQueryPlan>[2];

// The name under which each event's primary data is handed to executeQueryPlan.
const EVENT_SOURCE = '__subscription_event__';

/**
 * One client subscription through the gateway: the primary fetch streams from the owning subgraph
 * over graphql-ws, every event runs the rest of the plan through executeQueryPlan (so fields of
 * every subgraph arrive), and results wait in a bounded buffer for the client's socket.
 * It is the AsyncGenerator graphql-ws serves; `return()` releases everything at once.
 */
export class FederatedSubscription implements AsyncGenerator<FormattedExecutionResult> {
  /** Events from the subgraph waiting to be executed. */
  private readonly received: RawEvent[] = [];
  /** Executed events waiting for the client's socket. */
  private readonly ready: { result: FormattedExecutionResult; cursor: string | undefined }[] = [];
  /** Last cursor received from the subgraph: the primary fetch reopens after it. */
  private receivedCursor: string | null;
  /** Last cursor handed to the client's socket: what the client resumes from. */
  private deliveredCursor: string | null;
  private failure: GraphQLError | undefined;
  private closed = false;
  private executing = false;
  private wakeReader: (() => void) | undefined;
  /** Interrupts whatever the upstream loop waits for (an open fetch, a backoff, a drain). */
  private wakeUpstream: (() => void) | undefined;
  /** Wakes the executor waiting for the client to take an event from a full buffer. */
  private wakeExecutor: (() => void) | undefined;
  private released = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly env: SubscriptionEnvironment,
    private readonly planned: PlannedSubscription,
    private readonly context: GatewayContext,
    private readonly onClose: (subscription: FederatedSubscription) => void,
  ) {
    this.receivedCursor = planned.initialAfter;
    this.deliveredCursor = planned.initialAfter;
    void this.runUpstream();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<FormattedExecutionResult>> {
    for (;;) {
      const item = this.ready.shift();
      if (item) {
        if (item.cursor) this.deliveredCursor = item.cursor;
        const wake = this.wakeExecutor;
        this.wakeExecutor = undefined;
        wake?.();
        this.signalUpstream();
        return { done: false, value: item.result };
      }
      if (this.failure) {
        const failure = this.failure;
        this.close();
        throw failure;
      }
      if (this.closed) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.wakeReader = resolve));
    }
  }

  async return(): Promise<IteratorResult<FormattedExecutionResult>> {
    this.close();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<FormattedExecutionResult>> {
    this.close();
    throw error;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /**
   * Ends the subscription with a coded error, delivered after the events already buffered (or
   * instead of them with `dropBuffered`); `resumeAfter` is the cursor of the last event the client gets.
   */
  end(code: SubscriptionEndCode, message: string, dropBuffered = false): void {
    if (!this.live) return;
    if (dropBuffered) this.ready.length = 0;
    let resumeAfter = this.deliveredCursor;
    for (const item of this.ready) resumeAfter = item.cursor ?? resumeAfter;
    this.fail(graphqlError(code, message, { resumeAfter }));
  }

  private fail(error: GraphQLError): void {
    this.failure = error;
    this.received.length = 0;
    this.stopUpstream();
    this.wakeExecutor?.();
    this.notifyReader();
    this.release();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.received.length = 0;
    this.ready.length = 0;
    this.stopUpstream();
    this.wakeExecutor?.();
    this.notifyReader();
    this.release();
  }

  /** No longer live: the server stops counting it (its error may still wait for the client's socket). */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.onClose(this);
  }

  private get live(): boolean {
    return !this.closed && !this.failure;
  }

  private stopUpstream(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.signalUpstream();
  }

  private signalUpstream(): void {
    const wake = this.wakeUpstream;
    this.wakeUpstream = undefined;
    wake?.();
  }

  private notifyReader(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }

  /** Keeps the primary fetch open: reopens after the last cursor on interruption (with backoff) and after a pause. */
  private async runUpstream(): Promise<void> {
    const { limits } = this.env;
    const serviceName = this.planned.primary.serviceName;
    let attempts = 0;
    while (this.live) {
      let progressed = false;
      const end = await new Promise<UpstreamEnd | 'paused' | 'stopped'>((resolve) => {
        // While the fetch is open only a stop matters; other signals (drain progress) re-arm.
        const onSignal = () => (this.live ? (this.wakeUpstream = onSignal) : resolve('stopped'));
        this.wakeUpstream = onSignal;
        this.unsubscribe = this.env.upstream.subscribe(
          serviceName,
          this.context.identity,
          this.primaryPayload(),
          (result) => {
            if (!this.accept(result)) return;
            progressed = true;
            if (this.received.length >= limits.upstreamHighWater) {
              this.unsubscribe?.();
              resolve('paused');
            }
          },
          resolve,
        );
      });
      this.unsubscribe = undefined;
      if (!this.live || end === 'stopped') return;
      if (end === 'paused') {
        // Execution lags the subgraph: let the backlog halve, then read on from the outbox.
        await this.waitUntil(() => this.received.length <= limits.upstreamHighWater / 2);
        attempts = 0;
        continue;
      }
      if (end.kind === 'refused') {
        const first = end.errors[0];
        this.fail(
          new GraphQLError(first?.message ?? `the ${serviceName} subgraph refused the subscription`, {
            extensions: { ...first?.extensions, serviceName, resumeAfter: this.deliveredCursor },
          }),
        );
        return;
      }
      attempts = progressed ? 1 : attempts + 1;
      if (attempts > limits.retryMaxAttempts) {
        // Events already received are still delivered before the error.
        this.end('SUBGRAPH_UNAVAILABLE', `the ${serviceName} subgraph stayed unavailable; resubscribe later with after = resumeAfter`);
        return;
      }
      const delay = Math.min(limits.retryInitialDelayMs * 2 ** (attempts - 1), limits.retryMaxDelayMs) * (0.75 + Math.random() / 2);
      this.env.logger.info({ serviceName, reason: end.reason, delay: Math.round(delay), after: this.receivedCursor }, 'reopening subscription fetch');
      await this.waitUntil(() => false, delay);
    }
  }

  /** The primary fetch's graphql-ws payload, reopening after the last cursor received. */
  private primaryPayload() {
    const { primary, variables, resumable } = this.planned;
    const all: Record<string, unknown> = { ...variables, ...(resumable ? { [RESUME_AFTER_VARIABLE]: this.receivedCursor } : {}) };
    return {
      query: primary.operation,
      operationName: primary.operationName,
      variables: Object.fromEntries((primary.variableUsages ?? []).map((name) => [name, all[name] ?? null])),
      // Opened without a cursor: learn where the stream starts, to reopen after it if the subgraph goes away first.
      extensions: { 'x-request-id': this.context.requestId, ...(resumable && !this.receivedCursor ? { [STREAM_POSITION_EXTENSION]: true } : {}) },
    };
  }

  /** Resolves when `condition` holds (checked whenever the client takes an event), after `ms`, or when stopped. */
  private waitUntil(condition: () => boolean, ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => finish(), ms);
      const finish = () => {
        clearTimeout(timer);
        this.wakeUpstream = undefined;
        resolve();
      };
      const check = () => {
        if (!this.live || condition()) return finish();
        this.wakeUpstream = check;
      };
      check();
    });
  }

  /** Queues an event from the subgraph unless it was received already; false when dropped. */
  private accept(result: RawEvent): boolean {
    if (!this.live) return false;
    const position = result.data == null ? (result.extensions as Record<string, unknown> | undefined)?.['streamPosition'] : undefined;
    if (typeof position === 'string') {
      // Where the stream opened without a cursor starts: nothing to deliver, but a cursor to reopen after.
      this.receivedCursor ??= position;
      this.deliveredCursor ??= position;
      return false;
    }
    const cursor = this.cursorOf(result);
    if (cursor) {
      // At or before the last cursor received: a duplicate, never delivered twice.
      if (this.receivedCursor && compareCursors(cursor, this.receivedCursor) <= 0) return false;
      this.receivedCursor = cursor;
    }
    this.received.push(result);
    void this.executeReceived();
    return true;
  }

  private cursorOf(result: RawEvent): string | undefined {
    const root = result.data?.[this.planned.rootResponseName] as Record<string, unknown> | null | undefined;
    const cursor = root?.[RESUME_CURSOR_ALIAS];
    return typeof cursor === 'string' ? cursor : undefined;
  }

  /**
   * Runs the rest of the plan for received events, one at a time and in order, while the client's buffer
   * has room: a full buffer the client takes nothing from for stallTimeoutMs ends the subscription.
   */
  private async executeReceived(): Promise<void> {
    if (this.executing) return;
    this.executing = true;
    const { maxBufferedEvents, stallTimeoutMs } = this.env.limits;
    try {
      while (this.live && this.received.length) {
        if (this.ready.length >= maxBufferedEvents) {
          if (await this.clientTakes(stallTimeoutMs)) continue;
          this.end(
            'SUBSCRIBER_TOO_SLOW',
            `${maxBufferedEvents} events waited ${stallTimeoutMs} ms for your connection; reconnect and resubscribe with after = resumeAfter`,
            true,
          );
          return;
        }
        const event = this.received.shift()!;
        const result = await this.execute(event);
        if (!this.live) return;
        this.ready.push({ result, cursor: this.cursorOf(event) });
        this.notifyReader();
        this.signalUpstream();
      }
    } finally {
      this.executing = false;
    }
  }

  /** True once the client takes an event; false after `ms` without one (or when the subscription ends). */
  private clientTakes(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeExecutor = undefined;
        resolve(false);
      }, ms);
      this.wakeExecutor = () => {
        clearTimeout(timer);
        resolve(this.live);
      };
    });
  }

  /**
   * A data source whose failure to answer (connection refused, timeout) becomes a GraphQL error of that
   * subgraph: executeQueryPlan then puts it on the event with its path and serviceName, and the fields of
   * the other subgraphs still arrive.
   */
  private answering(serviceName: string, source: GraphQLDataSource): GraphQLDataSource {
    return {
      process: (options) =>
        source.process(options).catch((error: unknown) => {
          this.env.logger.warn({ err: error, serviceName }, 'subgraph fetch failed for a subscription event');
          return unavailable(serviceName);
        }),
    };
  }

  /** One event's response, computed once for every subscriber of the same tenant, roles, operation and event data. */
  private execute(event: RawEvent): Promise<FormattedExecutionResult> {
    const { identity } = this.context;
    return this.env.shared.get(
      [identity.tenantId, [...identity.roles].sort().join(','), this.planned.key, this.planned.variablesKey, JSON.stringify(event)],
      () => this.executeRest(event),
    );
  }

  /** One event: the primary fetch's data seeds executeQueryPlan, which runs the rest of the plan and shapes the response. */
  private async executeRest(event: RawEvent): Promise<FormattedExecutionResult> {
    const { planned, env } = this;
    const primaryErrors = (event.errors ?? []).map((e) => ({ ...e, extensions: { ...e.extensions, serviceName: planned.primary.serviceName } }));
    const seed: FetchNode = { ...planned.primary, serviceName: EVENT_SOURCE, variableUsages: [], inputRewrites: undefined, outputRewrites: undefined };
    const plan: QueryPlan = { kind: 'QueryPlan', node: planned.rest ? { kind: 'Sequence', nodes: [seed, planned.rest] } : seed };
    const eventSource: GraphQLDataSource = { process: async () => ({ data: event.data ?? null }) };
    const serviceMap: ServiceMap = { [EVENT_SOURCE]: eventSource };
    for (const [name, source] of Object.entries(env.dataSources)) serviceMap[name] = this.answering(name, source);
    const requestContext = {
      request: { variables: planned.variables, operationName: planned.operationName },
      context: this.context,
      logger: env.logger,
      metrics: {},
      document: planned.document,
      operationName: planned.operationName ?? null,
      operation: planned.operationContext.operation,
      schema: env.planner.schema,
    } as unknown as RequestContext;
    let data: Record<string, unknown> | null | undefined = null;
    let errors: readonly unknown[];
    try {
      const result = await executeQueryPlan(plan, serviceMap, requestContext, planned.operationContext, env.planner.supergraphSchema, env.planner.apiSchema);
      data = result.data;
      errors = result.errors ?? [];
    } catch (error) {
      errors = [error];
    }
    const formatted = [...primaryErrors, ...errors.map((e) => env.formatError(e instanceof GraphQLError ? e.toJSON() : { message: String(e) }, e))];
    return { data: data ?? null, ...(formatted.length ? { errors: formatted } : {}) };
  }
}

/** What a subgraph that did not answer contributes to an event: one coded error. */
function unavailable(serviceName: string) {
  return { errors: [{ message: `the ${serviceName} subgraph did not answer`, extensions: { code: 'SUBGRAPH_UNAVAILABLE' } }] };
}

function compareCursors(a: string, b: string): number {
  try {
    return compareEventCursors(a, b);
  } catch {
    // Not an outbox cursor (a subgraph with its own cursor format): order unknown, keep the event.
    return 1;
  }
}
