import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed operations from the gateway's schema files: no running server needed.
const config: CodegenConfig = {
  schema: '../graph/*.graphqls',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: {
          ID: 'string',
          USD: 'number',
          Time: 'string',
          Map: 'Record<string, unknown>',
          Cursor: 'string',
        },
      },
    },
  },
};
export default config;
