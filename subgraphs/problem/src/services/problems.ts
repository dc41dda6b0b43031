import {
  appendEvents,
  hasRole,
  isUuid,
  nextCounterValue,
  payloadErrors,
  WRITER_ROLES,
  type Db,
  type FieldProblem,
  type Identity,
  type PayloadError,
  type Role,
} from '@itsm/kit';
import {
  deleteIncidentLink,
  getObservedIncidentsByIds,
  insertIncidentLink,
  insertProblem,
  insertProblemHistory,
  lockProblem,
  refreshProblemIncidentStats,
  updateProblemIfVersion,
} from '../db/queries.js';
import { SCHEMA_NAME, type ProblemRow } from '../db/schema.js';
import {
  checkProblemTransition,
  isIncidentRelationType,
  isProblemReopen,
  PROBLEM_STATES,
  type IncidentRelationType,
  type ProblemState,
} from '../domain/lifecycle.js';
import { isLevel, problemPriority } from '../domain/priority.js';

export type ProblemResult = { problem: ProblemRow; errors: [] } | { problem: null; errors: PayloadError[] };

/** Roles that move problems through their lifecycle: the problem manager's decisions. */
export const STATE_ROLES: readonly Role[] = ['manager', 'admin'];

export const PROBLEM_TYPES = ['PROACTIVE', 'REACTIVE'] as const;
export const PROBLEM_ORIGINS = ['MANUAL', 'RECURRENCE_DETECTION', 'IMPORT'] as const;
export type ProblemOrigin = (typeof PROBLEM_ORIGINS)[number];

/** Event types this subgraph writes to its outbox. */
export const PROBLEM_EVENTS = {
  created: 'PROBLEM_CREATED',
  updated: 'PROBLEM_UPDATED',
  stateChanged: 'PROBLEM_STATE_CHANGED',
  incidentLinked: 'INCIDENT_LINKED',
  incidentUnlinked: 'INCIDENT_UNLINKED',
  detected: 'PROBLEM_DETECTED',
  knownErrorCreated: 'KNOWN_ERROR_CREATED',
  knownErrorUpdated: 'KNOWN_ERROR_UPDATED',
  workaroundCommunicated: 'WORKAROUND_COMMUNICATED',
} as const;

const MAX_TITLE = 255;
const MAX_TEXT = 10_000;

function failed(...errors: PayloadError[]): ProblemResult {
  return { problem: null, errors };
}

/** PRB, the year the problem was opened and six digits of the tenant's yearly sequence. */
export function formatProblemNumber(year: number, value: number): string {
  return `PRB${year}${String(value).padStart(6, '0')}`;
}

export interface CreateProblemInput {
  title: string;
  description?: string | null;
  type?: string | null;
  category?: string | null;
  configurationItem?: string | null;
  impact?: number | null;
  urgency?: number | null;
  owner?: string | null;
  workaround?: string | null;
  externalRef?: string | null;
}

/** Checks a title: required when `required`, never blank, at most 255 characters. */
function checkTitle(title: string | null | undefined, field: string, required: boolean): FieldProblem | null {
  if (title === undefined && !required) return null;
  if (!title?.trim()) return { field, rule: 'required', message: 'title must not be empty' };
  if (title.trim().length > MAX_TITLE) return { field, rule: 'maxLength', message: `title must be at most ${MAX_TITLE} characters` };
  return null;
}

function checkLevel(value: number | null | undefined, field: string): FieldProblem | null {
  if (value == null || isLevel(value)) return null;
  return { field, rule: 'range', message: `${field.split('.').pop()} must be an integer from 1 to 5, got ${value}` };
}

function checkLongText(value: string | null | undefined, field: string): FieldProblem | null {
  if (value != null && value.length > MAX_TEXT) return { field, rule: 'maxLength', message: `at most ${MAX_TEXT} characters` };
  return null;
}

function checkEnum(value: string | null | undefined, allowed: readonly string[], field: string): FieldProblem | null {
  if (value == null || allowed.includes(value)) return null;
  return { field, rule: 'oneOf', message: `must be one of ${allowed.join(', ')}` };
}

function validationErrors(...problems: (FieldProblem | null)[]): PayloadError[] {
  return problems.filter((p): p is FieldProblem => p !== null).map(payloadErrors.validation);
}

