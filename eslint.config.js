import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.dependency-cruiser.cjs', '**/dist/**', '**/coverage/**', '**/node_modules/**', 'data/**', '.artifacts/**', '**/scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['bench/**', '**/*.test.ts', '**/test/**', '**/test-support/**', '.ci/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // The dashboard: browser code in src/, and a build script (scripts/) whose job is to print a report.
    files: ['packages/dashboard/src/**'],
    languageOptions: {
      globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', sessionStorage: 'readonly', fetch: 'readonly' },
    },
  },
  {
    files: ['packages/dashboard/scripts/**', 'packages/dashboard/e2e/**'],
    rules: { 'no-console': 'off' },
  },
);
