import { nextCounterValue, payloadErrors, hasRole, WRITER_ROLES, type Db, type FieldProblem, type Identity, type PayloadError } from '@itsm/kit';
import { getIncidentsByIds, getStoredPriorityMatrix, insertHistory, insertIncident, savePriorityMatrix, updateIncidentIfVersion } from '../db/queries.js';
import { SCHEMA_NAME, type IncidentRow } from '../db/schema.js';
import { checkIncidentTransition, isReopen, type IncidentState } from '../domain/lifecycle.js';
import { ITIL_5X5, SERVICENOW_3X3, priorityOf, validateImpactUrgency, validateMatrix, type PriorityMatrix } from '../domain/priority.js';

export type IncidentResult = { incident: IncidentRow; errors: [] } | { incident: null; errors: PayloadError[] };

const MAX_TITLE = 255;

function failed(...errors: PayloadError[]): IncidentResult {
  return { incident: null, errors };
}

/** Formats a tenant's incident sequence value as INC0001234. */
export function formatIncidentNumber(value: number): string {
  return `INC${String(value).padStart(7, '0')}`;
}

/** The tenant's priority matrix: the stored one, or the ITIL 5x5 default. */
export async function getPriorityMatrix(db: Db, tenantId: string): Promise<PriorityMatrix> {
  const stored = (await getStoredPriorityMatrix(db, tenantId)) as PriorityMatrix | undefined;
  return stored ?? ITIL_5X5;
}

function checkTitle(title: string | null | undefined, field: string): FieldProblem | null {
  if (title == null) return null;
  if (!title.trim()) return { field, rule: 'required', message: 'title must not be empty' };
  if (title.length > MAX_TITLE) return { field, rule: 'maxLength', message: `title must be at most ${MAX_TITLE} characters` };
  return null;
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
  /** Importers keep the source's number; otherwise the tenant's counter gives one. */
  number?: string;
  externalRef?: string | null;
}

/** Logs an incident in state NEW; all rules checked before anything is written. */
export async function createIncident(db: Db, identity: Identity, input: CreateIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const titleProblem = checkTitle(input.title ?? '', 'input.title');
  if (titleProblem) return failed(payloadErrors.validation(titleProblem));
  const matrix = await getPriorityMatrix(db, identity.tenantId);
  const rangeProblems = validateImpactUrgency(matrix, input.impact, input.urgency);
  if (rangeProblems.length) return failed(...rangeProblems.map((p) => payloadErrors.validation({ ...p, field: `input.${p.field}` })));

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
      priority: priorityOf(matrix, input.impact, input.urgency),
      category: input.category ?? null,
      subcategory: input.subcategory ?? null,
      configurationItem: input.configurationItem ?? null,
      assignmentGroup: input.assignmentGroup ?? null,
      assignee: input.assignee ?? null,
      caller: input.caller ?? null,
      openedAt: now,
      externalRef: input.externalRef ?? null,
      createdAt: now,
      updatedAt: now,
    });
    await insertHistory(tx, [
      { tenantId: identity.tenantId, incidentId: incident.id, at: now, actor: identity.userId, field: 'state', fromValue: null, toValue: 'NEW' },
    ]);
    return { incident, errors: [] };
  });
}

/** Reads the row an update is about, or says why it cannot be updated. */
async function loadForUpdate(db: Db, tenantId: string, id: string, version: number): Promise<IncidentRow | PayloadError> {
  const [current] = await getIncidentsByIds(db, tenantId, [id]);
  if (!current) return payloadErrors.notFound('incident', id);
  if (current.version !== version) return payloadErrors.versionConflict(`incident ${current.number}`, version, current.version);
  return current;
}

/** Writes a patch if nobody else wrote first; a lost race answers VersionConflict with the winner's version. */
async function writeIfVersion(
  tx: Db,
  current: IncidentRow,
  version: number,
  patch: Partial<IncidentRow>,
): Promise<IncidentRow | PayloadError> {
  const updated = await updateIncidentIfVersion(tx, current.tenantId, current.id, version, patch);
  if (updated) return updated;
  const [now] = await getIncidentsByIds(tx, current.tenantId, [current.id]);
  return payloadErrors.versionConflict(`incident ${current.number}`, version, now?.version ?? version);
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
}

