import type { TransitionError } from '@itsm/kit';
/** Incident states, in their usual order. */
export const INCIDENT_STATES = ['NEW', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED', 'CLOSED', 'CANCELLED'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** Why an incident is on hold; its SLA clock pauses meanwhile. */
export const HOLD_REASONS = ['AWAITING_CALLER', 'AWAITING_PROBLEM', 'AWAITING_CHANGE', 'AWAITING_VENDOR'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** How an incident was resolved. */
export const RESOLUTION_CODES = [
  'RESOLVED_BY_USER',
  'RESOLVED_BY_SUPPORT',
  'HARDWARE_REPLACEMENT',
  'SOFTWARE_UPDATE',
  'CONFIGURATION_CHANGE',
  'USER_TRAINING',
  'WORKAROUND_PROVIDED',
  'ESCALATED_TO_VENDOR',
  'DUPLICATE',
  'NOT_REPRODUCIBLE',
  'USER_ERROR',
  'KNOWN_ERROR',
] as const;
export type ResolutionCode = (typeof RESOLUTION_CODES)[number];

/** What a transition may carry; only the fields the target state needs are checked. */
export interface IncidentTransitionInput {
  holdReason?: string | null;
  resolutionCode?: string | null;
  resolutionNotes?: string | null;
}

export type { TransitionError } from '@itsm/kit';

const ALLOWED: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  NEW: ['IN_PROGRESS', 'ON_HOLD', 'RESOLVED', 'CANCELLED'],
  IN_PROGRESS: ['ON_HOLD', 'RESOLVED', 'CANCELLED'],
  ON_HOLD: ['IN_PROGRESS', 'RESOLVED', 'CANCELLED'],
  RESOLVED: ['IN_PROGRESS', 'CLOSED'],
  CLOSED: [],
  CANCELLED: [],
};

const OPEN_STATES: readonly IncidentState[] = ['NEW', 'IN_PROGRESS', 'ON_HOLD'];

/** Null when `from -> to` is allowed and the input carries what `to` requires; otherwise the first reason not. */
export function checkIncidentTransition(
  from: IncidentState,
  to: IncidentState,
  input: IncidentTransitionInput = {},
): TransitionError | null {
  if (!ALLOWED[from].includes(to)) {
    return {
      code: 'INVALID_TRANSITION',
      field: 'state',
      rule: 'transition',
      message: `an incident cannot move from ${from} to ${to}`,
    };
  }
  if (to === 'ON_HOLD') return checkOneOf('holdReason', input.holdReason, HOLD_REASONS);
  if (to === 'RESOLVED') {
    const codeError = checkOneOf('resolutionCode', input.resolutionCode, RESOLUTION_CODES);
    if (codeError) return codeError;
    if (!input.resolutionNotes?.trim()) {
      return validationFailed('resolutionNotes', 'required', 'resolution notes are required to resolve an incident');
    }
  }
  return null;
}

/** True for RESOLVED -> IN_PROGRESS, which increments the incident's reopen count. */
export function isReopen(from: IncidentState, to: IncidentState): boolean {
  return from === 'RESOLVED' && to === 'IN_PROGRESS';
}

/** True while work is outstanding; RESOLVED is not open (it awaits confirmation or auto-close). */
export function isOpenState(state: IncidentState): boolean {
  return OPEN_STATES.includes(state);
}

/** True for states nothing can leave. */
export function isTerminalState(state: IncidentState): boolean {
  return ALLOWED[state].length === 0;
}

/** When a RESOLVED incident closes itself: `days` of real time after resolution, as ServiceNow's auto-close. */
export function autoCloseDue(resolvedAt: Date, days: number): Date {
  if (!Number.isFinite(days) || days < 0) throw new RangeError(`auto-close days must be >= 0, got ${days}`);
  return new Date(resolvedAt.getTime() + days * 86_400_000);
}

function checkOneOf(field: string, value: string | null | undefined, allowed: readonly string[]): TransitionError | null {
  if (!value) return validationFailed(field, 'required', `${field} is required`);
  if (!allowed.includes(value)) {
    return validationFailed(field, 'oneOf', `${field} must be one of ${allowed.join(', ')}, got ${value}`);
  }
  return null;
}

function validationFailed(field: string, rule: string, message: string): TransitionError {
  return { code: 'VALIDATION_FAILED', field, rule, message };
}
