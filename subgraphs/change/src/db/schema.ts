import { bigint, foreignKey, index, integer, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { defineOutbox } from '@itsm/kit/outbox-table';

export const SCHEMA_NAME = 'change';
export const changeSchema = pgSchema(SCHEMA_NAME);

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Per-tenant sequences for human numbers (CHG2026000001). */
export const counters = changeSchema.table(
  'counters',
  {
    tenantId: uuid('tenant_id').notNull(),
    name: text('name').notNull(),
    value: bigint('value', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

export const changeRequests = changeSchema.table(
  'change_requests',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    number: text('number').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    type: text('type').notNull(),
    state: text('state').notNull(),
    externalRef: text('external_ref'),
    openedAt: instant('opened_at').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('change_requests_tenant_number_uq').on(t.tenantId, t.number),
    uniqueIndex('change_requests_tenant_external_ref_uq').on(t.tenantId, t.externalRef),
    index('change_requests_tenant_opened_idx').on(t.tenantId, t.openedAt.desc(), t.id.desc()),
  ],
);

/** Change <-> incident links; the incident is an id of the incident subgraph. */
export const changeIncidents = changeSchema.table(
  'change_incidents',
  {
    tenantId: uuid('tenant_id').notNull(),
    changeId: uuid('change_id').notNull(),
    incidentId: uuid('incident_id').notNull(),
    linkedAt: instant('linked_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.changeId, t.incidentId] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    index('change_incidents_tenant_incident_idx').on(t.tenantId, t.incidentId),
  ],
);

/** Change <-> problem links; the problem is an id of the problem subgraph. */
export const changeProblems = changeSchema.table(
  'change_problems',
  {
    tenantId: uuid('tenant_id').notNull(),
    changeId: uuid('change_id').notNull(),
    problemId: uuid('problem_id').notNull(),
    linkedAt: instant('linked_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.changeId, t.problemId] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    index('change_problems_tenant_problem_idx').on(t.tenantId, t.problemId),
  ],
);

export const outbox = defineOutbox(changeSchema);

export type ChangeRequestRow = typeof changeRequests.$inferSelect;
