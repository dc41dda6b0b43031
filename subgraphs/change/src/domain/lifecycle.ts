import type { TransitionError } from '@itsm/kit';
import type { RiskLevel } from './risk.js';

/** Standard changes are pre-approved templates; normal and emergency ones need approval. */
export const CHANGE_TYPES = ['STANDARD', 'NORMAL', 'EMERGENCY'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

export const CHANGE_STATES = ['NEW', 'ASSESS', 'AUTHORIZE', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED', 'CANCELLED'] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

/** How a closed change ended. */
export const CLOSE_CODES = ['SUCCESSFUL', 'SUCCESSFUL_WITH_ISSUES', 'UNSUCCESSFUL', 'BACKED_OUT'] as const;
export type CloseCode = (typeof CLOSE_CODES)[number];

export type ApprovalPath = 'NONE' | 'CHANGE_MANAGER' | 'CAB' | 'EMERGENCY_CAB';

/** What a transition may need besides the target state; only closing needs something today. */
export interface TransitionInput {
  closeCode?: string | null;
}

export type { TransitionError } from '@itsm/kit';

// Standard changes are pre-approved, emergency changes skip assessment but still go through
// authorization and a mandatory review.
const FORWARD_PATHS: Record<ChangeType, readonly ChangeState[]> = {
  STANDARD: ['NEW', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED'],
  NORMAL: ['NEW', 'ASSESS', 'AUTHORIZE', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED'],
  EMERGENCY: ['NEW', 'AUTHORIZE', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED'],
};

// Once work has been implemented it must be reviewed and closed (e.g. BACKED_OUT), not cancelled.
const CANCELLABLE: ReadonlySet<ChangeState> = new Set(['NEW', 'ASSESS', 'AUTHORIZE', 'SCHEDULED', 'IMPLEMENT']);
// A rejected assessment or authorization sends the change back to its requester.
const REJECTABLE: ReadonlySet<ChangeState> = new Set(['ASSESS', 'AUTHORIZE']);

/** The states a change of this type may move to from `from`. */
export function allowedTransitions(type: ChangeType, from: ChangeState): ChangeState[] {
  const path = FORWARD_PATHS[type];
  const index = path.indexOf(from);
  if (index === -1) return [];
  const next: ChangeState[] = [];
  const forward = path[index + 1];
  if (forward !== undefined) next.push(forward);
  if (REJECTABLE.has(from)) next.push('NEW');
  if (CANCELLABLE.has(from)) next.push('CANCELLED');
  return next;
}

/** Null when the change may move from `from` to `to` with this input, otherwise why not. */
export function checkTransition(type: ChangeType, from: ChangeState, to: ChangeState, input: TransitionInput = {}): TransitionError | null {
  if (!allowedTransitions(type, from).includes(to)) {
    return {
      code: 'INVALID_TRANSITION',
      field: 'state',
      rule: 'transition',
      message: `A ${type.toLowerCase()} change cannot move from ${from} to ${to}`,
    };
  }
  if (to === 'CLOSED') {
    if (input.closeCode == null || input.closeCode === '') {
      return { code: 'VALIDATION_FAILED', field: 'closeCode', rule: 'required', message: 'Closing a change needs a close code' };
    }
    if (!(CLOSE_CODES as readonly string[]).includes(input.closeCode)) {
      return { code: 'VALIDATION_FAILED', field: 'closeCode', rule: 'oneOf', message: `Close code must be one of ${CLOSE_CODES.join(', ')}` };
    }
  }
  return null;
}

/** Who must approve a change of this type and risk before it can be scheduled. */
export function approvalPath(type: ChangeType, riskLevel: RiskLevel): ApprovalPath {
  switch (type) {
    case 'STANDARD':
      return 'NONE';
    case 'EMERGENCY':
      return 'EMERGENCY_CAB';
    case 'NORMAL':
      return riskLevel === 'LOW' ? 'CHANGE_MANAGER' : 'CAB';
  }
}
