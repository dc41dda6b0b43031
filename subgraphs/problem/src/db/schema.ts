import { bigint, foreignKey, index, integer, pgSchema, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { defineOutbox } from '@itsm/kit/outbox-table';

export const SCHEMA_NAME = 'problem';
export const problemSchema = pgSchema(SCHEMA_NAME);

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Per-tenant sequences for human numbers (PRB2026000001). */
export const counters = problemSchema.table(
  'counters',
  {
    tenantId: uuid('tenant_id').notNull(),
    name: text('name').notNull(),
    value: bigint('value', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

export const problems = problemSchema.table(
  'problems',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    number: text('number').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    state: text('state').notNull(),
    externalRef: text('external_ref'),
    openedAt: instant('opened_at').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('problems_tenant_number_uq').on(t.tenantId, t.number),
    uniqueIndex('problems_tenant_external_ref_uq').on(t.tenantId, t.externalRef),
    index('problems_tenant_opened_idx').on(t.tenantId, t.openedAt.desc(), t.id.desc()),
  ],
);

/** Incident <-> problem links; the incident is an id of the incident subgraph, never a foreign key. */
export const problemIncidents = problemSchema.table(
  'problem_incidents',
  {
    tenantId: uuid('tenant_id').notNull(),
    problemId: uuid('problem_id').notNull(),
    incidentId: uuid('incident_id').notNull(),
    relation: text('relation').notNull(),
    linkedAt: instant('linked_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.problemId, t.incidentId] }),
    foreignKey({ columns: [t.tenantId, t.problemId], foreignColumns: [problems.tenantId, problems.id] }).onDelete('cascade'),
    index('problem_incidents_tenant_incident_idx').on(t.tenantId, t.incidentId, t.linkedAt),
  ],
);

export const outbox = defineOutbox(problemSchema);

export type ProblemRow = typeof problems.$inferSelect;
export type ProblemIncidentRow = typeof problemIncidents.$inferSelect;
