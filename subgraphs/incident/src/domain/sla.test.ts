import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import type { BusinessCalendar } from '@itsm/kit/calendar';
import { computeSla, thresholdInstants, type SlaState } from './sla.js';

const PARIS = 'Europe/Paris';

function officeHours(timeZone: string, start: string, end: string): BusinessCalendar {
  const hours = [{ start, end }];
  return { timeZone, kind: 'business', workingHours: { 1: hours, 2: hours, 3: hours, 4: hours, 5: hours }, holidays: [] };
}

const office = officeHours(PARIS, '08:00', '18:00');
const always: BusinessCalendar = { timeZone: PARIS, kind: '24x7', workingHours: {}, holidays: [] };

function at(local: string, zone = PARIS): Date {
  return DateTime.fromISO(local, { zone }).toJSDate();
}

function local(date: Date | null, zone = PARIS): string | null {
  return date && DateTime.fromJSDate(date, { zone }).toISO();
}

function sla(overrides: Partial<SlaState> & Pick<SlaState, 'startedAt' | 'targetMinutes'>): SlaState {
  return { calendar: office, pauses: [], stoppedAt: null, ...overrides };
}

describe('computeSla', () => {
  it('carries a late-afternoon start over to the next working day', () => {
    const status = computeSla(sla({ startedAt: at('2026-03-02T17:00'), targetMinutes: 240 }), at('2026-03-02T17:30'));
    expect(local(status.dueAt)).toBe('2026-03-03T11:00:00.000+01:00');
    expect(status).toMatchObject({
      elapsedWorkingMinutes: 30,
      percentElapsed: 12.5,
      remainingWorkingMinutes: 210,
      onHoldWorkingMinutes: 0,
      stage: 'RUNNING',
      breached: false,
      breachedAt: null,
    });
  });

  it('counts a 24x7 target in real time across midnight', () => {
    const status = computeSla(
      sla({ calendar: always, startedAt: at('2026-03-02T22:00'), targetMinutes: 240 }),
      at('2026-03-02T23:00'),
    );
    expect(local(status.dueAt)).toBe('2026-03-03T02:00:00.000+01:00');
    expect(status.elapsedWorkingMinutes).toBe(60);
  });

  it('uses the calendar zone (America/Chicago, summer and winter)', () => {
    const chicago = officeHours('America/Chicago', '09:00', '17:00');
    const summer = sla({ calendar: chicago, startedAt: at('2020-06-18T08:00', 'America/Chicago'), targetMinutes: 60 });
    const winter = sla({ calendar: chicago, startedAt: at('2020-12-01T08:00', 'America/Chicago'), targetMinutes: 60 });
    expect(computeSla(summer, summer.startedAt).dueAt.toISOString()).toBe('2020-06-18T15:00:00.000Z');
    expect(computeSla(winter, winter.startedAt).dueAt.toISOString()).toBe('2020-12-01T16:00:00.000Z');
  });

  it('skips holidays (Europe/London)', () => {
    const london: BusinessCalendar = {
      ...officeHours('Europe/London', '09:00', '17:00'),
      holidays: [
        { date: '2026-12-25', recurring: false },
        { date: '2026-12-28', recurring: false },
      ],
    };
    const state = sla({ calendar: london, startedAt: at('2026-12-24T16:00', 'Europe/London'), targetMinutes: 240 });
    expect(local(computeSla(state, state.startedAt).dueAt, 'Europe/London')).toBe('2026-12-29T12:00:00.000+00:00');
  });

  it('credits the working time spent on hold', () => {
    const state = sla({
      startedAt: at('2026-01-09T13:00'),
      targetMinutes: 480,
      pauses: [{ from: at('2026-01-09T17:00'), to: at('2026-01-12T09:00') }],
    });
    const status = computeSla(state, at('2026-01-12T10:00'));
    expect(local(status.dueAt)).toBe('2026-01-12T13:00:00.000+01:00');
    expect(status).toMatchObject({
      elapsedWorkingMinutes: 300,
      onHoldWorkingMinutes: 120,
      remainingWorkingMinutes: 180,
      stage: 'RUNNING',
      breached: false,
    });
  });

  it('is PAUSED during an open hold and projects the due time as if resumed now', () => {
    const state = sla({
      startedAt: at('2026-01-09T13:00'),
      targetMinutes: 480,
      pauses: [{ from: at('2026-01-09T17:00'), to: null }],
    });
    const status = computeSla(state, at('2026-01-12T09:00'));
    expect(status.stage).toBe('PAUSED');
    expect(status.elapsedWorkingMinutes).toBe(240);
    expect(status.onHoldWorkingMinutes).toBe(120);
    expect(local(status.dueAt)).toBe('2026-01-12T13:00:00.000+01:00');
  });

  it('stops the clock when resolved straight from hold, counting no running time after the pause', () => {
    const state = sla({
      startedAt: at('2026-03-02T10:00'),
      targetMinutes: 240,
      pauses: [{ from: at('2026-03-02T12:00'), to: null }],
      stoppedAt: at('2026-03-02T16:00'),
    });
    const status = computeSla(state, at('2026-03-03T09:00'));
    expect(status).toMatchObject({
      stage: 'COMPLETED',
      elapsedWorkingMinutes: 120,
      onHoldWorkingMinutes: 240,
      breached: false,
      breachedAt: null,
    });
  });

  it('freezes elapsed time at the stop and reports a breach that happened before it', () => {
    const state = sla({ startedAt: at('2026-03-02T10:00'), targetMinutes: 240, stoppedAt: at('2026-03-02T15:00') });
    const status = computeSla(state, at('2026-03-05T12:00'));
    expect(status).toMatchObject({
      stage: 'COMPLETED',
      elapsedWorkingMinutes: 300,
      percentElapsed: 125,
      remainingWorkingMinutes: -60,
      breached: true,
    });
    expect(local(status.breachedAt)).toBe('2026-03-02T14:00:00.000+01:00');
  });

  it('marks a cancelled clock CANCELLED', () => {
    const state = sla({ startedAt: at('2026-03-02T10:00'), targetMinutes: 240, stoppedAt: at('2026-03-02T11:00'), cancelled: true });
    expect(computeSla(state, at('2026-03-02T12:00')).stage).toBe('CANCELLED');
    expect(computeSla(state, at('2026-03-02T10:30')).stage).toBe('RUNNING');
  });

  it('breaches exactly at the due time and keeps counting past 100 %', () => {
    const state = sla({ startedAt: at('2026-03-02T10:00'), targetMinutes: 240 });
    expect(computeSla(state, at('2026-03-02T13:59:59.999')).breached).toBe(false);
    const atDue = computeSla(state, at('2026-03-02T14:00'));
    expect(atDue.breached).toBe(true);
    expect(local(atDue.breachedAt)).toBe('2026-03-02T14:00:00.000+01:00');
    const late = computeSla(state, at('2026-03-03T09:00'));
    expect(late).toMatchObject({ elapsedWorkingMinutes: 540, percentElapsed: 225, remainingWorkingMinutes: -300, breached: true });
  });

  it('keeps a breach at its real instant when the task goes on hold afterwards', () => {
    const state = sla({
      calendar: always,
      startedAt: at('2026-03-02T09:00'),
      targetMinutes: 60,
      pauses: [{ from: at('2026-03-02T11:00'), to: at('2026-03-02T12:00') }],
    });
    const status = computeSla(state, at('2026-03-02T13:00'));
    expect(local(status.breachedAt)).toBe('2026-03-02T10:00:00.000+01:00');
    expect(status.elapsedWorkingMinutes).toBe(180);
  });

  it('recalculates a priority change from the original start, crediting hold time', () => {
    const asP3 = sla({ calendar: always, startedAt: at('2026-03-02T09:00'), targetMinutes: 480 });
    expect(local(computeSla(asP3, at('2026-03-02T10:00')).dueAt)).toBe('2026-03-02T17:00:00.000+01:00');
    const asP2 = computeSla({ ...asP3, targetMinutes: 240 }, at('2026-03-02T10:00'));
    expect(local(asP2.dueAt)).toBe('2026-03-02T13:00:00.000+01:00');
    expect(asP2.breached).toBe(false);

    const heldP3 = { ...asP3, pauses: [{ from: at('2026-03-02T09:30'), to: at('2026-03-02T10:30') }] };
    expect(local(computeSla({ ...heldP3, targetMinutes: 240 }, at('2026-03-02T11:00')).dueAt)).toBe(
      '2026-03-02T14:00:00.000+01:00',
    );
  });

  it('breaches at once when a raised priority puts the new due time in the past', () => {
    const asP3 = sla({ calendar: always, startedAt: at('2026-03-02T09:00'), targetMinutes: 480 });
    const asP1 = computeSla({ ...asP3, targetMinutes: 60 }, at('2026-03-02T11:00'));
    expect(asP1.breached).toBe(true);
    expect(local(asP1.breachedAt)).toBe('2026-03-02T10:00:00.000+01:00');
    expect(asP1.dueAt).toEqual(asP1.breachedAt);
  });

  it('rejects a non-positive target', () => {
    expect(() => computeSla(sla({ startedAt: at('2026-03-02T10:00'), targetMinutes: 0 }), new Date())).toThrow(RangeError);
  });
});

