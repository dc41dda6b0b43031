import { appendEvents, hasRole, isUuid, nextCounterValue, payloadErrors, WRITER_ROLES, type Db, type FieldProblem, type Identity, type PayloadError } from '@itsm/kit';
import {
  getKnownErrorIncidentIds,
  getKnownErrorsByIds,
  getLinksByProblemIds,
  getProblemsByIds,
  insertKnownError,
  insertKnownErrorLink,
  lockProblem,
  markWorkaroundCommunicated,
  updateKnownErrorIfVersion,
} from '../db/queries.js';
import { SCHEMA_NAME, type KnownErrorRow } from '../db/schema.js';
import { linkIncidentsInTx, PROBLEM_EVENTS } from './problems.js';
import { isIncidentRelationType } from '../domain/lifecycle.js';

export type KnownErrorResult = { knownError: KnownErrorRow; errors: [] } | { knownError: null; errors: PayloadError[] };

const MAX_TITLE = 255;
const MAX_TEXT = 10_000;

function failed(...errors: PayloadError[]): KnownErrorResult {
  return { knownError: null, errors };
}

/** KE and six digits of the tenant's sequence. */
export function formatKnownErrorNumber(value: number): string {
  return `KE${String(value).padStart(6, '0')}`;
}

function checkText(value: string | null | undefined, field: string, options: { required?: boolean; max?: number } = {}): FieldProblem | null {
  const max = options.max ?? MAX_TEXT;
  if (value === undefined && !options.required) return null;
  if (options.required && !value?.trim()) return { field, rule: 'required', message: `${field.split('.').pop()} must not be empty` };
  if (value != null && value.trim().length > max) return { field, rule: 'maxLength', message: `${field.split('.').pop()} must be at most ${max} characters` };
  return null;
}

function validationErrors(...problems: (FieldProblem | null)[]): PayloadError[] {
  return problems.filter((p): p is FieldProblem => p !== null).map(payloadErrors.validation);
}

const blankToNull = (value: string | null | undefined) => (value?.trim() ? value.trim() : null);

export interface CreateKnownErrorInput {
  title: string;
  symptoms: string;
  description?: string | null;
  rootCause?: string | null;
  workaround?: string | null;
  permanentFix?: string | null;
  /** The problem it documents, if any. */
  problemId?: string | null;
}

/** Records a known error on its own (or for a problem named in the input). */
export async function createKnownError(db: Db, identity: Identity, input: CreateKnownErrorInput, now = new Date()): Promise<KnownErrorResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const errors = validationErrors(
    checkText(input.title, 'input.title', { required: true, max: MAX_TITLE }),
    checkText(input.symptoms, 'input.symptoms', { required: true }),
    checkText(input.description, 'input.description'),
    checkText(input.rootCause, 'input.rootCause'),
    checkText(input.workaround, 'input.workaround'),
    checkText(input.permanentFix, 'input.permanentFix'),
  );
  if (errors.length) return failed(...errors);
  // An empty string is an id too (of nothing): refused like any other, never stored into the uuid column.
  if (input.problemId != null) {
    const [problem] = isUuid(input.problemId) ? await getProblemsByIds(db, identity.tenantId, [input.problemId]) : [];
    if (!problem) return failed(payloadErrors.notFound('problem', input.problemId));
  }
  const knownError = await db.transaction((tx) =>
    insertNewKnownError(
      tx,
      identity.tenantId,
      {
        title: input.title.trim(),
        symptoms: input.symptoms.trim(),
        description: blankToNull(input.description),
        rootCause: blankToNull(input.rootCause),
        workaround: blankToNull(input.workaround),
        permanentFix: blankToNull(input.permanentFix),
        problemId: input.problemId ?? null,
      },
      now,
    ),
  );
  return { knownError, errors: [] };
}

async function insertNewKnownError(
  tx: Db,
  tenantId: string,
  values: Omit<CreateKnownErrorInput, 'problemId'> & { problemId: string | null },
  now: Date,
): Promise<KnownErrorRow> {
  const number = formatKnownErrorNumber(await nextCounterValue(tx, SCHEMA_NAME, tenantId, 'known_error'));
  const knownError = await insertKnownError(tx, {
    tenantId,
    number,
    problemId: values.problemId,
    title: values.title,
    symptoms: values.symptoms,
    description: values.description ?? null,
    rootCause: values.rootCause ?? null,
    workaround: values.workaround ?? null,
    permanentFix: values.permanentFix ?? null,
    createdAt: now,
    updatedAt: now,
  });
  await appendEvents(tx, SCHEMA_NAME, [
    { tenantId, type: PROBLEM_EVENTS.knownErrorCreated, payload: { knownErrorId: knownError.id, number, problemId: knownError.problemId, title: knownError.title }, occurredAt: now },
  ]);
  return knownError;
}

