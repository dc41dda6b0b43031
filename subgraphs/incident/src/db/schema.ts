import { defineConsumerCursors } from '@itsm/kit/event-consumer-table';
import { defineOutbox } from '@itsm/kit/outbox-table';
import { defineCounters, instant, tsvector } from '@itsm/kit/shared-tables';
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const SCHEMA_NAME = 'incident';
export const incidentSchema = pgSchema(SCHEMA_NAME);



/** Text search configuration of the incident search column and of queries against it. */
export const SEARCH_CONFIG = 'english';

/** Per-tenant sequences for human numbers (INC0001234). */
export const counters = defineCounters(incidentSchema);

/** Per-tenant settings of the incident domain (absent row = defaults). */
export const tenantSettings = incidentSchema.table('tenant_settings', {
  tenantId: uuid('tenant_id').primaryKey(),
  priorityMatrix: jsonb('priority_matrix'),
  /** The tenant's category taxonomy with its keywords; null = the built-in one. */
  taxonomy: jsonb('taxonomy'),
  /** IANA zone the tenant's default business calendar is created in. */
  timeZone: text('time_zone').notNull().default('UTC'),
  /** Days after resolution a RESOLVED incident closes itself; null = never. */
  autoCloseDays: integer('auto_close_days').default(7),
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
    rootCause: text('root_cause'),
    workaround: text('workaround'),
    major: boolean('major').notNull().default(false),
    /** True while a manager's manual priority replaces the matrix's. */
    priorityOverridden: boolean('priority_overridden').notNull().default(false),
    /** The keywords that chose the category when it was suggested automatically; null when set by a person. */
    categoryKeywords: text('category_keywords').array(),
    externalRef: text('external_ref'),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    /** Title (weight A) and description (weight B) as a full-text document. */
    search: tsvector('search').generatedAlwaysAs(
      sql`setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')`,
    ),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('incidents_tenant_number_uq').on(t.tenantId, t.number),
    index('incidents_tenant_opened_idx').on(t.tenantId, t.openedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('incidents_tenant_state_priority_idx').on(t.tenantId, t.state, t.priority),
    index('incidents_tenant_external_ref_idx').on(t.tenantId, t.externalRef),
    index('incidents_tenant_updated_idx').on(t.tenantId, t.updatedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('incidents_tenant_priority_opened_idx').on(t.tenantId, t.priority, t.openedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('incidents_tenant_major_idx').on(t.tenantId, t.openedAt.desc().nullsFirst()).where(sql`major`),
    index('incidents_tenant_resolved_idx').on(t.tenantId, t.resolvedAt),
    // GIN cannot lead with a uuid without btree_gin (not in PGlite); the planner ANDs it with a tenant index.
    index('incidents_search_idx').using('gin', t.search),
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

/** Business calendars of a tenant: a zone and working intervals per weekday with holidays, or 24x7. */
export const businessCalendars = incidentSchema.table(
  'business_calendars',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    timeZone: text('time_zone').notNull(),
    /** '24x7' or 'business', as the kit calendar names them. */
    kind: text('kind').notNull(),
    /** ISO weekday -> [{start, end}] local wall-clock intervals. */
    workingHours: jsonb('working_hours').notNull(),
    /** [{date, recurring, name}] local dates. */
    holidays: jsonb('holidays').notNull(),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('business_calendars_tenant_name_uq').on(t.tenantId, t.name)],
);

/** SLA policies: per priority a response and a resolution target on a calendar; one per tenant is the default. */
export const slaPolicies = incidentSchema.table(
  'sla_policies',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    isDefault: boolean('is_default').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('sla_policies_tenant_name_uq').on(t.tenantId, t.name),
    uniqueIndex('sla_policies_tenant_default_uq').on(t.tenantId).where(sql`is_default`),
  ],
);

/** The targets of a policy, one row per priority. */
export const slaPolicyTargets = incidentSchema.table(
  'sla_policy_targets',
  {
    tenantId: uuid('tenant_id').notNull(),
    policyId: uuid('policy_id').notNull(),
    priority: integer('priority').notNull(),
    responseMinutes: integer('response_minutes').notNull(),
    resolutionMinutes: integer('resolution_minutes').notNull(),
    calendarId: uuid('calendar_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.policyId, t.priority] }),
    foreignKey({ columns: [t.tenantId, t.policyId], foreignColumns: [slaPolicies.tenantId, slaPolicies.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.calendarId], foreignColumns: [businessCalendars.tenantId, businessCalendars.id] }),
    index('sla_policy_targets_tenant_calendar_idx').on(t.tenantId, t.calendarId),
  ],
);

/**
 * Task SLAs (RESPONSE, RESOLUTION) of incidents. The clock is startedAt + pauses + stoppedAt on a calendar
 * with a target; dueAt, warnAt, breachedAt and stage are kept current on every change so reports are SQL.
 */
export const taskSlas = incidentSchema.table(
  'task_slas',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    incidentId: uuid('incident_id').notNull(),
    kind: text('kind').notNull(),
    policyId: uuid('policy_id').notNull(),
    priority: integer('priority').notNull(),
    calendarId: uuid('calendar_id').notNull(),
    targetMinutes: integer('target_minutes').notNull(),
    startedAt: instant('started_at').notNull(),
    /** [{from, to}] ISO instants; `to` null while on hold. */
    pauses: jsonb('pauses').notNull().default([]),
    stoppedAt: instant('stopped_at'),
    cancelled: boolean('cancelled').notNull().default(false),
    /** RUNNING, PAUSED, COMPLETED or CANCELLED. */
    stage: text('stage').notNull(),
    /** Null while paused (it moves with the hold). */
    dueAt: instant('due_at'),
    /** When 70 % is or was reached; null when not reached and not scheduled (paused or stopped before it). */
    warnAt: instant('warn_at'),
    breachedAt: instant('breached_at'),
    /** Highest escalation level fired: 0 to 3. */
    escalationLevel: integer('escalation_level').notNull().default(0),
    /** Working minutes run when the clock stopped (hold excluded); null while it runs. */
    elapsedWorkingMinutes: doublePrecision('elapsed_working_minutes'),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('task_slas_tenant_incident_kind_uq').on(t.tenantId, t.incidentId, t.kind),
    foreignKey({ columns: [t.tenantId, t.incidentId], foreignColumns: [incidents.tenantId, incidents.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.policyId], foreignColumns: [slaPolicies.tenantId, slaPolicies.id] }),
    foreignKey({ columns: [t.tenantId, t.calendarId], foreignColumns: [businessCalendars.tenantId, businessCalendars.id] }),
    index('task_slas_tenant_calendar_running_idx').on(t.tenantId, t.calendarId).where(sql`stopped_at is null`),
    index('task_slas_tenant_policy_running_idx').on(t.tenantId, t.policyId).where(sql`stopped_at is null`),
    index('task_slas_tenant_stage_idx').on(t.tenantId, t.stage, t.dueAt),
    index('task_slas_tenant_stopped_idx').on(t.tenantId, t.stoppedAt),
  ],
);

/** Each SLA threshold that fired, at most once per SLA and level: the exactly-once record. */
export const slaFirings = incidentSchema.table(
  'sla_firings',
  {
    tenantId: uuid('tenant_id').notNull(),
    slaId: uuid('sla_id').notNull(),
    /** '1', '2', '3' (warning and escalations) or 'BREACH'. */
    level: text('level').notNull(),
    dueAt: instant('due_at').notNull(),
    firedAt: instant('fired_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.slaId, t.level] }),
    foreignKey({ columns: [t.tenantId, t.slaId], foreignColumns: [taskSlas.tenantId, taskSlas.id] }).onDelete('cascade'),
  ],
);

/**
 * Pending timers: SLA thresholds (kind SLA, subject = SLA id, level) and auto-close of resolved incidents
 * (kind AUTO_CLOSE, subject = incident id, level ''). The monitor takes due rows with FOR UPDATE SKIP LOCKED
 * and deletes them in the transaction that acts on them.
 */
export const timers = incidentSchema.table(
  'timers',
  {
    tenantId: uuid('tenant_id').notNull(),
    kind: text('kind').notNull(),
    subjectId: uuid('subject_id').notNull(),
    level: text('level').notNull().default(''),
    dueAt: instant('due_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.kind, t.subjectId, t.level] }),
    // The monitor looks across tenants for the next due instant (like the outbox's txid index), so due_at leads.
    index('timers_due_idx').on(t.dueAt),
  ],
);

/** An incident as readers see it: every column but the generated search document. */
export type IncidentRow = Omit<typeof incidents.$inferSelect, 'search'>;
export type BusinessCalendarRow = typeof businessCalendars.$inferSelect;
export type SlaPolicyRow = typeof slaPolicies.$inferSelect;
export type SlaPolicyTargetRow = typeof slaPolicyTargets.$inferSelect;
export type TaskSlaRow = typeof taskSlas.$inferSelect;
export type SlaFiringRow = typeof slaFirings.$inferSelect;
export type IncidentHistoryRow = typeof incidentHistory.$inferSelect;

export const outbox = defineOutbox(incidentSchema);

/** How far the incident subgraph's consumers (the workaround consumer) have read other subgraphs' outboxes. */
export const consumerCursors = defineConsumerCursors(incidentSchema);
