import type { TransitionError } from '@itsm/kit';
/** Problem states, in their usual order. */
export const PROBLEM_STATES = [
  'NEW',
  'ASSESS',
  'ROOT_CAUSE_ANALYSIS',
  'FIX_IN_PROGRESS',
  'RESOLVED',
  'CLOSED',
  'CANCELLED',
] as const;
export type ProblemState = (typeof PROBLEM_STATES)[number];

/** How an incident is linked to a problem. */
export const INCIDENT_RELATION_TYPES = ['CAUSED_BY', 'RELATED_TO', 'SYMPTOM_OF'] as const;
export type IncidentRelationType = (typeof INCIDENT_RELATION_TYPES)[number];

/** What a transition may carry; only the fields the target state needs are checked. */
export interface ProblemTransitionInput {
  rootCause?: string | null;
}

export type { TransitionError } from '@itsm/kit';

const ALLOWED: Readonly<Record<ProblemState, readonly ProblemState[]>> = {
  NEW: ['ASSESS', 'CANCELLED'],
  ASSESS: ['ROOT_CAUSE_ANALYSIS', 'CANCELLED'],
  ROOT_CAUSE_ANALYSIS: ['FIX_IN_PROGRESS', 'RESOLVED', 'CANCELLED'],
  // Back to analysis when the fix shows the root cause was wrong.
  FIX_IN_PROGRESS: ['RESOLVED', 'ROOT_CAUSE_ANALYSIS', 'CANCELLED'],
  RESOLVED: ['CLOSED', 'ROOT_CAUSE_ANALYSIS'],
  CLOSED: [],
  CANCELLED: [],
};

/** Null when `from -> to` is allowed and the input carries what `to` requires; otherwise the first reason not. */
export function checkProblemTransition(
  from: ProblemState,
  to: ProblemState,
  input: ProblemTransitionInput = {},
): TransitionError | null {
  if (!ALLOWED[from].includes(to)) {
    return {
      code: 'INVALID_TRANSITION',
      field: 'state',
      rule: 'transition',
      message: `a problem cannot move from ${from} to ${to}`,
    };
  }
  if (to === 'RESOLVED' && !input.rootCause?.trim()) {
    return {
      code: 'VALIDATION_FAILED',
      field: 'rootCause',
      rule: 'required',
      message: 'a root cause is required to resolve a problem',
    };
  }
  return null;
}

/** True for RESOLVED -> ROOT_CAUSE_ANALYSIS: the fix did not hold and the problem is reopened. */
export function isProblemReopen(from: ProblemState, to: ProblemState): boolean {
  return from === 'RESOLVED' && to === 'ROOT_CAUSE_ANALYSIS';
}

/** True while the problem is still being worked (not RESOLVED, CLOSED or CANCELLED). */
export function isOpenProblemState(state: ProblemState): boolean {
  return state !== 'RESOLVED' && ALLOWED[state].length > 0;
}

/** Narrows an untrusted string (an imported or stored value) to a relation type. */
export function isIncidentRelationType(value: string): value is IncidentRelationType {
  return (INCIDENT_RELATION_TYPES as readonly string[]).includes(value);
}
