import { payloadErrors, type Db, type FieldProblem, type Identity, type PayloadError } from '@itsm/kit';
import { getIncidentsByIds, insertHistory, updateIncidentIfVersion } from '../db/queries.js';
import type { IncidentRow } from '../db/schema.js';
import type { IncidentResult } from './incidents.js';

/** What an import knows better than a replay: the source system's own counters and times. */
export interface ImportedIncidentFactsInput {
  id: string;
  version: number;
  /** The source's reassignment count; a replay only sees the changes that made it into the export. */
  reassignmentCount: number;
  reopenCount: number;
  /** The source's resolution time; undefined keeps the replayed one. */
  resolvedAt?: Date;
  /** The source's closure time; undefined keeps the replayed one. */
  closedAt?: Date;
}

/** Fields in the order they are checked and recorded in the history. */
const FACT_FIELDS = [
  ['reassignmentCount', 'reassignment_count'],
  ['reopenCount', 'reopen_count'],
  ['resolvedAt', 'resolved_at'],
  ['closedAt', 'closed_at'],
] as const;

/**
 * Records an imported incident's source counters and times on the incident (admin only), after its history was
 * replayed through the lifecycle services. Same rules as every update: validated first, compare-and-set on
 * `version`, a history entry per changed field; nothing changes when the values are already the stored ones.
 */
export async function recordImportedIncidentFacts(
  db: Db,
  identity: Identity,
  input: ImportedIncidentFactsInput,
  now = new Date(),
): Promise<IncidentResult> {
  if (!identity.roles.includes('admin')) return { incident: null, errors: [payloadErrors.forbidden(['admin'])] };
  const [current] = await getIncidentsByIds(db, identity.tenantId, [input.id]);
  if (!current) return { incident: null, errors: [payloadErrors.notFound('incident', input.id)] };
  if (current.version !== input.version) {
    return { incident: null, errors: [payloadErrors.versionConflict(`incident ${current.number}`, input.version, current.version)] };
  }
  const problems = checkFacts(current, input);
  if (problems.length) return { incident: null, errors: problems.map(payloadErrors.validation) };

  const patch: Partial<IncidentRow> = {};
  const history: { field: string; fromValue: string | null; toValue: string | null }[] = [];
  for (const [key, field] of FACT_FIELDS) {
    const value = input[key];
    if (value === undefined || sameValue(current[key], value)) continue;
    Object.assign(patch, { [key]: value });
    history.push({ field, fromValue: show(current[key]), toValue: show(value) });
  }
  if (!history.length) return { incident: current, errors: [] };

  return db.transaction(async (tx) => {
    const updated = await updateIncidentIfVersion(tx, current.tenantId, current.id, input.version, { ...patch, updatedAt: now });
    if (!updated) {
      const [winner] = await getIncidentsByIds(tx, current.tenantId, [current.id]);
      return { incident: null, errors: [payloadErrors.versionConflict(`incident ${current.number}`, input.version, winner?.version ?? input.version)] };
    }
    await insertHistory(
      tx,
      history.map((h) => ({ tenantId: identity.tenantId, incidentId: current.id, at: now, actor: identity.userId, reason: 'source value', ...h })),
    );
    return { incident: updated, errors: [] as [] };
  });
}

function checkFacts(current: IncidentRow, input: ImportedIncidentFactsInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const key of ['reassignmentCount', 'reopenCount'] as const) {
    const value = input[key];
    if (!Number.isInteger(value) || value < 0) {
      problems.push({ field: `input.${key}`, rule: 'range', message: `${key} must be a non-negative integer, got ${value}` });
    }
  }
  const resolvedAt = input.resolvedAt ?? current.resolvedAt;
  if (input.resolvedAt !== undefined) {
    if (!['RESOLVED', 'CLOSED'].includes(current.state)) {
      problems.push({ field: 'input.resolvedAt', rule: 'state', message: `a ${current.state} incident has no resolution time` });
    } else if (!(input.resolvedAt instanceof Date) || Number.isNaN(input.resolvedAt.getTime()) || input.resolvedAt < current.openedAt) {
      problems.push({ field: 'input.resolvedAt', rule: 'range', message: 'resolvedAt must be a time at or after openedAt' });
    }
  }
  if (input.closedAt !== undefined) {
    if (!['CLOSED', 'CANCELLED'].includes(current.state)) {
      problems.push({ field: 'input.closedAt', rule: 'state', message: `a ${current.state} incident has no closure time` });
    } else if (!(input.closedAt instanceof Date) || Number.isNaN(input.closedAt.getTime()) || input.closedAt < (resolvedAt ?? current.openedAt)) {
      problems.push({ field: 'input.closedAt', rule: 'range', message: 'closedAt must be a time at or after resolvedAt (or openedAt)' });
    }
  }
  return problems;
}

function sameValue(stored: number | Date | null, value: number | Date): boolean {
  if (stored instanceof Date && value instanceof Date) return stored.getTime() === value.getTime();
  return stored === value;
}

function show(value: number | Date | null): string | null {
  if (value === null) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}
