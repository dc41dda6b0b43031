import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeServices } from '@apollo/composition';
import { changeSubgraph } from '@itsm/change';
import { incidentSubgraph } from '@itsm/incident';
import { problemSubgraph } from '@itsm/problem';
import { API_SCHEMA_FILE, apiSchemaOf } from './api-schema.js';

export const SUPERGRAPH_FILE = fileURLToPath(new URL('./supergraph.graphql', import.meta.url));

/** Default URLs written into the supergraph; deployments override them through configuration. */
const DEFAULT_URLS = { incident: 'http://127.0.0.1:4001/graphql', problem: 'http://127.0.0.1:4002/graphql', change: 'http://127.0.0.1:4003/graphql' };

/** Composes the three subgraph SDLs into the supergraph the gateway serves; throws with every composition error. */
export function composeSupergraph(): string {
  const result = composeServices(
    [incidentSubgraph, problemSubgraph, changeSubgraph].map((s) => ({ name: s.name, typeDefs: s.typeDefs, url: DEFAULT_URLS[s.name as keyof typeof DEFAULT_URLS] })),
  );
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const supergraph = composeSupergraph();
  writeFileSync(SUPERGRAPH_FILE, supergraph);
  writeFileSync(API_SCHEMA_FILE, apiSchemaOf(supergraph));
  console.log(`wrote ${SUPERGRAPH_FILE} and ${API_SCHEMA_FILE}`);
}
