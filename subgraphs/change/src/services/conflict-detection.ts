import { appendEvents, type Db } from '@itsm/kit';
import { detectConflicts, type ChangeConflict, type NamedCalendarWindow } from '../domain/conflicts.js';
import { expandWindow } from '../domain/windows.js';
import {
  getChangeIdsWithOpenConflictsAgainst,
  getOpenConflictsByChangeIds,
  insertOpenConflicts,
  resolveConflicts,
  updateConflictText,
} from '../db/conflict-queries.js';
import { findOverlappingChanges, getActiveChangesPlannedAfter, getChangesByIds, getDependenciesByChangeIds, getDependentIds } from '../db/queries.js';
import { SCHEMA_NAME, type ChangeConflictRow, type ChangeRequestRow } from '../db/schema.js';
import { getActiveWindows } from '../db/window-queries.js';
import { conflictKey, isActive, plannedFromRow, scheduledFromRow, windowFromRow } from './mapping.js';

/** Outbox event type of a newly detected conflict (streamed by Subscription.changeConflicts). */
export const CHANGE_CONFLICT_DETECTED = 'CHANGE_CONFLICT_DETECTED';

const WINDOW_KINDS: ReadonlySet<string> = new Set(['BLACKOUT', 'OUTSIDE_MAINTENANCE_WINDOW']);

/** What detection found for one change, and which of its open conflicts that finding replaces. */
interface SyncPlan {
  change: Pick<ChangeRequestRow, 'id' | 'number'>;
  detected: ChangeConflict[];
  inScope: (row: ChangeConflictRow) => boolean;
}

/** The blackout occurrences a planned interval falls in, per window (first occurrence), for refusing a schedule. */
export function blackoutHits(
  change: ChangeRequestRow,
  plannedStart: Date,
  plannedEnd: Date,
  windows: readonly NamedCalendarWindow[],
): { window: NamedCalendarWindow; start: Date; end: Date }[] {
  const planned = plannedFromRow({ ...change, plannedStart, plannedEnd, state: 'NEW' }, []);
  if (!planned) return [];
  return detectConflicts(planned, [], windows)
    .filter((c) => c.kind === 'BLACKOUT')
    .flatMap((c) => {
      const window = windows.find((w) => w.id === c.windowId)!;
      const [first] = expandWindow(window, plannedStart, plannedEnd);
      return first ? [{ window, start: first.start, end: first.end }] : [];
    });
}

/** The tenant's active windows, as the domain expands them. */
export async function loadWindows(tx: Db, tenantId: string): Promise<NamedCalendarWindow[]> {
  return (await getActiveWindows(tx, tenantId)).map(windowFromRow);
}

/**
 * Runs conflict detection for a change whose schedule, items, assignee, dependencies or state just changed, and
 * records the result: the change's own conflicts, plus, for every change it now clashes with or used to clash with
 * and every change depending on it, their conflicts naming it (a clash shows on both sides). Call it inside the
 * transaction that made the change, after lockSchedule. Returns the conflicts that are new.
 */
export async function detectAndRecordConflicts(tx: Db, tenantId: string, changeId: string, now: Date): Promise<ChangeConflictRow[]> {
  const [change] = await getChangesByIds(tx, tenantId, [changeId]);
  if (!change) return [];
  const dependencies = (await getDependenciesByChangeIds(tx, tenantId, [change.id])).map((d) => d.dependency);
  const planned = plannedFromRow(change, dependencies);
  const plans: SyncPlan[] = [];
  let candidates: ChangeRequestRow[] = [];
  if (planned) {
    candidates = await findOverlappingChanges(tx, tenantId, {
      excludeId: change.id,
      start: planned.plannedStart,
      end: planned.plannedEnd,
      configurationItems: planned.configurationItems,
      services: planned.services,
      assigneeId: planned.assigneeId,
    });
    const others = candidates.flatMap((c) => scheduledFromRow(c) ?? []);
    plans.push({ change, detected: detectConflicts(planned, others, await loadWindows(tx, tenantId)), inScope: () => true });
  } else {
    plans.push({ change, detected: [], inScope: () => true });
  }

  const neighbourIds = [
    ...new Set([
      ...candidates.map((c) => c.id),
      ...(await getChangeIdsWithOpenConflictsAgainst(tx, tenantId, change.id)),
      ...(await getDependentIds(tx, tenantId, change.id)),
    ]),
  ]
    .filter((id) => id !== change.id)
    .sort();
  if (neighbourIds.length) {
    const neighbours = await getChangesByIds(tx, tenantId, neighbourIds);
    const dependsOnChange = new Set(
      (await getDependenciesByChangeIds(tx, tenantId, neighbourIds)).filter((d) => d.dependency.id === change.id).map((d) => d.changeId),
    );
    const self = planned && isActive(change) ? [scheduledFromRow(change)!] : [];
    for (const neighbour of neighbours.sort((a, b) => a.id.localeCompare(b.id))) {
      // Only the neighbour's conflicts naming this change are re-evaluated: its others are not touched here.
      const neighbourPlanned = plannedFromRow(neighbour, dependsOnChange.has(neighbour.id) ? [change] : []);
      plans.push({
        change: neighbour,
        detected: neighbourPlanned ? detectConflicts(neighbourPlanned, self, []) : [],
        inScope: (row) => row.otherChangeId === change.id,
      });
    }
  }
  return syncConflicts(tx, tenantId, plans, now);
}

