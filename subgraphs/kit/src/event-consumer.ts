import { sql } from 'drizzle-orm';
import { queryRows, type Db } from './db.js';
import { fetchFeedEvents, type EventFeedSource } from './event-feed.js';
import type { Logger } from './logger.js';
import { decodeEventCursor, type OutboxEvent } from './outbox.js';

/**
 * Consumes another subgraph's events through its internal feed with a cursor stored in the
 * consumer's own database (table `consumer_cursors`, see event-consumer-table.ts).
 *
 * Each event is handled in one transaction of the consumer's database together with the move of
 * the cursor, after locking the cursor row: the effects of an event and the record that it was
 * handled commit together, a restart resumes after the last committed event, and replicas
 * running the same consumer take turns instead of handling an event twice. Delivery from the
 * feed is at-least-once, so handlers must still be idempotent.
 */
export interface EventConsumerOptions {
  /** Names the cursor: one per consumer and source, e.g. "recurrence-detector". */
  name: string;
  /** The consumer's own database and the Postgres schema its consumer_cursors table is in. */
  db: Db;
  schemaName: string;
  source: EventFeedSource;
  /** Only these event types (all when omitted). */
  types?: readonly string[];
  handle: (tx: Db, event: OutboxEvent) => Promise<void>;
  logger: Logger;
  batchSize?: number;
  /** Pause once caught up, before asking again. */
  idleMs?: number;
  /** Upper bound of the exponential backoff after failures. */
  maxBackoffMs?: number;
  /** Attempts at one event before it is logged and skipped, so one bad event cannot stop the stream. */
  maxAttempts?: number;
}

export interface EventConsumer {
  /** Stops polling; resolves once the batch in hand is finished. */
  stop(): Promise<void>;
  /** Resolves after a poll that began after this call found nothing more to read. */
  caughtUp(): Promise<void>;
}

/** Reads a consumer's stored cursor (null before its first event). */
export async function readConsumerCursor(db: Db, schemaName: string, consumer: string): Promise<string | null> {
  const rows = await queryRows<{ cursor: string }>(
    db,
    sql`select cursor from ${sql.identifier(schemaName)}.consumer_cursors where consumer = ${consumer}`,
  );
  return rows[0]?.cursor || null;
}

/** True when cursor `a` is at or after cursor `b` (an empty cursor is before everything). */
export function cursorReached(a: string | null, b: string): boolean {
  const x = a ? decodeEventCursor(a) : undefined;
  const y = decodeEventCursor(b);
  if (!y) return true;
  if (!x) return false;
  return x.txid > y.txid || (x.txid === y.txid && x.position >= y.position);
}

/** Starts consuming; the returned handle stops it. */
export function startEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { db, schemaName, name, logger } = options;
  const batchSize = options.batchSize ?? 100;
  const idleMs = options.idleMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const abort = new AbortController();
  let polls = 0;
  const waiters: { after: number; resolve: () => void }[] = [];
  const attempts = new Map<string, number>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (abort.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  // Handles one event unless this or another replica already did: the locked cursor row decides.
  const handleOnce = (event: OutboxEvent) =>
    db.transaction(async (tx) => {
      const [row] = await queryRows<{ cursor: string }>(
        tx,
        sql`select cursor from ${sql.identifier(schemaName)}.consumer_cursors where consumer = ${name} for update`,
      );
      if (cursorReached(row?.cursor || null, event.cursor)) return;
      await options.handle(tx, event);
      await tx.execute(
        sql`update ${sql.identifier(schemaName)}.consumer_cursors set cursor = ${event.cursor}, updated_at = now() where consumer = ${name}`,
      );
    });

  const skip = (event: OutboxEvent) =>
    db.execute(sql`update ${sql.identifier(schemaName)}.consumer_cursors set cursor = ${event.cursor}, updated_at = now() where consumer = ${name}`);

  // Resolves the caughtUp() promises made before this poll began.
  const release = (poll: number) => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.after < poll) waiters.splice(i, 1)[0]!.resolve();
    }
  };

  const run = async () => {
    let failures = 0;
    let registered = false;
    while (!abort.signal.aborted) {
      const poll = ++polls;
      try {
        if (!registered) {
          await db.execute(
            sql`insert into ${sql.identifier(schemaName)}.consumer_cursors (consumer, cursor) values (${name}, '') on conflict (consumer) do nothing`,
          );
          registered = true;
        }
        const after = await readConsumerCursor(db, schemaName, name);
        const events = await fetchFeedEvents(options.source, { after, limit: batchSize, types: options.types, signal: abort.signal });
        for (const event of events) {
          if (abort.signal.aborted) break;
          try {
            await handleOnce(event);
            attempts.delete(event.cursor);
          } catch (error) {
            const tries = (attempts.get(event.cursor) ?? 0) + 1;
            attempts.set(event.cursor, tries);
            if (tries < maxAttempts) throw error;
            logger.error({ err: error, consumer: name, cursor: event.cursor, type: event.type, tenantId: event.tenantId }, 'event skipped after repeated failures');
            attempts.delete(event.cursor);
            await skip(event);
          }
        }
        failures = 0;
        if (events.length < batchSize) {
          release(poll);
          await sleep(idleMs);
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        failures++;
        const backoff = Math.min(maxBackoffMs, 250 * 2 ** Math.min(failures, 10)) * (0.5 + Math.random() / 2);
        logger.warn({ err: error, consumer: name, failures, retryInMs: Math.round(backoff) }, 'event consumer failed; retrying');
        await sleep(backoff);
      }
    }
  };

  const running = run().catch((error: unknown) => logger.error({ err: error, consumer: name }, 'event consumer stopped by an error'));
  return {
    stop: async () => {
      abort.abort();
      await running;
      for (const waiter of waiters.splice(0)) waiter.resolve();
    },
    caughtUp: () => new Promise<void>((resolve) => waiters.push({ after: polls, resolve })),
  };
}
