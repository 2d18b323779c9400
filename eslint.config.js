// Flat config: the recommended JavaScript and type-aware TypeScript rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TESTS = ['**/*.test.ts', '**/*.itest.ts', '**/*.ptest.ts', '**/test-support.ts'];

const CONTRACT_ONLY = {
  regex: 'images/(?!lib/contract/)',
  message: 'the operator imports only the programs’ contract (images/lib/contract/)',
};
const NO_OPERATOR = {
  regex: '(^|/)operator/',
  message: 'the programs never import the operator; the operator imports their contract',
};
const API_LAYER = {
  regex: '(^|/)(render|reconcile|cli)/',
  message: 'the API schemas are the bottom layer: they import neither render, reconcile nor cli',
};
const RENDER_LAYER = {
  regex: '(^|/)(reconcile|cli)/',
  message: 'the renderer is pure: it imports neither the reconcile shell nor the CLI',
};

function restrict(files, patterns, ignores) {
  return {
    files,
    ...(ignores ? { ignores } : {}),
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

function importDirections() {
  return [
    restrict(['images/**/*.ts'], [NO_OPERATOR]),
    restrict(['operator/**/*.ts'], [CONTRACT_ONLY]),
    restrict(['operator/src/api/**/*.ts'], [CONTRACT_ONLY, API_LAYER], TESTS),
    restrict(['operator/src/render/**/*.ts'], [CONTRACT_ONLY, RENDER_LAYER], TESTS),
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'crds/**', 'charts/mtopo/**', '**/testdata/**', '.cache/**', 'out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Its autofix removed casts tsc needs (narrowing KubernetesObject to objects with a status).
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // node:test's describe() and test() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'suite', 'it', 'test', 'before', 'after'],
            },
          ],
        },
      ],
      eqeqeq: ['error', 'smart'],
    },
  },
  // Import directions (docs/design.md, "The program kit"): what holds by discipline, held by lint.
  // Tests may reach across layers for fixtures; production code may not. (In a flat config the last
  // block wins for a rule, so each block repeats the wider rules that also hold for its files.)
  ...importDirections(),
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
