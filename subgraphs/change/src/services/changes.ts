import { isUuid, nextCounterValue, payloadErrors, hasRole, WRITER_ROLES, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { getChangesByIds, insertChange, insertChangeIncident, insertChangeProblem } from '../db/queries.js';
import { SCHEMA_NAME, type ChangeRequestRow } from '../db/schema.js';

export type ChangeResult = { changeRequest: ChangeRequestRow; errors: [] } | { changeRequest: null; errors: PayloadError[] };

const MAX_TITLE = 255;
export const CHANGE_TYPES = ['STANDARD', 'NORMAL', 'EMERGENCY'] as const;

function failed(...errors: PayloadError[]): ChangeResult {
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
  externalRef?: string | null;
}

/** Raises a change request in state NEW. */
export async function createChangeRequest(db: Db, identity: Identity, input: CreateChangeInput, now = new Date()): Promise<ChangeResult> {
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const title = input.title?.trim() ?? '';
  if (!title) return failed(payloadErrors.validation({ field: 'input.title', rule: 'required', message: 'title must not be empty' }));
  if (title.length > MAX_TITLE) {
    return failed(payloadErrors.validation({ field: 'input.title', rule: 'maxLength', message: `title must be at most ${MAX_TITLE} characters` }));
  }
  if (!(CHANGE_TYPES as readonly string[]).includes(input.type)) {
    return failed(payloadErrors.validation({ field: 'input.type', rule: 'oneOf', message: 'type must be STANDARD, NORMAL or EMERGENCY' }));
  }
  return db.transaction(async (tx) => {
    const year = now.getUTCFullYear();
    const value = await nextCounterValue(tx, SCHEMA_NAME, identity.tenantId, `change:${year}`);
    const changeRequest = await insertChange(tx, {
      tenantId: identity.tenantId,
      number: formatChangeNumber(year, value),
      title,
      description: input.description ?? null,
      type: input.type,
      state: 'NEW',
      externalRef: input.externalRef ?? null,
      openedAt: now,
      createdAt: now,
      updatedAt: now,
    });
    return { changeRequest, errors: [] };
  });
}

/** Links a change request to an incident or a problem of the other subgraphs (by id); linking twice keeps one link. */
export async function linkChange(
  db: Db,
  identity: Identity,
  input: { changeRequestId: string; incidentId?: string; problemId?: string },
  now = new Date(),
): Promise<ChangeResult> {
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
