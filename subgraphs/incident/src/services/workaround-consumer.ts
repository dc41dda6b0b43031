import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { isUuid, startEventConsumer, type Db, type EventConsumer, type Logger, type OutboxEvent } from '@itsm/kit';
import { insertHistory } from '../db/queries.js';
import { incidents, SCHEMA_NAME, type IncidentRow } from '../db/schema.js';
import { appendTenantEvents, incidentEvent, INCIDENT_EVENT_TYPES } from './incident-events.js';

/**
 * The incident side of "communicate workaround": the problem subgraph writes a
 * WORKAROUND_COMMUNICATED event to its outbox (it never touches incident tables); this consumer
 * reads it through the problem subgraph's internal event feed and writes the workaround onto the
 * incidents it names that are still open.
 */
export const WORKAROUND_COMMUNICATED = 'WORKAROUND_COMMUNICATED';
export const WORKAROUND_CONSUMER = 'workaround-consumer';

/** States in which an incident no longer takes a workaround. */
const FINISHED_STATES = ['RESOLVED', 'CLOSED', 'CANCELLED'];

/** What a WORKAROUND_COMMUNICATED event carries. */
export interface WorkaroundCommunicated {
  problemId: string | null;
  knownErrorId: string;
  knownErrorNumber?: string;
  workaround: string;
  incidentIds: string[];
  communicatedBy?: string;
}

function parse(payload: Record<string, unknown>): WorkaroundCommunicated | undefined {
  const { workaround, incidentIds, knownErrorId } = payload;
  if (typeof workaround !== 'string' || !workaround.trim() || typeof knownErrorId !== 'string' || !Array.isArray(incidentIds)) return undefined;
  return {
    problemId: typeof payload.problemId === 'string' ? payload.problemId : null,
    knownErrorId,
    knownErrorNumber: typeof payload.knownErrorNumber === 'string' ? payload.knownErrorNumber : undefined,
    workaround,
    incidentIds: incidentIds.filter((id): id is string => typeof id === 'string' && isUuid(id)),
    communicatedBy: typeof payload.communicatedBy === 'string' ? payload.communicatedBy : undefined,
  };
}

/**
 * Writes the communicated workaround onto the event's incidents of its tenant that are still
 * open and do not already show it (so a redelivered event changes nothing); each write bumps
 * the incident's version, is recorded in its history and emits INCIDENT_UPDATED. Resolved,
 * closed and cancelled incidents are left as they are. Returns the incidents written.
 */
export async function applyCommunicatedWorkaround(
  db: Db,
  event: Pick<OutboxEvent, 'tenantId' | 'type' | 'payload'>,
  now = new Date(),
): Promise<IncidentRow[]> {
  const communicated = event.type === WORKAROUND_COMMUNICATED ? parse(event.payload) : undefined;
  if (!communicated?.incidentIds.length) return [];
  const run = async (tx: Db) => {
    const updated = await tx
      .update(incidents)
      .set({ workaround: communicated.workaround, updatedAt: now, version: sql`${incidents.version} + 1` })
      .where(
        and(
          eq(incidents.tenantId, event.tenantId),
          inArray(incidents.id, communicated.incidentIds),
          notInArray(incidents.state, FINISHED_STATES),
          sql`${incidents.workaround} is distinct from ${communicated.workaround}`,
        ),
      )
      .returning();
    if (!updated.length) return updated;
    await insertHistory(
      tx,
      updated.map((incident) => ({
        tenantId: event.tenantId,
        incidentId: incident.id,
        at: now,
        actor: communicated.communicatedBy ?? 'problem-management',
        field: 'workaround',
        fromValue: null,
        toValue: communicated.knownErrorNumber ?? communicated.knownErrorId,
        reason: 'workaround communicated from the Known Error Database',
      })),
    );
    await appendTenantEvents(tx, updated.map((incident) => incidentEvent(INCIDENT_EVENT_TYPES.updated, incident, now)));
    return updated;
  };
  return db.transaction(run);
}

/** Consumes the problem subgraph's WORKAROUND_COMMUNICATED events (needs consumer_cursors in the incident schema). */
export function startWorkaroundConsumer(options: { db: Db; problemUrl: string; internalSecret: string; logger: Logger }): EventConsumer {
  const logger = options.logger.child({ component: WORKAROUND_CONSUMER });
  return startEventConsumer({
    name: WORKAROUND_CONSUMER,
    db: options.db,
    schemaName: SCHEMA_NAME,
    source: { url: options.problemUrl, internalSecret: options.internalSecret, service: 'incident' },
    types: [WORKAROUND_COMMUNICATED],
    logger,
    handle: async (tx, event) => {
      const written = await applyCommunicatedWorkaround(tx, event);
      if (written.length) logger.info({ tenantId: event.tenantId, incidents: written.map((i) => i.number) }, 'workaround written to open incidents');
    },
  });
}
