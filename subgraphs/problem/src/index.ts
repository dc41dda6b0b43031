import { backgroundDb, defineSubgraph } from '@itsm/kit';
import { createLoaders } from './context.js';
import { SCHEMA_NAME } from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { startRecurrenceDetector } from './services/recurrence-detector.js';

/** The problem subgraph: problems, their incident links, the Known Error Database and recurrence detection. */
export const problemSubgraph = defineSubgraph({
  name: 'problem',
  schemaFile: new URL('../schema.graphql', import.meta.url),
  schemaName: SCHEMA_NAME,
  migrationsFolder: new URL('../../../drizzle/problem', import.meta.url),
  resolvers,
  createLoaders,
  // Every replica runs the detector: the stored cursor, locked per event, makes them take turns.
  background: async (database, logger, services) => {
    const incidentUrl = services?.subgraphUrls.incident;
    if (!incidentUrl) {
      logger.warn('recurrence detection is off: no incident subgraph URL to read its events from');
      return async () => {};
    }
    const detector = startRecurrenceDetector({ db: backgroundDb(database), incidentUrl, internalSecret: services.internalSecret, logger });
    return () => detector.stop();
  },
});

export * as problemService from './services/problems.js';
export * as knownErrorService from './services/known-errors.js';
export { startRecurrenceDetector, RECURRENCE_CONSUMER } from './services/recurrence-detector.js';
