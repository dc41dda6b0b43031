import { hasRole, isUuid, nextCounterValue, payloadErrors, WRITER_ROLES, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { CHANGE_TYPES } from '../domain/lifecycle.js';
import {
  dependencyPathExists,
  getChangesByIds,
  getDependenciesByChangeIds,
  insertChange,
  insertChangeIncident,
  insertChangeProblem,
  insertTransition,
  replaceDependencies,
  updateChange,
} from '../db/queries.js';
import { SCHEMA_NAME, type ChangeRequestRow } from '../db/schema.js';
import { getTemplatesByIds } from '../db/template-queries.js';
import { normaliseItems, optionalText, Refusal, isRefused, transact, type ChangePayloadError } from './common.js';
import { detectAndRecordConflicts } from './conflict-detection.js';
import { lockSchedule, scheduleLockKeys } from './locks.js';
import { refuseBlackout, SCHEDULABLE_STATES, validatePlannedInterval } from './schedule.js';

export { CHANGE_TYPES };
/** A change request or why not; E widens to this subgraph's own errors only where they can occur. */
export type ChangeResult<E = ChangePayloadError> = { changeRequest: ChangeRequestRow; errors: [] } | { changeRequest: null; errors: E[] };

const MAX_TITLE = 255;
const MAX_DESCRIPTION = 20_000;
const MAX_PLAN = 20_000;
const MAX_ASSIGNEE = 200;
const MAX_DEPENDENCIES = 20;

function failed<E extends ChangePayloadError>(...errors: E[]): ChangeResult<E> {
  return { changeRequest: null, errors };
}

/** CHG, the year the change was raised and six digits of the tenant's yearly sequence. */
export function formatChangeNumber(year: number, value: number): string {
  return `CHG${year}${String(value).padStart(6, '0')}`;
}

export interface CreateChangeInput {
  title: string;
  description?: string | null;
  type: string;
  /** Source reference of an imported record; imported STANDARD changes need no template (the source approved them). */
  externalRef?: string | null;
  templateId?: string | null;
  implementationPlan?: string | null;
  backoutPlan?: string | null;
  testPlan?: string | null;
  configurationItems?: string[] | null;
  services?: string[] | null;
  assigneeId?: string | null;
  dependsOn?: string[] | null;
  plannedStart?: Date | null;
  plannedEnd?: Date | null;
}

/** The editable fields of a change: undefined leaves a field as it is, null clears it. */
export interface ChangeFieldsInput {
  description?: string | null;
  implementationPlan?: string | null;
  backoutPlan?: string | null;
  testPlan?: string | null;
  configurationItems?: string[] | null;
  services?: string[] | null;
  assigneeId?: string | null;
  dependsOn?: string[] | null;
}

type CheckedFields = {
  description?: string | null;
  implementationPlan?: string | null;
  backoutPlan?: string | null;
  testPlan?: string | null;
  configurationItems?: string[];
  services?: string[];
  assigneeId?: string | null;
  dependsOn?: string[];
};

/** Validates the editable fields that were given; errors name the input field. */
function checkFields(input: ChangeFieldsInput): { fields: CheckedFields } | { errors: PayloadError[] } {
  const errors: PayloadError[] = [];
  const fields: CheckedFields = {};
  const texts = [
    ['description', MAX_DESCRIPTION],
    ['implementationPlan', MAX_PLAN],
    ['backoutPlan', MAX_PLAN],
    ['testPlan', MAX_PLAN],
    ['assigneeId', MAX_ASSIGNEE],
  ] as const;
  for (const [name, max] of texts) {
    if (input[name] === undefined) continue;
    const checked = optionalText(input[name], `input.${name}`, max);
    if ('error' in checked) errors.push(checked.error);
    else fields[name] = checked.text;
  }
  for (const name of ['configurationItems', 'services'] as const) {
    if (input[name] === undefined) continue;
    const checked = normaliseItems(input[name], `input.${name}`);
    if ('error' in checked) errors.push(checked.error);
    else fields[name] = checked.items;
  }
  if (input.dependsOn !== undefined) {
    const ids = [...new Set(input.dependsOn ?? [])];
    if (ids.some((id) => !isUuid(id))) errors.push(payloadErrors.validation({ field: 'input.dependsOn', rule: 'uuid', message: 'dependsOn must list change request ids' }));
    else if (ids.length > MAX_DEPENDENCIES) errors.push(payloadErrors.validation({ field: 'input.dependsOn', rule: 'maxItems', message: `at most ${MAX_DEPENDENCIES} dependencies` }));
    else fields.dependsOn = ids;
  }
  return errors.length ? { errors } : { fields };
}

function checkTitle(raw: string | null | undefined): { title: string } | { error: PayloadError } {
  const title = raw?.trim() ?? '';
  if (!title) return { error: payloadErrors.validation({ field: 'input.title', rule: 'required', message: 'title must not be empty' }) };
  if (title.length > MAX_TITLE) {
    return { error: payloadErrors.validation({ field: 'input.title', rule: 'maxLength', message: `title must be at most ${MAX_TITLE} characters` }) };
  }
  return { title };
}

/** Refuses dependencies that do not exist in the tenant, name the change itself or would close a cycle. */
async function checkDependencies(tx: Db, tenantId: string, changeId: string | null, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  if (changeId !== null && ids.includes(changeId)) {
    throw new Refusal([payloadErrors.validation({ field: 'input.dependsOn', rule: 'notSelf', message: 'a change cannot depend on itself' })]);
  }
  const found = new Set((await getChangesByIds(tx, tenantId, ids)).map((c) => c.id));
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw new Refusal([payloadErrors.notFound('change request', missing)]);
  if (changeId !== null && (await dependencyPathExists(tx, tenantId, ids, changeId))) {
    throw new Refusal([payloadErrors.validation({ field: 'input.dependsOn', rule: 'acyclic', message: 'these dependencies would make the change depend on itself' })]);
  }
}

/**
 * Raises a change request in state NEW. A STANDARD change must come from an APPROVED template (whose plans and items
 * fill what the input leaves out); giving a planned interval schedules it at once, with conflict detection.
 */
export async function createChangeRequest(
  db: Db,
  identity: Identity,
  input: CreateChangeInput & { plannedStart?: null; plannedEnd?: null },
  now?: Date,
): Promise<ChangeResult<PayloadError>>;
export async function createChangeRequest(db: Db, identity: Identity, input: CreateChangeInput, now?: Date): Promise<ChangeResult>;
export async function createChangeRequest(db: Db, identity: Identity, input: CreateChangeInput, now = new Date()): Promise<ChangeResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const title = checkTitle(input.title);
  if ('error' in title) return failed(title.error);
  if (!(CHANGE_TYPES as readonly string[]).includes(input.type)) {
    return failed(payloadErrors.validation({ field: 'input.type', rule: 'oneOf', message: 'type must be STANDARD, NORMAL or EMERGENCY' }));
  }
  const standard = input.type === 'STANDARD';
  if (input.templateId != null && !standard) {
    return failed(payloadErrors.validation({ field: 'input.templateId', rule: 'standardOnly', message: 'only standard changes are raised from a template' }));
  }
  if (standard && input.templateId == null && input.externalRef == null) {
    return failed(payloadErrors.validation({ field: 'input.templateId', rule: 'required', message: 'a standard change must be raised from an approved standard-change template' }));
  }
  if (input.templateId != null && !isUuid(input.templateId)) return failed(payloadErrors.notFound('standard change template', input.templateId));
  const checked = checkFields({ ...input, dependsOn: input.dependsOn ?? undefined });
  if ('errors' in checked) return failed(...checked.errors);
  const intervalProblems = validatePlannedInterval(input.plannedStart, input.plannedEnd);
  if (intervalProblems.length) return failed(...intervalProblems);
  const { fields } = checked;
  const tenantId = identity.tenantId;

  const result = await transact(db, async (tx) => {
    let template: Awaited<ReturnType<typeof getTemplatesByIds>>[number] | undefined;
    if (input.templateId != null) {
      [template] = await getTemplatesByIds(tx, tenantId, [input.templateId]);
      if (!template) throw new Refusal([payloadErrors.notFound('standard change template', input.templateId)]);
      if (template.state !== 'APPROVED') {
        throw new Refusal([payloadErrors.validation({ field: 'input.templateId', rule: 'approved', message: `template "${template.name}" is ${template.state}, not APPROVED` })]);
      }
    }
    const dependsOn = fields.dependsOn ?? [];
    await checkDependencies(tx, tenantId, null, dependsOn);
    const values = {
      tenantId,
      title: title.title,
      description: fields.description ?? null,
      type: input.type,
      state: 'NEW',
      externalRef: input.externalRef ?? null,
      templateId: template?.id ?? null,
      implementationPlan: fields.implementationPlan ?? template?.implementationPlan ?? null,
      backoutPlan: fields.backoutPlan ?? template?.backoutPlan ?? null,
      testPlan: fields.testPlan ?? template?.testPlan ?? null,
      configurationItems: fields.configurationItems ?? template?.configurationItems ?? [],
      services: fields.services ?? template?.services ?? [],
      assigneeId: fields.assigneeId ?? null,
      plannedStart: input.plannedStart ?? null,
      plannedEnd: input.plannedEnd ?? null,
      // Standard changes are pre-assessed and pre-approved by their template.
      riskLevel: standard ? 'LOW' : null,
      approvalPath: standard ? 'NONE' : null,
      approvalStatus: standard ? 'NOT_REQUIRED' : 'NOT_REQUESTED',
      openedAt: now,
      createdAt: now,
      updatedAt: now,
    };
    const planned = input.plannedStart != null && input.plannedEnd != null;
    if (planned) {
      // Nobody knows the new change's id yet; its items, assignee and dependencies are what others contend on.
      await lockSchedule(tx, tenantId, scheduleLockKeys({ ...values, id: null, dependsOnIds: dependsOn }));
    }
    const year = now.getUTCFullYear();
    const number = formatChangeNumber(year, await nextCounterValue(tx, SCHEMA_NAME, tenantId, `change:${year}`));
    if (planned) await refuseBlackout(tx, tenantId, { ...values, number } as ChangeRequestRow, input.plannedStart!, input.plannedEnd!);
    const changeRequest = await insertChange(tx, { ...values, number });
    await insertTransition(tx, { tenantId, changeId: changeRequest.id, fromState: null, toState: 'NEW', actorId: identity.userId, occurredAt: now });
    await replaceDependencies(tx, tenantId, changeRequest.id, dependsOn);
    if (planned) await detectAndRecordConflicts(tx, tenantId, changeRequest.id, now);
    return { changeRequest, errors: [] as [] };
  });
  return isRefused(result) ? failed(...result.refused) : result;
}

