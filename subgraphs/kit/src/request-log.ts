import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Identity } from './identity.js';
import type { Logger } from './logger.js';

/** What the HTTP layer and Apollo Server learn about one GraphQL request, for its log line and metrics. */
export interface ObservedRequest {
  /** The caller's `x-request-id` when it is a safe token, else a new uuid; echoed in the response header. */
  requestId: string;
  /** performance.now() when the request arrived. */
  startedAt: number;
  operationName?: string;
  operationType?: 'query' | 'mutation' | 'subscription';
  tenantId?: string;
  /** `extensions.code` of every error sent back. */
  errorCodes: string[];
  /** False when the request was refused before execution (body size, auth, rate limit, parse, validation, limits). */
  executed: boolean;
  /** Whether the response carried `data`. */
  hasData: boolean;
}

/** ok: no errors; partial: data with errors; error: errors without data, or a 5xx; refused: never executed. */
export type RequestOutcome = 'ok' | 'partial' | 'error' | 'refused';

export function newObservedRequest(requestId: string): ObservedRequest {
  return { requestId, startedAt: performance.now(), errorCodes: [], executed: false, hasData: false };
}

/** Where a context carries its ObservedRequest: a symbol, which Apollo Server's per-operation context copy keeps. */
const OBSERVED = Symbol('itsm.observedRequest');

/** Ties a per-request context to its ObservedRequest so that plugins can fill it in. */
export function bindObservedRequest(context: object, info: ObservedRequest): void {
  Object.defineProperty(context, OBSERVED, { value: info, enumerable: true });
}

export function observedRequestOf(context: object): ObservedRequest | undefined {
  return (context as { [OBSERVED]?: ObservedRequest })[OBSERVED];
}

/** Outcome of a finished request from what was recorded and the HTTP status. */
export function outcomeOf(info: ObservedRequest, status: number): RequestOutcome {
  if (status >= 500) return 'error';
  if (!info.executed) return 'refused';
  if (info.errorCodes.length === 0) return 'ok';
  return info.hasData ? 'partial' : 'error';
}

/** The `extensions.code` of an error, INTERNAL_SERVER_ERROR when it has none. */
export function errorCodeOf(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

/** Apollo Server plugin recording operation name and type, tenant, error codes and whether execution ran. */
export function observedRequestPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart({ contextValue, request }) {
      const info = observedRequestOf(contextValue);
      if (!info) return;
      const identity = (contextValue as { identity?: Identity }).identity;
      if (identity) info.tenantId = identity.tenantId;
      if (request.operationName) info.operationName = request.operationName;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (operationName) info.operationName = operationName;
          if (operation) info.operationType = operation.operation;
        },
        async executionDidStart() {
          info.executed = true;
        },
        async didEncounterErrors({ errors }) {
          info.errorCodes.push(...errors.map(errorCodeOf));
        },
        async willSendResponse({ response }) {
          if (response.body.kind === 'single') info.hasData = response.body.singleResult.data != null;
          else info.hasData = response.body.initialResult.data != null;
        },
      };
    },
  };
}

/** One structured line per request: who, what, how long, how it ended. */
export function logRequest(logger: Logger, info: ObservedRequest, status: number): void {
  const line = {
    requestId: info.requestId,
    operationName: info.operationName ?? null,
    operationType: info.operationType ?? null,
    tenantId: info.tenantId ?? null,
    status,
    outcome: outcomeOf(info, status),
    durationMs: Math.round((performance.now() - info.startedAt) * 1000) / 1000,
    ...(info.errorCodes.length ? { errorCodes: info.errorCodes } : {}),
  };
  if (status >= 500) logger.error(line, 'graphql request');
  else logger.info(line, 'graphql request');
}
