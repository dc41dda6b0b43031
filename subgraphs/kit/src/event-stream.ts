import { sql } from 'drizzle-orm';
import { queryRows, type DatabaseHandle } from './db.js';
import { graphqlError } from './errors.js';
import { listenToChannel } from './listen.js';
import type { Logger } from './logger.js';
import { decodeEventCursor, encodeEventCursor, outboxChannel, readEvents, type OutboxEvent } from './outbox.js';

/** Orders two outbox cursors like their rows: negative when `a` comes first. */
export function compareEventCursors(a: string, b: string): number {
  const x = decodeEventCursor(a);
  const y = decodeEventCursor(b);
  if (!x || !y) throw new Error(`not an outbox cursor: ${x ? b : a}`);
  return x.txid - y.txid || x.position - y.position;
}

/** The cursor of the newest event every reader can already see (`0.0` for an empty outbox). */
export async function latestEventCursor(database: DatabaseHandle, schemaName: string): Promise<string> {
  const rows = await queryRows<{ txid: string; position: string }>(
    database.db,
    sql`select txid, position from ${sql.identifier(schemaName)}.outbox
        where txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
        order by txid desc, position desc
        limit 1`,
  );
  const row = rows[0];
  return row ? encodeEventCursor(Number(row.txid), Number(row.position)) : encodeEventCursor(0, 0);
}

export interface TenantEventStreamRequest {
  tenantId: string;
  /** Resume after this cursor; without it the stream starts at the newest event visible now. */
  after?: string | null;
  /** Only these event types (all when absent). */
  types?: readonly string[];
}

export interface OutboxEventsOptions {
  /** Rows per replay read. */
  pageSize?: number;
  /**
   * Live events a stream holds before its reader takes them. On overflow the stream drops them
   * and reads them back from the outbox, so a slow reader never makes the process hold more.
   */
  liveBufferSize?: number;
  /** The safety net beside LISTEN/NOTIFY: every stream's feed re-reads the outbox this often. */
  safetyPollMs?: number;
}

/**
 * Subscribe extension by which the gateway asks where a stream opened without `after` starts: the first
 * message is then `{ extensions: { streamPosition: <cursor> } }`, without data, so that the gateway can
 * reopen the stream after that cursor (and lose nothing) even if it has to before the first event.
 */
export const STREAM_POSITION_EXTENSION = 'itsmStreamPosition';

/** What a subgraph's per-request context carries so Subscription resolvers can open event streams. */
export interface EventStreamContext {
  events: OutboxEvents;
}

const FEED_PAGE = 1000;
/**
 * How soon the feed reads again while committed events wait behind an older transaction still
 * running (anywhere on the cluster: pg_snapshot_xmin is cluster-wide), which sends no NOTIFY when it ends.
 */
const PENDING_RECHECK_MS = 20;

/**
 * Tenant event streams over one subgraph's outbox: each stream replays the tenant's events after
 * its cursor from the table, then takes new ones from a feed shared by every stream of the
 * process. The feed reads all tenants' new events once per NOTIFY (and on a slow safety poll),
 * so a thousand subscribers cost one query per wake-up, not a thousand.
 */
