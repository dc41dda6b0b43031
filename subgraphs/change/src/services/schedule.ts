import { hasRole, isUuid, payloadErrors, WRITER_ROLES, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { getOpenConflictsByChangeIds } from '../db/conflict-queries.js';
import { getChangesByIds, getDependenciesByChangeIds, updateChange } from '../db/queries.js';
import type { ChangeConflictRow, ChangeRequestRow } from '../db/schema.js';
import { Refusal, isRefused, transact, type ChangePayloadError } from './common.js';
import { blackoutHits, detectAndRecordConflicts, loadWindows } from './conflict-detection.js';
import { lockSchedule, scheduleLockKeys } from './locks.js';

/** States in which a change's planned interval may still be set or moved. */
export const SCHEDULABLE_STATES: ReadonlySet<string> = new Set(['NEW', 'ASSESS', 'AUTHORIZE', 'SCHEDULED']);
const MAX_PLANNED_DAYS = 90;
const DAY_MS = 24 * 60 * 60_000;

export type ScheduleResult =
  | { changeRequest: ChangeRequestRow; conflicts: ChangeConflictRow[]; errors: [] }
  | { changeRequest: null; conflicts: []; errors: ChangePayloadError[] };

/** Problems with a planned interval, naming the input fields. */
export function validatePlannedInterval(start: Date | null | undefined, end: Date | null | undefined, prefix = 'input'): PayloadError[] {
  if (start == null && end == null) return [];
  if (start == null || end == null) {
    const missing = start == null ? 'plannedStart' : 'plannedEnd';
    return [payloadErrors.validation({ field: `${prefix}.${missing}`, rule: 'required', message: 'give both plannedStart and plannedEnd' })];
  }
  if (!(end.getTime() > start.getTime())) {
    return [payloadErrors.validation({ field: `${prefix}.plannedEnd`, rule: 'order', message: 'plannedEnd must be after plannedStart' })];
  }
  if (end.getTime() - start.getTime() > MAX_PLANNED_DAYS * DAY_MS) {
    return [payloadErrors.validation({ field: `${prefix}.plannedEnd`, rule: 'range', message: `a change may be planned for at most ${MAX_PLANNED_DAYS} days` })];
  }
  return [];
}

/**
 * Refuses (rolling the transaction back) when [start, end) falls in a blackout that applies to the change, unless it
 * is an emergency. Call with the schedule locked.
 */
export async function refuseBlackout(tx: Db, tenantId: string, change: ChangeRequestRow, start: Date, end: Date): Promise<void> {
  if (change.type === 'EMERGENCY') return;
  const [hit] = blackoutHits(change, start, end, await loadWindows(tx, tenantId));
  if (!hit) return;
  throw new Refusal([
    {
      __typename: 'BlackoutRefusal',
      code: 'CONFLICT',
      message: `${change.number} cannot be scheduled into blackout "${hit.window.name}" (${hit.start.toISOString()} to ${hit.end.toISOString()}); only emergency changes may`,
      windowId: hit.window.id,
      occurrenceStart: hit.start,
      occurrenceEnd: hit.end,
    },
  ]);
}

/** Sets or moves a change's planned interval, refusing blackouts unless emergency, and records its conflicts. */
export async function scheduleChangeRequest(
  db: Db,
  identity: Identity,
  input: { changeRequestId: string; version: number; plannedStart: Date; plannedEnd: Date },
  now = new Date(),
): Promise<ScheduleResult> {
  const failed = (...errors: ChangePayloadError[]): ScheduleResult => ({ changeRequest: null, conflicts: [], errors });
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  const problems = validatePlannedInterval(input.plannedStart, input.plannedEnd);
  if (problems.length) return failed(...problems);
  const tenantId = identity.tenantId;
  const result = await transact(db, async (tx) => {
    const [change] = isUuid(input.changeRequestId) ? await getChangesByIds(tx, tenantId, [input.changeRequestId]) : [];
    if (!change) throw new Refusal([payloadErrors.notFound('change request', input.changeRequestId)]);
    if (change.version !== input.version) throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, change.version)]);
    if (!SCHEDULABLE_STATES.has(change.state)) {
      throw new Refusal([payloadErrors.conflict(`${change.number} is ${change.state} and can no longer be rescheduled`)]);
    }
    const dependencies = await getDependenciesByChangeIds(tx, tenantId, [change.id]);
    await lockSchedule(tx, tenantId, scheduleLockKeys({ ...change, dependsOnIds: dependencies.map((d) => d.dependency.id) }));
    await refuseBlackout(tx, tenantId, change, input.plannedStart, input.plannedEnd);
    const updated = await updateChange(tx, tenantId, change.id, input.version, { plannedStart: input.plannedStart, plannedEnd: input.plannedEnd, updatedAt: now });
    if (!updated) {
      const [current] = await getChangesByIds(tx, tenantId, [change.id]);
      throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, current?.version ?? input.version)]);
    }
    await detectAndRecordConflicts(tx, tenantId, change.id, now);
    return { changeRequest: updated, conflicts: await getOpenConflictsByChangeIds(tx, tenantId, [change.id]), errors: [] as [] };
  });
  return isRefused(result) ? failed(...result.refused) : result;
}
