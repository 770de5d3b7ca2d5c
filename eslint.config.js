// Guardrails that reviews used to carry: no `any`, src/masking pure, no import cycles, short functions.
// `npm run lint` (part of `npm test`). typescript-eslint reads the types; import-x finds cycles.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** What src/masking may import: itself (relative paths), the error catalogue, avsc, zod and node:crypto. */
const MASKING_ALLOWED = 'src/masking may import only itself, src/errors.ts, avsc, zod and node:crypto (it is the pure core)';

export default tseslint.config(
  { ignores: ['dist/**', '.bench-build/**', 'node_modules/**', '.stack/**', 'coverage/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [tseslint.configs.base],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    settings: {
      // Parse .ts dependencies (import-x follows only .js by default) and resolve `./x.js` to `./x.ts`.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'max-lines-per-function': ['error', { max: 150, skipBlankLines: true, skipComments: true }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'named exports only (CONVENTIONS.md)' }],
    },
  },
  // src/masking files one folder deep (src/masking/x.ts): `../` leaves the core.
  maskingImports(['src/masking/*.ts'], '^\\.\\./(?!errors\\.js$)'),
  // Two folders deep (src/masking/actions/x.ts): `../../` leaves it.
  maskingImports(['src/masking/*/**/*.ts'], '^\\.\\./\\.\\./(?!errors\\.js$)'),
);

/** Restricts imports of the given files to the pure core's allowance; `leaving` matches relative paths out of it. */
function maskingImports(files, leaving) {
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(?!\\.|avsc$|zod$|node:crypto$)', message: MASKING_ALLOWED },
          { regex: leaving, message: MASKING_ALLOWED },
        ],
      }],
    },
  };
}
