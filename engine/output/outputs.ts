/**
 * The `--out` outputs besides JSON: `csv[=...]` and `experimental-prometheus-rw`, as k6 names them.
 * `--out` values are parsed and the outputs' settings (K6_CSV_*, K6_PROMETHEUS_RW_*) checked before the
 * run, every problem at once (exit 104); the outputs are created once the metrics are known, take every
 * sample like the JSON output, and are flushed and closed at the end.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Issue, MetricDefinition, Sample, SampleSink } from '../contracts.ts';
import { CsvOutput, csvConfig, type CsvConfig } from './csv.ts';
import { PROMETHEUS_RW_OUTPUT, PrometheusRwOutput, prometheusRwConfig, type PrometheusRwConfig } from './prometheus-rw.ts';
import { toError } from '../../shared/errors.ts';

/** The outputs the embedded engine has (k6's names). */
export const SUPPORTED_OUTPUTS = ['json', 'csv', PROMETHEUS_RW_OUTPUT] as const;

export type OutputRequest =
  | { readonly kind: 'json'; readonly arg: string }
  | { readonly kind: 'csv'; readonly config: CsvConfig }
  | { readonly kind: typeof PROMETHEUS_RW_OUTPUT; readonly config: PrometheusRwConfig };

/** `--out NAME[=ARG]` → the output and its settings; unknown names and bad settings are issues. */
export function parseOutputs(
  values: readonly string[],
  env: Readonly<Record<string, string>>,
): { requests: OutputRequest[]; issues: Issue[] } {
  const requests: OutputRequest[] = [];
  const issues: Issue[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = eq === -1 ? v : v.slice(0, eq);
    const arg = eq === -1 ? '' : v.slice(eq + 1);
    if (name === 'json') requests.push({ kind: 'json', arg });
    else if (name === 'csv') {
      const r = csvConfig(arg, env);
      issues.push(...r.issues);
      requests.push({ kind: 'csv', config: r.config });
    } else if (name === PROMETHEUS_RW_OUTPUT) {
      const r = prometheusRwConfig(env);
      issues.push(...r.issues);
      requests.push({ kind: PROMETHEUS_RW_OUTPUT, config: r.config });
    } else {
      issues.push({
        code: 'unsupported-output',
        path: '--out',
        message: `output "${name}" is not supported by the embedded engine; use one of ${SUPPORTED_OUTPUTS.join(', ')} (e.g. --out csv=results.csv), or run with the k6 binary`,
      });
    }
  }
  return { requests, issues };
}

/** A started output besides JSON. */
export interface ExtraOutput extends SampleSink {
  readonly description: string;
  close(): Promise<void>;
}

export interface OutputContext {
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  /** The run's `systemTags` option, when the script sets one. */
  readonly systemTags: readonly string[] | undefined;
  readonly metric: (name: string) => MetricDefinition | undefined;
  readonly logError: (message: string) => void;
}

/** The CSV and remote-write outputs of these requests (JSON is the engine's JsonOutput). */
export class OutputSet implements SampleSink {
  readonly outputs: readonly ExtraOutput[];

  constructor(requests: readonly OutputRequest[], ctx: OutputContext) {
    const outputs: ExtraOutput[] = [];
    for (const r of requests) {
      if (r.kind === 'csv') {
        const path = isAbsolute(r.config.fileName) ? r.config.fileName : resolve(ctx.cwd, r.config.fileName);
        outputs.push(
          new CsvOutput({
            config: r.config,
            path,
            stdout: ctx.stdout,
            ...(ctx.systemTags === undefined ? {} : { systemTags: ctx.systemTags }),
          }),
        );
      } else if (r.kind === PROMETHEUS_RW_OUTPUT) {
        outputs.push(new PrometheusRwOutput({ config: r.config, metric: ctx.metric, onError: ctx.logError }));
      }
    }
    this.outputs = outputs;
  }

  get isEmpty(): boolean {
    return this.outputs.length === 0;
  }

  add(samples: readonly Sample[]): void {
    for (const o of this.outputs) o.add(samples);
  }

  /** Closes every output; the first failure is rethrown after all are closed. */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.outputs.map((o) => o.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw toError(failed.reason);
  }
}