/** Records a problem in state NEW; every rule is checked before anything is written. */
export async function createProblem(db: Db, identity: Identity, input: CreateProblemInput, now = new Date()): Promise<ProblemResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const errors = validationErrors(
    checkTitle(input.title, 'input.title', true),
    checkEnum(input.type, PROBLEM_TYPES, 'input.type'),
    checkLevel(input.impact, 'input.impact'),
    checkLevel(input.urgency, 'input.urgency'),
    checkLongText(input.description, 'input.description'),
    checkLongText(input.workaround, 'input.workaround'),
  );
  if (errors.length) return failed(...errors);
  const problem = await db.transaction((tx) =>
    insertNewProblem(tx, identity.tenantId, identity.userId, { ...input, origin: input.externalRef ? 'IMPORT' : 'MANUAL' }, now),
  );
  return { problem, errors: [] };
}

/** Inserts a validated problem with its number, first history entry and PROBLEM_CREATED event (inside the caller's transaction). */
export async function insertNewProblem(
  tx: Db,
  tenantId: string,
  actor: string,
  input: CreateProblemInput & { origin: ProblemOrigin },
  now: Date,
): Promise<ProblemRow> {
  const year = now.getUTCFullYear();
  const value = await nextCounterValue(tx, SCHEMA_NAME, tenantId, `problem:${year}`);
  const impact = input.impact ?? 3;
  const urgency = input.urgency ?? 3;
  const problem = await insertProblem(tx, {
    tenantId,
    number: formatProblemNumber(year, value),
    title: input.title.trim(),
    description: input.description ?? null,
    state: 'NEW',
    type: input.type ?? 'REACTIVE',
    origin: input.origin,
    category: input.category ?? null,
    configurationItem: input.configurationItem ?? null,
    impact,
    urgency,
    priority: problemPriority(impact, urgency),
    owner: input.owner ?? null,
    workaround: input.workaround ?? null,
    externalRef: input.externalRef ?? null,
    openedAt: now,
    createdAt: now,
    updatedAt: now,
  });
  await insertProblemHistory(tx, [{ tenantId, problemId: problem.id, at: now, actor, field: 'state', fromValue: null, toValue: 'NEW' }]);
  await appendEvents(tx, SCHEMA_NAME, [
    {
      tenantId,
      type: PROBLEM_EVENTS.created,
      payload: { problemId: problem.id, number: problem.number, title: problem.title, type: problem.type, origin: problem.origin, state: problem.state, priority: problem.priority },
      occurredAt: now,
    },
  ]);
  return problem;
}

/** Reads the problem an update is about, or says why it cannot be changed. */
async function loadForChange(tx: Db, tenantId: string, id: string, version: number): Promise<ProblemRow | PayloadError> {
  const current = isUuid(id) ? await lockProblem(tx, tenantId, id) : undefined;
  if (!current) return payloadErrors.notFound('problem', id);
  if (current.version !== version) return payloadErrors.versionConflict(`problem ${current.number}`, version, current.version);
  return current;
}

export interface UpdateProblemInput {
  id: string;
  version: number;
  title?: string | null;
  description?: string | null;
  type?: string | null;
  category?: string | null;
  configurationItem?: string | null;
  impact?: number | null;
  urgency?: number | null;
  owner?: string | null;
  rootCause?: string | null;
  workaround?: string | null;
  permanentFix?: string | null;
}

const EDITABLE = ['title', 'description', 'type', 'category', 'configurationItem', 'owner', 'rootCause', 'workaround', 'permanentFix'] as const;

