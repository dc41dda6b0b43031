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
import { defineConsumerCursors } from '@itsm/kit/event-consumer-table';
import { defineOutbox } from '@itsm/kit/outbox-table';
import { defineCounters, instant, tsvector } from '@itsm/kit/shared-tables';

export const SCHEMA_NAME = 'problem';
export const problemSchema = pgSchema(SCHEMA_NAME);


/** Per-tenant sequences for human numbers (PRB2026000001, KE000001). */
export const counters = defineCounters(problemSchema);

export const problems = problemSchema.table(
  'problems',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    number: text('number').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    state: text('state').notNull(),
    /** PROACTIVE or REACTIVE. */
    type: text('type').notNull().default('REACTIVE'),
    /** MANUAL, RECURRENCE_DETECTION or IMPORT. */
    origin: text('origin').notNull().default('MANUAL'),
    category: text('category'),
    configurationItem: text('configuration_item'),
    impact: integer('impact').notNull().default(3),
    urgency: integer('urgency').notNull().default(3),
    priority: integer('priority').notNull().default(3),
    /** User id of the problem manager who owns it. */
    owner: text('owner'),
    rootCause: text('root_cause'),
    workaround: text('workaround'),
    permanentFix: text('permanent_fix'),
    /** Kept with the links in one transaction, so a list of problems needs no count query. */
    incidentCount: integer('incident_count').notNull().default(0),
    firstOccurredAt: instant('first_occurred_at'),
    lastOccurredAt: instant('last_occurred_at'),
    externalRef: text('external_ref'),
    openedAt: instant('opened_at').notNull(),
    resolvedAt: instant('resolved_at'),
    closedAt: instant('closed_at'),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('problems_tenant_number_uq').on(t.tenantId, t.number),
    uniqueIndex('problems_tenant_external_ref_uq').on(t.tenantId, t.externalRef),
    index('problems_tenant_opened_idx').on(t.tenantId, t.openedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
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
    /** When the incident occurred (its openedAt when known, else when it was linked): drives first/last occurrence. */
    occurredAt: instant('occurred_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.problemId, t.incidentId] }),
    foreignKey({ columns: [t.tenantId, t.problemId], foreignColumns: [problems.tenantId, problems.id] }).onDelete('cascade'),
    index('problem_incidents_tenant_incident_idx').on(t.tenantId, t.incidentId, t.linkedAt),
  ],
);

/** Every recorded change of a problem's state, owner or priority. */
export const problemHistory = problemSchema.table(
  'problem_history',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    problemId: uuid('problem_id').notNull(),
    at: instant('at').notNull(),
    actor: text('actor').notNull(),
    field: text('field').notNull(),
    fromValue: text('from_value'),
    toValue: text('to_value'),
    reason: text('reason'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.problemId], foreignColumns: [problems.tenantId, problems.id] }).onDelete('cascade'),
    index('problem_history_tenant_problem_idx').on(t.tenantId, t.problemId, t.id),
  ],
);

/**
 * The Known Error Database. `searchVector` (full-text) and `matchText` (trigrams) are generated
 * by Postgres from the text columns; their GiST indexes live in a hand-written migration.
 */
