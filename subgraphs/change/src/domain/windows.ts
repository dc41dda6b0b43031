import { DateTime, IANAZone } from 'luxon';
import rrulePackage, { type Options as RRuleOptions } from 'rrule';
import type { ValidationProblem } from './validation.js';

// rrule 2.8 is CommonJS without an exports map, so Node's ESM loader only offers its default export.
const { RRule } = rrulePackage;

export type WindowKind = 'MAINTENANCE' | 'BLACKOUT';

/** What a window covers: everything, or the named configuration items and services. */
export type WindowScope = { all: true } | { configurationItems: readonly string[]; services: readonly string[] };

/** A maintenance window or blackout period, recurring in local wall time of its zone. */
export interface CalendarWindow {
  kind: WindowKind;
  /** IANA zone the start and the recurrence are evaluated in, e.g. Europe/Berlin. */
  timeZone: string;
  /** Local wall-clock DTSTART, 'YYYY-MM-DDTHH:mm'. */
  start: string;
  durationMinutes: number;
  /** RFC 5545 RRULE without DTSTART (e.g. 'FREQ=WEEKLY;BYDAY=SA'), or null for a one-off window. */
  rrule: string | null;
  scope: WindowScope;
}

/** A half-open span of time [start, end). */
export interface Interval {
  start: Date;
  end: Date;
}

/** The items a change touches, to match against a window's scope. */
export interface ScopeTarget {
  configurationItems: readonly string[];
  services: readonly string[];
}

const MAX_DURATION_MINUTES = 366 * 24 * 60;
const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const LOCAL_START = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;
const RRULE_MAX_YEAR = 9999;
const CALENDAR_CYCLE_YEARS = 400;
const OCCURRENCE_HORIZON_YEARS = 100;

/** Problems with a window definition; empty when it can be expanded. */
export function validateWindow(window: CalendarWindow): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (window.kind !== 'MAINTENANCE' && window.kind !== 'BLACKOUT') {
    problems.push({ field: 'kind', rule: 'oneOf', message: 'Kind must be MAINTENANCE or BLACKOUT' });
  }
  const zoneValid = typeof window.timeZone === 'string' && IANAZone.isValidZone(window.timeZone);
  if (!zoneValid) {
    problems.push({ field: 'timeZone', rule: 'format', message: `${String(window.timeZone)} is not an IANA time zone` });
  }
  const dtstart = floatingFromLocal(window.start);
  if (dtstart === null) {
    problems.push({ field: 'start', rule: 'format', message: 'Start must be a local date and time YYYY-MM-DDTHH:mm' });
  }
  const duration = window.durationMinutes;
  if (!Number.isInteger(duration) || duration <= 0 || duration > MAX_DURATION_MINUTES) {
    problems.push({ field: 'durationMinutes', rule: 'range', message: `Duration must be a whole number of minutes from 1 to ${MAX_DURATION_MINUTES}` });
  }
  if (window.rrule !== null && zoneValid && dtstart !== null) {
    try {
      if (!occursWithinHorizon(recurrenceOptions(window.rrule, dtstart, window.timeZone))) {
        problems.push({ field: 'rrule', rule: 'range', message: `The rule produces no occurrence within ${OCCURRENCE_HORIZON_YEARS} years of the start` });
      }
    } catch (error) {
      problems.push({ field: 'rrule', rule: 'format', message: `Invalid recurrence rule: ${(error as Error).message}` });
    }
  }
  if (!('all' in window.scope) && window.scope.configurationItems.length === 0 && window.scope.services.length === 0) {
    problems.push({ field: 'scope', rule: 'required', message: 'Scope must be all, or name configuration items or services' });
  }
  return problems;
}

/** Occurrences of a window overlapping [from, to); expects a window validateWindow accepted and throws otherwise. */
export function expandWindow(window: CalendarWindow, from: Date, to: Date): Interval[] {
  const dtstart = floatingFromLocal(window.start);
  if (dtstart === null) throw new Error(`Invalid window start ${window.start}`);
  if (!IANAZone.isValidZone(window.timeZone)) throw new Error(`Invalid window time zone ${window.timeZone}`);
  const durationMs = window.durationMinutes * MINUTE_MS;
  // Wall time differs from UTC by less than a day, so a day of slack either side of the floating
  // range finds every occurrence the exact overlap filter below keeps.
  const floatingStarts =
    window.rrule === null
      ? [dtstart]
      : new RRule(recurrenceOptions(window.rrule, dtstart, window.timeZone)).between(
          new Date(floatingFromInstant(from, window.timeZone).getTime() - durationMs - DAY_MS),
          new Date(floatingFromInstant(to, window.timeZone).getTime() + DAY_MS),
          true,
        );
  return floatingStarts
    .map((floatingStart) => occurrenceAt(floatingStart, durationMs, window.timeZone))
    .filter((occurrence) => occurrence.start < to && occurrence.end > from);
}

