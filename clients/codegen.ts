import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the ITSM graph: `pnpm codegen` reads the gateway's API schema and every operation under
 * clients/operations/, and writes TypeScript types plus a TypedDocumentNode per operation to clients/generated/.
 * A frontend team copies this file, points `schema` at the gateway (or at api-schema.graphql) and `documents` at
 * its own operations. Paths are relative to the repository root, where `pnpm codegen` runs.
 */
const config: CodegenConfig = {
  schema: 'schema/api-schema.graphql',
  documents: ['clients/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'clients/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
      },
    },
  },
};

export default config;
