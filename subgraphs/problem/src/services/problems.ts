import { isUuid, nextCounterValue, payloadErrors, hasRole, WRITER_ROLES, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { getProblemsByIds, insertIncidentLink, insertProblem } from '../db/queries.js';
import { SCHEMA_NAME, type ProblemRow } from '../db/schema.js';
import { isIncidentRelationType } from '../domain/lifecycle.js';

export type ProblemResult = { problem: ProblemRow; errors: [] } | { problem: null; errors: PayloadError[] };

const MAX_TITLE = 255;

/** PRB, the year the problem was opened and six digits of the tenant's yearly sequence. */
export function formatProblemNumber(year: number, value: number): string {
  return `PRB${year}${String(value).padStart(6, '0')}`;
}

export interface CreateProblemInput {
  title: string;
  description?: string | null;
  externalRef?: string | null;
}

/** Records a problem in state NEW. */
export async function createProblem(db: Db, identity: Identity, input: CreateProblemInput, now = new Date()): Promise<ProblemResult> {
  if (!hasRole(identity, WRITER_ROLES)) return { problem: null, errors: [payloadErrors.forbidden(WRITER_ROLES)] };
  const title = input.title?.trim() ?? '';
  if (!title) return { problem: null, errors: [payloadErrors.validation({ field: 'input.title', rule: 'required', message: 'title must not be empty' })] };
  if (title.length > MAX_TITLE) {
    return { problem: null, errors: [payloadErrors.validation({ field: 'input.title', rule: 'maxLength', message: `title must be at most ${MAX_TITLE} characters` })] };
  }
  return db.transaction(async (tx) => {
    const year = now.getUTCFullYear();
    const value = await nextCounterValue(tx, SCHEMA_NAME, identity.tenantId, `problem:${year}`);
    const problem = await insertProblem(tx, {
      tenantId: identity.tenantId,
      number: formatProblemNumber(year, value),
      title,
      description: input.description ?? null,
      state: 'NEW',
      externalRef: input.externalRef ?? null,
      openedAt: now,
      createdAt: now,
      updatedAt: now,
    });
    return { problem, errors: [] };
  });
}

/** Links an incident (an id of the incident subgraph) to a problem; linking twice keeps one link. */
export async function linkIncident(
  db: Db,
  identity: Identity,
  input: { problemId: string; incidentId: string; relation: string },
  now = new Date(),
): Promise<ProblemResult> {
  if (!hasRole(identity, WRITER_ROLES)) return { problem: null, errors: [payloadErrors.forbidden(WRITER_ROLES)] };
  if (!isIncidentRelationType(input.relation)) {
    return { problem: null, errors: [payloadErrors.validation({ field: 'input.relation', rule: 'oneOf', message: 'relation must be CAUSED_BY, RELATED_TO or SYMPTOM_OF' })] };
  }
  if (!isUuid(input.incidentId)) {
    return { problem: null, errors: [payloadErrors.validation({ field: 'input.incidentId', rule: 'uuid', message: 'incidentId must be an incident id' })] };
  }
  const [problem] = isUuid(input.problemId) ? await getProblemsByIds(db, identity.tenantId, [input.problemId]) : [];
  if (!problem) return { problem: null, errors: [payloadErrors.notFound('problem', input.problemId)] };
  await insertIncidentLink(db, {
    tenantId: identity.tenantId,
    problemId: problem.id,
    incidentId: input.incidentId,
    relation: input.relation,
    linkedAt: now,
  });
  return { problem, errors: [] };
}
