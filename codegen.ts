// GraphQL Code Generator: the typed operations of web/operations/*.graphql, checked against
// schema.graphql and emitted to web/gql (checked in; `npm run codegen` rewrites it, and
// test/unit/operations.test.ts fails when it is stale or an operation no longer validates).
// The dashboard, the GraphiQL examples and the tests all import their operations from there.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/operations/*.graphql'],
  generates: {
    'web/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        scalars: { DateTime: 'string' },
      },
    },
    'web/gql/schema.ts': {
      plugins: ['./scripts/codegen-introspection.cjs'],
    },
  },
};

export default config;
