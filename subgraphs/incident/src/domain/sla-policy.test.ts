import { describe, expect, it } from 'vitest';
import { validateCalendar } from '@itsm/kit/calendar';
import { DEFAULT_SLA_TARGETS, defaultCalendars, validateSlaPolicy } from './sla-policy.js';

const full = () => DEFAULT_SLA_TARGETS.map((t) => ({ ...t, calendar: 'cal' }));

describe('default SLA policy', () => {
  it('has the design targets: P1 15 min / 1 h around the clock, P2-P5 in office hours', () => {
    expect(DEFAULT_SLA_TARGETS.map((t) => [t.priority, t.responseMinutes, t.resolutionMinutes, t.calendar])).toEqual([
      [1, 15, 60, 'ALWAYS'],
      [2, 30, 240, 'OFFICE_HOURS'],
      [3, 60, 1440, 'OFFICE_HOURS'],
      [4, 240, 4320, 'OFFICE_HOURS'],
      [5, 480, 10080, 'OFFICE_HOURS'],
    ]);
  });

  it('gives valid calendars in the tenant zone', () => {
    const calendars = defaultCalendars('America/Chicago');
    expect(validateCalendar(calendars.ALWAYS)).toEqual([]);
    expect(validateCalendar(calendars.OFFICE_HOURS)).toEqual([]);
    expect(calendars.OFFICE_HOURS.workingHours[1]).toEqual([{ start: '09:00', end: '17:00' }]);
    expect(calendars.OFFICE_HOURS.workingHours[6]).toBeUndefined();
  });
});

describe('validateSlaPolicy', () => {
  it('accepts the defaults', () => {
    expect(validateSlaPolicy({ name: 'Gold', targets: full() })).toEqual([]);
  });

  it('names each broken field and rule', () => {
    const targets = full();
    targets[0] = { ...targets[0]!, responseMinutes: 0 };
    targets[1] = { ...targets[1]!, resolutionMinutes: 2.5 };
    targets[2] = { ...targets[2]!, responseMinutes: 2000 };
    targets[3] = { ...targets[3]!, priority: 3 };
    targets[4] = { ...targets[4]!, calendar: '' };
    expect(validateSlaPolicy({ name: ' ', targets }).map((p) => [p.field, p.rule])).toEqual([
      ['name', 'required'],
      ['targets[0].responseMinutes', 'range'],
      ['targets[1].resolutionMinutes', 'integer'],
      ['targets[2].responseMinutes', 'order'],
      ['targets[3].priority', 'duplicate'],
      ['targets[4].calendarId', 'required'],
      ['targets', 'missing'],
    ]);
  });

  it('requires all five priorities', () => {
    const problems = validateSlaPolicy({ name: 'Bronze', targets: full().slice(0, 3) });
    expect(problems).toEqual([{ field: 'targets', rule: 'missing', message: 'every priority needs a target; missing P4, P5' }]);
  });

  it('refuses a priority outside 1-5 and a target over a year', () => {
    const targets = [...full(), { priority: 6, responseMinutes: 1, resolutionMinutes: 600_000, calendar: 'cal' }];
    expect(validateSlaPolicy({ name: 'X', targets }).map((p) => [p.field, p.rule])).toEqual([
      ['targets[5].priority', 'range'],
      ['targets[5].resolutionMinutes', 'range'],
    ]);
  });
});
