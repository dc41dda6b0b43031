import { describe, expect, it } from 'vitest';
import { expandWindow, validateWindow, windowApplies, type CalendarWindow, type Interval } from './windows.js';

const iso = (occurrences: Interval[]) => occurrences.map((o) => [o.start.toISOString(), o.end.toISOString()]);
const at = (value: string) => new Date(value);

// 2026-03-07 is a Saturday; Berlin switches to summer time on Sunday 2026-03-29 and back on Sunday 2026-10-25.
const berlinSaturdayBlackout: CalendarWindow = {
  kind: 'BLACKOUT',
  timeZone: 'Europe/Berlin',
  start: '2026-03-07T00:00',
  durationMinutes: 360,
  rrule: 'FREQ=WEEKLY;BYDAY=SA',
  scope: { all: true },
};

describe('expandWindow', () => {
  it('keeps a Berlin Saturday 00:00-06:00 window at 00:00 local across the March DST change', () => {
    expect(iso(expandWindow(berlinSaturdayBlackout, at('2026-03-16T00:00Z'), at('2026-04-12T00:00Z')))).toEqual([
      ['2026-03-20T23:00:00.000Z', '2026-03-21T05:00:00.000Z'], // Sat 21 March, CET (+01:00)
      ['2026-03-27T23:00:00.000Z', '2026-03-28T05:00:00.000Z'], // Sat 28 March, the night before the change
      ['2026-04-03T22:00:00.000Z', '2026-04-04T04:00:00.000Z'], // Sat 4 April, CEST (+02:00)
      ['2026-04-10T22:00:00.000Z', '2026-04-11T04:00:00.000Z'],
    ]);
  });

  it('keeps it at 00:00 local across the October DST change', () => {
    expect(iso(expandWindow(berlinSaturdayBlackout, at('2026-10-20T00:00Z'), at('2026-11-08T00:00Z')))).toEqual([
      ['2026-10-23T22:00:00.000Z', '2026-10-24T04:00:00.000Z'], // Sat 24 October, CEST
      ['2026-10-30T23:00:00.000Z', '2026-10-31T05:00:00.000Z'], // Sat 31 October, CET
      ['2026-11-06T23:00:00.000Z', '2026-11-07T05:00:00.000Z'],
    ]);
  });

  it('returns occurrences that overlap the range only partly, but not ones that merely touch it', () => {
    const occurrences = expandWindow(berlinSaturdayBlackout, at('2026-03-21T04:00Z'), at('2026-03-27T23:00Z'));
    expect(iso(occurrences)).toEqual([['2026-03-20T23:00:00.000Z', '2026-03-21T05:00:00.000Z']]);
  });

  it('ends a window at its local end time on the night the clocks change', () => {
    // Sunday 29 March 00:00-06:00 local lasts five real hours.
    const sunday = { ...berlinSaturdayBlackout, start: '2026-03-29T00:00', rrule: null };
    expect(iso(expandWindow(sunday, at('2026-03-28T00:00Z'), at('2026-03-30T00:00Z')))).toEqual([
      ['2026-03-28T23:00:00.000Z', '2026-03-29T04:00:00.000Z'],
    ]);
  });

  it('moves a wall time in the spring gap forward and takes the first of a repeated autumn hour', () => {
    const daily: CalendarWindow = { ...berlinSaturdayBlackout, start: '2026-03-01T02:30', durationMinutes: 30, rrule: 'FREQ=DAILY' };
    expect(expandWindow(daily, at('2026-03-29T00:00Z'), at('2026-03-29T12:00Z'))[0]?.start.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(expandWindow(daily, at('2026-10-25T00:00Z'), at('2026-10-25T12:00Z'))[0]?.start.toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('expands a one-off window once', () => {
    const oneOff: CalendarWindow = {
      kind: 'MAINTENANCE',
      timeZone: 'America/New_York',
      start: '2026-05-01T22:00',
      durationMinutes: 120,
      rrule: null,
      scope: { configurationItems: ['ci-db-1'], services: [] },
    };
    expect(iso(expandWindow(oneOff, at('2026-04-01T00:00Z'), at('2026-06-01T00:00Z')))).toEqual([
      ['2026-05-02T02:00:00.000Z', '2026-05-02T04:00:00.000Z'],
    ]);
    expect(expandWindow(oneOff, at('2026-05-02T04:00Z'), at('2026-06-01T00:00Z'))).toEqual([]);
  });

  it('expands a monthly rule on the first Sunday in local time', () => {
    const monthly: CalendarWindow = { ...berlinSaturdayBlackout, kind: 'MAINTENANCE', start: '2026-01-04T02:00', durationMinutes: 240, rrule: 'FREQ=MONTHLY;BYDAY=1SU' };
    expect(expandWindow(monthly, at('2026-01-01T00:00Z'), at('2026-05-01T00:00Z')).map((o) => o.start.toISOString())).toEqual([
      '2026-01-04T01:00:00.000Z',
      '2026-02-01T01:00:00.000Z',
      '2026-03-01T01:00:00.000Z',
      '2026-04-05T00:00:00.000Z',
    ]);
  });

  it('honours COUNT and a UTC UNTIL', () => {
    const twice = { ...berlinSaturdayBlackout, rrule: 'FREQ=WEEKLY;BYDAY=SA;COUNT=2' };
    expect(expandWindow(twice, at('2026-01-01T00:00Z'), at('2027-01-01T00:00Z'))).toHaveLength(2);
    // UNTIL 23:00Z is 00:00 local on 11 March, so that night's occurrence is the last one.
    const daily = { ...berlinSaturdayBlackout, start: '2026-03-08T00:00', rrule: 'FREQ=DAILY;UNTIL=20260310T230000Z' };
    expect(expandWindow(daily, at('2026-03-01T00:00Z'), at('2026-04-01T00:00Z')).map((o) => o.start.toISOString())).toEqual([
      '2026-03-07T23:00:00.000Z',
      '2026-03-08T23:00:00.000Z',
      '2026-03-09T23:00:00.000Z',
      '2026-03-10T23:00:00.000Z',
    ]);
  });
});

describe('validateWindow', () => {
  it('accepts a well-formed window', () => {
    expect(validateWindow(berlinSaturdayBlackout)).toEqual([]);
  });

  it('refuses an unknown zone, an impossible start and out-of-range durations', () => {
    expect(validateWindow({ ...berlinSaturdayBlackout, timeZone: 'Europe/Atlantis' })).toMatchObject([{ field: 'timeZone', rule: 'format' }]);
    expect(validateWindow({ ...berlinSaturdayBlackout, start: '2026-02-30T00:00' })).toMatchObject([{ field: 'start', rule: 'format' }]);
    expect(validateWindow({ ...berlinSaturdayBlackout, start: '2026-03-07 00:00' })).toMatchObject([{ field: 'start', rule: 'format' }]);
    expect(validateWindow({ ...berlinSaturdayBlackout, durationMinutes: 0 })).toMatchObject([{ field: 'durationMinutes', rule: 'range' }]);
    expect(validateWindow({ ...berlinSaturdayBlackout, durationMinutes: 366 * 24 * 60 + 1 })).toMatchObject([{ field: 'durationMinutes', rule: 'range' }]);
    expect(validateWindow({ ...berlinSaturdayBlackout, durationMinutes: 366 * 24 * 60 })).toEqual([]);
  });

  it('reports the library error for a bad rule and refuses rules it would silently misread', () => {
    for (const rrule of ['FREQ=WEEKLY;BYDAY=XX', 'FOO=1', 'FREQ=BOGUS', 'BYDAY=SA', 'FREQ=MINUTELY', 'DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY']) {
      expect(validateWindow({ ...berlinSaturdayBlackout, rrule }), rrule).toMatchObject([{ field: 'rrule', rule: 'format' }]);
    }
    expect(validateWindow({ ...berlinSaturdayBlackout, rrule: 'FOO=1' })[0]?.message).toContain("Unknown RRULE property 'FOO'");
  });

  it('refuses a rule that never occurs without searching to year 9999', () => {
    const started = Date.now();
    for (const rrule of ['FREQ=MONTHLY;BYMONTHDAY=40', 'FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30', 'FREQ=HOURLY;BYMONTHDAY=40']) {
      expect(validateWindow({ ...berlinSaturdayBlackout, rrule }), rrule).toMatchObject([{ field: 'rrule', rule: 'range' }]);
    }
    // Searching to year 9999 takes over 10 seconds for each of the last two rules.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('accepts a rare but real rule such as a leap day', () => {
    expect(validateWindow({ ...berlinSaturdayBlackout, start: '2028-02-29T00:00', rrule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29' })).toEqual([]);
  });

  it('refuses a scope that names nothing', () => {
    expect(validateWindow({ ...berlinSaturdayBlackout, scope: { configurationItems: [], services: [] } })).toMatchObject([
      { field: 'scope', rule: 'required' },
    ]);
  });
});

describe('windowApplies', () => {
  const target = { configurationItems: ['ci-web-1', 'ci-db-1'], services: ['svc-shop'] };

  it('applies an all-scope window to anything', () => {
    expect(windowApplies({ scope: { all: true } }, { configurationItems: [], services: [] })).toBe(true);
  });

  it('applies a scoped window when a configuration item or a service is shared', () => {
    expect(windowApplies({ scope: { configurationItems: ['ci-db-1'], services: [] } }, target)).toBe(true);
    expect(windowApplies({ scope: { configurationItems: [], services: ['svc-shop'] } }, target)).toBe(true);
    expect(windowApplies({ scope: { configurationItems: ['ci-mail'], services: ['svc-hr'] } }, target)).toBe(false);
  });
});
