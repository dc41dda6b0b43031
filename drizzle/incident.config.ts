import { defineConfig } from 'drizzle-kit';

/** drizzle-kit settings of the incident subgraph: its tables live in the "incident" Postgres schema. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/incident/src/db/schema.ts',
  out: './drizzle/incident',
  schemaFilter: ['incident'],
});
