import { sql } from 'drizzle-orm';
import { queryRows, type Db } from './db.js';

export interface OutboxEvent<P = Record<string, unknown>> {
  tenantId: string;
  cursor: string;
  type: string;
  payload: P;
  occurredAt: Date;
}

/** The channel a schema's outbox notifies on commit. */
export function outboxChannel(schemaName: string): string {
  return `${schemaName}_outbox`;
}

/** Cursor of a position: opaque to clients, ordered like the rows. */
export function encodeEventCursor(txid: number, position: number): string {
  return `${txid.toString(36)}.${position.toString(36)}`;
}

/** Reads a cursor back, or undefined when it was not made by encodeEventCursor. */
export function decodeEventCursor(cursor: string): { txid: number; position: number } | undefined {
  const match = /^([0-9a-z]{1,13})\.([0-9a-z]{1,13})$/.exec(cursor);
  if (!match) return undefined;
  const txid = parseInt(match[1]!, 36);
  const position = parseInt(match[2]!, 36);
  return Number.isSafeInteger(txid) && Number.isSafeInteger(position) ? { txid, position } : undefined;
}

/** Records events in the caller's transaction and wakes listeners when it commits. */
export async function appendEvents(
  tx: Db,
  schemaName: string,
  events: { tenantId: string; type: string; payload: Record<string, unknown>; occurredAt?: Date }[],
): Promise<void> {
  if (!events.length) return;
  const values = events.map(
    (e) => sql`(${e.tenantId}, ${e.type}, ${JSON.stringify(e.payload)}::jsonb, ${(e.occurredAt ?? new Date()).toISOString()}::timestamptz)`,
  );
  await tx.execute(
    sql`insert into ${sql.identifier(schemaName)}.outbox (tenant_id, type, payload, occurred_at) values ${sql.join(values, sql`, `)}`,
  );
  await tx.execute(sql`select pg_notify(${outboxChannel(schemaName)}, ${events[0]!.tenantId})`);
}

/**
 * Events after a cursor whose transactions have all finished, oldest first.
 * Without `tenantId` it reads every tenant's events (for internal consumers only).
 */
export async function readEvents(
  db: Db,
  schemaName: string,
  options: { tenantId?: string; after?: string | null; limit: number; types?: readonly string[] },
): Promise<OutboxEvent[]> {
  const after = (options.after && decodeEventCursor(options.after)) || { txid: 0, position: 0 };
  const rows = await queryRows<{ tenant_id: string; txid: string; position: string; type: string; payload: unknown; occurred_at: string | Date }>(
    db,
    sql`select tenant_id, txid, position, type, payload, occurred_at
        from ${sql.identifier(schemaName)}.outbox
        where ${options.tenantId ? sql`tenant_id = ${options.tenantId} and` : sql``}
              (txid, position) > (${after.txid}, ${after.position})
          and txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
          ${options.types?.length ? sql`and type in ${sql`(${sql.join(options.types.map((t) => sql`${t}`), sql`, `)})`}` : sql``}
        order by txid, position
        limit ${options.limit}`,
  );
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    cursor: encodeEventCursor(Number(r.txid), Number(r.position)),
    type: r.type,
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
    occurredAt: new Date(r.occurred_at),
  }));
}
