import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import { signIdentity, type Identity } from '@itsm/kit';

/** How an upstream (gateway -> subgraph) subscription ended. */
export type UpstreamEnd =
  /** The connection dropped, the subgraph completed the stream or reported it interrupted: reopen after the last cursor. */
  | { kind: 'interrupted'; reason: string }
  /** The subgraph refused the operation (validation, authorization): reopening would fail the same way. */
  | { kind: 'refused'; errors: readonly { message: string; extensions?: Record<string, unknown> }[] };

/** Error codes a subgraph ends a stream with that mean "try again after your cursor". */
const RETRYABLE_CODES = new Set(['SUBGRAPH_UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);
/** Close codes after which reconnecting with the same identity cannot succeed. */
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406]);

/**
 * graphql-ws clients from the gateway to subgraphs, one connection per subgraph and caller
 * identity (the signed identity travels in connectionParams and is re-signed on every connect).
 * Clients never retry by themselves: a retry would resubscribe with the original `after` and
 * replay events twice; the caller reopens after its last cursor instead.
 */
export class UpstreamClients {
  private readonly clients = new Map<string, { client: Client; users: number; idle?: NodeJS.Timeout }>();

  constructor(
    private readonly subgraphUrl: (serviceName: string) => string,
    private readonly internalSecret: string,
  ) {}

  /**
   * Opens the primary fetch on a subgraph; `onResult` gets each event, `onEnd` once how it ended.
   * Returns a function that unsubscribes.
   */
  subscribe(
    serviceName: string,
    identity: Identity,
    payload: SubscribePayload,
    onResult: (result: FormattedExecutionResult<Record<string, unknown>, unknown>) => void,
    onEnd: (end: UpstreamEnd) => void,
  ): () => void {
    const key = `${serviceName}\n${identity.userId}\n${identity.tenantId}\n${identity.roles.join(',')}`;
    let entry = this.clients.get(key);
    if (!entry) {
      const url = this.subgraphUrl(serviceName).replace(/^http/, 'ws');
      const client = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: () => signIdentity(identity, this.internalSecret),
        lazy: true,
        lazyCloseTimeout: 1_000,
        retryAttempts: 0,
        keepAlive: 10_000,
      });
      entry = { client, users: 0 };
      this.clients.set(key, entry);
    }
    const held = entry;
    clearTimeout(held.idle);
    held.users++;

    let ended = false;
    const finish = (end: UpstreamEnd) => {
      if (ended) return;
      ended = true;
      dispose();
      release();
      onEnd(end);
    };
    const release = () => {
      held.users--;
      if (held.users > 0) return;
      held.idle = setTimeout(() => {
        if (held.users > 0) return;
        this.clients.delete(key);
        void held.client.dispose();
      }, 5_000);
      held.idle.unref();
    };
    const dispose = held.client.subscribe<Record<string, unknown>>(payload, {
      next: (result) => {
        if (ended) return;
        if (result.data == null && result.errors?.length) {
          const retryable = result.errors.every((e) => RETRYABLE_CODES.has(String(e.extensions?.['code'])));
          return finish(retryable ? { kind: 'interrupted', reason: result.errors[0]!.message } : { kind: 'refused', errors: result.errors });
        }
        onResult(result);
      },
      error: (error) => finish(classify(error)),
      complete: () => finish({ kind: 'interrupted', reason: 'the subgraph completed the stream' }),
    });
    return () => {
      if (ended) return;
      ended = true;
      dispose();
      release();
    };
  }

  /** Closes every upstream connection. */
  async close(): Promise<void> {
    const entries = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(entries.map((e) => (clearTimeout(e.idle), e.client.dispose())));
  }
}

function classify(error: unknown): UpstreamEnd {
  if (Array.isArray(error)) return { kind: 'refused', errors: error as { message: string }[] };
  if (typeof error === 'object' && error !== null && 'code' in error && 'reason' in error) {
    const { code, reason } = error as { code: number; reason: string };
    if (FATAL_CLOSE_CODES.has(code)) {
      return { kind: 'refused', errors: [{ message: `subgraph refused the connection: ${reason || code}`, extensions: { code: 'UNSIGNED_REQUEST' } }] };
    }
    return { kind: 'interrupted', reason: `connection closed (${code}${reason ? `: ${reason}` : ''})` };
  }
  return { kind: 'interrupted', reason: error instanceof Error ? error.message : String(error) };
}
