import { DateTimeScalar, mutationErrorResolvers } from '@itsm/kit';
import type { ProblemContext } from '../context.js';
import { getRecurrenceSettings } from '../services/recurrence.js';
import { incidentResolvers } from './incident.js';
import { knownErrorQueries, knownErrorResolvers } from './known-error.js';
import { mutations } from './mutations.js';
import { problemQueries, problemResolvers } from './problem.js';
import { subscriptionResolvers } from './subscriptions.js';

export const resolvers = {
  DateTime: DateTimeScalar,
  ...mutationErrorResolvers,
  Query: {
    ...problemQueries,
    ...knownErrorQueries,
    recurrenceSettings: (_: unknown, __: unknown, ctx: ProblemContext) => getRecurrenceSettings(ctx.db, ctx.identity.tenantId),
  },
  Mutation: mutations,
  Problem: problemResolvers,
  KnownError: knownErrorResolvers,
  Incident: incidentResolvers,
  ...subscriptionResolvers,
};
