import { DateTimeScalar, mutationErrorResolvers } from '@itsm/kit';
import { Incident, incidentQueries } from './incident.js';
import { incidentMutations } from './mutations.js';
import { settingsMutations, settingsQueries } from './settings.js';
import { slaMutations, slaQueries, slaTypes } from './sla.js';
import { subscriptionResolvers } from './subscriptions.js';

export const resolvers = {
  DateTime: DateTimeScalar,
  ...mutationErrorResolvers,
  Query: { ...incidentQueries, ...settingsQueries, ...slaQueries },
  Mutation: { ...incidentMutations, ...settingsMutations, ...slaMutations },
  Incident,
  ...slaTypes,
  ...subscriptionResolvers,
};
