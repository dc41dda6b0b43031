import { DateTimeScalar, mutationErrorResolvers } from '@itsm/kit';
import { Incident, incidentQueries } from './incident.js';
import { incidentMutations, priorityMatrixQueries } from './mutations.js';

export const resolvers = {
  DateTime: DateTimeScalar,
  ...mutationErrorResolvers,
  Query: { ...incidentQueries, ...priorityMatrixQueries },
  Mutation: incidentMutations,
  Incident,
};