/** Changes fields of a problem; impact or urgency recompute priority. Closed and cancelled problems are read-only. */
export async function updateProblem(db: Db, identity: Identity, input: UpdateProblemInput, now = new Date()): Promise<ProblemResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const errors = validationErrors(
    checkTitle(input.title, 'input.title', false),
    input.type === null ? { field: 'input.type', rule: 'required', message: 'type cannot be cleared' } : checkEnum(input.type, PROBLEM_TYPES, 'input.type'),
    checkLevel(input.impact, 'input.impact'),
    checkLevel(input.urgency, 'input.urgency'),
    ...(['description', 'rootCause', 'workaround', 'permanentFix'] as const).map((key) => checkLongText(input[key], `input.${key}`)),
  );
  if (errors.length) return failed(...errors);

  return db.transaction(async (tx) => {
    const current = await loadForChange(tx, identity.tenantId, input.id, input.version);
    if ('code' in current) return failed(current);
    if (current.state === 'CLOSED' || current.state === 'CANCELLED') {
      return failed(payloadErrors.conflict(`problem ${current.number} is ${current.state} and can no longer be changed`));
    }
    const patch: Partial<ProblemRow> = {};
    for (const key of EDITABLE) {
      const value = input[key];
      if (value === undefined) continue;
      const next = key === 'title' ? value!.trim() : value === '' ? null : value;
      if (next !== current[key]) Object.assign(patch, { [key]: next });
    }
    const impact = input.impact ?? current.impact;
    const urgency = input.urgency ?? current.urgency;
    if (impact !== current.impact || urgency !== current.urgency) {
      Object.assign(patch, { impact, urgency, priority: problemPriority(impact, urgency) });
    }
    if (!Object.keys(patch).length) return { problem: current, errors: [] };

    const updated = await updateProblemIfVersion(tx, identity.tenantId, current.id, current.version, { ...patch, updatedAt: now });
    if (!updated) return failed(payloadErrors.versionConflict(`problem ${current.number}`, input.version, current.version + 1));
    const history = [];
    if (patch.priority !== undefined && patch.priority !== current.priority) {
      history.push({ field: 'priority', fromValue: String(current.priority), toValue: String(patch.priority) });
    }
    if (patch.owner !== undefined) history.push({ field: 'owner', fromValue: current.owner, toValue: patch.owner });
    await insertProblemHistory(
      tx,
      history.map((h) => ({ ...h, tenantId: identity.tenantId, problemId: current.id, at: now, actor: identity.userId })),
    );
    await appendEvents(tx, SCHEMA_NAME, [
      { tenantId: identity.tenantId, type: PROBLEM_EVENTS.updated, payload: { problemId: current.id, number: current.number, fields: Object.keys(patch) }, occurredAt: now },
    ]);
    return { problem: updated, errors: [] };
  });
}

export interface TransitionProblemInput {
  id: string;
  version: number;
  to: string;
  /** Recorded with the move; required to resolve when the problem has none yet. */
  rootCause?: string | null;
  permanentFix?: string | null;
  reason?: string | null;
}

/** Moves a problem through its lifecycle (managers only); every move is recorded. */
export async function transitionProblem(db: Db, identity: Identity, input: TransitionProblemInput, now = new Date()): Promise<ProblemResult> {
  if (!hasRole(identity, STATE_ROLES)) return failed(payloadErrors.forbidden(STATE_ROLES));
  if (!(PROBLEM_STATES as readonly string[]).includes(input.to)) {
    return failed(payloadErrors.validation({ field: 'input.to', rule: 'oneOf', message: `must be one of ${PROBLEM_STATES.join(', ')}` }));
  }
  const errors = validationErrors(checkLongText(input.rootCause, 'input.rootCause'), checkLongText(input.permanentFix, 'input.permanentFix'));
  if (errors.length) return failed(...errors);
  const to = input.to as ProblemState;

  return db.transaction(async (tx) => {
    const current = await loadForChange(tx, identity.tenantId, input.id, input.version);
    if ('code' in current) return failed(current);
    const from = current.state as ProblemState;
    const rootCause = input.rootCause?.trim() ? input.rootCause.trim() : current.rootCause;
    const refused = checkProblemTransition(from, to, { rootCause });
    if (refused) return failed(payloadErrors.fromTransition(from, to, refused));

    const patch: Partial<ProblemRow> = { state: to, rootCause, updatedAt: now };
    if (input.permanentFix?.trim()) patch.permanentFix = input.permanentFix.trim();
    if (to === 'RESOLVED') patch.resolvedAt = now;
    if (to === 'CLOSED' || to === 'CANCELLED') patch.closedAt = now;
    if (isProblemReopen(from, to)) patch.resolvedAt = null;
    const updated = await updateProblemIfVersion(tx, identity.tenantId, current.id, current.version, patch);
    if (!updated) return failed(payloadErrors.versionConflict(`problem ${current.number}`, input.version, current.version + 1));
    await insertProblemHistory(tx, [
      { tenantId: identity.tenantId, problemId: current.id, at: now, actor: identity.userId, field: 'state', fromValue: from, toValue: to, reason: input.reason ?? null },
    ]);
    await appendEvents(tx, SCHEMA_NAME, [
      { tenantId: identity.tenantId, type: PROBLEM_EVENTS.stateChanged, payload: { problemId: current.id, number: current.number, from, to }, occurredAt: now },
    ]);
    return { problem: updated, errors: [] };
  });
}

