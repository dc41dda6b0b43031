import { describe, expect, it } from 'vitest';
import { advanceSlaClock, isPaused, startSlaClock, type IncidentSlaFacts, type SlaClock } from './task-sla.js';

const t = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);
const facts = (state: IncidentSlaFacts['state'], assignee: string | null = null): IncidentSlaFacts => ({ state, assignee });
const running = (): SlaClock => ({ startedAt: t('09:00'), pauses: [], stoppedAt: null, cancelled: false });

describe('startSlaClock', () => {
  it('starts both clocks at creation', () => {
    expect(startSlaClock('RESOLUTION', facts('NEW', 'ana'), t('09:00'))).toEqual(running());
    expect(startSlaClock('RESPONSE', facts('NEW'), t('09:00'))).toEqual(running());
  });

  it('meets the response at once when the incident is logged assigned to a person', () => {
    expect(startSlaClock('RESPONSE', facts('NEW', 'ana'), t('09:00'))).toEqual({ ...running(), stoppedAt: t('09:00') });
  });
});

describe('advanceSlaClock', () => {
  it('stops the response at the first assignment to a person, and at the first move to IN_PROGRESS', () => {
    expect(advanceSlaClock('RESPONSE', running(), facts('NEW'), facts('NEW', 'ana'), t('09:20')).stoppedAt).toEqual(t('09:20'));
    expect(advanceSlaClock('RESPONSE', running(), facts('NEW'), facts('IN_PROGRESS'), t('09:30')).stoppedAt).toEqual(t('09:30'));
    // A group is not a person.
    expect(advanceSlaClock('RESPONSE', running(), facts('NEW'), facts('NEW'), t('09:30'))).toEqual(running());
  });

  it('keeps the resolution running on assignment and stops it at RESOLVED', () => {
    const assigned = advanceSlaClock('RESOLUTION', running(), facts('NEW'), facts('IN_PROGRESS', 'ana'), t('09:30'));
    expect(assigned.stoppedAt).toBeNull();
    expect(advanceSlaClock('RESOLUTION', assigned, facts('IN_PROGRESS', 'ana'), facts('RESOLVED', 'ana'), t('11:00'))).toEqual({
      ...running(),
      stoppedAt: t('11:00'),
    });
  });

  it('pauses on hold and resumes after, for both kinds', () => {
    for (const kind of ['RESPONSE', 'RESOLUTION'] as const) {
      const held = advanceSlaClock(kind, running(), facts('NEW'), facts('ON_HOLD'), t('10:00'));
      expect(held.pauses).toEqual([{ from: t('10:00'), to: null }]);
      expect(isPaused(held)).toBe(true);
      // A new hold reason is still the same hold.
      expect(advanceSlaClock(kind, held, facts('ON_HOLD'), facts('ON_HOLD'), t('10:30'))).toBe(held);
      const resumed = advanceSlaClock(kind, held, facts('ON_HOLD'), facts('NEW'), t('11:00'));
      expect(resumed.pauses).toEqual([{ from: t('10:00'), to: t('11:00') }]);
      expect(isPaused(resumed)).toBe(false);
    }
  });

  it('closes the pause at the stop when resolving straight from hold', () => {
    const held = advanceSlaClock('RESOLUTION', running(), facts('IN_PROGRESS'), facts('ON_HOLD'), t('10:00'));
    expect(advanceSlaClock('RESOLUTION', held, facts('ON_HOLD'), facts('RESOLVED'), t('12:00'))).toEqual({
      startedAt: t('09:00'),
      pauses: [{ from: t('10:00'), to: t('12:00') }],
      stoppedAt: t('12:00'),
      cancelled: false,
    });
  });

  it('runs the resolution again on reopen, the time spent resolved counted as a pause', () => {
    const resolved = { ...running(), stoppedAt: t('11:00') };
    expect(advanceSlaClock('RESOLUTION', resolved, facts('RESOLVED'), facts('IN_PROGRESS'), t('13:00'))).toEqual({
      startedAt: t('09:00'),
      pauses: [{ from: t('11:00'), to: t('13:00') }],
      stoppedAt: null,
      cancelled: false,
    });
    // A met response stays met.
    expect(advanceSlaClock('RESPONSE', resolved, facts('RESOLVED'), facts('IN_PROGRESS'), t('13:00'))).toBe(resolved);
    // Closing a resolved incident changes nothing.
    expect(advanceSlaClock('RESOLUTION', resolved, facts('RESOLVED'), facts('CLOSED'), t('13:00'))).toBe(resolved);
  });

  it('cancels running clocks when the incident is cancelled, and leaves stopped ones alone', () => {
    const held = advanceSlaClock('RESOLUTION', running(), facts('NEW'), facts('ON_HOLD'), t('10:00'));
    expect(advanceSlaClock('RESOLUTION', held, facts('ON_HOLD'), facts('CANCELLED'), t('10:30'))).toEqual({
      startedAt: t('09:00'),
      pauses: [{ from: t('10:00'), to: t('10:30') }],
      stoppedAt: t('10:30'),
      cancelled: true,
    });
    const met = { ...running(), stoppedAt: t('09:10') };
    expect(advanceSlaClock('RESPONSE', met, facts('NEW', 'ana'), facts('CANCELLED', 'ana'), t('10:30'))).toBe(met);
  });
});
