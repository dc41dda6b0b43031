import { graphqlError, type EventStreamContext, type OutboxEvent } from '@itsm/kit';
import type { IncidentContext } from '../context.js';
import { SLA_EVENT_TYPES, type SlaEventPayload } from '../services/sla-engine.js';
import { loadIncident } from './incident.js';

type SlaEventKind = 'WARNING' | 'ESCALATION' | 'BREACHED';
type Context = IncidentContext & EventStreamContext;

const TYPE_OF_KIND: Record<SlaEventKind, string> = {
  WARNING: SLA_EVENT_TYPES.warning,
  ESCALATION: SLA_EVENT_TYPES.escalation,
  BREACHED: SLA_EVENT_TYPES.breached,
};
const KIND_OF_TYPE = new Map(Object.entries(TYPE_OF_KIND).map(([kind, type]) => [type, kind as SlaEventKind]));

const payloadOf = (event: OutboxEvent) => event.payload as SlaEventPayload;

/** slaEvents: the tenant's SLA outbox events, replayed after `after` and then live. */
export const subscriptionResolvers = {
  Subscription: {
    slaEvents: {
      subscribe: (_: unknown, args: { after?: string | null; kinds?: SlaEventKind[] | null }, ctx: Context) =>
        ctx.events.subscribe({
          tenantId: ctx.identity.tenantId,
          after: args.after,
          types: (args.kinds?.length ? args.kinds : (Object.keys(TYPE_OF_KIND) as SlaEventKind[])).map((kind) => TYPE_OF_KIND[kind]),
        }),
      resolve: (event: OutboxEvent) => event,
    },
  },
  SlaEvent: {
    cursor: (event: OutboxEvent) => event.cursor,
    kind: (event: OutboxEvent) => KIND_OF_TYPE.get(event.type),
    slaKind: (event: OutboxEvent) => payloadOf(event).kind,
    slaId: (event: OutboxEvent) => payloadOf(event).slaId,
    level: (event: OutboxEvent) => payloadOf(event).level ?? null,
    percent: (event: OutboxEvent) => payloadOf(event).percent,
    dueAt: (event: OutboxEvent) => new Date(payloadOf(event).dueAt),
    firedAt: (event: OutboxEvent) => new Date(payloadOf(event).firedAt),
    incident: async (event: OutboxEvent, _: unknown, ctx: Context) => {
      const { incidentId } = payloadOf(event);
      const incident = await loadIncident(ctx, incidentId);
      if (!incident) throw graphqlError('NOT_FOUND', `incident ${incidentId} of this SLA event was not found`);
      return incident;
    },
  },
};
