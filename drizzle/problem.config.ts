import { defineConfig } from 'drizzle-kit';

/** drizzle-kit settings of the problem subgraph: its tables live in the "problem" Postgres schema. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/problem/src/db/schema.ts',
  out: './drizzle/problem',
  schemaFilter: ['problem'],
});
