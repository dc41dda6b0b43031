import { DateTimeScalar, mutationErrorResolvers } from '@itsm/kit';
import { cabResolvers } from './cab.js';
import { calendarResolvers } from './calendar.js';
import { changeRequestResolvers } from './change-request.js';
import { mutationResolvers } from './mutation.js';
import { queryResolvers } from './query.js';
import { subscriptionResolvers } from './subscriptions.js';

/** The change subgraph's resolvers, one file per group of types. */
export const resolvers = {
  DateTime: DateTimeScalar,
  ...mutationErrorResolvers,
  ...subscriptionResolvers,
  Query: queryResolvers,
  Mutation: mutationResolvers,
  ...changeRequestResolvers,
  ...cabResolvers,
  ...calendarResolvers,
};
