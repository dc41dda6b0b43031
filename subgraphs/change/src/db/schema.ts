import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  customType,
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
import { defineOutbox } from '@itsm/kit/outbox-table';
import { defineCounters, instant } from '@itsm/kit/shared-tables';

export const SCHEMA_NAME = 'change';
export const changeSchema = pgSchema(SCHEMA_NAME);

const textList = (name: string) => text(name).array().notNull().default(sql`'{}'::text[]`);
/** A Postgres range of instants; read back as its text form, only ever compared in SQL. */
const tstzrange = customType<{ data: string }>({ dataType: () => 'tstzrange' });

/** Per-tenant sequences for human numbers (CHG2026000001). */
export const counters = defineCounters(changeSchema);

/** Pre-approved recipes for standard changes; a STANDARD change can only be raised from an APPROVED one. */
export const standardChangeTemplates = changeSchema.table(
  'standard_change_templates',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    description: text('description'),
    implementationPlan: text('implementation_plan').notNull(),
    backoutPlan: text('backout_plan').notNull(),
    testPlan: text('test_plan'),
    configurationItems: textList('configuration_items'),
    services: textList('services'),
    /** DRAFT until a change manager approves it; RETIRED templates raise no new changes. */
    state: text('state').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: instant('created_at').notNull(),
    approvedBy: text('approved_by'),
    approvedAt: instant('approved_at'),
    version: integer('version').notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), uniqueIndex('standard_change_templates_tenant_name_uq').on(t.tenantId, t.name)],
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
    /** The approved standard-change template a STANDARD change was raised from. */
    templateId: uuid('template_id'),
    implementationPlan: text('implementation_plan'),
    backoutPlan: text('backout_plan'),
    testPlan: text('test_plan'),
    configurationItems: textList('configuration_items'),
    services: textList('services'),
    assigneeId: text('assignee_id'),
    plannedStart: instant('planned_start'),
    plannedEnd: instant('planned_end'),
    /** [planned_start, planned_end): what overlap queries and the GiST index work on. */
    plannedRange: tstzrange('planned_range').generatedAlwaysAs(sql`tstzrange(planned_start, planned_end, '[)')`),
    riskLevel: text('risk_level'),
    riskScore: doublePrecision('risk_score'),
    approvalPath: text('approval_path'),
    approvalStatus: text('approval_status').notNull().default('NOT_REQUESTED'),
    closeCode: text('close_code'),
    closedAt: instant('closed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('change_requests_tenant_number_uq').on(t.tenantId, t.number),
    uniqueIndex('change_requests_tenant_external_ref_uq').on(t.tenantId, t.externalRef),
    index('change_requests_tenant_opened_idx').on(t.tenantId, t.openedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('change_requests_tenant_state_idx').on(t.tenantId, t.state),
    // btree_gist (migration 0001) lets the uuid tenant column share a GiST index with the range.
    index('change_requests_tenant_planned_range_gist').using('gist', t.tenantId, t.plannedRange),
    foreignKey({ columns: [t.tenantId, t.templateId], foreignColumns: [standardChangeTemplates.tenantId, standardChangeTemplates.id] }),
    check('change_requests_planned_order_ck', sql`(planned_start is null) = (planned_end is null) and (planned_end is null or planned_end > planned_start)`),
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

/** Every state change of a change request, creation included (from_state null). */
export const changeTransitions = changeSchema.table(
  'change_transitions',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    changeId: uuid('change_id').notNull(),
    fromState: text('from_state'),
    toState: text('to_state').notNull(),
    actorId: text('actor_id').notNull(),
    comment: text('comment'),
    occurredAt: instant('occurred_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    index('change_transitions_tenant_change_idx').on(t.tenantId, t.changeId, t.occurredAt),
  ],
);

/** "change_id depends on depends_on_id": it may start only once the other one is planned to end. */
export const changeDependencies = changeSchema.table(
  'change_dependencies',
  {
    tenantId: uuid('tenant_id').notNull(),
    changeId: uuid('change_id').notNull(),
    dependsOnId: uuid('depends_on_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.changeId, t.dependsOnId] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.dependsOnId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    index('change_dependencies_tenant_depends_on_idx').on(t.tenantId, t.dependsOnId),
    check('change_dependencies_not_self_ck', sql`change_id <> depends_on_id`),
  ],
);

/** A tenant's risk weighting and level thresholds; absent means the design's defaults. */
export const riskPolicies = changeSchema.table('risk_policies', {
  tenantId: uuid('tenant_id').notNull().primaryKey(),
  /** Factor name -> weight, the weights adding up to 1. */
  weights: jsonb('weights').$type<Record<string, number>>().notNull(),
  lowBelow: doublePrecision('low_below').notNull(),
  mediumBelow: doublePrecision('medium_below').notNull(),
  version: integer('version').notNull().default(1),
  updatedBy: text('updated_by').notNull(),
  updatedAt: instant('updated_at').notNull(),
});

/** One risk assessment of a change; the newest is the change's current risk. */
export const riskAssessments = changeSchema.table(
  'risk_assessments',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    changeId: uuid('change_id').notNull(),
    score: doublePrecision('score').notNull(),
    level: text('level').notNull(),
    /** The thresholds in force when it was assessed (the weights sit on each factor row). */
    lowBelow: doublePrecision('low_below').notNull(),
    mediumBelow: doublePrecision('medium_below').notNull(),
    assessedBy: text('assessed_by').notNull(),
    assessedAt: instant('assessed_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    index('risk_assessments_tenant_change_idx').on(t.tenantId, t.changeId, t.assessedAt),
  ],
);

/** The seven scored factors of an assessment with the assessor's justification and the weight applied. */
export const riskAssessmentFactors = changeSchema.table(
  'risk_assessment_factors',
  {
    tenantId: uuid('tenant_id').notNull(),
    assessmentId: uuid('assessment_id').notNull(),
    factor: text('factor').notNull(),
    score: integer('score').notNull(),
    weight: doublePrecision('weight').notNull(),
    justification: text('justification').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.assessmentId, t.factor] }),
    foreignKey({ columns: [t.tenantId, t.assessmentId], foreignColumns: [riskAssessments.tenantId, riskAssessments.id] }).onDelete('cascade'),
  ],
);

