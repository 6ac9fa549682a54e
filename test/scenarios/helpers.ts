/**
 * Runs a scenario end to end the way `npm run k6` does: bundle (src/bundle) → reference platform
 * (target/, with fault knobs from `targetEnv`) → embedded engine (engine/) → exit code and output.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { bundleScenario, type BundleResult } from '../../src/bundle/bundle.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function bundleOne(name: string, outDir: string): Promise<BundleResult> {
  return bundleScenario(join(ROOT, 'scenarios', `${name}.ts`), { root: ROOT, outDir, cwd: ROOT });
}

export interface RunOptions {
  /** Script environment (`__ENV`), on top of BASE_URL/SIZE. */
  readonly env?: Readonly<Record<string, string>>;
  /** Environment of the reference platform: fault knobs. */
  readonly targetEnv?: Readonly<Record<string, string>>;
  /** Start the Slack sink and point the platform and script at it. */
  readonly slackSink?: boolean;
  /** Hard stop for the whole run (ms); the run is aborted (exit 105) beyond it. */
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** `--summary-export` content. */
  readonly summary: SummaryExport | undefined;
  /** Slack sink stats at the end (when slackSink). */
  readonly sinkStats?: unknown;
}

export interface SummaryExport {
  readonly metrics: Record<string, { thresholds?: Record<string, boolean>; [k: string]: unknown }>;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export interface TargetProcess {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts the reference platform as its own process (`scripts/target.mjs`, port 0), so the platform and the
 * engine do not share one event loop and the measured latency is the platform's.
 */
export async function startTargetProcess(env: Readonly<Record<string, string>>): Promise<TargetProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'target.mjs')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errText = '';
  child.stderr.on('data', (c: Buffer) => {
    errText += c.toString('utf8');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let outText = '';
    const timer = setTimeout(() => {
      reject(new Error(`target did not start within 30 s: ${errText}`));
    }, 30_000);
    child.stdout.on('data', (c: Buffer) => {
      outText += c.toString('utf8');
      const m = /listening on (http:\/\/\S+)/.exec(outText);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`target exited with ${String(code)} before listening: ${errText}`));
    });
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export const SLACK_TEST_SECRET = 'agentload-test-signing-secret-3f9c';

export async function runScenario(name: string, o: RunOptions = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `agentload-${name}-`));
  const { runEngine } = await import('../../engine/index.ts');
  const { startSlackSink } = await import('../../src/slack-sink/index.ts');
  const sink = o.slackSink === true ? await startSlackSink({ port: 0 }) : undefined;
  const target = await startTargetProcess({
    SLACK_SIGNING_SECRET: SLACK_TEST_SECRET,
    ...(sink !== undefined ? { SLACK_API_URL: sink.apiUrl } : {}),
    ...(o.targetEnv ?? {}),
  });
  const out = collect();
  const err = collect();
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new Error(`test timeout for ${name}`));
  }, o.timeoutMs ?? 120_000);
  try {
    const bundle = await bundleOne(name, dir);
    const summaryPath = join(dir, 'summary.json');
    const env: Record<string, string> = {
      BASE_URL: target.url,
      SIZE: 'smoke',
      SLACK_SIGNING_SECRET: SLACK_TEST_SECRET,
      ...(sink !== undefined ? { SLACK_SINK_URL: sink.url } : {}),
      ...(o.env ?? {}),
    };
    const code = await runEngine({
      script: bundle.outfile,
      args: ['--summary-export', summaryPath, '--no-color'],
      env,
      cwd: dir,
      stdout: out.stream,
      stderr: err.stream,
      signal: controller.signal,
      handleSignals: false,
    });
    let summary: SummaryExport | undefined;
    try {
      summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as SummaryExport;
    } catch {
      summary = undefined;
    }
    return { code, stdout: out.text(), stderr: err.text(), summary, ...(sink !== undefined ? { sinkStats: sink.stats() } : {}) };
  } finally {
    clearTimeout(timer);
    await target.close();
    if (sink !== undefined) await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Thresholds that failed, as `metric: expression` (from the summary export). */
export function failedThresholds(r: RunResult): string[] {
  const out: string[] = [];
  for (const [metric, v] of Object.entries(r.summary?.metrics ?? {})) {
    for (const [expr, okFlag] of Object.entries(v.thresholds ?? {})) {
      // k6's summary export: `true` means the threshold was crossed (failed).
      if (okFlag) out.push(`${metric}: ${expr}`);
    }
  }
  return out;
}

function tail(r: RunResult): string {
  return `exit ${r.code}; crossed: ${failedThresholds(r).join('; ') || 'none'}\n--- stderr ---\n${r.stderr.slice(-2500)}\n--- stdout ---\n${r.stdout.slice(-2500)}`;
}

/** The run passed: exit 0, no threshold crossed. */
export function assertPassed(r: RunResult): void {
  assert.equal(r.code, 0, `expected exit 0\n${tail(r)}`);
  assert.deepEqual(failedThresholds(r), [], 'no threshold crossed');
}

/** The run failed on thresholds (exit 99), the given metric's threshold among them, named in the output. */
export function assertCrossed(r: RunResult, metric: string): void {
  assert.equal(r.code, 99, `expected exit 99 (thresholds crossed)\n${tail(r)}`);
  assert.ok(
    failedThresholds(r).some((x) => x.startsWith(`${metric}: `)),
    `expected a crossed threshold on ${metric}\n${tail(r)}`,
  );
  assert.ok(r.stderr.includes(metric), `the run names ${metric} in its error line\n${tail(r)}`);
}

/**
 * Healthy runs share the CI machine with the engine, the platform and other test files, so their latency
 * objectives are scaled ×3 (`LATENCY_SCALE`); error, loss and count objectives stay exact. The failing twins
 * run on the unscaled profile with faults far beyond it.
 */
export const HEALTHY_ENV: Readonly<Record<string, string>> = { LATENCY_SCALE: '3' };

export function runHealthy(name: string, o: RunOptions = {}): Promise<RunResult> {
  return runScenario(name, { ...o, env: { ...HEALTHY_ENV, ...(o.env ?? {}) } });
}
