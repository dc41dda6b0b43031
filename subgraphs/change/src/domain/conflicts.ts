import type { ChangeState, ChangeType } from './lifecycle.js';
import { expandWindow, windowApplies, type CalendarWindow, type Interval } from './windows.js';

export type ConflictKind = 'OVERLAPPING_CHANGE' | 'BLACKOUT' | 'OUTSIDE_MAINTENANCE_WINDOW' | 'DEPENDENCY_ORDER' | 'ASSIGNEE_DOUBLE_BOOKED';
export type ConflictSeverity = 'HIGH' | 'MEDIUM' | 'LOW';

/** One reason a change's schedule clashes with another change, a window or a dependency. */
export interface ChangeConflict {
  kind: ConflictKind;
  severity: ConflictSeverity;
  otherChangeId?: string;
  otherChangeNumber?: string;
  windowId?: string;
  message: string;
}

/** The change being checked, with its planned interval [plannedStart, plannedEnd). */
export interface PlannedChange {
  id: string;
  number: string;
  type: ChangeType;
  plannedStart: Date;
  plannedEnd: Date;
  configurationItems: readonly string[];
  services: readonly string[];
  assigneeId: string | null;
  dependsOn: readonly { id: string; number: string; plannedEnd: Date }[];
}

/** Another scheduled change the database found overlapping in time. */
export interface ScheduledChange {
  id: string;
  number: string;
  state: ChangeState;
  plannedStart: Date;
  plannedEnd: Date;
  configurationItems: readonly string[];
  services: readonly string[];
  assigneeId: string | null;
}

