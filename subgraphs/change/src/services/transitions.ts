import { hasRole, isUuid, payloadErrors, WRITER_ROLES, type Db, type Identity } from '@itsm/kit';
import { approvalPath, checkTransition, type ChangeState, type ChangeType } from '../domain/lifecycle.js';
import type { RiskLevel } from '../domain/risk.js';
import { insertApproval } from '../db/cab-queries.js';
import { getChangesByIds, getDependenciesByChangeIds, insertTransition, updateChange } from '../db/queries.js';
import type { ChangeRequestRow } from '../db/schema.js';
import { CHANGE_MANAGER_ROLES, optionalText, Refusal, isRefused, transact, type ChangePayloadError } from './common.js';
import type { ChangeResult } from './changes.js';
import { detectAndRecordConflicts } from './conflict-detection.js';
import { lockSchedule, scheduleLockKeys } from './locks.js';
import { refuseBlackout } from './schedule.js';

const MAX_COMMENT = 4000;

export interface TransitionChangeInput {
  changeRequestId: string;
  version: number;
  to: string;
  closeCode?: string | null;
  comment?: string | null;
}

/**
 * Moves a change along its type's path (domain/lifecycle), with the guards that need stored facts: authorisation
 * needs a risk assessment (normal changes) and sets the approval path; scheduling needs a planned interval, the
 * approval (unless standard) and no blackout (unless emergency); sending a change back to NEW is a change manager's
 * rejection. Cancelling or closing takes the change off the calendar and resolves its conflicts. Every move is recorded.
 */
export async function transitionChangeRequest(db: Db, identity: Identity, input: TransitionChangeInput, now = new Date()): Promise<ChangeResult> {
  const failed = (...errors: ChangePayloadError[]): ChangeResult => ({ changeRequest: null, errors });
  if (!hasRole(identity, WRITER_ROLES)) return failed(payloadErrors.forbidden(WRITER_ROLES));
  if (input.to === 'NEW' && !hasRole(identity, CHANGE_MANAGER_ROLES)) return failed(payloadErrors.forbidden(CHANGE_MANAGER_ROLES));
  const comment = optionalText(input.comment, 'input.comment', MAX_COMMENT);
  if ('error' in comment) return failed(comment.error);
  const tenantId = identity.tenantId;

  const result = await transact(db, async (tx) => {
    const [change] = isUuid(input.changeRequestId) ? await getChangesByIds(tx, tenantId, [input.changeRequestId]) : [];
    if (!change) throw new Refusal([payloadErrors.notFound('change request', input.changeRequestId)]);
    if (change.version !== input.version) throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, change.version)]);
    const from = change.state as ChangeState;
    const to = input.to as ChangeState;
    const refused = checkTransition(change.type as ChangeType, from, to, { closeCode: input.closeCode });
    if (refused) {
      throw new Refusal([payloadErrors.fromTransition(from, to, refused)]);
    }
    const values: Partial<ChangeRequestRow> = { state: to, updatedAt: now };
    const offCalendar = to === 'CANCELLED' || to === 'CLOSED';
    if (to === 'AUTHORIZE') {
      if (change.type === 'NORMAL' && change.riskLevel === null) {
        throw new Refusal([payloadErrors.invalidTransition(from, to, `${change.number} needs a risk assessment before authorisation`)]);
      }
      // An unassessed emergency goes to the emergency CAB whatever its risk.
      values.approvalPath = approvalPath(change.type as ChangeType, (change.riskLevel ?? 'HIGH') as RiskLevel);
      values.approvalStatus = 'PENDING';
    }
    if (to === 'SCHEDULED') {
      if (change.plannedStart === null || change.plannedEnd === null) {
        throw new Refusal([payloadErrors.invalidTransition(from, to, `${change.number} has no planned start and end yet`)]);
      }
      if (change.type !== 'STANDARD' && change.approvalStatus !== 'APPROVED') {
        throw new Refusal([payloadErrors.invalidTransition(from, to, `${change.number} is not approved (${change.approvalStatus})`)]);
      }
    }
    if (to === 'SCHEDULED' || offCalendar) {
      const dependencies = await getDependenciesByChangeIds(tx, tenantId, [change.id]);
      await lockSchedule(tx, tenantId, scheduleLockKeys({ ...change, dependsOnIds: dependencies.map((d) => d.dependency.id) }));
      // A blackout may have been added since the change was planned.
      if (to === 'SCHEDULED') await refuseBlackout(tx, tenantId, change, change.plannedStart!, change.plannedEnd!);
    }
    if (to === 'NEW' && from === 'AUTHORIZE') {
      values.approvalStatus = 'REJECTED';
      await insertApproval(tx, {
        tenantId,
        changeId: change.id,
        path: change.approvalPath ?? 'CHANGE_MANAGER',
        decision: 'REJECTED',
        decidedBy: identity.userId,
        reason: 'Sent back to NEW by the change manager',
        comment: comment.text,
        decidedAt: now,
      });
    }
    if (to === 'CLOSED') {
      values.closeCode = input.closeCode!;
      values.closedAt = now;
    }
    const updated = await updateChange(tx, tenantId, change.id, input.version, values);
    if (!updated) throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, input.version + 1)]);
    await insertTransition(tx, { tenantId, changeId: change.id, fromState: from, toState: to, actorId: identity.userId, comment: comment.text, occurredAt: now });
    if (offCalendar && change.plannedStart !== null) await detectAndRecordConflicts(tx, tenantId, change.id, now);
    return { changeRequest: updated, errors: [] as [] };
  });
  return isRefused(result) ? { changeRequest: null, errors: result.refused } : result;
}