export const knownErrors = problemSchema.table(
  'known_errors',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    number: text('number').notNull(),
    problemId: uuid('problem_id'),
    title: text('title').notNull(),
    description: text('description'),
    symptoms: text('symptoms').notNull(),
    rootCause: text('root_cause'),
    workaround: text('workaround'),
    permanentFix: text('permanent_fix'),
    active: boolean('active').notNull().default(true),
    workaroundCommunicatedAt: instant('workaround_communicated_at'),
    version: integer('version').notNull().default(1),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    searchVector: tsvector('search_vector')
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, coalesce("title", '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce("symptoms", '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce("description", '')), 'B')`,
      ),
    matchText: text('match_text')
      .notNull()
      .generatedAlwaysAs(sql`lower(coalesce("title", '') || ' ' || coalesce("symptoms", '') || ' ' || coalesce("description", ''))`),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('known_errors_tenant_number_uq').on(t.tenantId, t.number),
    index('known_errors_tenant_problem_idx').on(t.tenantId, t.problemId),
    foreignKey({ columns: [t.tenantId, t.problemId], foreignColumns: [problems.tenantId, problems.id] }),
  ],
);

/** Incidents recognised as a known error. */
export const knownErrorIncidents = problemSchema.table(
  'known_error_incidents',
  {
    tenantId: uuid('tenant_id').notNull(),
    knownErrorId: uuid('known_error_id').notNull(),
    incidentId: uuid('incident_id').notNull(),
    linkedAt: instant('linked_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.knownErrorId, t.incidentId] }),
    foreignKey({ columns: [t.tenantId, t.knownErrorId], foreignColumns: [knownErrors.tenantId, knownErrors.id] }).onDelete('cascade'),
    index('known_error_incidents_tenant_incident_idx').on(t.tenantId, t.incidentId),
  ],
);

/** Per-tenant thresholds of the recurrence detector (absent row = defaults). */
export const recurrenceSettings = problemSchema.table('recurrence_settings', {
  tenantId: uuid('tenant_id').primaryKey(),
  enabled: boolean('enabled').notNull().default(true),
  threshold: integer('threshold').notNull(),
  windowDays: integer('window_days').notNull(),
  minSimilarity: doublePrecision('min_similarity').notNull(),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

/**
 * What the problem subgraph knows about incidents: a projection of the incident subgraph's
 * events, kept by the recurrence detector (never read from the incident database).
 */
export const observedIncidents = problemSchema.table(
  'observed_incidents',
  {
    tenantId: uuid('tenant_id').notNull(),
    incidentId: uuid('incident_id').notNull(),
    number: text('number'),
    title: text('title').notNull(),
    description: text('description'),
    category: text('category'),
    subcategory: text('subcategory'),
    configurationItem: text('configuration_item'),
    state: text('state'),
    priority: integer('priority'),
    openedAt: instant('opened_at').notNull(),
    /** The last event applied, as its outbox cursor. */
    eventCursor: text('event_cursor').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.incidentId] }),
    index('observed_incidents_tenant_category_idx').on(t.tenantId, t.category, t.openedAt),
    index('observed_incidents_tenant_ci_idx').on(t.tenantId, t.configurationItem, t.openedAt),
  ],
);

/** A group of recurring incidents and the problem the detector opened for it. */
export const recurrenceClusters = problemSchema.table(
  'recurrence_clusters',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    problemId: uuid('problem_id').notNull(),
    detectedAt: instant('detected_at').notNull(),
    /** Why the incidents belong together: what they share. */
    basis: jsonb('basis').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('recurrence_clusters_tenant_problem_uq').on(t.tenantId, t.problemId),
    foreignKey({ columns: [t.tenantId, t.problemId], foreignColumns: [problems.tenantId, problems.id] }).onDelete('cascade'),
  ],
);

/** Cluster membership: the primary key keeps an incident in at most one cluster, so replays add nothing. */
export const recurrenceClusterMembers = problemSchema.table(
  'recurrence_cluster_members',
  {
    tenantId: uuid('tenant_id').notNull(),
    incidentId: uuid('incident_id').notNull(),
    clusterId: uuid('cluster_id').notNull(),
    joinedAt: instant('joined_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.incidentId] }),
    foreignKey({ columns: [t.tenantId, t.clusterId], foreignColumns: [recurrenceClusters.tenantId, recurrenceClusters.id] }).onDelete('cascade'),
    index('recurrence_cluster_members_tenant_cluster_idx').on(t.tenantId, t.clusterId),
  ],
);

export const outbox = defineOutbox(problemSchema);
export const consumerCursors = defineConsumerCursors(problemSchema);

export type ProblemRow = typeof problems.$inferSelect;
export type ProblemIncidentRow = typeof problemIncidents.$inferSelect;
export type ProblemHistoryRow = typeof problemHistory.$inferSelect;
export type KnownErrorRow = Omit<typeof knownErrors.$inferSelect, 'searchVector' | 'matchText'>;
export type RecurrenceSettingsRow = typeof recurrenceSettings.$inferSelect;
export type ObservedIncidentRow = typeof observedIncidents.$inferSelect;
