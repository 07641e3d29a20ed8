// Lint rules: typescript-eslint recommended plus the architecture rule that keeps vendor SDKs in adapters/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const vendorSdks = ['kafkajs', '@google-cloud/pubsub', 'pg', '@electric-sql/pglite', 'knex-pglite'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'services/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: [
      'core/**/*.ts',
      'gateway/**/*.ts',
      'processor/**/*.ts',
      'webhook-dispatcher/**/*.ts',
      'schemas/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: vendorSdks.map((name) => ({ name, message: 'Vendor SDKs live in adapters/ only.' })),
        },
      ],
    },
  },
);
