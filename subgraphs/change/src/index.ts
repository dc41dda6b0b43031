import { defineSubgraph } from '@itsm/kit';
import { createLoaders } from './context.js';
import { SCHEMA_NAME } from './db/schema.js';
import { resolvers } from './resolvers/index.js';

/** The change subgraph: change requests, risk, CAB approvals and the change calendar. */
export const changeSubgraph = defineSubgraph({
  name: 'change',
  schemaFile: new URL('../schema.graphql', import.meta.url),
  schemaName: SCHEMA_NAME,
  migrationsFolder: new URL('../../../drizzle/change', import.meta.url),
  resolvers,
  createLoaders,
});

export * as changeService from './services/changes.js';