/** Whether a window covers any of the target's configuration items or services. */
export function windowApplies(window: { scope: WindowScope }, target: ScopeTarget): boolean {
  const { scope } = window;
  if ('all' in scope) return scope.all;
  return (
    scope.configurationItems.some((ci) => target.configurationItems.includes(ci)) ||
    scope.services.some((service) => target.services.includes(service))
  );
}

// The recurrence runs on "floating" dates: UTC Date objects whose fields are the zone's wall-clock
// fields. rrule then never sees a DST shift, so a Saturday 00:00 window stays at 00:00 local.
function recurrenceOptions(rrule: string, dtstart: Date, timeZone: string): Partial<RRuleOptions> & { dtstart: Date } {
  if (/DTSTART|TZID|[\r\n]/i.test(rrule)) throw new Error('give the rule without DTSTART or TZID; the window has its own start and zone');
  const options = RRule.parseString(rrule);
  if (options.freq === undefined || options.freq === null) throw new Error('FREQ is required');
  if (options.freq === RRule.MINUTELY || options.freq === RRule.SECONDLY) throw new Error('windows cannot recur more often than hourly');
  // RFC 5545 requires UNTIL in UTC when DTSTART has a zone; move it onto the floating scale too.
  const until = options.until && /UNTIL=[0-9T]+Z/i.test(rrule) ? floatingFromInstant(options.until, timeZone) : options.until;
  return { ...options, dtstart, until };
}

// rrule gives up on a rule that never matches (BYMONTH=2;BYMONTHDAY=30) only at year 9999, which
// takes seconds from today. The Gregorian calendar repeats every 400 years, so the same question
// asked whole cycles later, close to 9999, has the same answer at a bounded cost.
function occursWithinHorizon(options: Partial<RRuleOptions> & { dtstart: Date }): boolean {
  const { dtstart } = options;
  const cycles = Math.max(0, Math.floor((RRULE_MAX_YEAR - OCCURRENCE_HORIZON_YEARS - dtstart.getUTCFullYear()) / CALENDAR_CYCLE_YEARS));
  const shift = (date: Date) => {
    const shifted = new Date(date);
    shifted.setUTCFullYear(date.getUTCFullYear() + cycles * CALENDAR_CYCLE_YEARS);
    return shifted;
  };
  const probeStart = shift(dtstart);
  const probe = new RRule({ ...options, dtstart: probeStart, until: options.until ? shift(options.until) : options.until });
  return probe.after(probeStart, true) !== null;
}

function occurrenceAt(floatingStart: Date, durationMs: number, timeZone: string): Interval {
  const start = instantFromFloating(floatingStart, timeZone);
  // The end is wall-clock too (00:00-06:00 ends at 06:00 local on a 23- or 25-hour night); only a
  // start shifted out of a DST gap can push it before the start, then fall back to elapsed time.
  const wallEnd = instantFromFloating(new Date(floatingStart.getTime() + durationMs), timeZone);
  const end = wallEnd > start ? wallEnd : new Date(start.getTime() + durationMs);
  return { start, end };
}

function floatingFromLocal(local: string): Date | null {
  const match = LOCAL_START.exec(local);
  if (!match) return null;
  const [year, month, day, hour, minute] = match.slice(1).map(Number) as [number, number, number, number, number];
  const floating = new Date(Date.UTC(year, month - 1, day, hour, minute));
  // Date.UTC rolls 2026-02-30 over to March; a date that does not round-trip does not exist.
  const valid = floating.getUTCMonth() === month - 1 && floating.getUTCDate() === day && hour < 24 && minute < 60;
  return valid ? floating : null;
}

function floatingFromInstant(instant: Date, timeZone: string): Date {
  const local = DateTime.fromJSDate(instant, { zone: timeZone });
  return new Date(local.toMillis() + local.offset * MINUTE_MS);
}

// A wall time in a DST gap moves forward by the gap; one that happens twice takes the first
// instant, as RFC 5545 prescribes.
function instantFromFloating(floating: Date, timeZone: string): Date {
  const local = DateTime.fromObject(
    {
      year: floating.getUTCFullYear(),
      month: floating.getUTCMonth() + 1,
      day: floating.getUTCDate(),
      hour: floating.getUTCHours(),
      minute: floating.getUTCMinutes(),
      second: floating.getUTCSeconds(),
    },
    { zone: timeZone },
  );
  const earliest = Math.min(...local.getPossibleOffsets().map((candidate) => candidate.toMillis()));
  return new Date(earliest);
}
