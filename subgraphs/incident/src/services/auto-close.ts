import { and, eq, inArray, sql } from 'drizzle-orm';
import { queryRows, type Db } from '@itsm/kit';
import { getResolvedIncidents, insertHistory } from '../db/queries.js';
import { incidents, type IncidentRow } from '../db/schema.js';
import { deleteTimers, replaceTimers, type TimerRow } from '../db/sla-queries.js';
import { autoCloseDue } from '../domain/lifecycle.js';
import { appendTenantEvents, incidentEvent, INCIDENT_EVENT_TYPES } from './incident-events.js';
import { notifyTimerScheduled } from './sla-engine.js';

/** The actor recorded in the history of changes nobody made by hand. */
export const SYSTEM_ACTOR = 'system';

/*
 * How auto-close is triggered: resolving an incident schedules an AUTO_CLOSE timer row (resolvedAt + the
 * tenant's days) in the same transaction; reopening or closing it deletes the row; changing the tenant's
 * delay reschedules every resolved incident. The SLA monitor takes due AUTO_CLOSE rows with the SLA
 * thresholds (FOR UPDATE SKIP LOCKED, sleeping until the earliest) and calls autoCloseIncidents.
 */

/** Schedules (or, with null days, cancels) the auto-close of a RESOLVED incident. */
export async function scheduleAutoClose(tx: Db, incident: Pick<IncidentRow, 'tenantId' | 'id' | 'resolvedAt'>, days: number | null): Promise<void> {
  const timers = days === null || !incident.resolvedAt ? [] : [{ level: '', dueAt: autoCloseDue(incident.resolvedAt, days) }];
  await replaceTimers(tx, incident.tenantId, 'AUTO_CLOSE', incident.id, timers);
  if (timers[0]) await notifyTimerScheduled(tx, timers[0].dueAt);
}

/** Cancels the auto-close of an incident leaving RESOLVED. */
export async function cancelAutoClose(tx: Db, incident: Pick<IncidentRow, 'tenantId' | 'id'>): Promise<void> {
  await replaceTimers(tx, incident.tenantId, 'AUTO_CLOSE', incident.id, []);
}

/** Reschedules every RESOLVED incident of a tenant after its delay changed. */
export async function rescheduleAutoClose(tx: Db, tenantId: string, days: number | null): Promise<void> {
  for (const incident of await getResolvedIncidents(tx, tenantId)) await scheduleAutoClose(tx, { tenantId, ...incident }, days);
}

/**
 * Closes the RESOLVED incidents whose AUTO_CLOSE timers are due, in the monitor's transaction. Incidents a
 * writer holds are skipped (their timers stay for the next pass); a timer whose incident is no longer
 * RESOLVED is dropped. Each closure bumps the version, is recorded in the history and the outbox.
 */
export async function autoCloseIncidents(tx: Db, due: readonly TimerRow[], now: Date): Promise<{ closed: IncidentRow[]; skipped: TimerRow[] }> {
  if (!due.length) return { closed: [], skipped: [] };
  const tuples = due.map((t) => sql`(${t.tenantId}::uuid, ${t.subjectId}::uuid)`);
  const locked = await queryRows<{ tenant_id: string; id: string; state: string }>(
    tx,
    sql`select tenant_id, id, state from ${incidents}
        where (tenant_id, id) in (${sql.join(tuples, sql`, `)})
        for update skip locked`,
  );
  const lockedKeys = new Map(locked.map((r) => [`${r.tenant_id}:${r.id}`, r.state]));
  const handled = due.filter((t) => lockedKeys.has(`${t.tenantId}:${t.subjectId}`));
  const skipped = due.filter((t) => !lockedKeys.has(`${t.tenantId}:${t.subjectId}`));
  await deleteTimers(tx, handled);

  const closed: IncidentRow[] = [];
  for (const timer of handled) {
    if (lockedKeys.get(`${timer.tenantId}:${timer.subjectId}`) !== 'RESOLVED') continue;
    const [row] = await tx
      .update(incidents)
      .set({ state: 'CLOSED', closedAt: now, updatedAt: now, version: sql`${incidents.version} + 1` })
      .where(and(eq(incidents.tenantId, timer.tenantId), inArray(incidents.id, [timer.subjectId]), eq(incidents.state, 'RESOLVED')))
      .returning();
    if (!row) continue;
    const { search: _search, ...incident } = row;
    closed.push(incident);
    await insertHistory(tx, [
      {
        tenantId: incident.tenantId,
        incidentId: incident.id,
        at: now,
        actor: SYSTEM_ACTOR,
        field: 'state',
        fromValue: 'RESOLVED',
        toValue: 'CLOSED',
        reason: 'auto-closed: resolved and not reopened within the tenant auto-close delay',
      },
    ]);
  }
  await appendTenantEvents(
    tx,
    closed.map((incident) => incidentEvent(INCIDENT_EVENT_TYPES.stateChanged, incident, now)),
  );
  return { closed, skipped };
}
