import { hasRole, isUuid, nextCounterValue, payloadErrors, WRITER_ROLES, type Db, type FieldProblem, type Identity, type PayloadError, type Role } from '@itsm/kit';
import { getIncidentsByIds, insertHistory, insertIncident, updateIncidentIfVersion } from '../db/queries.js';
import { SCHEMA_NAME, type IncidentRow } from '../db/schema.js';
import { categorize, isKnownCategory, type Taxonomy } from '../domain/categorize.js';
import { checkIncidentTransition, INCIDENT_STATES, isReopen, type IncidentState } from '../domain/lifecycle.js';
import { priorityOf, validateImpactUrgency, type PriorityMatrix } from '../domain/priority.js';
import { cancelAutoClose, scheduleAutoClose } from './auto-close.js';
import { appendTenantEvents, incidentEvent, INCIDENT_EVENT_TYPES, type IncidentEventType } from './incident-events.js';
import { loadIncidentSettings } from './settings.js';
import { ensureSlaDefaults, loadPolicy, startTaskSlas, updateTaskSlas } from './sla-engine.js';

// The matrix and the taxonomy used to live here; importers still take them from this module.
export { getPriorityMatrix, setPriorityMatrix } from './settings.js';

export type IncidentResult = { incident: IncidentRow; errors: [] } | { incident: null; errors: PayloadError[] };

const MAX_TITLE = 255;
const MAX_TEXT = 20_000;
const MAX_REASON = 1_000;
/** Roles that may override priorities and flag major incidents (admin holds every role). */
export const MANAGER_ROLES: readonly Role[] = ['manager'];

function failed(...errors: PayloadError[]): IncidentResult {
  return { incident: null, errors };
}

function failedWith(problems: FieldProblem[]): IncidentResult {
  return failed(...problems.map(payloadErrors.validation));
}

/** Formats a tenant's incident sequence value as INC0001234. */
export function formatIncidentNumber(value: number): string {
  return `INC${String(value).padStart(7, '0')}`;
}

function checkTitle(title: string | null | undefined, field: string): FieldProblem | null {
  if (title == null) return null;
  if (!title.trim()) return { field, rule: 'required', message: 'title must not be empty' };
  if (title.length > MAX_TITLE) return { field, rule: 'maxLength', message: `title must be at most ${MAX_TITLE} characters` };
  return null;
}

function checkLength(value: string | null | undefined, field: string, max = MAX_TEXT): FieldProblem[] {
  return value != null && value.length > max ? [{ field, rule: 'maxLength', message: `${field} must be at most ${max} characters` }] : [];
}

function checkPriorityInputs(matrix: PriorityMatrix, impact: number, urgency: number): FieldProblem[] {
  return validateImpactUrgency(matrix, impact, urgency).map((p) => ({ ...p, field: `input.${p.field}` }));
}

/**
 * Category rules: a subcategory needs its category, and both must exist in the tenant's taxonomy. Records
 * imported from another system (externalRef set) keep that system's category names.
 */
function checkCategory(taxonomy: Taxonomy, category: string | null, subcategory: string | null, imported: boolean): FieldProblem[] {
  if (imported) return [];
  if (category === null) {
    return subcategory === null ? [] : [{ field: 'input.category', rule: 'required', message: 'a subcategory needs its category' }];
  }
  if (!isKnownCategory(taxonomy, category)) {
    return [{ field: 'input.category', rule: 'oneOf', message: `"${category}" is not one of ${taxonomy.map((c) => c.name).join(', ')}` }];
  }
  if (subcategory !== null && !isKnownCategory(taxonomy, category, subcategory)) {
    return [{ field: 'input.subcategory', rule: 'oneOf', message: `"${subcategory}" is not a subcategory of ${category}` }];
  }
  return [];
}

type HistoryChange = { field: string; fromValue: string | null; toValue: string | null; reason?: string | null };

