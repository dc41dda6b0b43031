import { addWorkingMinutes, workingMinutesBetween, type BusinessCalendar } from '@itsm/kit/calendar';

export interface SlaPause {
  from: Date;
  /** null while the task is still on hold. */
  to: Date | null;
}

/**
 * One task SLA clock (response or resolution). A priority change keeps startedAt and pauses and
 * only replaces targetMinutes, so the new due time counts from the original start and hold time
 * stays credited.
 */
export interface SlaState {
  startedAt: Date;
  targetMinutes: number;
  calendar: BusinessCalendar;
  pauses: readonly SlaPause[];
  stoppedAt: Date | null;
  /** A cancelled task stops the clock without the SLA counting as met. */
  cancelled?: boolean;
}

export type SlaStage = 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'CANCELLED';

export interface SlaStatus {
  dueAt: Date;
  elapsedWorkingMinutes: number;
  percentElapsed: number;
  remainingWorkingMinutes: number;
  onHoldWorkingMinutes: number;
  stage: SlaStage;
  breached: boolean;
  breachedAt: Date | null;
}

export type SlaThresholdLevel = 1 | 2 | 3 | 'BREACH';

export interface SlaThreshold {
  level: SlaThresholdLevel;
  percent: number;
  /** null when the clock is stopped or on hold before reaching it. */
  at: Date | null;
}

export const SLA_THRESHOLDS: readonly { level: SlaThresholdLevel; percent: number }[] = [
  { level: 1, percent: 70 },
  { level: 2, percent: 90 },
  { level: 'BREACH', percent: 100 },
  { level: 3, percent: 110 },
];

interface Span {
  from: number;
  to: number;
}

function assertTarget(targetMinutes: number): void {
  if (!Number.isFinite(targetMinutes) || targetMinutes <= 0) {
    throw new RangeError(`SLA target must be a positive number of minutes, got ${targetMinutes}`);
  }
}

/** Hold spans within [startMs, endMs], open pauses closed at endMs, sorted and merged so overlaps count once. */
function holdSpans(pauses: readonly SlaPause[], startMs: number, endMs: number): Span[] {
  const spans = pauses
    .map((p) => ({ from: Math.max(p.from.getTime(), startMs), to: Math.min(p.to?.getTime() ?? endMs, endMs) }))
    .filter((span) => span.to > span.from)
    .sort((a, b) => a.from - b.from);
  const merged: Span[] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span.from <= last.to) last.to = Math.max(last.to, span.to);
    else merged.push({ ...span });
  }
  return merged;
}

/** Earliest instant at which `minutes` of running (not on hold) working time have elapsed. */
function instantAfterRunning(state: SlaState, holds: readonly Span[], minutes: number): Date {
  let cursor = state.startedAt;
  let remaining = minutes;
  for (const hold of holds) {
    const available = workingMinutesBetween(state.calendar, cursor, new Date(hold.from));
    if (remaining <= available) return addWorkingMinutes(state.calendar, cursor, remaining);
    remaining -= available;
    cursor = new Date(hold.to);
  }
  return addWorkingMinutes(state.calendar, cursor, remaining);
}

/** The clock as seen at `now`; an open pause is assumed to end now, and stopping while on hold closes the pause at the stop. */
export function computeSla(state: SlaState, now: Date): SlaStatus {
  assertTarget(state.targetMinutes);
  const startMs = state.startedAt.getTime();
  const stopped = state.stoppedAt !== null && state.stoppedAt.getTime() <= now.getTime();
  const endMs = Math.max(startMs, stopped && state.stoppedAt ? state.stoppedAt.getTime() : now.getTime());
  const holds = holdSpans(state.pauses, startMs, endMs);

  const onHold = holds.reduce(
    (sum, hold) => sum + workingMinutesBetween(state.calendar, new Date(hold.from), new Date(hold.to)),
    0,
  );
  const elapsed = workingMinutesBetween(state.calendar, state.startedAt, new Date(endMs)) - onHold;
  // Walking the running spans (rather than start + target + hold) keeps a breach before a later pause at its real instant.
  const dueAt = instantAfterRunning(state, holds, state.targetMinutes);
  const breached = dueAt.getTime() <= endMs;
  const paused = state.pauses.some((p) => p.from <= now && (p.to === null || p.to > now));

  return {
    dueAt,
    elapsedWorkingMinutes: elapsed,
    percentElapsed: (elapsed / state.targetMinutes) * 100,
    remainingWorkingMinutes: state.targetMinutes - elapsed,
    onHoldWorkingMinutes: onHold,
    stage: stopped ? (state.cancelled ? 'CANCELLED' : 'COMPLETED') : paused ? 'PAUSED' : 'RUNNING',
    breached,
    breachedAt: breached ? dueAt : null,
  };
}

/** When each warning, escalation and the breach fall, so timers can be scheduled; recompute after every pause, resume or target change. */
export function thresholdInstants(state: SlaState): SlaThreshold[] {
  assertTarget(state.targetMinutes);
  const startMs = state.startedAt.getTime();
  const openPauseStarts = state.pauses.filter((p) => p.to === null).map((p) => p.from.getTime());
  const frozenAt = Math.max(startMs, Math.min(state.stoppedAt?.getTime() ?? Infinity, ...openPauseStarts));
  const holds = holdSpans(
    state.pauses.filter((p) => p.to !== null),
    startMs,
    frozenAt,
  );
  return SLA_THRESHOLDS.map(({ level, percent }) => {
    const at = instantAfterRunning(state, holds, (state.targetMinutes * percent) / 100);
    return { level, percent, at: at.getTime() <= frozenAt ? at : null };
  });
}
