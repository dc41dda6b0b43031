import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle, Db } from './db.js';
import { compareEventCursors, latestEventCursor, OutboxEvents } from './event-stream.js';
import { appendEvents, readEvents, type OutboxEvent } from './outbox.js';

const SCHEMA = 'stream_test';
const logger = pino({ level: 'silent' });

// The outbox as defineOutbox declares it (outbox-table.ts), written out so this test needs no subgraph's migrations.
const OUTBOX_DDL = [
  `create schema ${SCHEMA}`,
  `create table ${SCHEMA}.outbox (
     tenant_id uuid not null,
     position bigint generated always as identity,
     txid bigint not null default (pg_current_xact_id()::text::bigint),
     type text not null,
     payload jsonb not null,
     occurred_at timestamptz not null default now(),
     primary key (tenant_id, position))`,
  `create index ${SCHEMA}_outbox_txid_idx on ${SCHEMA}.outbox (txid, position)`,
];

async function append(db: Db, tenantId: string, type: string, n: number): Promise<void> {
  await db.transaction((tx) => appendEvents(tx, SCHEMA, Array.from({ length: n }, (_, i) => ({ tenantId, type, payload: { i } }))));
}

/** Takes `count` events from a stream. */
async function take(stream: AsyncIterator<OutboxEvent>, count: number): Promise<OutboxEvent[]> {
  const events: OutboxEvent[] = [];
  while (events.length < count) {
    const next = await stream.next();
    if (next.done) break;
    events.push(next.value);
  }
  return events;
}

