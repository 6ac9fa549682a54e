// typescript-eslint strict type-checked rules over all TypeScript in the repo.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // src/bundle/k6-globals.d.ts belongs to the load-script settings (tsconfig.k6.json), which the project service does not see.
  { ignores: ['node_modules/', 'build/', 'reports/', 'test-artifacts/', '**/*.js', '**/*.mjs', '**/*.cjs', 'src/bundle/k6-globals.d.ts'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
    },
  },
);
