import { graphqlError, isUuid, type EventStreamContext, type OutboxEvent } from '@itsm/kit';
import type { ChangeContext } from '../context.js';
import { CHANGE_CONFLICT_DETECTED } from '../services/conflict-detection.js';

type Context = ChangeContext & EventStreamContext;

/** What a CHANGE_CONFLICT_DETECTED outbox event carries. */
interface ConflictDetectedPayload {
  conflictId: string;
  changeId: string;
  otherChangeId: string | null;
  kind: string;
  severity: string;
  message: string;
  detectedAt: string;
}

const payloadOf = (event: OutboxEvent) => event.payload as unknown as ConflictDetectedPayload;

async function loadChange(ctx: Context, id: string | null) {
  return id && isUuid(id) ? ctx.loaders.changeById.load(id) : null;
}

/** changeConflicts: the tenant's conflict alerts, replayed after `after` and then live. */
export const subscriptionResolvers = {
  Subscription: {
    changeConflicts: {
      subscribe: (_: unknown, args: { after?: string | null }, ctx: Context) =>
        ctx.events.subscribe({ tenantId: ctx.identity.tenantId, after: args.after, types: [CHANGE_CONFLICT_DETECTED] }),
      resolve: (event: OutboxEvent) => event,
    },
  },
  ChangeConflictEvent: {
    cursor: (event: OutboxEvent) => event.cursor,
    conflictId: (event: OutboxEvent) => payloadOf(event).conflictId,
    kind: (event: OutboxEvent) => payloadOf(event).kind,
    severity: (event: OutboxEvent) => payloadOf(event).severity,
    message: (event: OutboxEvent) => payloadOf(event).message,
    detectedAt: (event: OutboxEvent) => new Date(payloadOf(event).detectedAt),
    changeRequest: async (event: OutboxEvent, _: unknown, ctx: Context) => {
      const { changeId } = payloadOf(event);
      const change = await loadChange(ctx, changeId);
      if (!change) throw graphqlError('NOT_FOUND', `change request ${changeId} of this conflict was not found`);
      return change;
    },
    otherChangeRequest: (event: OutboxEvent, _: unknown, ctx: Context) => loadChange(ctx, payloadOf(event).otherChangeId),
  },
};