/** A tenant's calendar window with the id and name conflicts refer to. */
export interface NamedCalendarWindow extends CalendarWindow {
  id: string;
  name: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const INACTIVE_STATES: ReadonlySet<ChangeState> = new Set(['CANCELLED', 'CLOSED']);

/**
 * Conflicts of one change with other changes, the tenant's calendar windows and its dependencies.
 * Windows are expanded here over the change's own interval: that is enough to find every blackout it
 * touches and every maintenance occurrence that could contain it, while knowing the windows (not just
 * nearby occurrences) is what tells a change outside every maintenance window from one with no window.
 */
export function detectConflicts(
  change: PlannedChange,
  others: readonly ScheduledChange[],
  windows: readonly NamedCalendarWindow[],
): ChangeConflict[] {
  return [
    ...overlappingChanges(change, others),
    ...assigneeDoubleBookings(change, others),
    ...blackouts(change, windows),
    ...outsideMaintenance(change, windows),
    ...dependencyOrder(change),
  ];
}

/** Whether two half-open intervals share time; touching ends do not. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Options for {@link nextFreeSlots}. */
export interface FreeSlotSearch {
  durationMinutes: number;
  from: Date;
  /** How many free starts to return at most. */
  limit: number;
  /** Intervals already taken: other changes on the same items, the assignee's other changes. */
  busy: readonly Interval[];
  /** Occurrences of the blackouts that apply to the change's items. */
  blackouts: readonly Interval[];
  /** Occurrences of the maintenance windows that apply, or null when none applies and any time will do. */
  maintenance: readonly Interval[] | null;
  horizonDays?: number;
  stepMinutes?: number;
}

/** Up to `limit` start instants on a `stepMinutes` grid (UTC-aligned) within the horizon where the change would conflict with nothing. */
export function nextFreeSlots(search: FreeSlotSearch): Date[] {
  const { durationMinutes, from, limit, busy, blackouts, maintenance, horizonDays = 30, stepMinutes = 30 } = search;
  if (!(durationMinutes > 0 && stepMinutes > 0)) throw new RangeError('durationMinutes and stepMinutes must be positive');
  const stepMs = stepMinutes * MINUTE_MS;
  const horizonEnd = from.getTime() + horizonDays * DAY_MS;
  const slots: Date[] = [];
  for (let start = Math.ceil(from.getTime() / stepMs) * stepMs; start < horizonEnd && slots.length < limit; start += stepMs) {
    const slot = { start: new Date(start), end: new Date(start + durationMinutes * MINUTE_MS) };
    const taken = busy.some((b) => overlaps(slot, b)) || blackouts.some((b) => overlaps(slot, b));
    if (!taken && (maintenance === null || maintenance.some((m) => contains(m, slot)))) slots.push(slot.start);
  }
  return slots;
}

function overlappingChanges(change: PlannedChange, others: readonly ScheduledChange[]): ChangeConflict[] {
  return activeOverlapping(change, others).flatMap((other) => {
    const sharedItems = [
      ...shared(change.configurationItems, other.configurationItems).map((ci) => `configuration item ${ci}`),
      ...shared(change.services, other.services).map((service) => `service ${service}`),
    ];
    if (sharedItems.length === 0) return [];
    return [{
      kind: 'OVERLAPPING_CHANGE' as const,
      severity: 'HIGH' as const,
      otherChangeId: other.id,
      otherChangeNumber: other.number,
      message: `Overlaps ${other.number} (${formatInterval(plannedInterval(other))}) on ${sharedItems.join(', ')}`,
    }];
  });
}

function assigneeDoubleBookings(change: PlannedChange, others: readonly ScheduledChange[]): ChangeConflict[] {
  if (change.assigneeId === null) return [];
  return activeOverlapping(change, others)
    .filter((other) => other.assigneeId === change.assigneeId)
    .map((other) => ({
      kind: 'ASSIGNEE_DOUBLE_BOOKED' as const,
      severity: 'MEDIUM' as const,
      otherChangeId: other.id,
      otherChangeNumber: other.number,
      message: `The assignee is also booked on ${other.number} (${formatInterval(plannedInterval(other))})`,
    }));
}

function blackouts(change: PlannedChange, windows: readonly NamedCalendarWindow[]): ChangeConflict[] {
  const interval = plannedInterval(change);
  return applicable(change, windows, 'BLACKOUT').flatMap((window) => {
    // One conflict per blackout: a long change touching several occurrences is one problem to fix.
    const [first] = expandWindow(window, interval.start, interval.end);
    if (first === undefined) return [];
    return [{
      kind: 'BLACKOUT' as const,
      severity: 'HIGH' as const,
      windowId: window.id,
      message: `Falls in blackout "${window.name}" (${formatInterval(first)})`,
    }];
  });
}

function outsideMaintenance(change: PlannedChange, windows: readonly NamedCalendarWindow[]): ChangeConflict[] {
  const interval = plannedInterval(change);
  const maintenance = applicable(change, windows, 'MAINTENANCE');
  if (maintenance.length === 0) return [];
  const inside = maintenance.some((window) => expandWindow(window, interval.start, interval.end).some((o) => contains(o, interval)));
  if (inside) return [];
  return [{
    kind: 'OUTSIDE_MAINTENANCE_WINDOW',
    // Emergency changes are expected to run when they must; the conflict stays visible for the review.
    severity: change.type === 'EMERGENCY' ? 'LOW' : 'MEDIUM',
    message: `Not inside one occurrence of an applicable maintenance window (${maintenance.map((w) => `"${w.name}"`).join(', ')})`,
  }];
}

function dependencyOrder(change: PlannedChange): ChangeConflict[] {
  return change.dependsOn
    .filter((dependency) => change.plannedStart < dependency.plannedEnd)
    .map((dependency) => ({
      kind: 'DEPENDENCY_ORDER' as const,
      severity: 'HIGH' as const,
      otherChangeId: dependency.id,
      otherChangeNumber: dependency.number,
      message: `Starts before ${dependency.number}, which it depends on, is planned to end (${formatInstant(dependency.plannedEnd)})`,
    }));
}

function activeOverlapping(change: PlannedChange, others: readonly ScheduledChange[]): ScheduledChange[] {
  const interval = plannedInterval(change);
  return others.filter((other) => other.id !== change.id && !INACTIVE_STATES.has(other.state) && overlaps(interval, plannedInterval(other)));
}

function applicable(change: PlannedChange, windows: readonly NamedCalendarWindow[], kind: CalendarWindow['kind']): NamedCalendarWindow[] {
  return windows.filter((window) => window.kind === kind && windowApplies(window, change));
}

function contains(outer: Interval, inner: Interval): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

function shared(a: readonly string[], b: readonly string[]): string[] {
  return a.filter((item) => b.includes(item));
}

function plannedInterval(change: { plannedStart: Date; plannedEnd: Date }): Interval {
  return { start: change.plannedStart, end: change.plannedEnd };
}

function formatInterval({ start, end }: Interval): string {
  return `${formatInstant(start)} to ${formatInstant(end)}`;
}

function formatInstant(instant: Date): string {
  return `${instant.toISOString().slice(0, 16)}Z`;
}
