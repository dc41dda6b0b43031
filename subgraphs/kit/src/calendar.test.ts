import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addWorkingMinutes,
  nextWorkingInstant,
  validateCalendar,
  workingMinutesBetween,
  type BusinessCalendar,
  type Holiday,
  type WorkingInterval,
} from './calendar.js';

function weekdays(intervals: WorkingInterval[], days = [1, 2, 3, 4, 5]): BusinessCalendar['workingHours'] {
  return Object.fromEntries(days.map((day) => [day, intervals]));
}

function business(timeZone: string, intervals: WorkingInterval[], holidays: Holiday[] = [], days?: number[]): BusinessCalendar {
  return { timeZone, kind: 'business', workingHours: weekdays(intervals, days), holidays };
}

const officeParis = business('Europe/Paris', [{ start: '08:00', end: '18:00' }]);
const alwaysParis: BusinessCalendar = { timeZone: 'Europe/Paris', kind: '24x7', workingHours: {}, holidays: [] };

/** A local wall-clock time in `zone` as an instant. */
function at(local: string, zone: string): Date {
  const dateTime = DateTime.fromISO(local, { zone });
  if (!dateTime.isValid) throw new Error(`bad test time ${local}`);
  return dateTime.toJSDate();
}

/** An instant as local ISO with offset, so expectations read like wall-clock times. */
function local(date: Date, zone: string): string {
  return DateTime.fromJSDate(date, { zone }).toISO()!;
}

describe('validateCalendar', () => {
  it('accepts a well-formed calendar, touching intervals and a 24:00 end', () => {
    const calendar = business(
      'Europe/Paris',
      [
        { start: '00:00', end: '12:00' },
        { start: '12:00', end: '24:00' },
      ],
      [
        { date: '2026-12-25', recurring: true },
        { date: '2026-04-06', recurring: false },
      ],
    );
    expect(validateCalendar(calendar)).toEqual([]);
    expect(validateCalendar(alwaysParis)).toEqual([]);
  });

  it('rejects an unknown time zone', () => {
    expect(validateCalendar({ ...officeParis, timeZone: 'Europe/Atlantis' })).toEqual([
      { field: 'timeZone', rule: 'invalid-zone', message: '"Europe/Atlantis" is not an IANA time zone' },
    ]);
  });

  it('rejects malformed times, 24:00 as a start and an end not after the start', () => {
    const calendar: BusinessCalendar = {
      ...officeParis,
      workingHours: {
        1: [{ start: '8:00', end: '18:00' }],
        2: [{ start: '09:00', end: '25:00' }],
        3: [{ start: '24:00', end: '24:00' }],
        4: [{ start: '18:00', end: '08:00' }],
        5: [{ start: '10:00', end: '10:00' }],
      },
    };
    expect(validateCalendar(calendar).map((p) => [p.field, p.rule])).toEqual([
      ['workingHours.1[0].start', 'invalid-time'],
      ['workingHours.2[0].end', 'invalid-time'],
      ['workingHours.3[0].start', 'invalid-time'],
      ['workingHours.4[0]', 'start-not-before-end'],
      ['workingHours.5[0]', 'start-not-before-end'],
      ['workingHours', 'no-working-time'],
    ]);
  });

  it('rejects unsorted and overlapping intervals', () => {
    const calendar: BusinessCalendar = {
      ...officeParis,
      workingHours: {
        1: [
          { start: '13:00', end: '17:00' },
          { start: '08:00', end: '12:00' },
        ],
        2: [
          { start: '08:00', end: '12:00' },
          { start: '11:30', end: '17:00' },
        ],
      },
    };
    expect(validateCalendar(calendar).map((p) => [p.field, p.rule])).toEqual([
      ['workingHours.1', 'unsorted'],
      ['workingHours.2[1]', 'overlap'],
    ]);
  });

  it('rejects weekdays outside 1-7', () => {
    const calendar = { ...officeParis, workingHours: { ...officeParis.workingHours, 8: [] } } as BusinessCalendar;
    expect(validateCalendar(calendar).map((p) => [p.field, p.rule])).toEqual([['workingHours.8', 'invalid-weekday']]);
  });

  it('rejects invalid and duplicate holidays, including a one-off already covered by a recurring one', () => {
    const calendar: BusinessCalendar = {
      ...officeParis,
      holidays: [
        { date: '2026-02-30', recurring: false },
        { date: '2026/05/01', recurring: false },
        { date: '2026-07-14', recurring: false },
        { date: '2026-07-14', recurring: false },
        { date: '2020-12-25', recurring: true },
        { date: '2026-12-25', recurring: true },
        { date: '2027-12-25', recurring: false },
      ],
    };
    expect(validateCalendar(calendar).map((p) => [p.field, p.rule])).toEqual([
      ['holidays[0].date', 'invalid-date'],
      ['holidays[1].date', 'invalid-date'],
      ['holidays[3].date', 'duplicate'],
      ['holidays[5].date', 'duplicate'],
      ['holidays[6].date', 'duplicate'],
    ]);
  });

  it('requires working time on a business calendar only', () => {
    const empty: BusinessCalendar = { timeZone: 'UTC', kind: 'business', workingHours: {}, holidays: [] };
    expect(validateCalendar(empty).map((p) => p.rule)).toEqual(['no-working-time']);
    expect(validateCalendar({ ...empty, kind: '24x7' })).toEqual([]);
  });
});

