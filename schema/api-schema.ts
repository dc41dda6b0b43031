import { fileURLToPath } from 'node:url';
import { printSchema, Supergraph } from '@apollo/federation-internals';

/** What clients see: the supergraph without federation's join/link machinery (codegen and schema checks read it). */
export const API_SCHEMA_FILE = fileURLToPath(new URL('./api-schema.graphql', import.meta.url));

/** The API schema of a supergraph, printed the way the gateway exposes it to introspection. */
export function apiSchemaOf(supergraphSdl: string): string {
  return printSchema(Supergraph.build(supergraphSdl).apiSchema());
}