/** Changes fields; impact or urgency recompute priority, a new group counts a reassignment. */
export async function updateIncident(db: Db, identity: Identity, input: UpdateIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const titleProblem = checkTitle(input.title === null ? '' : input.title, 'input.title');
  if (titleProblem) return failed(payloadErrors.validation(titleProblem));
  const current = await loadForUpdate(db, identity.tenantId, input.id, input.version);
  if ('code' in current) return failed(current);

  const impact = input.impact ?? current.impact;
  const urgency = input.urgency ?? current.urgency;
  const matrix = await getPriorityMatrix(db, identity.tenantId);
  const rangeProblems = validateImpactUrgency(matrix, impact, urgency);
  if (rangeProblems.length) return failed(...rangeProblems.map((p) => payloadErrors.validation({ ...p, field: `input.${p.field}` })));

  const patch: Partial<IncidentRow> = { updatedAt: now };
  for (const key of ['title', 'description', 'category', 'subcategory', 'configurationItem', 'assignmentGroup', 'assignee'] as const) {
    const value = input[key];
    if (value !== undefined && value !== current[key]) Object.assign(patch, { [key]: key === 'title' ? value!.trim() : value });
  }
  const history: { field: string; fromValue: string | null; toValue: string | null }[] = [];
  if (impact !== current.impact || urgency !== current.urgency) {
    Object.assign(patch, { impact, urgency, priority: priorityOf(matrix, impact, urgency) });
    if (patch.priority !== current.priority) history.push({ field: 'priority', fromValue: String(current.priority), toValue: String(patch.priority) });
  }
  if (patch.assignmentGroup !== undefined) {
    history.push({ field: 'assignment_group', fromValue: current.assignmentGroup, toValue: patch.assignmentGroup });
    // The first assignment is not a reassignment.
    if (current.assignmentGroup) patch.reassignmentCount = current.reassignmentCount + 1;
  }
  if (patch.assignee !== undefined) history.push({ field: 'assignee', fromValue: current.assignee, toValue: patch.assignee });

  return db.transaction(async (tx) => {
    const updated = await writeIfVersion(tx, current, input.version, patch);
    if ('code' in updated) return failed(updated);
    await insertHistory(
      tx,
      history.map((h) => ({ tenantId: identity.tenantId, incidentId: current.id, at: now, actor: identity.userId, ...h })),
    );
    return { incident: updated, errors: [] };
  });
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

/** Moves an incident along its lifecycle; ON_HOLD -> ON_HOLD with a new reason changes the reason. */
export async function transitionIncident(db: Db, identity: Identity, input: TransitionIncidentInput, now = new Date()): Promise<IncidentResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const current = await loadForUpdate(db, identity.tenantId, input.id, input.version);
  if ('code' in current) return failed(current);
  const from = current.state as IncidentState;
  const reasonChange = from === 'ON_HOLD' && input.to === 'ON_HOLD' && input.holdReason !== current.holdReason;
  const problem = reasonChange ? checkIncidentTransition('IN_PROGRESS', 'ON_HOLD', input) : checkIncidentTransition(from, input.to, input);
  if (problem) {
    return failed(
      problem.code === 'INVALID_TRANSITION'
        ? payloadErrors.invalidTransition(from, input.to, problem.message)
        : payloadErrors.validation({ field: `input.${problem.field}`, rule: problem.rule, message: problem.message }),
    );
  }

  const patch: Partial<IncidentRow> = { state: input.to, updatedAt: now, holdReason: input.to === 'ON_HOLD' ? input.holdReason! : null };
  if (input.to === 'RESOLVED') Object.assign(patch, { resolvedAt: now, resolutionCode: input.resolutionCode, resolutionNotes: input.resolutionNotes });
  if (input.to === 'CLOSED' || input.to === 'CANCELLED') patch.closedAt = now;
  if (isReopen(from, input.to)) Object.assign(patch, { reopenCount: current.reopenCount + 1, resolvedAt: null, resolutionCode: null, resolutionNotes: null });

  return db.transaction(async (tx) => {
    const updated = await writeIfVersion(tx, current, input.version, patch);
    if ('code' in updated) return failed(updated);
    await insertHistory(tx, [
      {
        tenantId: identity.tenantId,
        incidentId: current.id,
        at: now,
        actor: identity.userId,
        field: reasonChange ? 'hold_reason' : 'state',
        fromValue: reasonChange ? current.holdReason : from,
        toValue: reasonChange ? input.holdReason! : input.to,
        reason: input.reason ?? input.holdReason ?? input.resolutionCode ?? null,
      },
    ]);
    return { incident: updated, errors: [] };
  });
}

/** Replaces the tenant's priority matrix (admin only); a named profile needs no cells. */
export async function setPriorityMatrix(
  db: Db,
  identity: Identity,
  input: { profile: string; cells?: number[][] | null },
): Promise<{ priorityMatrix: PriorityMatrix | null; errors: PayloadError[] }> {
  if (!identity.roles.includes('admin')) return { priorityMatrix: null, errors: [payloadErrors.forbidden(['admin'])] };
  let matrix: PriorityMatrix;
  if (input.profile === 'ITIL_5X5') matrix = ITIL_5X5;
  else if (input.profile === 'SERVICENOW_3X3') matrix = SERVICENOW_3X3;
  else if (input.profile === 'CUSTOM') {
    const cells = input.cells ?? [];
    const size = cells.length as 3 | 5;
    const problems = validateMatrix({ size, cells });
    if (size !== 3 && size !== 5) problems.unshift({ field: 'cells', rule: 'shape', message: 'a custom matrix is 3x3 or 5x5' });
    if (problems.length) return { priorityMatrix: null, errors: problems.map((p) => payloadErrors.validation({ ...p, field: `input.${p.field}` })) };
    matrix = { profile: 'CUSTOM', size, cells };
  } else {
    return {
      priorityMatrix: null,
      errors: [payloadErrors.validation({ field: 'input.profile', rule: 'oneOf', message: 'profile must be ITIL_5X5, SERVICENOW_3X3 or CUSTOM' })],
    };
  }
  await savePriorityMatrix(db, identity.tenantId, matrix);
  return { priorityMatrix: matrix, errors: [] };
}
