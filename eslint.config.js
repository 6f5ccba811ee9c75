// Lint that keeps the design of docs/architecture.md true. No stylistic rules: each rule here
// names a boundary or a class of bug, so a finding is a defect, not a matter of taste.
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** The database libraries: SQL lives in src/store only. */
const SQL_LIBRARIES = ['kysely', 'kysely/*', 'better-sqlite3', 'pg', 'pg-cursor'];
/** Node modules that do I/O (or reach the process): the domain has none. */
const IO_MODULES = ['fs', 'fs/*', 'child_process', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'dns/*', 'tls', 'worker_threads', 'cluster', 'readline', 'process']
  .flatMap((name) => [name, `node:${name}`]);

const restrictedImports = (groups) => [
  'error',
  {
    patterns: groups.map(({ names, message }) => ({ group: names, message })),
  },
];
const noSql = { names: SQL_LIBRARIES, message: 'SQL lives in src/store only: go through the Store port.' };
const noIo = { names: IO_MODULES, message: 'The domain does no I/O: take the data as a parameter.' };

/** `process.env` below the composition root (src/cli): config is parsed once and passed down. */
const noProcessEnv = [
  'error',
  {
    selector: "MemberExpression[object.name='process'][property.name='env']",
    message: 'Only the composition root (src/cli) reads process.env: take the setting from the config or a parameter.',
  },
  {
    selector: "MemberExpression[object.name='process'][property.value='env']",
    message: 'Only the composition root (src/cli) reads process.env: take the setting from the config or a parameter.',
  },
  {
    selector: "VariableDeclarator[init.name='process'] > ObjectPattern > Property[key.name='env']",
    message: 'Only the composition root (src/cli) reads process.env: take the setting from the config or a parameter.',
  },
];

export default tseslint.config(
  {
    ignores: ['node_modules/', '.tally-node/', '.venv/', 'web/dist/', 'dist/', 'test-artifacts/', '**/*.js', '**/*.mjs', 'src/harness/python/'],
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parser: tseslint.parser,
      // web/vite.config.ts is outside tsconfig.json (Vite loads it on its own).
      parserOptions: { projectService: { allowDefaultProject: ['web/vite.config.ts'] }, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      // no-cycle follows imports by parsing the imported files: it must know TypeScript's.
      'import-x/extensions': ['.ts', '.tsx', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/domain',
              from: './src',
              except: ['./domain'],
              message: 'The domain imports nothing of Tally outside src/domain.',
            },
            {
              target: './src/services',
              from: ['./src/runner', './src/http', './src/cli'],
              message: 'Services are the use cases: they do not import the runner, HTTP or the CLI (those import services).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/domain/**'],
    rules: { 'no-restricted-imports': restrictedImports([noSql]) },
  },
  {
    files: ['src/domain/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    rules: { 'no-restricted-imports': restrictedImports([noSql, noIo]) },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/**/*.test.ts'],
    rules: { 'no-restricted-syntax': noProcessEnv },
  },
);
