import { defineSubgraph } from '@itsm/kit';
import { createLoaders } from './context.js';
import { SCHEMA_NAME } from './db/schema.js';
import { resolvers } from './resolvers/index.js';

/** The problem subgraph: problems, their incident links and the Known Error Database. */
export const problemSubgraph = defineSubgraph({
  name: 'problem',
  schemaFile: new URL('../schema.graphql', import.meta.url),
  schemaName: SCHEMA_NAME,
  migrationsFolder: new URL('../../../drizzle/problem', import.meta.url),
  resolvers,
  createLoaders,
});

export * as problemService from './services/problems.js';