describe('addWorkingMinutes', () => {
  const zone = 'Europe/Paris';

  it('carries over the night into the next working day', () => {
    expect(local(addWorkingMinutes(officeParis, at('2026-03-02T17:00', zone), 240), zone)).toBe(
      '2026-03-03T11:00:00.000+01:00',
    );
  });

  it('stays within the day when the target fits', () => {
    expect(local(addWorkingMinutes(officeParis, at('2026-03-02T10:00', zone), 240), zone)).toBe(
      '2026-03-02T14:00:00.000+01:00',
    );
  });

  it('leaves a due time landing exactly on the end of a working interval there', () => {
    const friday = at('2026-01-09T13:00', zone);
    expect(local(addWorkingMinutes(officeParis, friday, 300), zone)).toBe('2026-01-09T18:00:00.000+01:00');
    expect(local(addWorkingMinutes(officeParis, friday, 300.5), zone)).toBe('2026-01-12T08:00:30.000+01:00');
    expect(local(addWorkingMinutes(officeParis, friday, 480), zone)).toBe('2026-01-12T11:00:00.000+01:00');
  });

  it('begins a start outside working time at the next working instant', () => {
    expect(local(addWorkingMinutes(officeParis, at('2026-03-02T06:30', zone), 60), zone)).toBe(
      '2026-03-02T09:00:00.000+01:00',
    );
    expect(local(addWorkingMinutes(officeParis, at('2026-03-07T12:00', zone), 60), zone)).toBe(
      '2026-03-09T09:00:00.000+01:00',
    );
  });

  it('treats zero minutes as already elapsed', () => {
    const saturday = at('2026-03-07T12:00', zone);
    expect(addWorkingMinutes(officeParis, saturday, 0)).toEqual(saturday);
  });

  it('skips the gap between several intervals of a day', () => {
    const lunchBreak = business(zone, [
      { start: '08:00', end: '12:00' },
      { start: '13:00', end: '17:00' },
    ]);
    expect(local(addWorkingMinutes(lunchBreak, at('2026-03-02T11:00', zone), 120), zone)).toBe(
      '2026-03-02T14:00:00.000+01:00',
    );
    expect(local(addWorkingMinutes(lunchBreak, at('2026-03-02T11:00', zone), 60), zone)).toBe(
      '2026-03-02T12:00:00.000+01:00',
    );
  });

  it('crosses midnight from a 24:00 end into a 00:00 start', () => {
    const nightShift: BusinessCalendar = {
      timeZone: zone,
      kind: 'business',
      workingHours: { 1: [{ start: '22:00', end: '24:00' }], 2: [{ start: '00:00', end: '06:00' }] },
      holidays: [],
    };
    expect(local(addWorkingMinutes(nightShift, at('2026-03-02T23:00', zone), 180), zone)).toBe(
      '2026-03-03T02:00:00.000+01:00',
    );
    expect(local(addWorkingMinutes(nightShift, at('2026-03-02T12:00', zone), 120), zone)).toBe(
      '2026-03-03T00:00:00.000+01:00',
    );
  });

  it('is real time on a 24x7 calendar', () => {
    expect(local(addWorkingMinutes(alwaysParis, at('2026-03-02T22:00', zone), 240), zone)).toBe(
      '2026-03-03T02:00:00.000+01:00',
    );
    const tokyo: BusinessCalendar = { ...alwaysParis, timeZone: 'Asia/Tokyo' };
    expect(addWorkingMinutes(tokyo, new Date('2026-06-01T22:00:00Z'), 240).toISOString()).toBe('2026-06-02T02:00:00.000Z');
  });

  it('uses the calendar zone, whatever its offset on the day (America/Chicago)', () => {
    const chicago = business('America/Chicago', [{ start: '09:00', end: '17:00' }]);
    expect(addWorkingMinutes(chicago, at('2020-06-18T08:00', 'America/Chicago'), 60).toISOString()).toBe(
      '2020-06-18T15:00:00.000Z',
    );
    expect(addWorkingMinutes(chicago, at('2020-12-01T08:00', 'America/Chicago'), 60).toISOString()).toBe(
      '2020-12-01T16:00:00.000Z',
    );
  });

  it('skips holidays and the weekend between them (Europe/London)', () => {
    const london = business('Europe/London', [{ start: '09:00', end: '17:00' }], [
      { date: '2026-12-25', recurring: false },
      { date: '2026-12-28', recurring: false },
    ]);
    expect(local(addWorkingMinutes(london, at('2026-12-24T16:00', 'Europe/London'), 240), 'Europe/London')).toBe(
      '2026-12-29T12:00:00.000+00:00',
    );
  });

  it('applies a recurring holiday in another year, and a one-off holiday only in its year', () => {
    const london = business('Europe/London', [{ start: '09:00', end: '17:00' }], [
      { date: '2019-12-25', recurring: true },
      { date: '2019-12-24', recurring: false },
    ]);
    // Thu 24 Dec 2026 is worked (the one-off was 2019), Fri 25 Dec 2026 is the recurring holiday.
    expect(local(addWorkingMinutes(london, at('2026-12-24T16:00', 'Europe/London'), 120), 'Europe/London')).toBe(
      '2026-12-28T10:00:00.000+00:00',
    );
  });

  it('rejects negative or non-finite minutes', () => {
    expect(() => addWorkingMinutes(officeParis, new Date(), -1)).toThrow(RangeError);
    expect(() => addWorkingMinutes(officeParis, new Date(), Number.NaN)).toThrow(RangeError);
  });
});

