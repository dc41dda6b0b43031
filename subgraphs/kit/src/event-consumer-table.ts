import { text, timestamp, type PgSchema } from 'drizzle-orm/pg-core';

/**
 * Where a subgraph keeps how far each of its event consumers has read another subgraph's
 * outbox. The one table without a tenant: a consumer reads every tenant's events through one
 * feed, so its cursor belongs to the consumer, not to a tenant.
 */
export function defineConsumerCursors(schema: PgSchema) {
  return schema.table('consumer_cursors', {
    consumer: text('consumer').primaryKey(),
    cursor: text('cursor').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  });
}
