/**
 * Pieces every executor shares: reading the raw scenario object (k6's strict JSON: unknown
 * fields are errors), the base config checks, stage helpers, the run header's base facts,
 * iteration counters, the gracefulStop window and progress formatting (the iteration runner: iteration.ts).
 */

import type { Issue, Sample } from '../contracts.ts';
import { SegmentedIndex, type ExecutionTuple } from '../units/segments.ts';
import { formatDuration, parseDuration } from '../units/duration.ts';
import type { BaseConfig, ExecutorRuntime, ScenarioConfig, StageConfig } from './types.ts';

export const DEFAULT_GRACEFUL_STOP = 30_000;
/** k6's minDuration: the shortest duration/maxDuration allowed (stages may be 0). */
export const MIN_DURATION = 1000;
const SCENARIO_NAME = /^[0-9a-zA-Z_-]+$/;

export function issue(code: string, path: string, message: string): Issue {
  return { code, path, message };
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Array.isArray(value) ? 'an array' : 'an object';
  }
}

/** Reads fields off a raw scenario object, collecting issues; remembers which keys it saw. */
export class FieldReader {
  readonly issues: Issue[] = [];
  private readonly known = new Set<string>(['executor', 'startTime', 'gracefulStop', 'env', 'exec', 'tags', 'options']);
  constructor(
    readonly raw: Readonly<Record<string, unknown>>,
    readonly path: string,
  ) {}

  private at(key: string): string {
    return `${this.path}.${key}`;
  }

  has(key: string): boolean {
    this.known.add(key);
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  /** An integer field (k6's null.Int); NaN when absent and no default. */
  int(key: string, def: number): number {
    if (!this.has(key)) return def;
    const v = this.raw[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.issues.push(issue('invalid-type', this.at(key), `\`${this.at(key)}\` must be a whole number, got ${show(v)}`));
      return def;
    }
    return v;
  }

  duration(key: string, def: number): number {
    if (!this.has(key)) return def;
    const v = this.raw[key];
    const r = parseDuration(v);
    if (!r.ok) {
      this.issues.push(issue('invalid-duration', this.at(key), `\`${this.at(key)}\` must be a duration like "30s", got ${show(v)}`));
      return def;
    }
    return r.ms;
  }

  string(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const v = this.raw[key];
    if (typeof v !== 'string') {
      this.issues.push(issue('invalid-type', this.at(key), `\`${this.at(key)}\` must be a string, got ${show(v)}`));
      return undefined;
    }
    return v;
  }

  stringMap(key: string): Record<string, string> {
    if (!this.has(key)) return {};
    const v = this.raw[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.issues.push(issue('invalid-type', this.at(key), `\`${this.at(key)}\` must be an object of strings, got ${show(v)}`));
      return {};
    }
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val === 'string') out[k] = val;
      else this.issues.push(issue('invalid-type', `${this.at(key)}.${k}`, `\`${this.at(key)}.${k}\` must be a string, got ${show(val)}`));
    }
    return out;
  }

  stages(key: string): StageConfig[] {
    if (!this.has(key)) return [];
    const v = this.raw[key];
    if (!Array.isArray(v)) {
      this.issues.push(issue('invalid-type', this.at(key), `\`${this.at(key)}\` must be an array of { duration, target }, got ${show(v)}`));
      return [];
    }
    return v.map((s: unknown, i) => readStage(s, `${this.at(key)}[${i}]`, this.issues));
  }

  /** Unknown fields: k6 unmarshals scenarios strictly. */
  finish(): Issue[] {
    for (const key of Object.keys(this.raw)) {
      if (!this.known.has(key)) {
        this.issues.push(
          issue('unknown-field', this.at(key), `\`${this.at(key)}\` is not an option of this executor; remove it or fix its spelling`),
        );
      }
    }
    return this.issues;
  }
}

/** Reads one `{ duration, target }` stage; missing parts become NaN (validateStages reports them). */
export function readStage(s: unknown, path: string, issues: Issue[]): StageConfig {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    issues.push(issue('invalid-type', path, `\`${path}\` must be an object { duration, target }, got ${show(s)}`));
    return { duration: Number.NaN, target: Number.NaN };
  }
  const rec = s as Record<string, unknown>;
  let duration = Number.NaN;
  let target = Number.NaN;
  if (rec.duration !== undefined && rec.duration !== null) {
    const r = parseDuration(rec.duration);
    if (r.ok) duration = r.ms;
    else
      issues.push(
        issue('invalid-duration', `${path}.duration`, `\`${path}.duration\` must be a duration like "30s", got ${show(rec.duration)}`),
      );
  }
  if (rec.target !== undefined && rec.target !== null) {
    if (typeof rec.target === 'number' && Number.isInteger(rec.target)) target = rec.target;
    else issues.push(issue('invalid-type', `${path}.target`, `\`${path}.target\` must be a whole number, got ${show(rec.target)}`));
  }
  for (const k of Object.keys(rec)) {
    if (k !== 'duration' && k !== 'target')
      issues.push(issue('unknown-field', `${path}.${k}`, `\`${path}.${k}\` is not a stage field; stages have only duration and target`));
  }
  return { duration, target };
}

