import { defineSubgraph } from '@itsm/kit';
import { createLoaders } from './context.js';
import { SCHEMA_NAME } from './db/schema.js';
import { resolvers } from './resolvers/index.js';

/** The incident subgraph: incidents, priority, lifecycle and SLAs. */
export const incidentSubgraph = defineSubgraph({
  name: 'incident',
  schemaFile: new URL('../schema.graphql', import.meta.url),
  schemaName: SCHEMA_NAME,
  migrationsFolder: new URL('../../../drizzle/incident', import.meta.url),
  resolvers,
  createLoaders,
});

export * as incidentService from './services/incidents.js';
