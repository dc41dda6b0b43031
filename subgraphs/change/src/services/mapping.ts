import type { ChangeConflict, NamedCalendarWindow, PlannedChange, ScheduledChange } from '../domain/conflicts.js';
import type { ChangeState, ChangeType } from '../domain/lifecycle.js';
import type { ChangeRequestRow, ChangeWindowRow } from '../db/schema.js';

/** A stored window as the domain expands it. */
export function windowFromRow(row: ChangeWindowRow): NamedCalendarWindow {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as NamedCalendarWindow['kind'],
    timeZone: row.timeZone,
    start: row.startLocal,
    durationMinutes: row.durationMinutes,
    rrule: row.rrule,
    scope: row.scopeAll ? { all: true } : { configurationItems: row.configurationItems, services: row.services },
  };
}

/** A stored change as another scheduled change, or null when it has no planned interval. */
export function scheduledFromRow(row: ChangeRequestRow): ScheduledChange | null {
  if (!row.plannedStart || !row.plannedEnd) return null;
  return {
    id: row.id,
    number: row.number,
    state: row.state as ChangeState,
    plannedStart: row.plannedStart,
    plannedEnd: row.plannedEnd,
    configurationItems: row.configurationItems,
    services: row.services,
    assigneeId: row.assigneeId,
  };
}

const INACTIVE: ReadonlySet<string> = new Set(['CANCELLED', 'CLOSED']);

/** Whether a change still takes part in the calendar (cancelled and closed ones do not). */
export function isActive(row: { state: string }): boolean {
  return !INACTIVE.has(row.state);
}

/**
 * The change under check, or null when it has no planned interval or is no longer active. Only dependencies that
 * are active and planned can be ordered against.
 */
export function plannedFromRow(row: ChangeRequestRow, dependencies: readonly ChangeRequestRow[]): PlannedChange | null {
  if (!row.plannedStart || !row.plannedEnd || !isActive(row)) return null;
  return {
    id: row.id,
    number: row.number,
    type: row.type as ChangeType,
    plannedStart: row.plannedStart,
    plannedEnd: row.plannedEnd,
    configurationItems: row.configurationItems,
    services: row.services,
    assigneeId: row.assigneeId,
    dependsOn: dependencies.filter((d) => isActive(d) && d.plannedEnd).map((d) => ({ id: d.id, number: d.number, plannedEnd: d.plannedEnd! })),
  };
}

/** What makes two detections the same conflict. */
export function conflictKey(conflict: Pick<ChangeConflict, 'kind' | 'otherChangeId' | 'windowId'>): string {
  return `${conflict.kind}|${conflict.otherChangeId ?? ''}|${conflict.windowId ?? ''}`;
}
