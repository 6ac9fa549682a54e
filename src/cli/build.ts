/** `npm run build [-- scenarios/x.ts ...]`: type-check and bundle every scenario (or the ones given), one size line each. */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AgentloadError, EXIT_CODES, typeErrors } from '../errors.ts';
import { bundleScenario, DEFAULT_BUNDLE_TARGET } from '../bundle/bundle.ts';
import { typecheckCached } from '../bundle/typecheck-cache.ts';
import type { CliIO } from './io.ts';

export function buildHelp(): string {
  return [
    'Usage: npm run build [-- scenarios/<name>.ts ...] [--bundle-target es2017] [--bundle-budget KB]',
    '',
    'Type-checks and bundles scenarios into build/<name>.js (all of scenarios/*.ts when none is given).',
    'Env: AGENTLOAD_BUNDLE_TARGET, AGENTLOAD_BUNDLE_BUDGET_KB.',
  ].join('\n');
}

export async function buildCommand(argv: readonly string[], io: CliIO): Promise<number> {
  let target = io.env.AGENTLOAD_BUNDLE_TARGET ?? DEFAULT_BUNDLE_TARGET;
  const budgetRaw = io.env.AGENTLOAD_BUNDLE_BUDGET_KB;
  let budget = budgetRaw !== undefined && budgetRaw !== '' ? Number(budgetRaw) : undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--help' || a === '-h') {
      io.stdout.write(`${buildHelp()}\n`);
      return EXIT_CODES.ok;
    }
    const [flag, inline] =
      a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--bundle-target' || flag === '--bundle-budget') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') {
        throw new AgentloadError('missing-flag-value', EXIT_CODES.usage, `${flag} needs a value`);
      }
      if (flag === '--bundle-target') target = value;
      else budget = Number(value);
      continue;
    }
    if (a.startsWith('-')) throw new AgentloadError('usage', EXIT_CODES.usage, `unknown flag ${a} for build: see npm run build -- --help`);
    files.push(a);
  }
  if (budget !== undefined && (!Number.isFinite(budget) || budget <= 0)) {
    throw new AgentloadError(
      'invalid-flag-value',
      EXIT_CODES.usage,
      `bundle budget must be a positive number of KB, got ${String(budgetRaw ?? budget)}`,
    );
  }
  if (files.length === 0) {
    const dir = join(io.cwd, 'scenarios');
    if (existsSync(dir))
      files.push(
        ...readdirSync(dir)
          .filter((f) => f.endsWith('.ts'))
          .sort()
          .map((f) => join('scenarios', f)),
      );
  }
  if (files.length === 0) throw new AgentloadError('missing-scenario', EXIT_CODES.usage, 'no scenarios to build: add scenarios/<name>.ts');
  for (const f of files) {
    if (!existsSync(resolve(io.cwd, f))) {
      throw new AgentloadError('scenario-not-found', EXIT_CODES.usage, `scenario file not found: ${f}: check the path`);
    }
  }
  const { diagnostics } = await typecheckCached(
    files.map((f) => resolve(io.cwd, f)),
    { root: io.root, cwd: io.cwd, env: io.env },
  );
  const unique = [...new Set(diagnostics.map((d) => d.text))];
  if (unique.length > 0) throw typeErrors(unique);
  const outDir = (io.env.AGENTLOAD_BUILD_DIR ?? '') !== '' ? resolve(io.cwd, io.env.AGENTLOAD_BUILD_DIR ?? '') : undefined;
  let over: AgentloadError | undefined;
  for (const f of files) {
    try {
      const r = await bundleScenario(f, {
        root: io.root,
        cwd: io.cwd,
        target,
        ...(budget !== undefined ? { budgetKb: budget } : {}),
        ...(outDir !== undefined ? { outDir } : {}),
      });
      io.stdout.write(`${r.sizeLine}\n`);
    } catch (err: unknown) {
      if (err instanceof AgentloadError && err.code === 'bundle-over-budget') {
        io.stdout.write(`${err.message}\n`);
        over ??= err;
        continue;
      }
      throw err;
    }
  }
  if (over !== undefined) throw over;
  return EXIT_CODES.ok;
}