describe('daylight saving time', () => {
  const zone = 'Europe/Paris';

  it('counts real elapsed time on a 24x7 calendar across the spring change', () => {
    expect(local(addWorkingMinutes(alwaysParis, at('2026-03-28T23:00', zone), 240), zone)).toBe(
      '2026-03-29T04:00:00.000+02:00',
    );
    expect(workingMinutesBetween(alwaysParis, at('2026-03-29T00:00', zone), at('2026-03-30T00:00', zone))).toBe(1380);
  });

  it('gives a whole-day interval its real length on change days', () => {
    const allDay = business(zone, [{ start: '00:00', end: '24:00' }], [], [1, 2, 3, 4, 5, 6, 7]);
    expect(workingMinutesBetween(allDay, at('2026-03-29T00:00', zone), at('2026-03-30T00:00', zone))).toBe(23 * 60);
    expect(workingMinutesBetween(allDay, at('2026-10-25T00:00', zone), at('2026-10-26T00:00', zone))).toBe(25 * 60);
    expect(local(addWorkingMinutes(allDay, at('2026-03-29T00:00', zone), 180), zone)).toBe('2026-03-29T04:00:00.000+02:00');
  });

  it('keeps local office hours across the change', () => {
    const everyDay = business(zone, [{ start: '08:00', end: '18:00' }], [], [1, 2, 3, 4, 5, 6, 7]);
    expect(local(addWorkingMinutes(everyDay, at('2026-03-28T17:00', zone), 120), zone)).toBe(
      '2026-03-29T09:00:00.000+02:00',
    );
    expect(local(addWorkingMinutes(everyDay, at('2026-03-29T17:00', zone), 120), zone)).toBe(
      '2026-03-30T09:00:00.000+02:00',
    );
    expect(local(addWorkingMinutes(officeParis, at('2026-03-27T17:00', zone), 120), zone)).toBe(
      '2026-03-30T09:00:00.000+02:00',
    );
    expect(local(addWorkingMinutes(officeParis, at('2026-10-23T17:00', zone), 120), zone)).toBe(
      '2026-10-26T09:00:00.000+01:00',
    );
    expect(workingMinutesBetween(everyDay, at('2026-03-28T00:00', zone), at('2026-03-31T00:00', zone))).toBe(3 * 600);
  });
});

