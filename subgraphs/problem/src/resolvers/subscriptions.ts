import { graphqlError, isUuid, type EventStreamContext, type OutboxEvent } from '@itsm/kit';
import type { ProblemContext } from '../context.js';
import { PROBLEM_EVENTS } from '../services/problems.js';

type Context = ProblemContext & EventStreamContext;

/** What a PROBLEM_DETECTED outbox event carries. */
interface ProblemDetectedPayload {
  problemId: string;
  incidentIds?: string[];
  detectedAt?: string;
}

const payloadOf = (event: OutboxEvent) => event.payload as unknown as ProblemDetectedPayload;

/** problemEvents: the tenant's detected problems, replayed after `after` and then live. */
export const subscriptionResolvers = {
  Subscription: {
    problemEvents: {
      subscribe: (_: unknown, args: { after?: string | null }, ctx: Context) =>
        ctx.events.subscribe({ tenantId: ctx.identity.tenantId, after: args.after, types: [PROBLEM_EVENTS.detected] }),
      resolve: (event: OutboxEvent) => event,
    },
  },
  ProblemEvent: {
    cursor: (event: OutboxEvent) => event.cursor,
    type: (event: OutboxEvent) => event.type,
    detectedAt: (event: OutboxEvent) => {
      const { detectedAt } = payloadOf(event);
      return detectedAt ? new Date(detectedAt) : event.occurredAt;
    },
    problem: async (event: OutboxEvent, _: unknown, ctx: Context) => {
      const { problemId } = payloadOf(event);
      const problem = isUuid(problemId) ? await ctx.loaders.problemById.load(problemId) : null;
      if (!problem) throw graphqlError('NOT_FOUND', `problem ${problemId} of this event was not found`);
      return problem;
    },
    incidents: (event: OutboxEvent) => (payloadOf(event).incidentIds ?? []).map((id) => ({ id })),
  },
};
