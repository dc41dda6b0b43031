import { DateTime, IANAZone } from 'luxon';

export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Local wall-clock interval, `HH:MM` to `HH:MM` (end may be `24:00`). */
export interface WorkingInterval {
  start: string;
  end: string;
}

export interface Holiday {
  /** `YYYY-MM-DD`; when recurring only the month-day counts, every year. */
  date: string;
  recurring: boolean;
}

export interface BusinessCalendar {
  timeZone: string;
  kind: '24x7' | 'business';
  /** ISO weekday (1 = Monday) to that day's intervals; a missing day is not worked. */
  workingHours: Partial<Record<IsoWeekday, readonly WorkingInterval[]>>;
  holidays: readonly Holiday[];
}

export interface CalendarProblem {
  field: string;
  rule: string;
  message: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;
// Longer than any real run of holidays: beyond this the calendar can never be worked.
const MAX_IDLE_DAYS = 4 * 366;
const TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function minuteOfDay(hhmm: string): number | undefined {
  const match = TIME.exec(hhmm);
  if (!match) return undefined;
  return match[1] === undefined ? MINUTES_PER_DAY : Number(match[1]) * 60 + Number(match[2]);
}

/** Lists every problem at once so an API can report them all against their fields. */
export function validateCalendar(input: BusinessCalendar): CalendarProblem[] {
  const problems: CalendarProblem[] = [];
  const report = (field: string, rule: string, message: string) => problems.push({ field, rule, message });

  if (!IANAZone.isValidZone(input.timeZone)) {
    report('timeZone', 'invalid-zone', `"${input.timeZone}" is not an IANA time zone`);
  }
  if (input.kind !== '24x7' && input.kind !== 'business') {
    report('kind', 'invalid-kind', 'Kind must be 24x7 or business');
  }

  let hasWorkingTime = false;
  for (const [weekday, intervals = []] of Object.entries(input.workingHours)) {
    const dayField = `workingHours.${weekday}`;
    if (!/^[1-7]$/.test(weekday)) {
      report(dayField, 'invalid-weekday', 'Weekdays are ISO numbers, 1 (Monday) to 7 (Sunday)');
      continue;
    }
    const parsed: { start: number; end: number; index: number }[] = [];
    intervals.forEach((interval, index) => {
      const field = `${dayField}[${index}]`;
      const start = minuteOfDay(interval.start);
      const end = minuteOfDay(interval.end);
      if (start === undefined || start === MINUTES_PER_DAY) {
        report(`${field}.start`, 'invalid-time', 'Start must be HH:MM between 00:00 and 23:59');
      }
      if (end === undefined) report(`${field}.end`, 'invalid-time', 'End must be HH:MM between 00:00 and 24:00');
      if (start === undefined || start === MINUTES_PER_DAY || end === undefined) return;
      if (start >= end) {
        report(field, 'start-not-before-end', `${interval.start} is not before ${interval.end}`);
        return;
      }
      hasWorkingTime = true;
      parsed.push({ start, end, index });
    });
    if (parsed.some((interval, i) => i > 0 && interval.start < parsed[i - 1]!.start)) {
      report(dayField, 'unsorted', 'Intervals must be listed in order of start time');
    }
    const byStart = [...parsed].sort((a, b) => a.start - b.start);
    byStart.forEach((interval, i) => {
      const previous = byStart[i - 1];
      if (previous && interval.start < previous.end) {
        report(`${dayField}[${interval.index}]`, 'overlap', `Overlaps interval ${previous.index} of the same day`);
      }
    });
  }
  if (input.kind === 'business' && !hasWorkingTime) {
    report('workingHours', 'no-working-time', 'A business calendar needs at least one working interval');
  }

  const recurringMonthDays = new Set(input.holidays.filter((h) => h.recurring).map((h) => h.date.slice(5)));
  const seen = new Set<string>();
  input.holidays.forEach((holiday, index) => {
    const field = `holidays[${index}].date`;
    if (!DATE.test(holiday.date) || !DateTime.fromISO(holiday.date, { zone: 'utc' }).isValid) {
      report(field, 'invalid-date', `"${holiday.date}" is not a YYYY-MM-DD date`);
      return;
    }
    const monthDay = holiday.date.slice(5);
    const key = holiday.recurring ? `--${monthDay}` : holiday.date;
    if (seen.has(key) || (!holiday.recurring && recurringMonthDays.has(monthDay))) {
      report(field, 'duplicate', `${holiday.date} is already a holiday`);
    }
    seen.add(key);
  });

  return problems;
}

interface CompiledCalendar {
  realTime: boolean;
  zone: IANAZone;
  /** Index = ISO weekday; minute-of-day pairs, sorted. */
  days: ReadonlyArray<ReadonlyArray<readonly [number, number]>>;
  holidays: ReadonlySet<string>;
  recurringHolidays: ReadonlySet<string>;
}

// Calendars are treated as immutable values, so each is validated and parsed once.
const compiledCalendars = new WeakMap<BusinessCalendar, CompiledCalendar>();

function compile(calendar: BusinessCalendar): CompiledCalendar {
  const cached = compiledCalendars.get(calendar);
  if (cached) return cached;
  const problems = validateCalendar(calendar);
  if (problems.length > 0) {
    throw new Error(`Invalid calendar: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
  const days = [0, 1, 2, 3, 4, 5, 6, 7].map((weekday) =>
    (calendar.workingHours[weekday as IsoWeekday] ?? []).map(
      (interval) => [minuteOfDay(interval.start)!, minuteOfDay(interval.end)!] as const,
    ),
  );
  const compiled: CompiledCalendar = {
    realTime: calendar.kind === '24x7',
    zone: IANAZone.create(calendar.timeZone),
    days,
    holidays: new Set(calendar.holidays.filter((h) => !h.recurring).map((h) => h.date)),
    recurringHolidays: new Set(calendar.holidays.filter((h) => h.recurring).map((h) => h.date.slice(5))),
  };
  compiledCalendars.set(calendar, compiled);
  return compiled;
}

function toMs(date: Date): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError('Invalid date');
  return ms;
}

/** Local civil date of an instant as a day number (days since 1970-01-01). */
function localDayNumber(calendar: CompiledCalendar, ms: number): number {
  const local = DateTime.fromMillis(ms, { zone: calendar.zone });
  return Date.UTC(local.year, local.month - 1, local.day) / DAY_MS;
}

/** Instant of a local wall-clock time; luxon gives DST days their real length. */
function wallClockMs(calendar: CompiledCalendar, dayNumber: number, minute: number): number {
  const date = new Date((dayNumber + Math.floor(minute / MINUTES_PER_DAY)) * DAY_MS);
  const minuteInDay = minute % MINUTES_PER_DAY;
  return DateTime.fromObject(
    {
      year: date.getUTCFullYear(),
      month: date.getUTCMonth() + 1,
      day: date.getUTCDate(),
      hour: Math.floor(minuteInDay / 60),
      minute: minuteInDay % 60,
    },
    { zone: calendar.zone },
  ).toMillis();
}

function intervalsOfDay(calendar: CompiledCalendar, dayNumber: number): ReadonlyArray<readonly [number, number]> {
  const iso = new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
  if (calendar.holidays.has(iso) || calendar.recurringHolidays.has(iso.slice(5))) return [];
  const weekday = new Date(dayNumber * DAY_MS).getUTCDay() || 7;
  return calendar.days[weekday] ?? [];
}

/**
 * Working intervals [from, to) in epoch ms, in order, starting at `fromMs` (the first one clipped).
 * Non-working days cost only a set lookup; luxon is called for worked days only.
 */
function* workingIntervals(calendar: CompiledCalendar, fromMs: number, untilMs = Infinity) {
  const lastDay = untilMs === Infinity ? Infinity : localDayNumber(calendar, untilMs);
  let idleDays = 0;
  for (let day = localDayNumber(calendar, fromMs); day <= lastDay; day++) {
    let worked = false;
    for (const [startMinute, endMinute] of intervalsOfDay(calendar, day)) {
      const start = Math.max(wallClockMs(calendar, day, startMinute), fromMs);
      const end = wallClockMs(calendar, day, endMinute);
      if (end > start) {
        worked = true;
        yield [start, end] as const;
      }
    }
    idleDays = worked ? 0 : idleDays + 1;
    if (untilMs === Infinity && idleDays > MAX_IDLE_DAYS) {
      throw new Error(`Calendar has no working time in ${MAX_IDLE_DAYS} days: holidays cover every working day`);
    }
  }
}

/** Earliest instant at which `minutes` of working time have elapsed since `start`, so a due time may sit at the very end of a working interval. */
export function addWorkingMinutes(calendar: BusinessCalendar, start: Date, minutes: number): Date {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError(`Cannot add ${minutes} working minutes`);
  const compiled = compile(calendar);
  const fromMs = toMs(start);
  let remaining = Math.round(minutes * MINUTE_MS);
  if (compiled.realTime || remaining === 0) return new Date(fromMs + remaining);
  for (const [intervalStart, intervalEnd] of workingIntervals(compiled, fromMs)) {
    if (remaining <= intervalEnd - intervalStart) return new Date(intervalStart + remaining);
    remaining -= intervalEnd - intervalStart;
  }
  throw new Error('Calendar ran out of working time');
}

/** Working minutes in [from, to), fractional to the millisecond; the inverse of addWorkingMinutes. */
export function workingMinutesBetween(calendar: BusinessCalendar, from: Date, to: Date): number {
  const compiled = compile(calendar);
  const fromMs = toMs(from);
  const toMsValue = toMs(to);
  if (toMsValue <= fromMs) return 0;
  if (compiled.realTime) return (toMsValue - fromMs) / MINUTE_MS;
  let total = 0;
  for (const [intervalStart, intervalEnd] of workingIntervals(compiled, fromMs, toMsValue)) {
    if (intervalStart >= toMsValue) break;
    total += Math.min(intervalEnd, toMsValue) - intervalStart;
  }
  return total / MINUTE_MS;
}

/** `at` itself when it is working time, else the start of the next working interval (interval ends are exclusive). */
export function nextWorkingInstant(calendar: BusinessCalendar, at: Date): Date {
  const compiled = compile(calendar);
  const atMs = toMs(at);
  if (compiled.realTime) return new Date(atMs);
  for (const [intervalStart] of workingIntervals(compiled, atMs)) return new Date(intervalStart);
  throw new Error('Calendar ran out of working time');
}
