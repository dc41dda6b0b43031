import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

/** How a subscription stream ended: completed, a GraphQL `error` message, or the connection closed. */
export type StreamEnd =
  | { kind: 'complete' }
  | { kind: 'errors'; errors: { message: string; extensions?: Record<string, unknown> }[] }
  | { kind: 'closed'; code: number; reason: string };

/** One subscription of a real graphql-ws client, collecting what it receives. */
export interface CollectedSubscription<T> {
  /** Every `next` payload, in arrival order. */
  results: FormattedExecutionResult<T>[];
  /** Resolves once the stream has ended, with how. */
  ended: Promise<StreamEnd>;
  /** Resolves once at least `count` results arrived (rejects if the stream ends before). */
  received(count: number): Promise<FormattedExecutionResult<T>[]>;
  /** Unsubscribes and closes the connection. */
  close(): Promise<void>;
  client: Client;
}

/** Opens a graphql-ws connection to `url` (http or ws) with a bearer token and subscribes once. */
export function subscribeOverWebSocket<T = Record<string, unknown>>(
  url: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  options: { connectionParams?: Record<string, unknown> } = {},
): CollectedSubscription<T> {
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: options.connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
    // Resuming is the caller's job (with the last cursor): the library's retry would resubscribe with the first `after`.
    retryAttempts: 0,
    lazy: true,
  });
  const results: FormattedExecutionResult<T>[] = [];
  const waiters: { count: number; resolve: (r: FormattedExecutionResult<T>[]) => void; reject: (e: Error) => void }[] = [];
  let endedWith: StreamEnd | undefined;
  let resolveEnded!: (end: StreamEnd) => void;
  const ended = new Promise<StreamEnd>((resolve) => (resolveEnded = resolve));
  const finish = (end: StreamEnd) => {
    if (endedWith) return;
    endedWith = end;
    resolveEnded(end);
    for (const waiter of waiters.splice(0)) {
      if (results.length >= waiter.count) waiter.resolve(results);
      else waiter.reject(new Error(`stream ended (${JSON.stringify(end)}) after ${results.length} of ${waiter.count} results`));
    }
  };
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        results.push(result as FormattedExecutionResult<T>);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (results.length >= waiters[i]!.count) waiters.splice(i, 1)[0]!.resolve(results);
        }
      },
      error: (error) => {
        if (Array.isArray(error)) return finish({ kind: 'errors', errors: error });
        const close = error as { code?: number; reason?: string };
        finish({ kind: 'closed', code: close.code ?? 0, reason: close.reason ?? String(error) });
      },
      complete: () => finish({ kind: 'complete' }),
    },
  );
  return {
    results,
    ended,
    client,
    received: (count) =>
      results.length >= count
        ? Promise.resolve(results)
        : endedWith
          ? Promise.reject(new Error(`stream already ended (${JSON.stringify(endedWith)}) after ${results.length} results`))
          : new Promise((resolve, reject) => waiters.push({ count, resolve, reject })),
    close: async () => {
      dispose();
      await client.dispose();
    },
  };
}
