import type { BusinessCalendar } from '@itsm/kit/calendar';

/** Targets for one priority, in minutes of working time on the named calendar. */
export interface SlaTarget<CalendarRef = string> {
  priority: number;
  responseMinutes: number;
  resolutionMinutes: number;
  calendar: CalendarRef;
}

/** One reason a policy is unacceptable; field paths index the input's `targets` list. */
export interface SlaPolicyProblem {
  field: string;
  rule: 'required' | 'range' | 'integer' | 'duplicate' | 'missing' | 'order' | 'maxLength';
  message: string;
}

/** Which of the two default calendars a default target runs on. */
export type DefaultCalendarRef = 'ALWAYS' | 'OFFICE_HOURS';

/** The design's default targets: P1 around the clock, the rest in office hours. */
export const DEFAULT_SLA_TARGETS: readonly SlaTarget<DefaultCalendarRef>[] = [
  { priority: 1, responseMinutes: 15, resolutionMinutes: 60, calendar: 'ALWAYS' },
  { priority: 2, responseMinutes: 30, resolutionMinutes: 4 * 60, calendar: 'OFFICE_HOURS' },
  { priority: 3, responseMinutes: 60, resolutionMinutes: 24 * 60, calendar: 'OFFICE_HOURS' },
  { priority: 4, responseMinutes: 4 * 60, resolutionMinutes: 72 * 60, calendar: 'OFFICE_HOURS' },
  { priority: 5, responseMinutes: 8 * 60, resolutionMinutes: 168 * 60, calendar: 'OFFICE_HOURS' },
];

export const DEFAULT_POLICY_NAME = 'Default';
export const DEFAULT_CALENDAR_NAMES: Readonly<Record<DefaultCalendarRef, string>> = {
  ALWAYS: '24x7',
  OFFICE_HOURS: 'Office hours',
};

/** The two calendars a tenant starts with: 24x7 and Mon-Fri 09:00-17:00, both in the tenant's zone. */
export function defaultCalendars(timeZone: string): Record<DefaultCalendarRef, BusinessCalendar> {
  const day = [{ start: '09:00', end: '17:00' }];
  return {
    ALWAYS: { timeZone, kind: '24x7', workingHours: {}, holidays: [] },
    OFFICE_HOURS: { timeZone, kind: 'business', workingHours: { 1: day, 2: day, 3: day, 4: day, 5: day }, holidays: [] },
  };
}

/** Longest target accepted: a year of minutes, so a typo cannot schedule a timer centuries ahead. */
export const MAX_TARGET_MINUTES = 366 * 24 * 60;
const MAX_NAME = 100;

/** Problems with a policy: a name, and for each priority 1-5 exactly one target with whole positive minutes, response not after resolution. */
export function validateSlaPolicy(input: { name: string; targets: readonly SlaTarget<string | null | undefined>[] }): SlaPolicyProblem[] {
  const problems: SlaPolicyProblem[] = [];
  const name = input.name?.trim() ?? '';
  if (!name) problems.push({ field: 'name', rule: 'required', message: 'name must not be empty' });
  else if (name.length > MAX_NAME) problems.push({ field: 'name', rule: 'maxLength', message: `name must be at most ${MAX_NAME} characters` });

  const seen = new Set<number>();
  input.targets.forEach((target, i) => {
    const path = `targets[${i}]`;
    if (!Number.isInteger(target.priority) || target.priority < 1 || target.priority > 5) {
      problems.push({ field: `${path}.priority`, rule: 'range', message: `priority must be 1 to 5, got ${target.priority}` });
    } else if (seen.has(target.priority)) {
      problems.push({ field: `${path}.priority`, rule: 'duplicate', message: `priority ${target.priority} has more than one target` });
    } else seen.add(target.priority);
    for (const key of ['responseMinutes', 'resolutionMinutes'] as const) {
      const minutes = target[key];
      if (!Number.isInteger(minutes)) {
        problems.push({ field: `${path}.${key}`, rule: 'integer', message: `${key} must be whole minutes, got ${minutes}` });
      } else if (minutes < 1 || minutes > MAX_TARGET_MINUTES) {
        problems.push({ field: `${path}.${key}`, rule: 'range', message: `${key} must be 1 to ${MAX_TARGET_MINUTES}, got ${minutes}` });
      }
    }
    if (Number.isInteger(target.responseMinutes) && Number.isInteger(target.resolutionMinutes) && target.responseMinutes > target.resolutionMinutes) {
      problems.push({ field: `${path}.responseMinutes`, rule: 'order', message: 'the response target cannot be longer than the resolution target' });
    }
    if (!target.calendar) problems.push({ field: `${path}.calendarId`, rule: 'required', message: 'each target names the calendar it runs on' });
  });
  const missing = [1, 2, 3, 4, 5].filter((p) => !seen.has(p));
  if (missing.length) {
    problems.push({ field: 'targets', rule: 'missing', message: `every priority needs a target; missing ${missing.map((p) => `P${p}`).join(', ')}` });
  }
  return problems;
}
