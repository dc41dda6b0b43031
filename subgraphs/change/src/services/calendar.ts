import { graphqlError, hasRole, isUuid, payloadErrors, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { nextFreeSlots, type NamedCalendarWindow } from '../domain/conflicts.js';
import { expandWindow, validateWindow, windowApplies, type CalendarWindow, type Interval, type WindowKind } from '../domain/windows.js';
import { findOverlappingChanges, getChangesByIds, getChangesPlannedBetween, getDependenciesByChangeIds } from '../db/queries.js';
import type { ChangeConflictRow, ChangeRequestRow, ChangeWindowRow } from '../db/schema.js';
import { getActiveWindows, insertWindow, markWindowDeleted } from '../db/window-queries.js';
import { CHANGE_MANAGER_ROLES, normaliseItems, validationErrors } from './common.js';
import { loadWindows, recheckWindowConflicts } from './conflict-detection.js';
import { lockCalendar } from './locks.js';
import { isActive, windowFromRow } from './mapping.js';

const MAX_NAME = 200;
const MAX_CALENDAR_DAYS = 366;
const MAX_CALENDAR_CHANGES = 5000;
const FREE_SLOT_HORIZON_DAYS = 30;
const MAX_FREE_SLOTS = 50;
const DAY_MS = 24 * 60 * 60_000;
const MINUTE_MS = 60_000;

export interface CreateWindowInput {
  name: string;
  kind: WindowKind;
  timeZone: string;
  start: string;
  durationMinutes: number;
  rrule?: string | null;
  scope: { all?: boolean | null; configurationItems?: string[] | null; services?: string[] | null };
}

type WindowResult = { window: ChangeWindowRow; newConflicts: ChangeConflictRow[]; errors: [] } | { window: null; newConflicts: []; errors: PayloadError[] };

/** Adds a maintenance window or blackout (change manager) and re-checks the window conflicts of the changes it covers. */
export async function createChangeWindow(db: Db, identity: Identity, input: CreateWindowInput, now = new Date()): Promise<WindowResult> {
  const failed = (...errors: PayloadError[]): WindowResult => ({ window: null, newConflicts: [], errors });
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return failed(payloadErrors.forbidden(CHANGE_MANAGER_ROLES));
  const name = input.name.trim();
  if (!name || name.length > MAX_NAME) return failed(payloadErrors.validation({ field: 'input.name', rule: 'required', message: `name must be 1 to ${MAX_NAME} characters` }));
  const items = normaliseItems(input.scope.configurationItems, 'input.scope.configurationItems');
  if ('error' in items) return failed(items.error);
  const services = normaliseItems(input.scope.services, 'input.scope.services');
  if ('error' in services) return failed(services.error);
  const rrule = input.rrule?.trim() || null;
  const window: CalendarWindow = {
    kind: input.kind,
    timeZone: input.timeZone,
    start: input.start,
    durationMinutes: input.durationMinutes,
    rrule,
    scope: input.scope.all ? { all: true } : { configurationItems: items.items, services: services.items },
  };
  const problems = validateWindow(window);
  if (problems.length) return failed(...validationErrors(problems));

  return db.transaction(async (tx) => {
    await lockCalendar(tx, identity.tenantId);
    const row = await insertWindow(tx, {
      tenantId: identity.tenantId,
      name,
      kind: window.kind,
      timeZone: window.timeZone,
      startLocal: window.start,
      durationMinutes: window.durationMinutes,
      rrule,
      scopeAll: 'all' in window.scope,
      configurationItems: 'all' in window.scope ? [] : items.items,
      services: 'all' in window.scope ? [] : services.items,
      createdBy: identity.userId,
      createdAt: now,
    });
    const newConflicts = await recheckWindowConflicts(tx, identity.tenantId, window.scope, now);
    return { window: row, newConflicts, errors: [] as [] };
  });
}

/** Deletes a window (change manager); conflicts it caused are resolved, changes it contained may now be outside maintenance. */
export async function deleteChangeWindow(db: Db, identity: Identity, input: { windowId: string }, now = new Date()): Promise<WindowResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { window: null, newConflicts: [], errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  return db.transaction(async (tx) => {
    await lockCalendar(tx, identity.tenantId);
    const row = isUuid(input.windowId) ? await markWindowDeleted(tx, identity.tenantId, input.windowId, now) : undefined;
    if (!row) return { window: null, newConflicts: [] as [], errors: [payloadErrors.notFound('change window', input.windowId)] };
    const newConflicts = await recheckWindowConflicts(tx, identity.tenantId, windowFromRow(row).scope, now);
    return { window: row, newConflicts, errors: [] as [] };
  });
}

/** One occurrence of a window in the calendar. */
export interface WindowOccurrence {
  window: ChangeWindowRow;
  start: Date;
  end: Date;
}

/** The calendar between two instants: changes planned in it and window occurrences, optionally on some items only. */
export async function getChangeCalendar(
  db: Db,
  tenantId: string,
  input: { from: Date; to: Date; configurationItems?: string[] | null; services?: string[] | null },
): Promise<{ from: Date; to: Date; changes: ChangeRequestRow[]; windows: WindowOccurrence[] }> {
  if (!(input.to > input.from)) throw graphqlError('VALIDATION_FAILED', 'to must be after from', { field: 'to', rule: 'order' });
  if (input.to.getTime() - input.from.getTime() > MAX_CALENDAR_DAYS * DAY_MS) {
    throw graphqlError('VALIDATION_FAILED', `the calendar spans at most ${MAX_CALENDAR_DAYS} days`, { field: 'to', rule: 'range' });
  }
  const scoped = Boolean(input.configurationItems?.length || input.services?.length);
  const target = { configurationItems: input.configurationItems ?? [], services: input.services ?? [] };
  const [changes, windowRows] = await Promise.all([
    getChangesPlannedBetween(db, tenantId, { ...input, limit: MAX_CALENDAR_CHANGES }),
    getActiveWindows(db, tenantId),
  ]);
  const windows = windowRows
    .filter((row) => !scoped || windowApplies(windowFromRow(row), target))
    .flatMap((row) => expandWindow(windowFromRow(row), input.from, input.to).map((o) => ({ window: row, start: o.start, end: o.end })))
    .sort((a, b) => a.start.getTime() - b.start.getTime() || a.window.name.localeCompare(b.window.name));
  return { from: input.from, to: input.to, changes, windows };
}

/**
 * Up to `limit` conflict-free start times for a change in the next 30 days: clear of other active changes on its
 * items and of its assignee's other changes, clear of blackouts, inside a maintenance window where one applies, and
 * not before the changes it depends on end.
 */
export async function findNextFreeSlots(
  db: Db,
  tenantId: string,
  input: { changeRequestId: string; limit?: number | null; from?: Date | null; durationMinutes?: number | null },
  now = new Date(),
): Promise<Interval[]> {
  const limit = input.limit ?? 5;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FREE_SLOTS) {
    throw graphqlError('VALIDATION_FAILED', `limit must be from 1 to ${MAX_FREE_SLOTS}`, { field: 'limit', rule: 'range' });
  }
  const [change] = isUuid(input.changeRequestId) ? await getChangesByIds(db, tenantId, [input.changeRequestId]) : [];
  if (!change) throw graphqlError('NOT_FOUND', `change request ${input.changeRequestId} not found`);
  const planned = change.plannedStart && change.plannedEnd ? (change.plannedEnd.getTime() - change.plannedStart.getTime()) / MINUTE_MS : null;
  const durationMinutes = input.durationMinutes ?? planned;
  if (durationMinutes === null) {
    throw graphqlError('VALIDATION_FAILED', 'the change has no planned duration; give durationMinutes', { field: 'durationMinutes', rule: 'required' });
  }
  if (!Number.isInteger(durationMinutes) || durationMinutes < 1 || durationMinutes > FREE_SLOT_HORIZON_DAYS * 24 * 60) {
    throw graphqlError('VALIDATION_FAILED', 'durationMinutes must be a whole number of minutes within 30 days', { field: 'durationMinutes', rule: 'range' });
  }
  const dependencies = (await getDependenciesByChangeIds(db, tenantId, [change.id])).map((d) => d.dependency).filter((d) => isActive(d) && d.plannedEnd);
  const earliest = Math.max((input.from ?? now).getTime(), ...dependencies.map((d) => d.plannedEnd!.getTime()));
  const from = new Date(earliest);
  const horizonEnd = new Date(earliest + FREE_SLOT_HORIZON_DAYS * DAY_MS + durationMinutes * MINUTE_MS);
  const busy = await findOverlappingChanges(db, tenantId, {
    excludeId: change.id,
    start: from,
    end: horizonEnd,
    configurationItems: change.configurationItems,
    services: change.services,
    assigneeId: change.assigneeId,
  });
  const windows = (await loadWindows(db, tenantId)).filter((w) => windowApplies(w, change));
  const occurrences = (kind: NamedCalendarWindow['kind']) => windows.filter((w) => w.kind === kind).flatMap((w) => expandWindow(w, from, horizonEnd));
  const maintenanceWindows = windows.some((w) => w.kind === 'MAINTENANCE');
  const starts = nextFreeSlots({
    durationMinutes,
    from,
    limit,
    busy: busy.map((c) => ({ start: c.plannedStart!, end: c.plannedEnd! })),
    blackouts: occurrences('BLACKOUT'),
    maintenance: maintenanceWindows ? occurrences('MAINTENANCE') : null,
    horizonDays: FREE_SLOT_HORIZON_DAYS,
  });
  return starts.map((start) => ({ start, end: new Date(start.getTime() + durationMinutes * MINUTE_MS) }));
}
