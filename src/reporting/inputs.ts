/** Finds a run's files (k6 JSON outputs, summary exports, handleSummary data, run.json) and reads the small ones. */

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RunMeta } from './model.ts';
import { ReportError, toError } from './errors.ts';

export interface RunFiles {
  /** Folder the run lives in. */
  dir: string;
  outputs: string[];
  summaryExports: string[];
  handleSummaries: string[];
  runJson?: string;
  verdictJson?: string;
  /** The fault controller's log (fault scenarios). */
  faults?: string;
}

const OUTPUT_RE = /^out(\..+)?\.json(\.gz)?$/;
const SUMMARY_RE = /summary-export.*\.json$/;
const HANDLE_RE = /handle-summary-data.*\.json$/;

export async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** The k6 outputs among one folder's file names (out.json preferred over out.json.gz of the same run). */
function outputsIn(dir: string, names: readonly string[]): Pick<RunFiles, 'outputs' | 'summaryExports' | 'handleSummaries'> {
  let outputs = names.filter((n) => OUTPUT_RE.test(n)).map((n) => join(dir, n));
  if (outputs.includes(join(dir, 'out.json')) && outputs.includes(join(dir, 'out.json.gz')))
    outputs = outputs.filter((p) => basename(p) !== 'out.json.gz');
  return {
    outputs,
    summaryExports: names.filter((n) => SUMMARY_RE.test(n)).map((n) => join(dir, n)),
    handleSummaries: names.filter((n) => HANDLE_RE.test(n)).map((n) => join(dir, n)),
  };
}

/** A folder a run wrote: it holds run.json or a k6 output named out*.json[.gz]. */
export async function isRunFolder(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((n) => n === 'run.json' || OUTPUT_RE.test(n));
  } catch {
    return false;
  }
}

export async function findRunFiles(runDirOrFile: string): Promise<RunFiles> {
  if (!(await isDir(runDirOrFile))) {
    try {
      await stat(runDirOrFile);
    } catch (e) {
      throw new ReportError(
        'input-not-found',
        `run ${runDirOrFile} does not exist (${toError(e).message}); pass a reports/<run>/ folder or a k6 --out json file`,
        { cause: e },
      );
    }
    return { dir: dirname(runDirOrFile), outputs: [runDirOrFile], summaryExports: [], handleSummaries: [] };
  }
  const names = (await readdir(runDirOrFile)).sort();
  const files: RunFiles = { dir: runDirOrFile, ...outputsIn(runDirOrFile, names) };
  if (files.outputs.length === 0) {
    // A folder of runners' folders (k6-operator runners writing <pod name>/out.json.gz to a shared
    // volume, or N local segment runs): every runner's outputs, merged into one report.
    const runs: string[] = [];
    let runnerOutputs = 0;
    for (const sub of names) {
      const dir = join(runDirOrFile, sub);
      if (!(await isDir(dir))) continue;
      const subNames = (await readdir(dir)).sort();
      // A folder with its own run.json is a separate run (reports/ holds many), never a runner of this one.
      if (subNames.includes('run.json')) {
        runs.push(sub);
        continue;
      }
      const found = outputsIn(dir, subNames);
      runnerOutputs += found.outputs.length;
      files.outputs.push(...found.outputs);
      files.summaryExports.push(...found.summaryExports);
      files.handleSummaries.push(...found.handleSummaries);
    }
    if (runnerOutputs === 0 && runs.length > 0) {
      throw new ReportError(
        'input-not-found',
        `${runDirOrFile} holds separate runs (${runs.slice(0, 3).join(', ')}${runs.length > 3 ? ', ...' : ''}), not one run's runners: pass one run folder, e.g. ${join(runDirOrFile, runs[0] ?? '')}`,
      );
    }
  }
  if (names.includes('run.json')) files.runJson = join(runDirOrFile, 'run.json');
  if (names.includes('verdict.json')) files.verdictJson = join(runDirOrFile, 'verdict.json');
  if (names.includes('faults.jsonl')) files.faults = join(runDirOrFile, 'faults.jsonl');
  return files;
}

