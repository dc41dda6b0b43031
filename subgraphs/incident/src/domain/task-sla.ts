import type { IncidentState } from './lifecycle.js';
import type { SlaPause } from './sla.js';

/** The two task SLAs every incident carries. */
export const SLA_KINDS = ['RESPONSE', 'RESOLUTION'] as const;
export type SlaKind = (typeof SLA_KINDS)[number];

/** What a task SLA's clock remembers; with a calendar and a target it becomes the domain's SlaState. */
export interface SlaClock {
  startedAt: Date;
  pauses: SlaPause[];
  stoppedAt: Date | null;
  cancelled: boolean;
}

/** The facts of an incident that move its SLA clocks. */
export interface IncidentSlaFacts {
  state: IncidentState;
  assignee: string | null;
}

/**
 * The clock of a new incident's task SLA. The response SLA of an incident logged already assigned to a
 * person is met at once.
 */
export function startSlaClock(kind: SlaKind, incident: IncidentSlaFacts, now: Date): SlaClock {
  const clock: SlaClock = { startedAt: now, pauses: [], stoppedAt: null, cancelled: false };
  return kind === 'RESPONSE' && respondsTo(incident) ? { ...clock, stoppedAt: now } : clock;
}

/**
 * The clock after an incident changed from `before` to `after` at `now`:
 * - both pause while ON_HOLD and resume when the incident leaves it;
 * - response stops at the first assignment to a person or the first move to IN_PROGRESS (or a resolution);
 * - resolution stops at RESOLVED; on reopen it runs again, the time spent resolved counted like time on hold;
 * - CANCELLED cancels a running clock (it neither meets nor breaches afterwards).
 * A stopped clock (other than a reopened resolution) never changes again. Returns the same object when nothing changes.
 */
export function advanceSlaClock(kind: SlaKind, clock: SlaClock, before: IncidentSlaFacts, after: IncidentSlaFacts, now: Date): SlaClock {
  if (clock.stoppedAt) {
    const reopened = kind === 'RESOLUTION' && !clock.cancelled && before.state === 'RESOLVED' && after.state === 'IN_PROGRESS';
    if (!reopened) return clock;
    return { ...clock, stoppedAt: null, pauses: [...clock.pauses, { from: clock.stoppedAt, to: now }] };
  }
  if (after.state === 'CANCELLED') return stop(clock, now, true);
  const stops = kind === 'RESPONSE' ? respondsTo(after) || after.state === 'RESOLVED' : after.state === 'RESOLVED';
  // Resolving straight from hold closes the pause at the stop, so the hold adds no running time.
  if (stops) return stop(clock, now, false);
  const paused = isPaused(clock);
  if (after.state === 'ON_HOLD' && !paused) return { ...clock, pauses: [...clock.pauses, { from: now, to: null }] };
  if (after.state !== 'ON_HOLD' && paused) return { ...clock, pauses: closePause(clock.pauses, now) };
  return clock;
}

/** True while the clock has an open pause. */
export function isPaused(clock: Pick<SlaClock, 'pauses'>): boolean {
  return clock.pauses.some((pause) => pause.to === null);
}

function respondsTo(incident: IncidentSlaFacts): boolean {
  return incident.assignee !== null || incident.state === 'IN_PROGRESS';
}

function stop(clock: SlaClock, now: Date, cancelled: boolean): SlaClock {
  return { ...clock, pauses: closePause(clock.pauses, now), stoppedAt: now, cancelled };
}

function closePause(pauses: readonly SlaPause[], now: Date): SlaPause[] {
  return pauses.map((pause) => (pause.to === null ? { from: pause.from, to: now } : pause));
}