export interface CreateKnownErrorFromProblemInput {
  problemId: string;
  /** Defaults to the problem's title. */
  title?: string | null;
  /** Defaults to the problem's description, else its title. */
  symptoms?: string | null;
}

/** Records a problem's root cause and workaround as a known error; the problem must have at least one of them. */
export async function createKnownErrorFromProblem(
  db: Db,
  identity: Identity,
  input: CreateKnownErrorFromProblemInput,
  now = new Date(),
): Promise<KnownErrorResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const errors = validationErrors(
    input.title === undefined ? null : checkText(input.title, 'input.title', { required: true, max: MAX_TITLE }),
    input.symptoms === undefined ? null : checkText(input.symptoms, 'input.symptoms', { required: true }),
  );
  if (errors.length) return failed(...errors);
  return db.transaction(async (tx) => {
    const problem = isUuid(input.problemId) ? await lockProblem(tx, identity.tenantId, input.problemId) : undefined;
    if (!problem) return failed(payloadErrors.notFound('problem', input.problemId));
    if (!problem.rootCause?.trim() && !problem.workaround?.trim()) {
      return failed(
        payloadErrors.validation({
          field: 'input.problemId',
          rule: 'rootCauseOrWorkaround',
          message: `problem ${problem.number} has neither a root cause nor a workaround to record as a known error`,
        }),
      );
    }
    const knownError = await insertNewKnownError(
      tx,
      identity.tenantId,
      {
        title: input.title?.trim() || problem.title,
        symptoms: input.symptoms?.trim() || problem.description?.trim() || problem.title,
        description: problem.description,
        rootCause: problem.rootCause,
        workaround: problem.workaround,
        permanentFix: problem.permanentFix,
        problemId: problem.id,
      },
      now,
    );
    return { knownError, errors: [] };
  });
}

export interface UpdateKnownErrorInput {
  id: string;
  version: number;
  title?: string | null;
  symptoms?: string | null;
  description?: string | null;
  rootCause?: string | null;
  workaround?: string | null;
  permanentFix?: string | null;
  /** Inactive known errors are kept but no longer matched. */
  active?: boolean | null;
}

/** Changes a known error; `version` must be the one read. */
export async function updateKnownError(db: Db, identity: Identity, input: UpdateKnownErrorInput, now = new Date()): Promise<KnownErrorResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const errors = validationErrors(
    input.title === undefined ? null : checkText(input.title, 'input.title', { required: true, max: MAX_TITLE }),
    input.symptoms === undefined ? null : checkText(input.symptoms, 'input.symptoms', { required: true }),
    checkText(input.description, 'input.description'),
    checkText(input.rootCause, 'input.rootCause'),
    checkText(input.workaround, 'input.workaround'),
    checkText(input.permanentFix, 'input.permanentFix'),
    input.active === null ? { field: 'input.active', rule: 'required', message: 'active must be true or false when given' } : null,
  );
  if (errors.length) return failed(...errors);
  const [current] = isUuid(input.id) ? await getKnownErrorsByIds(db, identity.tenantId, [input.id]) : [];
  if (!current) return failed(payloadErrors.notFound('known error', input.id));
  if (current.version !== input.version) return failed(payloadErrors.versionConflict(`known error ${current.number}`, input.version, current.version));

  const patch: Partial<KnownErrorRow> = {};
  if (input.title !== undefined) patch.title = input.title!.trim();
  if (input.symptoms !== undefined) patch.symptoms = input.symptoms!.trim();
  for (const key of ['description', 'rootCause', 'workaround', 'permanentFix'] as const) {
    if (input[key] !== undefined) patch[key] = blankToNull(input[key]);
  }
  if (input.active != null) patch.active = input.active;
  return db.transaction(async (tx) => {
    const updated = await updateKnownErrorIfVersion(tx, identity.tenantId, current.id, input.version, { ...patch, updatedAt: now });
    if (!updated) {
      const [latest] = await getKnownErrorsByIds(tx, identity.tenantId, [current.id]);
      return failed(payloadErrors.versionConflict(`known error ${current.number}`, input.version, latest?.version ?? input.version));
    }
    await appendEvents(tx, SCHEMA_NAME, [
      { tenantId: identity.tenantId, type: PROBLEM_EVENTS.knownErrorUpdated, payload: { knownErrorId: current.id, number: current.number, fields: Object.keys(patch) }, occurredAt: now },
    ]);
    return { knownError: updated, errors: [] };
  });
}

