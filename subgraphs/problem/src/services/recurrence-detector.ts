import { startEventConsumer, type Db, type EventConsumer, type Logger } from '@itsm/kit';
import { SCHEMA_NAME } from '../db/schema.js';
import { applyIncidentEvent } from './recurrence.js';

/** The cursor name under which the detector remembers how far it read the incident events. */
export const RECURRENCE_CONSUMER = 'recurrence-detector';

/** Incident event types the detector reads (the incident subgraph's outbox has others). */
export const INCIDENT_EVENT_TYPES = ['INCIDENT_CREATED', 'INCIDENT_UPDATED', 'INCIDENT_STATE_CHANGED'] as const;

/**
 * Runs recurrence detection over the incident subgraph's events, read through its internal
 * feed (never its database) with the cursor stored in the problem schema.
 */
export function startRecurrenceDetector(options: {
  db: Db;
  /** The incident subgraph's URL. */
  incidentUrl: string;
  internalSecret: string;
  logger: Logger;
  idleMs?: number;
}): EventConsumer {
  const logger = options.logger.child({ component: RECURRENCE_CONSUMER });
  return startEventConsumer({
    name: RECURRENCE_CONSUMER,
    db: options.db,
    schemaName: SCHEMA_NAME,
    source: { url: options.incidentUrl, internalSecret: options.internalSecret, service: 'problem' },
    types: INCIDENT_EVENT_TYPES,
    idleMs: options.idleMs,
    logger,
    handle: async (tx, event) => {
      const outcome = await applyIncidentEvent(tx, event);
      if (outcome.kind === 'detected' || outcome.kind === 'joined') {
        logger.info({ tenantId: event.tenantId, problem: outcome.problem.number, incidents: outcome.incidentIds.length }, `recurrence ${outcome.kind}`);
      }
    },
  });
}
