/**
 * Table-driven command lines for the toolkit's commands (`npm run k6`, `agentload k8s`): one typed table
 * per command says each flag's name, kind, default variable and help text; parsing is a pure function that
 * takes the table's flags out of argv (in any order), keeps the positionals, and passes every other flag
 * through verbatim (with its value) for k6. The `--help` rows come from the same table.
 */
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import { flagTakesSeparateValue } from '../k6/flags.ts';

export type FlagKind = 'boolean' | 'string' | 'number' | 'integer' | 'enum';

export interface FlagSpec<K extends string = string> {
  readonly name: `--${string}`;
  readonly short?: `-${string}`;
  /** The option the flag sets. */
  readonly key: K;
  readonly kind: FlagKind;
  readonly values?: readonly string[];
  readonly placeholder?: string;
  /** Environment variable that sets the default. */
  readonly env?: string;
  /** For boolean flags: the value the flag sets (`--no-report` sets `report` to false). */
  readonly sets?: boolean;
  readonly description: string;
}

export interface ParsedFlags<O> {
  readonly options: O;
  /** Arguments that are not flags, in order. */
  readonly positionals: readonly string[];
  /** Flags not in the table (for k6), with their values, in the order given. */
  readonly passThrough: readonly string[];
}

function assign(opts: Record<string, unknown>, spec: FlagSpec, raw: string, shown: string): void {
  switch (spec.kind) {
    case 'enum': {
      if (!(spec.values ?? []).includes(raw)) {
        throw new AgentloadError(
          'invalid-flag-value',
          EXIT_CODES.usage,
          `${shown}: ${spec.name} must be one of ${(spec.values ?? []).join(', ')}, got "${raw}"`,
        );
      }
      opts[spec.key] = raw;
      return;
    }
    case 'number':
    case 'integer': {
      const n = Number(raw);
      const whole = spec.kind === 'integer';
      if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || (whole && !Number.isInteger(n))) {
        throw new AgentloadError(
          'invalid-flag-value',
          EXIT_CODES.usage,
          `${shown}: ${spec.name} must be a positive ${whole ? 'whole number' : 'number'}, got "${raw}"`,
        );
      }
      opts[spec.key] = n;
      return;
    }
    case 'string':
      opts[spec.key] = raw;
      return;
    case 'boolean':
      opts[spec.key] = spec.sets ?? true;
      return;
  }
}

/**
 * Options from `defaults`, then the table's environment variables, then the flags in argv. Pure: reads
 * nothing but its arguments. Throws a one-line AgentloadError (exit 2) for a bad value.
 */
export function parseFlagTable<O extends object>(
  argv: readonly string[],
  specs: readonly FlagSpec<Extract<keyof O, string>>[],
  defaults: O,
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedFlags<O> {
  const options = { ...defaults } as Record<string, unknown>;
  for (const spec of specs) {
    if (spec.env === undefined) continue;
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    assign(options, spec, raw, `${spec.env}=${raw}`);
  }
  const passThrough: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const spec = specs.find((s) => s.name === name || s.short === name);
    if (spec !== undefined) {
      if (spec.kind === 'boolean') {
        if (name !== arg) throw new AgentloadError('invalid-flag-value', EXIT_CODES.usage, `${spec.name} takes no value, got "${arg}"`);
        assign(options, spec, '', arg);
        continue;
      }
      let value: string | undefined;
      if (name !== arg) value = arg.slice(eq + 1);
      else {
        value = argv[i + 1];
        i++;
      }
      if (value === undefined || value === '') {
        const hint = spec.placeholder ?? (spec.values ?? []).join('|');
        throw new AgentloadError('missing-flag-value', EXIT_CODES.usage, `${spec.name} needs a value: ${spec.name} ${hint}`);
      }
      assign(options, spec, value, spec.name);
      continue;
    }
    if (arg === '--') continue;
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    passThrough.push(arg);
    if (flagTakesSeparateValue(arg) && i + 1 < argv.length) {
      passThrough.push(argv[i + 1] ?? '');
      i++;
    }
  }
  return { options: options as O, positionals, passThrough };
}

/** `  --flag <value>   description [env NAME]` lines for --help, aligned. */
export function flagHelpRows(specs: readonly FlagSpec[]): string[] {
  const rows = specs.map((s) => {
    const value = s.kind === 'boolean' ? '' : ` <${s.placeholder ?? (s.values ?? []).join('|')}>`;
    const left = `${s.short !== undefined ? `${s.short}, ` : ''}${s.name}${value}`;
    const env = s.env !== undefined ? ` [env ${s.env}]` : '';
    return { left, right: `${s.description}${env}` };
  });
  const width = Math.max(...rows.map((r) => r.left.length)) + 2;
  return rows.map((r) => `  ${r.left.padEnd(width)}${r.right}`);
}