export interface LinkIncidentToKnownErrorInput {
  knownErrorId: string;
  incidentId: string;
  /** How the incident relates to the known error's problem. */
  relation?: string | null;
}

/** Records that an incident is a known error; the incident is linked to the known error's problem too. */
export async function linkIncidentToKnownError(
  db: Db,
  identity: Identity,
  input: LinkIncidentToKnownErrorInput,
  now = new Date(),
): Promise<KnownErrorResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const relation = input.relation ?? 'CAUSED_BY';
  if (!isIncidentRelationType(relation)) {
    return failed(payloadErrors.validation({ field: 'input.relation', rule: 'oneOf', message: 'relation must be CAUSED_BY, RELATED_TO or SYMPTOM_OF' }));
  }
  if (!isUuid(input.incidentId)) {
    return failed(payloadErrors.validation({ field: 'input.incidentId', rule: 'uuid', message: 'incidentId must be an incident id' }));
  }
  return db.transaction(async (tx) => {
    const [knownError] = isUuid(input.knownErrorId) ? await getKnownErrorsByIds(tx, identity.tenantId, [input.knownErrorId]) : [];
    if (!knownError) return failed(payloadErrors.notFound('known error', input.knownErrorId));
    await insertKnownErrorLink(tx, { tenantId: identity.tenantId, knownErrorId: knownError.id, incidentId: input.incidentId, linkedAt: now });
    if (knownError.problemId) {
      const problem = await lockProblem(tx, identity.tenantId, knownError.problemId);
      if (problem && problem.state !== 'CLOSED' && problem.state !== 'CANCELLED') {
        await linkIncidentsInTx(tx, identity.tenantId, problem, [{ incidentId: input.incidentId }], relation, now);
      }
    }
    return { knownError, errors: [] };
  });
}

export type CommunicateWorkaroundResult =
  | { knownError: KnownErrorRow; incidentIds: string[]; errors: [] }
  | { knownError: null; incidentIds: []; errors: PayloadError[] };

/**
 * Sends a known error's workaround to every incident linked to it or to its problem, as a
 * WORKAROUND_COMMUNICATED event: the incident subgraph writes it onto those still open.
 */
export async function communicateWorkaround(
  db: Db,
  identity: Identity,
  input: { knownErrorId: string },
  now = new Date(),
): Promise<CommunicateWorkaroundResult> {
  const fail = (...errors: PayloadError[]): CommunicateWorkaroundResult => ({ knownError: null, incidentIds: [], errors });
  if (!hasRole(identity, WRITER_ROLES)) return fail(payloadErrors.forbidden(WRITER_ROLES));
  return db.transaction(async (tx) => {
    const [knownError] = isUuid(input.knownErrorId) ? await getKnownErrorsByIds(tx, identity.tenantId, [input.knownErrorId]) : [];
    if (!knownError) return fail(payloadErrors.notFound('known error', input.knownErrorId));
    if (!knownError.workaround?.trim()) {
      return fail(payloadErrors.validation({ field: 'input.knownErrorId', rule: 'workaroundRequired', message: `known error ${knownError.number} has no workaround to communicate` }));
    }
    if (!knownError.active) return fail(payloadErrors.conflict(`known error ${knownError.number} is inactive`));
    const viaProblem = knownError.problemId ? (await getLinksByProblemIds(tx, identity.tenantId, [knownError.problemId])).map((l) => l.incidentId) : [];
    const direct = await getKnownErrorIncidentIds(tx, identity.tenantId, knownError.id);
    const incidentIds = [...new Set([...viaProblem, ...direct])];
    const marked = await markWorkaroundCommunicated(tx, identity.tenantId, knownError.id, now);
    await appendEvents(tx, SCHEMA_NAME, [
      {
        tenantId: identity.tenantId,
        type: PROBLEM_EVENTS.workaroundCommunicated,
        payload: {
          problemId: knownError.problemId,
          knownErrorId: knownError.id,
          knownErrorNumber: knownError.number,
          workaround: knownError.workaround,
          incidentIds,
          communicatedBy: identity.userId,
        },
        occurredAt: now,
      },
    ]);
    return { knownError: marked ?? knownError, incidentIds, errors: [] };
  });
}