/**
 * Re-checks the window conflicts (blackout, outside maintenance) of every active change planned to end after `now`
 * on the items a window covers: after a window was added or deleted. Call with the calendar locked.
 */
export async function recheckWindowConflicts(
  tx: Db,
  tenantId: string,
  scope: { all: true } | { configurationItems: readonly string[]; services: readonly string[] },
  now: Date,
): Promise<ChangeConflictRow[]> {
  const windows = await loadWindows(tx, tenantId);
  const changes = await getActiveChangesPlannedAfter(tx, tenantId, { after: now, scope });
  const plans = changes.flatMap((change): SyncPlan[] => {
    const planned = plannedFromRow(change, []);
    if (!planned) return [];
    return [{ change, detected: detectConflicts(planned, [], windows).filter((c) => WINDOW_KINDS.has(c.kind)), inScope: (row) => WINDOW_KINDS.has(row.kind) }];
  });
  return syncConflicts(tx, tenantId, plans, now);
}

/**
 * Makes the open conflicts in each plan's scope equal to what was detected: new ones are inserted and announced in
 * the outbox (same transaction), vanished ones resolved, changed wording updated quietly.
 */
async function syncConflicts(tx: Db, tenantId: string, plans: readonly SyncPlan[], now: Date): Promise<ChangeConflictRow[]> {
  if (!plans.length) return [];
  const existing = await getOpenConflictsByChangeIds(tx, tenantId, [...new Set(plans.map((p) => p.change.id))]);
  const inserts: { row: Parameters<typeof insertOpenConflicts>[1][number]; changeNumber: string; otherChangeNumber: string | null }[] = [];
  const resolved: string[] = [];
  for (const plan of plans) {
    const open = existing.filter((row) => row.changeId === plan.change.id && plan.inScope(row));
    const openByKey = new Map(open.map((row) => [row.conflictKey, row]));
    const seen = new Set<string>();
    for (const conflict of plan.detected) {
      const key = conflictKey(conflict);
      if (seen.has(key)) continue;
      seen.add(key);
      const current = openByKey.get(key);
      if (!current) {
        inserts.push({
          row: {
            tenantId,
            changeId: plan.change.id,
            kind: conflict.kind,
            severity: conflict.severity,
            otherChangeId: conflict.otherChangeId ?? null,
            windowId: conflict.windowId ?? null,
            conflictKey: key,
            message: conflict.message,
            detectedAt: now,
          },
          changeNumber: plan.change.number,
          otherChangeNumber: conflict.otherChangeNumber ?? null,
        });
      } else if (current.message !== conflict.message || current.severity !== conflict.severity) {
        await updateConflictText(tx, tenantId, current.id, { severity: conflict.severity, message: conflict.message });
      }
    }
    resolved.push(...open.filter((row) => !seen.has(row.conflictKey)).map((row) => row.id));
  }
  await resolveConflicts(tx, tenantId, resolved, now);
  const inserted = await insertOpenConflicts(tx, inserts.map((i) => i.row));
  const numbers = new Map(inserts.map((i) => [`${i.row.changeId}|${i.row.conflictKey}`, i]));
  await appendEvents(
    tx,
    SCHEMA_NAME,
    inserted.map((row) => {
      const source = numbers.get(`${row.changeId}|${row.conflictKey}`)!;
      return {
        tenantId,
        type: CHANGE_CONFLICT_DETECTED,
        occurredAt: now,
        payload: {
          conflictId: row.id,
          changeId: row.changeId,
          changeNumber: source.changeNumber,
          otherChangeId: row.otherChangeId,
          otherChangeNumber: source.otherChangeNumber,
          windowId: row.windowId,
          kind: row.kind,
          severity: row.severity,
          message: row.message,
          detectedAt: row.detectedAt.toISOString(),
        },
      };
    }),
  );
  return inserted;
}