export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ReportError('input-unreadable', `${path} cannot be read (${toError(e).message})`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ReportError(
      'input-unreadable',
      `${path} is not valid JSON (${toError(e).message}); it should be written by k6 or agentload`,
      { cause: e },
    );
  }
}

function obj(x: unknown): Record<string, unknown> | undefined {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

/**
 * k6's threshold verdicts. Careful: in --summary-export files `true` means the threshold was
 * CROSSED (failed); in handleSummary data each entry is `{ ok: boolean }`.
 */
export function k6ThresholdsOf(doc: unknown, kind: 'summary-export' | 'handle-summary', into: Map<string, Map<string, boolean>>): void {
  const metrics = obj(obj(doc)?.metrics);
  if (!metrics) return;
  for (const [key, m] of Object.entries(metrics)) {
    const th = obj(obj(m)?.thresholds);
    if (!th) continue;
    for (const [expr, v] of Object.entries(th)) {
      let ok: boolean | undefined;
      if (kind === 'summary-export' && typeof v === 'boolean') ok = !v;
      const vo = obj(v);
      if (kind === 'handle-summary' && vo && typeof vo.ok === 'boolean') ok = vo.ok;
      if (ok === undefined) continue;
      let per = into.get(key);
      if (!per) {
        per = new Map();
        into.set(key, per);
      }
      per.set(expr, (per.get(expr) ?? true) && ok);
    }
  }
}

export function testRunDurationOf(doc: unknown): number | undefined {
  const d = obj(obj(doc)?.state)?.testRunDurationMs;
  return typeof d === 'number' ? d : undefined;
}

/**
 * Run manifest fields shown in reports. Accepts the run command's manifest (`agentload.run/1`:
 * scenario {name}, toolkit {version}, git {sha}, engineExitCode) and the flat shape (scenario,
 * toolkitVersion, gitSha, exitCode). `args` and env names are left out: they may carry secrets.
 */
export function runMetaOf(doc: unknown): RunMeta {
  const o = obj(doc) ?? {};
  const meta: RunMeta = {};
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  const scenario = str(o.scenario) ?? str(obj(o.scenario)?.name);
  if (scenario !== undefined) meta.scenario = scenario;
  const eng = obj(o.engine);
  if (eng) {
    meta.engine = {};
    if (typeof eng.name === 'string') meta.engine.name = eng.name;
    if (typeof eng.version === 'string') meta.engine.version = eng.version;
  }
  const tv = str(o.toolkitVersion) ?? str(obj(o.toolkit)?.version);
  if (tv !== undefined) meta.toolkitVersion = tv;
  const sha = str(o.gitSha) ?? str(obj(o.git)?.sha);
  if (sha !== undefined) meta.gitSha = sha;
  if (Array.isArray(o.args) && o.args.every((a) => typeof a === 'string')) meta.args = o.args;
  const target = obj(o.target);
  const url = str(target?.url);
  if (url !== undefined && url !== '') {
    try {
      meta.targetHost = new URL(url).host;
    } catch {
      // not a URL: no host to show
    }
  }
  if (typeof target?.kind === 'string') meta.targetKind = target.kind;
  const settings = obj(o.settings);
  if (settings) meta.settings = Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (typeof o.startedAt === 'string') meta.startedAt = o.startedAt;
  if (typeof o.endedAt === 'string') meta.endedAt = o.endedAt;
  // The engine's own code; `exitCode` of a manifest may already hold an earlier report's verdict.
  const code = typeof o.engineExitCode === 'number' ? o.engineExitCode : o.exitCode;
  if (typeof code === 'number') meta.exitCode = code;
  const machine = obj(o.machine);
  if (machine) {
    const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
    const m: NonNullable<RunMeta['machine']> = {};
    const load = num(obj(machine.loadPerCore)?.mean);
    const lag = num(obj(machine.schedLagMs)?.p99);
    const steal = num(machine.stealPct);
    if (load !== undefined) m.loadPerCore = load;
    if (lag !== undefined) m.schedLagP99Ms = lag;
    if (steal !== undefined) m.stealPct = steal;
    meta.machine = m;
  }
  return meta;
}
