// Lint: typescript-eslint with type information, plus the layer rule that keeps `src/core` platform-free.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.vscode-test/**', 'out/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'vscode', message: 'src/core is platform-free: adapters in src/vscode own the editor API.' },
          ...['fs', 'http', 'https', 'net', 'dns', 'os', 'path', 'child_process', 'crypto', 'stream', 'util'].map((name) => ({ name, message: 'src/core runs on web-standard APIs only; Node pieces live in src/node.' })),
        ],
        patterns: [{ group: ['node:*'], message: 'src/core runs on web-standard APIs only; Node pieces live in src/node.' }],
      }],
    },
  },
  {
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['esbuild.mjs', 'eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  // The build script runs in Node, whose globals the recommended rules do not know.
  { files: ['esbuild.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