/** What `readBase` reads: the fields every scenario config has. */
export type BaseFields = BaseConfig;

export function readBase(name: string, r: FieldReader): BaseFields {
  const exec = r.string('exec');
  return {
    name,
    startTime: r.duration('startTime', 0),
    gracefulStop: r.duration('gracefulStop', DEFAULT_GRACEFUL_STOP),
    exec: exec ?? 'default',
    execSet: exec !== undefined,
    env: r.stringMap('env'),
    tags: r.stringMap('tags'),
  };
}

/** k6's BaseConfig.Validate. */
export function validateBase(cfg: ScenarioConfig, path: string): Issue[] {
  const out: Issue[] = [];
  if (cfg.name === '') out.push(issue('invalid-scenario-name', path, `scenario name can't be empty`));
  else if (!SCENARIO_NAME.test(cfg.name)) {
    out.push(
      issue(
        'invalid-scenario-name',
        path,
        `scenario name ${JSON.stringify(cfg.name)} may contain only numbers, latin letters, underscores, and dashes`,
      ),
    );
  }
  if (cfg.execSet && cfg.exec === '')
    out.push(issue('out-of-range', `${path}.exec`, '`exec` cannot be empty; name an exported function or omit it for "default"'));
  if (cfg.startTime < 0)
    out.push(issue('out-of-range', `${path}.startTime`, `the startTime can't be negative, got ${formatDuration(cfg.startTime)}`));
  if (cfg.gracefulStop < 0)
    out.push(
      issue('out-of-range', `${path}.gracefulStop`, `the gracefulStop timeout can't be negative, got ${formatDuration(cfg.gracefulStop)}`),
    );
  return out;
}

export function positiveVUs(vus: number, path: string): Issue[] {
  return vus > 0 ? [] : [issue('out-of-range', `${path}.vus`, `the number of VUs must be more than 0, got ${vus}`)];
}

export function minDurationIssue(ms: number, key: string, path: string): Issue[] {
  if (Number.isNaN(ms)) return [issue('missing-field', `${path}.${key}`, `the ${key} is unspecified; set it, e.g. "30s"`)];
  if (ms < MIN_DURATION) {
    return [issue('out-of-range', `${path}.${key}`, `the ${key} must be at least 1s, but is ${formatDuration(ms)}`)];
  }
  return [];
}

export function sumStagesDuration(stages: readonly StageConfig[]): number {
  return stages.reduce((acc, s) => acc + (Number.isNaN(s.duration) ? 0 : s.duration), 0);
}

export function stagesMaxTarget(start: number, stages: readonly StageConfig[]): number {
  return stages.reduce((m, s) => (s.target > m ? s.target : m), start);
}

/** k6's validateStages. */
export function validateStages(stages: readonly StageConfig[], path: string): Issue[] {
  if (stages.length === 0)
    return [issue('no-stages', `${path}.stages`, 'at least one stage has to be specified, e.g. [{ duration: "30s", target: 10 }]')];
  const out: Issue[] = [];
  stages.forEach((s, i) => {
    const p = `${path}.stages[${i}]`;
    if (Number.isNaN(s.duration)) out.push(issue('missing-field', `${p}.duration`, `stage ${i + 1} doesn't have a duration`));
    else if (s.duration < 0) out.push(issue('out-of-range', `${p}.duration`, `the duration for stage ${i + 1} can't be negative`));
    if (Number.isNaN(s.target)) out.push(issue('missing-field', `${p}.target`, `stage ${i + 1} doesn't have a target`));
    else if (s.target < 0) out.push(issue('out-of-range', `${p}.target`, `the target for stage ${i + 1} can't be negative`));
  });
  return out;
}

/** k6's getBaseInfo: ` (facts..., exec: x, startTime: 1s, gracefulStop: 30s)`. */
export function baseInfo(cfg: ScenarioConfig, ...facts: string[]): string {
  const all = [...facts];
  if (cfg.execSet) all.push(`exec: ${cfg.exec}`);
  if (cfg.startTime > 0) all.push(`startTime: ${formatDuration(cfg.startTime)}`);
  if (cfg.gracefulStop > 0) all.push(`gracefulStop: ${formatDuration(cfg.gracefulStop)}`);
  return all.length === 0 ? '' : ` (${all.join(', ')})`;
}