describe('workingMinutesBetween', () => {
  const zone = 'Europe/Paris';

  it('counts only working time, to the fraction of a minute', () => {
    expect(workingMinutesBetween(officeParis, at('2026-03-02T17:00', zone), at('2026-03-03T11:00', zone))).toBe(240);
    expect(workingMinutesBetween(officeParis, at('2026-03-06T17:00', zone), at('2026-03-09T08:30:30', zone))).toBe(90.5);
    expect(workingMinutesBetween(officeParis, at('2026-03-07T00:00', zone), at('2026-03-08T23:59', zone))).toBe(0);
  });

  it('is zero when to is not after from', () => {
    const t = at('2026-03-02T10:00', zone);
    expect(workingMinutesBetween(officeParis, t, t)).toBe(0);
    expect(workingMinutesBetween(officeParis, t, at('2026-03-02T09:00', zone))).toBe(0);
    expect(workingMinutesBetween(alwaysParis, t, at('2026-03-02T09:00', zone))).toBe(0);
  });

  it('is the inverse of addWorkingMinutes on seeded random samples', () => {
    const calendars: BusinessCalendar[] = [
      business(
        'Europe/Paris',
        [
          { start: '08:00', end: '12:00' },
          { start: '13:30', end: '18:00' },
        ],
        [
          { date: '2026-05-01', recurring: true },
          { date: '2026-04-06', recurring: false },
        ],
      ),
      business('America/Chicago', [{ start: '09:00', end: '17:00' }]),
      business('Australia/Lord_Howe', [{ start: '00:00', end: '24:00' }], [], [6, 7]),
      business('Europe/London', [{ start: '22:00', end: '24:00' }], [{ date: '2026-12-25', recurring: true }]),
    ];
    const random = mulberry32(20260329);
    const yearStart = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 400; i++) {
      const calendar = calendars[i % calendars.length]!;
      const start = new Date(yearStart + Math.floor(random() * 365 * 86_400_000));
      const minutes = Math.round(random() * 5000 * 1000) / 1000;
      const due = addWorkingMinutes(calendar, start, minutes);
      expect(workingMinutesBetween(calendar, start, due)).toBeCloseTo(minutes, 9);
      // Earliest: a millisecond before the due time the target has not yet elapsed.
      expect(workingMinutesBetween(calendar, start, new Date(due.getTime() - 1))).toBeLessThan(minutes);

      const end = new Date(start.getTime() + Math.floor(random() * 40 * 86_400_000));
      const worked = workingMinutesBetween(calendar, start, end);
      const reached = addWorkingMinutes(calendar, start, worked);
      expect(reached.getTime()).toBeLessThanOrEqual(end.getTime());
      expect(workingMinutesBetween(calendar, reached, end)).toBe(0);
    }
  });

  it('computes a one-year span without per-minute work', () => {
    const from = at('2026-01-01T00:00', zone);
    const to = at('2027-01-01T00:00', zone);
    workingMinutesBetween(officeParis, from, to); // warm-up
    const started = performance.now();
    const minutes = workingMinutesBetween(officeParis, from, to);
    const due = addWorkingMinutes(officeParis, from, minutes);
    const duration = performance.now() - started;
    expect(minutes).toBe(261 * 600);
    expect(local(due, zone)).toBe('2026-12-31T18:00:00.000+01:00');
    expect(duration).toBeLessThan(100);
  });
});