describe('tenant event streams on PGlite (LISTEN through pglite.listen)', () => {
  let pglite: PGlite;
  let database: DatabaseHandle;
  let events: OutboxEvents;
  beforeAll(async () => {
    pglite = await PGlite.create('memory://');
    const db = drizzlePglite(pglite) as unknown as Db;
    for (const statement of OUTBOX_DDL) await db.execute(sql.raw(statement));
    database = { db, kind: 'pglite', pglite, forTenant: () => db, statementCount: () => 0, close: () => pglite.close() };
    events = new OutboxEvents(database, SCHEMA, logger, { safetyPollMs: 60_000 });
  });
  afterAll(async () => {
    await events?.close();
    await pglite?.close();
  });

  it('replays after a cursor, then streams new events of the tenant and types asked for, in cursor order', async () => {
    const tenant = randomUUID();
    const other = randomUUID();
    await append(database.db, tenant, 'SLA_WARNING', 3);
    const [first] = await readEvents(database.db, SCHEMA, { tenantId: tenant, limit: 1 });
    const stream = events.subscribe({ tenantId: tenant, after: first!.cursor, types: ['SLA_WARNING', 'SLA_BREACHED'] });
    const replayed = await take(stream, 2);
    // Live: written after the stream caught up, only the safety poll is far away, so NOTIFY delivers them.
    await append(database.db, other, 'SLA_BREACHED', 2);
    await append(database.db, tenant, 'INCIDENT_UPDATED', 1);
    await append(database.db, tenant, 'SLA_BREACHED', 2);
    const live = await take(stream, 2);
    await stream.return!();

    const all = await readEvents(database.db, SCHEMA, { tenantId: tenant, after: first!.cursor, limit: 100, types: ['SLA_WARNING', 'SLA_BREACHED'] });
    expect([...replayed, ...live].map((e) => e.cursor)).toEqual(all.map((e) => e.cursor));
    expect([...replayed, ...live].map((e) => e.type)).toEqual(['SLA_WARNING', 'SLA_WARNING', 'SLA_BREACHED', 'SLA_BREACHED']);
    expect(events.streamCount).toBe(0);
  });

  it('starts at the newest event when no cursor is given', async () => {
    const tenant = randomUUID();
    await append(database.db, tenant, 'SLA_WARNING', 2);
    const stream = events.subscribe({ tenantId: tenant });
    const pending = stream.next();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await append(database.db, tenant, 'SLA_BREACHED', 1);
    const next = await pending;
    await stream.return!();
    expect(next.value?.type).toBe('SLA_BREACHED');
  });

  it('tells where a stream opened without a cursor starts, so that it can be reopened after that position', async () => {
    const tenant = randomUUID();
    await append(database.db, tenant, 'SLA_WARNING', 1);
    const stream = events.subscribe({ tenantId: tenant }) as AsyncIterableIterator<OutboxEvent> & { position(): Promise<string> };
    const start = await stream.position();
    expect(start).toBe(await latestEventCursor(database, SCHEMA));
    await stream.return!();
    // Events written while nobody listens are all there after that position.
    await append(database.db, tenant, 'SLA_BREACHED', 2);
    const reopened = events.subscribe({ tenantId: tenant, after: start });
    const missed = await take(reopened, 2);
    await reopened.return!();
    expect(missed.map((e) => e.type)).toEqual(['SLA_BREACHED', 'SLA_BREACHED']);
  });

  it('refuses a cursor it did not make', () => {
    expect(() => events.subscribe({ tenantId: randomUUID(), after: 'not-a-cursor' })).toThrow(/after is not a cursor/);
  });
});

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const serverAnswers = await (async () => {
  const client = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await client`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await client.end({ timeout: 1 }).catch(() => {});
  }
})();

describe.skipIf(!serverAnswers)('tenant event streams on PostgreSQL (LISTEN through postgres-js)', () => {
  const name = `itsm_stream_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let client: postgres.Sql;
  let database: DatabaseHandle;
  let events: OutboxEvents;
  beforeAll(async () => {
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    client = postgres(url.toString(), { max: 5, onnotice: () => {} });
    const db = drizzlePostgres(client) as unknown as Db;
    for (const statement of OUTBOX_DDL) await db.execute(sql.raw(statement));
    database = { db, kind: 'postgres', postgres: client, forTenant: () => db, statementCount: () => 0, close: () => client.end() };
    events = new OutboxEvents(database, SCHEMA, logger, { pageSize: 10, liveBufferSize: 5, safetyPollMs: 60_000 });
  });
  afterAll(async () => {
    await events?.close();
    await client?.end({ timeout: 5 });
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it('never skips an event whose transaction commits after a later one: it waits, then delivers both in cursor order', async () => {
    const tenant = randomUUID();
    const start = await latestEventCursor(database, SCHEMA);
    const stream = events.subscribe({ tenantId: tenant, after: start });
    const received: OutboxEvent[] = [];
    const reading = (async () => {
      for (let n = 0; n < 3; n++) {
        const next = await stream.next();
        if (next.done) return;
        received.push(next.value);
      }
    })();

    // The older transaction takes its position first and commits last.
    const older = await client.reserve();
    await older`begin`;
    await older`insert into stream_test.outbox (tenant_id, type, payload) values (${tenant}, 'SLA_WARNING', '{"order":"older"}')`;
    await older`select pg_notify('stream_test_outbox', ${tenant})`;
    await append(database.db, tenant, 'SLA_BREACHED', 2);
    // Committed, but behind a transaction that still runs: not readable yet, so not delivered either.
    expect(await readEvents(database.db, SCHEMA, { tenantId: tenant, after: start, limit: 10 })).toEqual([]);
    expect(received).toEqual([]);
    await older`commit`;
    older.release();
    await reading;
    await stream.return!();

    expect(received.map((e) => e.type)).toEqual(['SLA_WARNING', 'SLA_BREACHED', 'SLA_BREACHED']);
    expect(received[0]!.payload).toEqual({ order: 'older' });
    const cursors = received.map((e) => e.cursor);
    expect([...cursors].sort(compareEventCursors)).toEqual(cursors);
  });

  it('loses nothing when a reader falls behind the live buffer: it reads the backlog back from the outbox', async () => {
    const tenant = randomUUID();
    const stream = events.subscribe({ tenantId: tenant, after: await latestEventCursor(database, SCHEMA) });
    const [first] = await Promise.all([stream.next(), append(database.db, tenant, 'SLA_WARNING', 1)]);
    // 40 more while the reader takes nothing: far over the live buffer of 5 and the page size of 10.
    for (let i = 0; i < 8; i++) await append(database.db, tenant, 'SLA_BREACHED', 5);
    const rest = await take(stream, 40);
    await stream.return!();
    const all = await readEvents(database.db, SCHEMA, { tenantId: tenant, limit: 100 });
    expect([first.value!, ...rest].map((e) => e.cursor)).toEqual(all.map((e) => e.cursor));
  });
});