function historyRows(identity: Identity, incidentId: string, now: Date, changes: HistoryChange[]) {
  return changes.map((c) => ({ tenantId: identity.tenantId, incidentId, at: now, actor: identity.userId, reason: null, ...c }));
}

export interface CreateIncidentInput {
  title: string;
  description?: string | null;
  impact: number;
  urgency: number;
  category?: string | null;
  subcategory?: string | null;
  configurationItem?: string | null;
  assignmentGroup?: string | null;
  assignee?: string | null;
  caller?: string | null;
  /** The SLA policy to run under; the tenant's default when absent. */
  slaPolicyId?: string | null;
  /** Importers keep the source's number; otherwise the tenant's counter gives one. */
  number?: string;
  externalRef?: string | null;
}

/**
 * Logs an incident in state NEW: every rule checked before anything is written; without a category the
 * tenant's keywords choose one; the response and resolution SLAs start at `now`.
 */
export async function createIncident(db: Db, identity: Identity, input: CreateIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const settings = await loadIncidentSettings(db, identity.tenantId);
  const titleProblem = checkTitle(input.title ?? '', 'input.title');
  const problems: FieldProblem[] = [
    ...(titleProblem ? [titleProblem] : []),
    ...checkLength(input.description, 'input.description'),
    ...checkPriorityInputs(settings.matrix, input.impact, input.urgency),
    ...checkCategory(settings.taxonomy, input.category ?? null, input.subcategory ?? null, input.externalRef != null),
  ];
  if (input.slaPolicyId != null && (!isUuid(input.slaPolicyId) || !(await loadPolicy(db, identity.tenantId, input.slaPolicyId)))) {
    problems.push({ field: 'input.slaPolicyId', rule: 'exists', message: `SLA policy ${input.slaPolicyId} does not exist` });
  }
  if (problems.length) return failedWith(problems);

  const suggestion = input.category ? null : categorize({ title: input.title, description: input.description }, settings.taxonomy);
  return db.transaction(async (tx) => {
    const number = input.number ?? formatIncidentNumber(await nextCounterValue(tx, SCHEMA_NAME, identity.tenantId, 'incident'));
    const incident = await insertIncident(tx, {
      tenantId: identity.tenantId,
      number,
      title: input.title.trim(),
      description: input.description ?? null,
      state: 'NEW',
      impact: input.impact,
      urgency: input.urgency,
      priority: priorityOf(settings.matrix, input.impact, input.urgency),
      category: suggestion?.category ?? input.category ?? null,
      subcategory: suggestion?.subcategory ?? input.subcategory ?? null,
      categoryKeywords: suggestion?.matchedKeywords ?? null,
      configurationItem: input.configurationItem ?? null,
      assignmentGroup: input.assignmentGroup ?? null,
      assignee: input.assignee ?? null,
      caller: input.caller ?? null,
      openedAt: now,
      externalRef: input.externalRef ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await insertHistory(tx, historyRows(identity, incident.id, now, [{ field: 'state', fromValue: null, toValue: 'NEW' }]));
    const policyId = input.slaPolicyId ?? (await ensureSlaDefaults(tx, identity.tenantId, now)).id;
    await startTaskSlas(tx, incident, (await loadPolicy(tx, identity.tenantId, policyId))!, now);
    await appendTenantEvents(tx, [incidentEvent(INCIDENT_EVENT_TYPES.created, incident, now)]);
    return { incident, errors: [] };
  });
}

/** Reads the row an update is about, or says why it cannot be updated. */
async function loadForUpdate(db: Db, tenantId: string, id: string, version: number): Promise<IncidentRow | PayloadError> {
  const [current] = isUuid(id) ? await getIncidentsByIds(db, tenantId, [id]) : [];
  if (!current) return payloadErrors.notFound('incident', id);
  if (current.version !== version) return payloadErrors.versionConflict(`incident ${current.number}`, version, current.version);
  return current;
}

/**
 * Writes a patch if nobody else wrote first, with its history, SLA consequences and outbox event, in one
 * transaction; a lost race answers VersionConflict with the winner's version and writes nothing.
 */
async function writeChange(
  db: Db,
  identity: Identity,
  current: IncidentRow,
  version: number,
  patch: Partial<IncidentRow>,
  changes: HistoryChange[],
  eventType: IncidentEventType,
  now: Date,
  after?: (tx: Db, updated: IncidentRow) => Promise<void>,
): Promise<IncidentResult> {
  return db.transaction(async (tx) => {
    const updated = await updateIncidentIfVersion(tx, current.tenantId, current.id, version, { ...patch, updatedAt: now });
    if (!updated) {
      const [winner] = await getIncidentsByIds(tx, current.tenantId, [current.id]);
      return failed(payloadErrors.versionConflict(`incident ${current.number}`, version, winner?.version ?? version));
    }
    await insertHistory(tx, historyRows(identity, current.id, now, changes));
    await updateTaskSlas(tx, current, updated, now);
    await after?.(tx, updated);
    await appendTenantEvents(tx, [incidentEvent(eventType, updated, now)]);
    return { incident: updated, errors: [] };
  });
}

export interface UpdateIncidentInput {
  id: string;
  version: number;
  title?: string | null;
  description?: string | null;
  impact?: number | null;
  urgency?: number | null;
  category?: string | null;
  subcategory?: string | null;
  configurationItem?: string | null;
  assignmentGroup?: string | null;
  assignee?: string | null;
  caller?: string | null;
  rootCause?: string | null;
  workaround?: string | null;
}

const PLAIN_FIELDS = ['title', 'description', 'configurationItem', 'assignmentGroup', 'assignee', 'caller', 'rootCause', 'workaround'] as const;

/**
 * Changes fields: impact or urgency recompute priority through the matrix (unless a manager overrode it),
 * a new group counts a reassignment, a first assignee meets the response SLA. Nothing changed, nothing written.
 */
export async function updateIncident(db: Db, identity: Identity, input: UpdateIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const titleProblem = checkTitle(input.title === null ? '' : input.title, 'input.title');
  if (titleProblem) return failedWith([titleProblem]);
  const current = await loadForUpdate(db, identity.tenantId, input.id, input.version);
  if ('code' in current) return failed(current);

  const settings = await loadIncidentSettings(db, identity.tenantId);
  const impact = input.impact ?? current.impact;
  const urgency = input.urgency ?? current.urgency;
  const categoryChanged = input.category !== undefined && input.category !== current.category;
  const category = input.category !== undefined ? input.category : current.category;
  const subcategory = input.subcategory !== undefined ? input.subcategory : categoryChanged ? null : current.subcategory;
  const problems: FieldProblem[] = [
    ...checkLength(input.description, 'input.description'),
    ...checkLength(input.rootCause, 'input.rootCause'),
    ...checkLength(input.workaround, 'input.workaround'),
    ...(impact !== current.impact || urgency !== current.urgency ? checkPriorityInputs(settings.matrix, impact, urgency) : []),
    ...(categoryChanged || subcategory !== current.subcategory ? checkCategory(settings.taxonomy, category, subcategory, current.externalRef !== null) : []),
  ];
  if (problems.length) return failedWith(problems);

  const patch: Partial<IncidentRow> = {};
  const changes: HistoryChange[] = [];
  for (const key of PLAIN_FIELDS) {
    const value = input[key];
    if (value !== undefined && value !== current[key]) Object.assign(patch, { [key]: key === 'title' ? value!.trim() : value });
  }
  if (category !== current.category || subcategory !== current.subcategory) {
    // A person chose the category: the keyword suggestion no longer applies.
    Object.assign(patch, { category, subcategory, categoryKeywords: null });
    if (category !== current.category) changes.push({ field: 'category', fromValue: current.category, toValue: category });
    if (subcategory !== current.subcategory) changes.push({ field: 'subcategory', fromValue: current.subcategory, toValue: subcategory });
  }
  if (impact !== current.impact || urgency !== current.urgency) {
    Object.assign(patch, { impact, urgency });
    if (impact !== current.impact) changes.push({ field: 'impact', fromValue: String(current.impact), toValue: String(impact) });
    if (urgency !== current.urgency) changes.push({ field: 'urgency', fromValue: String(current.urgency), toValue: String(urgency) });
    const priority = current.priorityOverridden ? current.priority : priorityOf(settings.matrix, impact, urgency);
    if (priority !== current.priority) {
      patch.priority = priority;
      changes.push({ field: 'priority', fromValue: String(current.priority), toValue: String(priority) });
    }
  }
  if (patch.assignmentGroup !== undefined) {
    changes.push({ field: 'assignment_group', fromValue: current.assignmentGroup, toValue: patch.assignmentGroup });
    // The first assignment is not a reassignment.
    if (current.assignmentGroup) patch.reassignmentCount = current.reassignmentCount + 1;
  }
  if (patch.assignee !== undefined) changes.push({ field: 'assignee', fromValue: current.assignee, toValue: patch.assignee });
  if (!Object.keys(patch).length) return { incident: current, errors: [] };

  return writeChange(db, identity, current, input.version, patch, changes, INCIDENT_EVENT_TYPES.updated, now);
}

export interface TransitionIncidentInput {
  id: string;
  version: number;
  to: IncidentState;
  holdReason?: string | null;
  resolutionCode?: string | null;
  resolutionNotes?: string | null;
  reason?: string | null;
}

/**
 * Moves an incident along its lifecycle and its SLA clocks with it; ON_HOLD -> ON_HOLD with a new reason
 * changes the reason. Resolving schedules the auto-close; reopening (RESOLVED -> IN_PROGRESS) counts a reopen.
 */
export async function transitionIncident(db: Db, identity: Identity, input: TransitionIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  if (!(INCIDENT_STATES as readonly string[]).includes(input.to)) {
    return failedWith([{ field: 'input.to', rule: 'oneOf', message: `to must be one of ${INCIDENT_STATES.join(', ')}, got ${input.to}` }]);
  }
  const reasonProblems = [...checkLength(input.reason, 'input.reason', MAX_REASON), ...checkLength(input.resolutionNotes, 'input.resolutionNotes')];
  if (reasonProblems.length) return failedWith(reasonProblems);
  const current = await loadForUpdate(db, identity.tenantId, input.id, input.version);
  if ('code' in current) return failed(current);
  const from = current.state as IncidentState;
  const reasonChange = from === 'ON_HOLD' && input.to === 'ON_HOLD' && input.holdReason !== current.holdReason;
  const problem = reasonChange ? checkIncidentTransition('IN_PROGRESS', 'ON_HOLD', input) : checkIncidentTransition(from, input.to, input);
  if (problem) {
    return failed(payloadErrors.fromTransition(from, input.to, problem));
  }

  const patch: Partial<IncidentRow> = { state: input.to, holdReason: input.to === 'ON_HOLD' ? input.holdReason! : null };
  if (input.to === 'RESOLVED') Object.assign(patch, { resolvedAt: now, resolutionCode: input.resolutionCode, resolutionNotes: input.resolutionNotes });
  if (input.to === 'CLOSED' || input.to === 'CANCELLED') patch.closedAt = now;
  if (isReopen(from, input.to)) Object.assign(patch, { reopenCount: current.reopenCount + 1, resolvedAt: null, resolutionCode: null, resolutionNotes: null });
  const change: HistoryChange = {
    field: reasonChange ? 'hold_reason' : 'state',
    fromValue: reasonChange ? current.holdReason : from,
    toValue: reasonChange ? input.holdReason! : input.to,
    reason: input.reason ?? input.holdReason ?? input.resolutionCode ?? null,
  };
  const settings = input.to === 'RESOLVED' ? await loadIncidentSettings(db, identity.tenantId) : undefined;
  return writeChange(
    db,
    identity,
    current,
    input.version,
    patch,
    [change],
    reasonChange ? INCIDENT_EVENT_TYPES.updated : INCIDENT_EVENT_TYPES.stateChanged,
    now,
    async (tx, updated) => {
      if (updated.state === 'RESOLVED') await scheduleAutoClose(tx, updated, settings!.autoCloseDays);
      else if (from === 'RESOLVED') await cancelAutoClose(tx, updated);
    },
  );
}

export interface OverrideIncidentPriorityInput {
  id: string;
  version: number;
  /** 1-5; null returns to the matrix's priority. */
  priority: number | null;
  reason: string;
}

/** Sets the priority by hand (managers only), recorded with the reason; null returns to the matrix. SLAs take the new target. */
export async function overrideIncidentPriority(
  db: Db,
  identity: Identity,
  input: OverrideIncidentPriorityInput,
  now = new Date(),
): Promise<IncidentResult> {
  if (!hasRole(identity, MANAGER_ROLES)) return failed(payloadErrors.forbidden([...MANAGER_ROLES, 'admin']));
  const problems: FieldProblem[] = [];
  if (input.priority !== null && (!Number.isInteger(input.priority) || input.priority < 1 || input.priority > 5)) {
    problems.push({ field: 'input.priority', rule: 'range', message: `priority must be 1 to 5 or null, got ${input.priority}` });
  }
  if (!input.reason?.trim()) problems.push({ field: 'input.reason', rule: 'required', message: 'a priority override needs a reason' });
  problems.push(...checkLength(input.reason, 'input.reason', MAX_REASON));
  if (problems.length) return failedWith(problems);
  const current = await loadForUpdate(db, identity.tenantId, input.id, input.version);
  if ('code' in current) return failed(current);

  let priority = input.priority;
  if (priority === null) {
    const { matrix } = await loadIncidentSettings(db, identity.tenantId);
    // An incident scored on a larger matrix than the tenant's current one keeps its priority.
    priority = validateImpactUrgency(matrix, current.impact, current.urgency).length ? current.priority : priorityOf(matrix, current.impact, current.urgency);
  }
  const overridden = input.priority !== null;
  if (priority === current.priority && overridden === current.priorityOverridden) return { incident: current, errors: [] };
  const change: HistoryChange = {
    field: 'priority_override',
    fromValue: String(current.priority),
    toValue: String(priority),
    reason: overridden ? input.reason.trim() : `override removed: ${input.reason.trim()}`,
  };
  return writeChange(db, identity, current, input.version, { priority, priorityOverridden: overridden }, [change], INCIDENT_EVENT_TYPES.updated, now);
}

export interface SetMajorIncidentInput {
  id: string;
  version: number;
  major: boolean;
  reason?: string | null;
}

/** Flags or unflags a major incident (managers only), recorded in the history. */
export async function setMajorIncident(db: Db, identity: Identity, input: SetMajorIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, MANAGER_ROLES)) return failed(payloadErrors.forbidden([...MANAGER_ROLES, 'admin']));
  const problems = checkLength(input.reason, 'input.reason', MAX_REASON);
  if (problems.length) return failedWith(problems);
  const current = await loadForUpdate(db, identity.tenantId, input.id, input.version);
  if ('code' in current) return failed(current);
  if (current.major === input.major) return { incident: current, errors: [] };
  const change: HistoryChange = { field: 'major', fromValue: String(current.major), toValue: String(input.major), reason: input.reason ?? null };
  return writeChange(db, identity, current, input.version, { major: input.major }, [change], INCIDENT_EVENT_TYPES.updated, now);
}