export class OutboxEvents {
  private readonly pageSize: number;
  private readonly liveBufferSize: number;
  private readonly safetyPollMs: number;
  private readonly streams = new Map<string, Set<TenantEventStream>>();
  private started: Promise<void> | undefined;
  private head: string | undefined;
  private reading = false;
  private readAgain = false;
  private recheckTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly schemaName: string,
    private readonly logger: Logger,
    options: OutboxEventsOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 500;
    this.liveBufferSize = options.liveBufferSize ?? 1000;
    this.safetyPollMs = options.safetyPollMs ?? 5000;
  }

  /** Opens a tenant's stream; usable as a Subscription field's `subscribe` result. */
  subscribe(request: TenantEventStreamRequest): AsyncIterableIterator<OutboxEvent> {
    if (request.after && !decodeEventCursor(request.after)) {
      throw graphqlError('VALIDATION_FAILED', 'after is not a cursor of this stream; pass the cursor of an event you received', {
        field: 'after',
        rule: 'cursor',
      });
    }
    if (this.closed) throw graphqlError('INTERNAL_SERVER_ERROR', 'the event stream is shutting down');
    return new TenantEventStream(this, request);
  }

  /** Number of open streams (for health output and tests). */
  get streamCount(): number {
    let n = 0;
    for (const set of this.streams.values()) n += set.size;
    return n;
  }

  /** Stops listening and ends every open stream. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.recheckTimer);
    for (const set of this.streams.values()) for (const stream of set) stream.end();
    this.streams.clear();
    await this.started?.catch(() => undefined);
    await this.unlisten?.().catch(() => undefined);
  }

  /** @internal Replay read of one tenant's events after a cursor. */
  readPage(tenantId: string, after: string, types: readonly string[] | undefined): Promise<OutboxEvent[]> {
    return readEvents(this.database.db, this.schemaName, { tenantId, after, limit: this.pageSize, types });
  }

  /** @internal The cursor a stream without `after` starts from. */
  latestCursor(): Promise<string> {
    return latestEventCursor(this.database, this.schemaName);
  }

  /** @internal */
  get replayPageSize(): number {
    return this.pageSize;
  }

  /** @internal */
  get bufferLimit(): number {
    return this.liveBufferSize;
  }

  /** @internal Adds a stream to the feed's fan-out, starting the feed on first use. */
  async register(stream: TenantEventStream): Promise<void> {
    this.started ??= this.start();
    await this.started;
    let set = this.streams.get(stream.tenantId);
    if (!set) this.streams.set(stream.tenantId, (set = new Set()));
    set.add(stream);
  }

  /** @internal */
  unregister(stream: TenantEventStream): void {
    const set = this.streams.get(stream.tenantId);
    set?.delete(stream);
    if (set && !set.size) this.streams.delete(stream.tenantId);
  }

  private async start(): Promise<void> {
    // LISTEN before taking the head: an event committed in between is read twice at worst, never missed.
    this.unlisten = await listenToChannel(
      this.database,
      outboxChannel(this.schemaName),
      () => this.wake(),
      () => this.wake(),
    );
    this.head = await this.latestCursor();
    this.pollTimer = setInterval(() => this.wake(), this.safetyPollMs);
    this.pollTimer.unref();
  }

  private wake(): void {
    if (this.closed || this.head === undefined) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    void this.readNewEvents();
  }

  private async readNewEvents(): Promise<void> {
    this.reading = true;
    let waiting = false;
    try {
      do {
        this.readAgain = false;
        for (;;) {
          const events = await readEvents(this.database.db, this.schemaName, { after: this.head, limit: FEED_PAGE });
          for (const event of events) this.dispatch(event);
          if (events.length) this.head = events[events.length - 1]!.cursor;
          if (events.length < FEED_PAGE || this.closed) break;
        }
      } while (this.readAgain && !this.closed);
      waiting = await this.committedBeyondHead();
    } catch (error) {
      this.logger.warn({ err: error }, 'outbox feed read failed; retrying on the next wake-up');
    } finally {
      this.reading = false;
    }
    if (waiting && !this.closed) {
      clearTimeout(this.recheckTimer);
      this.recheckTimer = setTimeout(() => this.wake(), PENDING_RECHECK_MS);
      this.recheckTimer.unref();
    }
  }

  /** True when committed events lie past the head that the visibility guard still holds back. */
  private async committedBeyondHead(): Promise<boolean> {
    const head = decodeEventCursor(this.head!)!;
    const rows = await queryRows(
      this.database.db,
      sql`select 1 from ${sql.identifier(this.schemaName)}.outbox where (txid, position) > (${head.txid}, ${head.position}) limit 1`,
    );
    return rows.length > 0;
  }

  private dispatch(event: OutboxEvent): void {
    const set = this.streams.get(event.tenantId);
    if (!set) return;
    for (const stream of set) stream.offer(event);
  }
}