/** How the CAB and the emergency CAB decide; absent means the defaults (majority quorum, > 50 %; ECAB: any member). */
export const cabBoards = changeSchema.table(
  'cab_boards',
  {
    tenantId: uuid('tenant_id').notNull(),
    board: text('board').notNull(),
    mode: text('mode').notNull(),
    /** Members who must vote before anything is decided; null means more than half of the members. */
    quorum: integer('quorum'),
    approvalThreshold: doublePrecision('approval_threshold').notNull(),
    version: integer('version').notNull().default(1),
    updatedBy: text('updated_by').notNull(),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.board] })],
);

/** Members of a board (CAB or EMERGENCY_CAB) by user id, with the weight of their vote. */
export const cabMembers = changeSchema.table(
  'cab_members',
  {
    tenantId: uuid('tenant_id').notNull(),
    board: text('board').notNull(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    weight: doublePrecision('weight').notNull(),
    addedBy: text('added_by').notNull(),
    addedAt: instant('added_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.board, t.userId] })],
);

/** A CAB or emergency-CAB meeting; votes are cast while it is OPEN. */
export const cabMeetings = changeSchema.table(
  'cab_meetings',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    board: text('board').notNull(),
    title: text('title').notNull(),
    scheduledAt: instant('scheduled_at').notNull(),
    state: text('state').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: instant('created_at').notNull(),
    closedBy: text('closed_by'),
    closedAt: instant('closed_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('cab_meetings_tenant_scheduled_idx').on(t.tenantId, t.scheduledAt)],
);

/** A change on a meeting's agenda and, once decided, the board's decision on it. */
export const cabAgendaItems = changeSchema.table(
  'cab_agenda_items',
  {
    tenantId: uuid('tenant_id').notNull(),
    meetingId: uuid('meeting_id').notNull(),
    changeId: uuid('change_id').notNull(),
    position: integer('position').notNull(),
    decision: text('decision'),
    decidedAt: instant('decided_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.meetingId, t.changeId] }),
    foreignKey({ columns: [t.tenantId, t.meetingId], foreignColumns: [cabMeetings.tenantId, cabMeetings.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    index('cab_agenda_items_tenant_change_idx').on(t.tenantId, t.changeId),
  ],
);

/** Votes are never updated or deleted: they are the audit trail of who approved what. */
export const cabVotes = changeSchema.table(
  'cab_votes',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    meetingId: uuid('meeting_id').notNull(),
    changeId: uuid('change_id').notNull(),
    memberId: text('member_id').notNull(),
    vote: text('vote').notNull(),
    comment: text('comment'),
    /** The member's weight when they voted. */
    weight: doublePrecision('weight').notNull(),
    castAt: instant('cast_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('cab_votes_one_per_member_uq').on(t.tenantId, t.meetingId, t.changeId, t.memberId),
    foreignKey({
      columns: [t.tenantId, t.meetingId, t.changeId],
      foreignColumns: [cabAgendaItems.tenantId, cabAgendaItems.meetingId, cabAgendaItems.changeId],
    }).onDelete('cascade'),
    index('cab_votes_tenant_change_idx').on(t.tenantId, t.changeId, t.castAt),
  ],
);

/** Every approval decision: a change manager's, or a board's tally with its weights. */
export const changeApprovals = changeSchema.table(
  'change_approvals',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    changeId: uuid('change_id').notNull(),
    path: text('path').notNull(),
    meetingId: uuid('meeting_id'),
    decision: text('decision').notNull(),
    /** The change manager who decided, or whoever cast the deciding vote or closed the meeting. */
    decidedBy: text('decided_by').notNull(),
    reason: text('reason').notNull(),
    comment: text('comment'),
    approveWeight: doublePrecision('approve_weight'),
    rejectWeight: doublePrecision('reject_weight'),
    abstainWeight: doublePrecision('abstain_weight'),
    votersCount: integer('voters_count'),
    decidedAt: instant('decided_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.meetingId], foreignColumns: [cabMeetings.tenantId, cabMeetings.id] }),
    index('change_approvals_tenant_change_idx').on(t.tenantId, t.changeId, t.decidedAt),
  ],
);

/** Maintenance windows and blackout periods of the change calendar; deleted ones stay for the conflicts that name them. */
export const changeWindows = changeSchema.table(
  'change_windows',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    timeZone: text('time_zone').notNull(),
    /** Local wall-clock start 'YYYY-MM-DDTHH:mm' in time_zone. */
    startLocal: text('start_local').notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    rrule: text('rrule'),
    scopeAll: boolean('scope_all').notNull(),
    configurationItems: textList('configuration_items'),
    services: textList('services'),
    createdBy: text('created_by').notNull(),
    createdAt: instant('created_at').notNull(),
    deletedAt: instant('deleted_at'),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index('change_windows_tenant_idx').on(t.tenantId, t.kind)],
);

/** Conflicts found by detection; open while resolved_at is null, one open row per (change, kind, other change or window). */
export const changeConflicts = changeSchema.table(
  'change_conflicts',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    changeId: uuid('change_id').notNull(),
    kind: text('kind').notNull(),
    severity: text('severity').notNull(),
    otherChangeId: uuid('other_change_id'),
    windowId: uuid('window_id'),
    /** kind|other change|window: what makes two detections the same conflict. */
    conflictKey: text('conflict_key').notNull(),
    message: text('message').notNull(),
    detectedAt: instant('detected_at').notNull(),
    resolvedAt: instant('resolved_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({ columns: [t.tenantId, t.changeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.otherChangeId], foreignColumns: [changeRequests.tenantId, changeRequests.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.windowId], foreignColumns: [changeWindows.tenantId, changeWindows.id] }),
    uniqueIndex('change_conflicts_open_uq').on(t.tenantId, t.changeId, t.conflictKey).where(sql`resolved_at is null`),
    index('change_conflicts_tenant_other_idx').on(t.tenantId, t.otherChangeId).where(sql`resolved_at is null`),
    index('change_conflicts_tenant_detected_idx').on(t.tenantId, t.detectedAt).where(sql`resolved_at is null`),
  ],
);

export const outbox = defineOutbox(changeSchema);

export type ChangeRequestRow = typeof changeRequests.$inferSelect;
export type StandardChangeTemplateRow = typeof standardChangeTemplates.$inferSelect;
export type ChangeTransitionRow = typeof changeTransitions.$inferSelect;
export type RiskPolicyRow = typeof riskPolicies.$inferSelect;
export type RiskAssessmentRow = typeof riskAssessments.$inferSelect;
export type RiskAssessmentFactorRow = typeof riskAssessmentFactors.$inferSelect;
export type CabBoardRow = typeof cabBoards.$inferSelect;
export type CabMemberRow = typeof cabMembers.$inferSelect;
export type CabMeetingRow = typeof cabMeetings.$inferSelect;
export type CabAgendaItemRow = typeof cabAgendaItems.$inferSelect;
export type CabVoteRow = typeof cabVotes.$inferSelect;
export type ChangeApprovalRow = typeof changeApprovals.$inferSelect;
export type ChangeWindowRow = typeof changeWindows.$inferSelect;
export type ChangeConflictRow = typeof changeConflicts.$inferSelect;
