import { hasRole, isUuid, payloadErrors, type Db, type Identity } from '@itsm/kit';
import type { CabTally } from '../domain/cab.js';
import { insertApproval } from '../db/cab-queries.js';
import { getChangeForUpdate, insertTransition, updateChange } from '../db/queries.js';
import type { ChangeRequestRow } from '../db/schema.js';
import { CHANGE_MANAGER_ROLES, optionalText, Refusal, isRefused, transact, type ChangePayloadError } from './common.js';
import type { ChangeResult } from './changes.js';

const MAX_COMMENT = 4000;

/**
 * Applies an approval decision to a change awaiting authorisation and records it: APPROVED lets it be scheduled,
 * REJECTED sends it back to NEW (a recorded transition), NO_DECISION leaves it waiting. The change row must be
 * locked by the caller.
 */
export async function applyApprovalDecision(
  tx: Db,
  change: ChangeRequestRow,
  decision: { path: string; decision: 'APPROVED' | 'REJECTED' | 'NO_DECISION'; decidedBy: string; reason: string; comment?: string | null; meetingId?: string; tally?: CabTally },
  now: Date,
): Promise<ChangeRequestRow> {
  await insertApproval(tx, {
    tenantId: change.tenantId,
    changeId: change.id,
    path: decision.path,
    meetingId: decision.meetingId ?? null,
    decision: decision.decision,
    decidedBy: decision.decidedBy,
    reason: decision.reason,
    comment: decision.comment ?? null,
    approveWeight: decision.tally?.approveWeight ?? null,
    rejectWeight: decision.tally?.rejectWeight ?? null,
    abstainWeight: decision.tally?.abstainWeight ?? null,
    votersCount: decision.tally?.votersCount ?? null,
    decidedAt: now,
  });
  if (decision.decision === 'NO_DECISION') return change;
  const rejected = decision.decision === 'REJECTED';
  const updated = await updateChange(tx, change.tenantId, change.id, change.version, {
    approvalStatus: decision.decision,
    ...(rejected ? { state: 'NEW' } : {}),
    updatedAt: now,
  });
  if (rejected) {
    await insertTransition(tx, {
      tenantId: change.tenantId,
      changeId: change.id,
      fromState: change.state,
      toState: 'NEW',
      actorId: decision.decidedBy,
      comment: decision.reason,
      occurredAt: now,
    });
  }
  return updated!;
}

/** The change manager's decision on a NORMAL change of LOW risk awaiting authorisation; rejecting needs a comment. */
export async function decideChangeApproval(
  db: Db,
  identity: Identity,
  input: { changeRequestId: string; version: number; decision: 'APPROVE' | 'REJECT'; comment?: string | null },
  now = new Date(),
): Promise<ChangeResult> {
  const failed = (...errors: ChangePayloadError[]): ChangeResult => ({ changeRequest: null, errors });
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return failed(payloadErrors.forbidden(CHANGE_MANAGER_ROLES));
  const comment = optionalText(input.comment, 'input.comment', MAX_COMMENT);
  if ('error' in comment) return failed(comment.error);
  if (input.decision === 'REJECT' && comment.text === null) {
    return failed(payloadErrors.validation({ field: 'input.comment', rule: 'required', message: 'say why the change is rejected' }));
  }
  const result = await transact(db, async (tx) => {
    const change = isUuid(input.changeRequestId) ? await getChangeForUpdate(tx, identity.tenantId, input.changeRequestId) : undefined;
    if (!change) throw new Refusal([payloadErrors.notFound('change request', input.changeRequestId)]);
    if (change.version !== input.version) throw new Refusal([payloadErrors.versionConflict(`change request ${change.number}`, input.version, change.version)]);
    if (change.state !== 'AUTHORIZE' || change.approvalStatus !== 'PENDING') {
      throw new Refusal([payloadErrors.conflict(`${change.number} is not awaiting authorisation (${change.state}, ${change.approvalStatus})`)]);
    }
    if (change.approvalPath !== 'CHANGE_MANAGER') {
      throw new Refusal([payloadErrors.conflict(`${change.number} is authorised by the ${change.approvalPath === 'CAB' ? 'CAB' : 'emergency CAB'}, not the change manager`)]);
    }
    const approved = input.decision === 'APPROVE';
    const changeRequest = await applyApprovalDecision(
      tx,
      change,
      {
        path: 'CHANGE_MANAGER',
        decision: approved ? 'APPROVED' : 'REJECTED',
        decidedBy: identity.userId,
        reason: approved ? 'Approved by the change manager' : `Rejected by the change manager: ${comment.text}`,
        comment: comment.text,
      },
      now,
    );
    return { changeRequest, errors: [] as [] };
  });
  return isRefused(result) ? failed(...result.refused) : result;
}
