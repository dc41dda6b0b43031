import { defineConfig } from 'drizzle-kit';

/** drizzle-kit settings of the change subgraph: its tables live in the "change" Postgres schema. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/change/src/db/schema.ts',
  out: './drizzle/change',
  schemaFilter: ['change'],
});
