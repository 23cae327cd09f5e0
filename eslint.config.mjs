// Lint: ESLint's and typescript-eslint's recommended rules over all TypeScript in the project, and
// the rooms of the house: which folder may import which (README "Where things live").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { roomRules } from './eslint.rooms.mjs';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', '.scratch/', 'coverage/', 'bench-results/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  ...roomRules,
  {
    files: ['bin/*.js', 'jest.config.js', 'scripts/**/*.js', 'test/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
