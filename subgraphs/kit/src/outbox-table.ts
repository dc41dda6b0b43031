import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, primaryKey, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';

/**
 * The outbox table every subgraph declares in its own schema. `txid` is the writing
 * transaction's id: readers only take rows of transactions older than every running one
 * (pg_snapshot_xmin), in (txid, position) order, so a transaction that commits late can
 * never be skipped by a reader that already moved past its position.
 */
export function defineOutbox(schema: PgSchema) {
  return schema.table(
    'outbox',
    {
      tenantId: uuid('tenant_id').notNull(),
      position: bigint('position', { mode: 'number' }).generatedAlwaysAsIdentity(),
      txid: bigint('txid', { mode: 'number' })
        .notNull()
        .default(sql`(pg_current_xact_id()::text::bigint)`),
      type: text('type').notNull(),
      payload: jsonb('payload').notNull(),
      occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.tenantId, t.position] }), index(`${schema.schemaName}_outbox_tenant_txid_idx`).on(t.tenantId, t.txid, t.position), index(`${schema.schemaName}_outbox_txid_idx`).on(t.txid, t.position)],
  );
}