/** Edits a change before implementation; new items, assignee or dependencies of a planned change re-run detection. */
export async function updateChangeRequest(
  db: Db,
  identity: Identity,
  input: ChangeFieldsInput & { changeRequestId: string; version: number; title?: string | null },
  now = new Date(),
): Promise<ChangeResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  let title: string | undefined;
  if (input.title !== undefined) {
    const checkedTitle = checkTitle(input.title);
    if ('error' in checkedTitle) return failed(checkedTitle.error);
    title = checkedTitle.title;
  }
  const checked = checkFields(input);
  if ('errors' in checked) return failed(...checked.errors);
  const { fields } = checked;
  const tenantId = identity.tenantId;

  const result = await transact(db, async (tx) => {
    const [change] = isUuid(input.changeRequestId) ? await getChangesByIds(tx, tenantId, [input.changeRequestId]) : [];
    if (!change) throw new Refusal([payloadErrors.notFound('change request', input.changeRequestId)]);
    if (change.version !== input.version) throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, change.version)]);
    if (!SCHEDULABLE_STATES.has(change.state)) throw new Refusal([payloadErrors.conflict(`${change.number} is ${change.state} and can no longer be edited`)]);
    const oldDependencies = (await getDependenciesByChangeIds(tx, tenantId, [change.id])).map((d) => d.dependency.id);
    if (fields.dependsOn) await checkDependencies(tx, tenantId, change.id, fields.dependsOn);
    const next = { ...change, ...fields, title: title ?? change.title };
    const scheduleTouched =
      change.plannedStart !== null &&
      (!sameSet(change.configurationItems, next.configurationItems) ||
        !sameSet(change.services, next.services) ||
        change.assigneeId !== next.assigneeId ||
        (fields.dependsOn !== undefined && !sameSet(oldDependencies, fields.dependsOn)));
    if (scheduleTouched) {
      await lockSchedule(tx, tenantId, [
        ...scheduleLockKeys({ ...change, dependsOnIds: oldDependencies }),
        ...scheduleLockKeys({ ...next, dependsOnIds: fields.dependsOn ?? oldDependencies }),
      ]);
      await refuseBlackout(tx, tenantId, next, change.plannedStart!, change.plannedEnd!);
    }
    const { dependsOn, ...columns } = fields;
    const updated = await updateChange(tx, tenantId, change.id, input.version, { ...columns, title: next.title, updatedAt: now });
    if (!updated) throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, input.version + 1)]);
    if (dependsOn !== undefined) await replaceDependencies(tx, tenantId, change.id, dependsOn);
    if (scheduleTouched) await detectAndRecordConflicts(tx, tenantId, change.id, now);
    return { changeRequest: updated, errors: [] as [] };
  });
  return isRefused(result) ? failed(...result.refused) : result;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v) => b.includes(v));
}

/** Links a change request to an incident or a problem of the other subgraphs (by id); linking twice keeps one link. */
export async function linkChange(
  db: Db,
  identity: Identity,
  input: { changeRequestId: string; incidentId?: string; problemId?: string },
  now = new Date(),
): Promise<ChangeResult<PayloadError>> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const [field, targetId] = input.incidentId !== undefined ? ['input.incidentId', input.incidentId] : ['input.problemId', input.problemId ?? ''];
  if (!isUuid(targetId)) return failed(payloadErrors.validation({ field, rule: 'uuid', message: `${field.slice(6)} must be an id` }));
  const [change] = isUuid(input.changeRequestId) ? await getChangesByIds(db, identity.tenantId, [input.changeRequestId]) : [];
  if (!change) return failed(payloadErrors.notFound('change request', input.changeRequestId));
  const link = { tenantId: identity.tenantId, changeId: change.id, linkedAt: now };
  if (input.incidentId !== undefined) await insertChangeIncident(db, { ...link, incidentId: targetId });
  else await insertChangeProblem(db, { ...link, problemId: targetId });
  return { changeRequest: change, errors: [] };
}
