// Lint rules for all TypeScript and build scripts: typescript-eslint's recommended set, and the
// boundary rule that keeps adapter/ free of runtime imports from `vscode` (it also runs standalone).
// Formatting is prettier's job (.prettierrc); this file does not touch style.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      '.test-output/**',
      'adapter/python/**',
      'demo/**',
      'test/vectors/**',
      'test/fixtures/**',
      'out/**',
      'build/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        fetch: 'readonly',
      },
    },
  },
  {
    files: ['adapter/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message:
                'adapter/ also runs standalone: it may not import runtime values from vscode.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