/**
 * One subscriber's events: replay pages from the outbox until caught up, then live events from
 * the feed. While replaying it also keeps what the feed hands it, so nothing committed between
 * the last page and the switch to live is lost; cursors drop anything seen twice.
 */
class TenantEventStream implements AsyncIterableIterator<OutboxEvent> {
  readonly tenantId: string;
  private readonly types: ReadonlySet<string> | undefined;
  private readonly typeList: readonly string[] | undefined;
  private cursor: string | undefined;
  private delivered: string | undefined;
  private mode: 'replay' | 'live' = 'replay';
  private queue: OutboxEvent[] = [];
  private offered: OutboxEvent[] = [];
  private offeredDropped = false;
  private waiter: (() => void) | undefined;
  private started: Promise<void> | undefined;
  private done = false;

  constructor(
    private readonly feed: OutboxEvents,
    request: TenantEventStreamRequest,
  ) {
    this.tenantId = request.tenantId;
    this.cursor = request.after ?? undefined;
    this.delivered = this.cursor;
    this.typeList = request.types?.length ? request.types : undefined;
    this.types = this.typeList ? new Set(this.typeList) : undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Where the stream starts: the `after` it was opened with, or the newest event when it was opened without
   * one. A caller that may have to reopen the stream before any event arrives reopens after this cursor.
   */
  async position(): Promise<string> {
    await this.start();
    return this.delivered!;
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      this.cursor ??= await this.feed.latestCursor();
      this.delivered = this.cursor;
      await this.feed.register(this);
      if (this.done) this.feed.unregister(this);
    })();
    return this.started;
  }

  async next(): Promise<IteratorResult<OutboxEvent>> {
    await this.start();
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      const event = this.queue.shift();
      if (event) {
        this.delivered = event.cursor;
        return { done: false, value: event };
      }
      if (this.mode === 'replay') await this.replayPage();
      else await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  async return(): Promise<IteratorResult<OutboxEvent>> {
    this.end();
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<OutboxEvent>> {
    this.end();
    throw error;
  }

  /** Ends the stream: a pending `next` resolves done. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.queue = [];
    this.offered = [];
    this.feed.unregister(this);
    this.wakeReader();
  }

  /** Called by the feed for every new event of this tenant, in cursor order. */
  offer(event: OutboxEvent): void {
    if (this.done || (this.types && !this.types.has(event.type))) return;
    if (this.mode === 'replay') {
      this.offered.push(event);
      if (this.offered.length > this.feed.bufferLimit) {
        this.offered = [];
        this.offeredDropped = true;
      }
      return;
    }
    if (this.cursor && compareEventCursors(event.cursor, this.cursor) <= 0) return;
    this.queue.push(event);
    this.cursor = event.cursor;
    if (this.queue.length > this.feed.bufferLimit) {
      // The reader fell behind: forget the backlog and read it back from the outbox instead.
      this.queue = [];
      this.cursor = this.delivered;
      this.mode = 'replay';
    }
    this.wakeReader();
  }

  private async replayPage(): Promise<void> {
    // Whatever the feed hands over from here on is newer than what this read can miss.
    this.offered = [];
    this.offeredDropped = false;
    const page = await this.feed.readPage(this.tenantId, this.cursor!, this.typeList);
    if (this.done) return;
    this.queue.push(...page);
    if (page.length) this.cursor = page[page.length - 1]!.cursor;
    if (page.length < this.feed.replayPageSize && !this.offeredDropped) {
      this.mode = 'live';
      for (const event of this.offered) {
        if (compareEventCursors(event.cursor, this.cursor!) <= 0) continue;
        this.queue.push(event);
        this.cursor = event.cursor;
      }
    }
    this.offered = [];
  }

  private wakeReader(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
