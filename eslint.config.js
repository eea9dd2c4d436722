// ESLint (flat config) for the TypeScript of bridge/ and test/ and the scripts' .mjs.
// Type-aware rules (typescript-eslint's recommendedTypeChecked) through tsconfig.json's project service;
// formatting is prettier's job (eslint-config-prettier turns off the rules that would fight it).
// See README, "Quality gates".
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'structuredClone',
    'fetch',
    'AbortController',
    'TextDecoder',
    'TextEncoder',
  ].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tap/', 'staging-out/', 'test-artifacts/', 'odoo_addon/', 'samples/'] },
  js.configs.recommended,
  {
    files: ['bridge/**/*.ts', 'test/**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // an async generator cannot be an arrow function, so one inside a method reaches the instance as `self`
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['self'] }],
    },
  },
  // type-aware rules for the product code only: on the tests they would double the lint time (a second
  // type check of 100+ test files) and mostly flag tap's subtests, which tap awaits itself
  {
    files: ['bridge/**/*.ts'],
    extends: [tseslint.configs.recommendedTypeCheckedOnly],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // async is part of a contract here, not a missing await: fastify plugins are async functions, a source's
      // tables are async generators whether or not a given one awaits (no-floating-promises and
      // no-misused-promises still catch the promises that matter)
      '@typescript-eslint/require-await': 'off',
      // wrong under tsconfig's noUncheckedIndexedAccess: it calls `x[k] as T` / `x[k]!` unnecessary, and its
      // autofix removed 15 assertions tsc needs (10 type errors in bridge/src/mapping/engine.ts)
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { sourceType: 'module', globals: nodeGlobals },
  },
  prettier,
);