describe('thresholdInstants', () => {
  const levels = (state: SlaState) => thresholdInstants(state).map(({ level, percent, at }) => [level, percent, local(at)]);

  it('places warnings, breach and escalation on working time', () => {
    expect(levels(sla({ startedAt: at('2026-03-02T10:00'), targetMinutes: 240 }))).toEqual([
      [1, 70, '2026-03-02T12:48:00.000+01:00'],
      [2, 90, '2026-03-02T13:36:00.000+01:00'],
      ['BREACH', 100, '2026-03-02T14:00:00.000+01:00'],
      [3, 110, '2026-03-02T14:24:00.000+01:00'],
    ]);
  });

  it('shifts the thresholds after a closed hold and leaves earlier ones in place', () => {
    const state = sla({
      startedAt: at('2026-03-02T10:00'),
      targetMinutes: 240,
      pauses: [{ from: at('2026-03-02T13:00'), to: at('2026-03-02T15:00') }],
    });
    expect(levels(state)).toEqual([
      [1, 70, '2026-03-02T12:48:00.000+01:00'],
      [2, 90, '2026-03-02T15:36:00.000+01:00'],
      ['BREACH', 100, '2026-03-02T16:00:00.000+01:00'],
      [3, 110, '2026-03-02T16:24:00.000+01:00'],
    ]);
  });

  it('leaves thresholds unscheduled while on hold or after the stop', () => {
    const onHold = sla({
      startedAt: at('2026-03-02T10:00'),
      targetMinutes: 240,
      pauses: [{ from: at('2026-03-02T13:00'), to: null }],
    });
    expect(levels(onHold)).toEqual([
      [1, 70, '2026-03-02T12:48:00.000+01:00'],
      [2, 90, null],
      ['BREACH', 100, null],
      [3, 110, null],
    ]);
    const resolved = sla({ startedAt: at('2026-03-02T10:00'), targetMinutes: 240, stoppedAt: at('2026-03-02T14:00') });
    expect(levels(resolved).map(([level, , instant]) => [level, instant !== null])).toEqual([
      [1, true],
      [2, true],
      ['BREACH', true],
      [3, false],
    ]);
  });

  it('gives correct local instants across the spring DST change', () => {
    const everyDay = {
      ...office,
      workingHours: { ...office.workingHours, 6: [{ start: '08:00', end: '18:00' }], 7: [{ start: '08:00', end: '18:00' }] },
    };
    const state = sla({ calendar: everyDay, startedAt: at('2026-03-28T16:00'), targetMinutes: 240 });
    expect(levels(state)).toEqual([
      [1, 70, '2026-03-29T08:48:00.000+02:00'],
      [2, 90, '2026-03-29T09:36:00.000+02:00'],
      ['BREACH', 100, '2026-03-29T10:00:00.000+02:00'],
      [3, 110, '2026-03-29T10:24:00.000+02:00'],
    ]);
    const roundTheClock = sla({ calendar: always, startedAt: at('2026-03-29T00:00'), targetMinutes: 240 });
    expect(local(computeSla(roundTheClock, roundTheClock.startedAt).dueAt)).toBe('2026-03-29T05:00:00.000+02:00');
  });
});