/** Scenario iteration numbers (k6's nextIterationCounters), 0-based: `advance()`, then read `inInstance` and `inTest`. */
export class IterationCounter {
  private readonly index: SegmentedIndex;
  constructor(tuple: ExecutionTuple) {
    this.index = new SegmentedIndex(tuple);
  }
  /** The next iteration's numbers (no array per iteration). */
  advance(): void {
    this.index.step();
  }
  /** iterationInInstance of the iteration `advance()` moved to. */
  get inInstance(): number {
    return this.index.scaled - 1;
  }
  /** iterationInTest of the iteration `advance()` moved to. */
  get inTest(): number {
    return this.index.unscaled - 1;
  }
  next(): [number, number] {
    this.advance();
    return [this.inInstance, this.inTest];
  }
}

/** Tags of executor samples: run tags + `scenario` (+ `vu` when that system tag is on). */
export function executorTags(rt: ExecutorRuntime, cfg: ScenarioConfig, vuId?: number): Record<string, string> {
  const tags: Record<string, string> = { ...rt.runTags };
  const sys = rt.systemTags;
  if (sys === undefined || sys.has('scenario')) tags.scenario = cfg.name;
  if (vuId !== undefined && sys?.has('vu') === true) tags.vu = String(vuId);
  return tags;
}

export function droppedSample(rt: ExecutorRuntime, cfg: ScenarioConfig, value: number, vuId?: number): Sample {
  return { metric: 'dropped_iterations', time: rt.clock.wallNow(), value, tags: executorTags(rt, cfg, vuId) };
}

/** Resolves when the signal aborts (never rejects). */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Sleeps until `until` (Clock.now() value); false if `signal` aborted first. */
export async function sleepUntil(rt: ExecutorRuntime, until: number, signal: AbortSignal): Promise<boolean> {
  const wait = until - rt.clock.now();
  if (signal.aborted) return false;
  if (wait <= 0) return true;
  try {
    await rt.clock.sleep(wait, signal);
    return !signal.aborted;
  } catch {
    return false;
  }
}

/**
 * The time window of one scenario (k6's getDurationContexts): `regularEnd` = no new
 * iterations; `hard` aborts at regularEnd + gracefulStop (or when the test stops) and
 * interrupts running iterations. `dispose()` cancels the timer.
 */
export class ScenarioWindow {
  readonly start: number;
  readonly regularEnd: number;
  readonly hardEnd: number;
  private readonly hardCtl = new AbortController();
  private readonly disposeCtl = new AbortController();
  constructor(
    private readonly rt: ExecutorRuntime,
    regularDuration: number,
    gracefulStop: number,
  ) {
    this.start = rt.clock.now();
    this.regularEnd = this.start + regularDuration;
    this.hardEnd = this.regularEnd + gracefulStop;
    const onAbort = (): void => this.hardCtl.abort(rt.signal.reason);
    if (rt.signal.aborted) onAbort();
    else rt.signal.addEventListener('abort', onAbort, { once: true, signal: this.disposeCtl.signal });
    void sleepUntil(rt, this.hardEnd, this.disposeCtl.signal).then((reached) => {
      if (reached) this.hardCtl.abort(new Error('gracefulStop is over'));
    });
  }
  get hard(): AbortSignal {
    return this.hardCtl.signal;
  }
  /** True once no new iteration may start. */
  regularDone(): boolean {
    return this.hardCtl.signal.aborted || this.rt.clock.now() >= this.regularEnd;
  }
  dispose(): void {
    this.disposeCtl.abort();
  }
}

/**
 * k6's pb.GetFixedLengthDuration: `d` rounded to 100 ms with as many fields as `max` needs,
 * so the column keeps its width ("1.0s" for max < 10s, "00.0s" for < 1m, "0m00.0s", ...).
 */
export function fixedLengthDuration(d: number, max: number): string {
  const abs = Math.abs(d);
  const m = Math.round(Math.max(Math.abs(max), abs) / 100) * 100;
  let u = Math.round(abs / 100);
  const tenths = u % 10;
  u = Math.floor(u / 10);
  const secs = u % 60;
  const mins = Math.floor(u / 60) % 60;
  const hours = Math.floor(u / 3600);
  if (m < 10_000) return `${secs % 10}.${tenths}s`;
  const ss = `${String(secs).padStart(2, '0')}.${tenths}s`;
  if (m < 60_000) return ss;
  if (m < 600_000) return `${mins % 10}m${ss}`;
  const mm = `${String(mins).padStart(2, '0')}m${ss}`;
  if (m < 3_600_000) return mm;
  return `${hours}h${mm}`;
}

/** `spent/total` like k6's duration column: the total as Go prints it. */
export function spentOf(spent: number, total: number): string {
  return `${fixedLengthDuration(Math.max(0, spent), total)}/${formatDuration(total)}`;
}

/** k6's GetFixedLengthIntFormat: zero-padded to the width of `max`. */
export function padInt(n: number, max: number): string {
  return String(n).padStart(String(Math.max(0, max)).length, '0');
}

/** k6's GetFixedLengthFloatFormat(max, 2). */
export function padRate(rate: number, max: number): string {
  const width = 1 + (max >= 10 ? Math.floor(Math.log10(max)) : 0) + 3;
  return rate.toFixed(2).padStart(width, '0');
}