export interface LinkIncidentInput {
  problemId: string;
  incidentId: string;
  relation: string;
  /** When the incident occurred; defaults to its opening time when this subgraph has seen it, else to now. */
  occurredAt?: Date | null;
}

/** Links an incident (an id of the incident subgraph) to a problem; linking twice keeps one link. */
export async function linkIncident(db: Db, identity: Identity, input: LinkIncidentInput, now = new Date()): Promise<ProblemResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  if (!isIncidentRelationType(input.relation)) {
    return failed(payloadErrors.validation({ field: 'input.relation', rule: 'oneOf', message: 'relation must be CAUSED_BY, RELATED_TO or SYMPTOM_OF' }));
  }
  if (!isUuid(input.incidentId)) {
    return failed(payloadErrors.validation({ field: 'input.incidentId', rule: 'uuid', message: 'incidentId must be an incident id' }));
  }
  const relation = input.relation;
  return db.transaction(async (tx) => {
    const problem = isUuid(input.problemId) ? await lockProblem(tx, identity.tenantId, input.problemId) : undefined;
    if (!problem) return failed(payloadErrors.notFound('problem', input.problemId));
    if (problem.state === 'CLOSED' || problem.state === 'CANCELLED') {
      return failed(payloadErrors.conflict(`problem ${problem.number} is ${problem.state}: link the incident to an open problem`));
    }
    const linked = await linkIncidentsInTx(tx, identity.tenantId, problem, [{ incidentId: input.incidentId, occurredAt: input.occurredAt ?? null }], relation, now);
    return { problem: linked, errors: [] };
  });
}

/**
 * Links incidents to a problem the caller has locked (lockProblem), then recomputes its count
 * and occurrence times and records INCIDENT_LINKED for each new link. Returns the problem as stored.
 */
export async function linkIncidentsInTx(
  tx: Db,
  tenantId: string,
  problem: ProblemRow,
  incidents: readonly { incidentId: string; occurredAt?: Date | null }[],
  relation: IncidentRelationType,
  now: Date,
): Promise<ProblemRow> {
  const observed = new Map(
    (await getObservedIncidentsByIds(tx, tenantId, incidents.filter((i) => !i.occurredAt).map((i) => i.incidentId))).map((o) => [o.incidentId, o.openedAt]),
  );
  const added: string[] = [];
  for (const { incidentId, occurredAt } of incidents) {
    const isNew = await insertIncidentLink(tx, {
      tenantId,
      problemId: problem.id,
      incidentId,
      relation,
      linkedAt: now,
      occurredAt: occurredAt ?? observed.get(incidentId) ?? now,
    });
    if (isNew) added.push(incidentId);
  }
  if (!added.length) return problem;
  const refreshed = await refreshProblemIncidentStats(tx, tenantId, problem.id);
  await appendEvents(
    tx,
    SCHEMA_NAME,
    added.map((incidentId) => ({
      tenantId,
      type: PROBLEM_EVENTS.incidentLinked,
      payload: { problemId: problem.id, number: problem.number, incidentId, relation, problemState: problem.state },
      occurredAt: now,
    })),
  );
  return refreshed ?? problem;
}

/** Removes an incident's link to a problem; its counts and occurrence times follow. */
export async function unlinkIncident(
  db: Db,
  identity: Identity,
  input: { problemId: string; incidentId: string },
  now = new Date(),
): Promise<ProblemResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  return db.transaction(async (tx) => {
    const problem = isUuid(input.problemId) ? await lockProblem(tx, identity.tenantId, input.problemId) : undefined;
    if (!problem) return failed(payloadErrors.notFound('problem', input.problemId));
    const removed = isUuid(input.incidentId) && (await deleteIncidentLink(tx, identity.tenantId, problem.id, input.incidentId));
    if (!removed) return failed(payloadErrors.notFound(`link of problem ${problem.number} to incident`, input.incidentId));
    const refreshed = await refreshProblemIncidentStats(tx, identity.tenantId, problem.id);
    await appendEvents(tx, SCHEMA_NAME, [
      { tenantId: identity.tenantId, type: PROBLEM_EVENTS.incidentUnlinked, payload: { problemId: problem.id, number: problem.number, incidentId: input.incidentId }, occurredAt: now },
    ]);
    return { problem: refreshed ?? problem, errors: [] };
  });
}
