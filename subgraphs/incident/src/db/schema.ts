import { defineOutbox } from '@itsm/kit/outbox-table';
import {
  bigint,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const SCHEMA_NAME = 'incident';
export const incidentSchema = pgSchema(SCHEMA_NAME);

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Per-tenant sequences for human numbers (INC0001234). */
export const counters = incidentSchema.table(
  'counters',
  {
    tenantId: uuid('tenant_id').notNull(),
    name: text('name').notNull(),
    value: bigint('value', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.name] })],
);

/** Per-tenant settings of the incident domain (absent row = defaults). */
export const tenantSettings = incidentSchema.table('tenant_settings', {
  tenantId: uuid('tenant_id').primaryKey(),
  priorityMatrix: jsonb('priority_matrix'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export const incidents = incidentSchema.table(
  'incidents',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    number: text('number').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    state: text('state').notNull(),
    holdReason: text('hold_reason'),
    impact: integer('impact').notNull(),
    urgency: integer('urgency').notNull(),
    priority: integer('priority').notNull(),
    category: text('category'),
    subcategory: text('subcategory'),
    configurationItem: text('configuration_item'),
    assignmentGroup: text('assignment_group'),
    assignee: text('assignee'),
    caller: text('caller'),
    reassignmentCount: integer('reassignment_count').notNull().default(0),
    reopenCount: integer('reopen_count').notNull().default(0),
    openedAt: instant('opened_at').notNull(),
    resolvedAt: instant('resolved_at'),
    closedAt: instant('closed_at'),
    resolutionCode: text('resolution_code'),
    resolutionNotes: text('resolution_notes'),
    major: boolean('major').notNull().default(false),
    externalRef: text('external_ref'),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('incidents_tenant_number_uq').on(t.tenantId, t.number),
    index('incidents_tenant_opened_idx').on(t.tenantId, t.openedAt.desc(), t.id.desc()),
    index('incidents_tenant_state_priority_idx').on(t.tenantId, t.state, t.priority),
    index('incidents_tenant_external_ref_idx').on(t.tenantId, t.externalRef),
  ],
);

/** Every recorded change of an incident (state, priority, assignment...). */
export const incidentHistory = incidentSchema.table(
  'incident_history',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    incidentId: uuid('incident_id').notNull(),
    at: instant('at').notNull(),
    actor: text('actor').notNull(),
    field: text('field').notNull(),
    fromValue: text('from_value'),
    toValue: text('to_value'),
    reason: text('reason'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.incidentId], foreignColumns: [incidents.tenantId, incidents.id] }).onDelete('cascade'),
    index('incident_history_tenant_incident_idx').on(t.tenantId, t.incidentId, t.id),
  ],
);

export type IncidentRow = typeof incidents.$inferSelect;
export type IncidentHistoryRow = typeof incidentHistory.$inferSelect;

export const outbox = defineOutbox(incidentSchema);