describe('nextWorkingInstant', () => {
  const zone = 'Europe/Paris';
  const calendar = business(zone, [{ start: '08:00', end: '18:00' }], [{ date: '2026-03-09', recurring: false }]);

  it('returns the instant itself inside working time, including the start of an interval', () => {
    expect(local(nextWorkingInstant(calendar, at('2026-03-02T10:15', zone)), zone)).toBe('2026-03-02T10:15:00.000+01:00');
    expect(local(nextWorkingInstant(calendar, at('2026-03-02T08:00', zone)), zone)).toBe('2026-03-02T08:00:00.000+01:00');
  });

  it('moves past interval ends, weekends and holidays', () => {
    expect(local(nextWorkingInstant(calendar, at('2026-03-02T18:00', zone)), zone)).toBe('2026-03-03T08:00:00.000+01:00');
    expect(local(nextWorkingInstant(calendar, at('2026-03-06T19:00', zone)), zone)).toBe('2026-03-10T08:00:00.000+01:00');
  });

  it('is the instant itself on a 24x7 calendar', () => {
    const t = at('2026-03-07T03:00', zone);
    expect(nextWorkingInstant(alwaysParis, t)).toEqual(t);
  });
});

describe('calendars without working time', () => {
  it('throws instead of looping when there are no working hours', () => {
    const empty: BusinessCalendar = { timeZone: 'UTC', kind: 'business', workingHours: { 1: [] }, holidays: [] };
    const start = new Date('2026-03-02T10:00:00Z');
    const message = /Invalid calendar: workingHours: A business calendar needs at least one working interval/;
    expect(() => addWorkingMinutes(empty, start, 60)).toThrow(message);
    expect(() => nextWorkingInstant(empty, start)).toThrow(message);
    expect(() => workingMinutesBetween(empty, start, new Date('2026-03-03T10:00:00Z'))).toThrow(message);
  });

  it('throws when recurring holidays cover every day of the year', () => {
    const holidays: Holiday[] = [];
    for (let day = DateTime.utc(2024, 1, 1); day.year === 2024; day = day.plus({ days: 1 })) {
      holidays.push({ date: day.toISODate()!, recurring: true });
    }
    const calendar = business('UTC', [{ start: '09:00', end: '17:00' }], holidays);
    expect(() => addWorkingMinutes(calendar, new Date('2026-03-02T10:00:00Z'), 60)).toThrow(/no working time/);
    expect(workingMinutesBetween(calendar, new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'))).toBe(0);
  });

  it('rejects an invalid calendar rather than miscounting', () => {
    expect(() => addWorkingMinutes({ ...officeParis, timeZone: 'Mars/Olympus' }, new Date(), 60)).toThrow(
      /timeZone: "Mars\/Olympus" is not an IANA time zone/,
    );
  });
});

/** Small seeded PRNG so the property test is reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
