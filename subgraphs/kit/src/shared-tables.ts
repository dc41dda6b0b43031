import { bigint, customType, primaryKey, text, timestamp, uuid, type PgSchema } from 'drizzle-orm/pg-core';

/** A timestamptz column read as a Date: every instant the subgraphs store. */
export const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A Postgres full-text document; only ever written by its generated expression. */
export const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });

/** Per-tenant sequences for human numbers (INC0001234, PRB2026000001, CHG2026000001), taken with kit nextCounterValue. */
export function defineCounters(schema: PgSchema) {
  return schema.table(
    'counters',
    {
      tenantId: uuid('tenant_id').notNull(),
      name: text('name').notNull(),
      value: bigint('value', { mode: 'number' }).notNull(),
    },
    (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
  );
}
