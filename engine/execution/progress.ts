/**
 * k6's live progress display (cmd/ui.go renderMultipleBars + ui/pb): a blank line, the run line
 * (`running (01.0s), 01/09 VUs, 21 complete and 0 interrupted iterations`), then one bar per scenario
 * (`api    [======>-----] 0/4 VUs  1.0s/4s  20.00 iters/s`), redrawn in place on a TTY every 100 ms
 * (cursor up with `ESC[nA`) and drawn once more, without going back, when the run ends. Nothing is
 * drawn when the stream is not a TTY. Rendering is a pure function of a progress snapshot.
 */

import { fixedLengthDuration, padInt } from '../executors/common.ts';
import type { ScenarioStats } from '../executors/types.ts';
import type { TestProgress } from './scheduler.ts';

/** k6's pb status symbols. */
export const STATUS_SYMBOLS: Readonly<Record<ScenarioStats['status'], string>> = {
  waiting: '•',
  running: ' ',
  stopping: '↓',
  done: '✓',
  interrupted: '✗',
};

/** k6's pb.DefaultWidth and minWidth (below it the bar becomes a percentage). */
export const BAR_WIDTH = 40;
const MIN_BAR_WIDTH = 8;
/** cmd/ui.go: longest left text, padding to the terminal edge, width when unknown. */
const MAX_LEFT = 30;
const TERM_PADDING = 1;
const DEFAULT_TERM_WIDTH = 80;
/** k6's initial left text of the run line's bar ("Init"): part of the left column's width. */
const INIT_LEFT = 'Init';

export interface RenderOptions {
  /** Erase to end of line before each newline (TTY). */
  readonly tty: boolean;
  /** End with `\r ESC[J ESC[nA` so that the next frame overwrites this one (TTY, while running). */
  readonly goBack: boolean;
  /** Width of the left column (scenario names), k6's maxLeft. */
  readonly maxLeft: number;
  readonly termWidth: number;
  /** Bar width this frame, 8..40 (k6 narrows bars to fit the terminal); 8 or less draws percentages. */
  readonly barWidth: number;
  /** ms since the test started and its longest possible duration (the run line's fixed-width time). */
  readonly maxPossibleVUs: number;
  readonly maxDurationMs: number;
}

export interface RenderedFrame {
  readonly text: string;
  /** Visible length of the longest bar line (k6 sizes the next frame's bars from it). */
  readonly longestLine: number;
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
/** Go's utf8.RuneCountInString: code points, so a surrogate pair counts once. */
const runes = (s: string): number => s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);

/** Go's `%3.f` of a percentage (exact halves to even). */
function percent(fraction: number): string {
  const x = fraction * 100;
  const floor = Math.floor(x);
  const diff = x - floor;
  const n = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  return `${String(n).padStart(3)}%`;
}

/** `running (01.0s), 01/09 VUs, 21 complete and 0 interrupted iterations` (k6's getRunStats). */
export function runLine(p: TestProgress, maxPossibleVUs: number, maxDurationMs: number): string {
  return (
    `running (${fixedLengthDuration(p.elapsed, maxDurationMs)}), ${padInt(p.vus, maxPossibleVUs)}/${padInt(p.vusMax, maxPossibleVUs)} VUs, ` +
    `${String(p.completed)} complete and ${String(p.interrupted)} interrupted iterations`
  );
}

/** k6's maxLeft: the longest left text (scenario names and the run bar's "Init"), at most 30. */
export function leftWidth(scenarioNames: readonly string[]): number {
  return Math.min(MAX_LEFT, Math.max(INIT_LEFT.length, ...scenarioNames.map((n) => n.length)));
}

function barBody(fraction: number, width: number): string {
  if (width <= MIN_BAR_WIDTH) return `[ ${percent(fraction)} ]`;
  const space = width - 2;
  const filled = Math.floor(space * fraction);
  let fill = '';
  if (filled > 0) fill = filled < space ? `${'='.repeat(filled - 1)}>` : '='.repeat(filled);
  return `[${fill}${'-'.repeat(Math.max(0, space - filled))}]`;
}

/** One frame: a blank line, the run line, one line per scenario (k6's renderMultipleBars, no colour). */
export function renderProgress(p: TestProgress, o: RenderOptions): RenderedFrame {
  const lineEnd = o.tty ? '\x1b[K\n' : '\n';
  const width = clamp(o.barWidth, MIN_BAR_WIDTH, BAR_WIDTH);
  const termWidth = o.termWidth > 0 ? o.termWidth : DEFAULT_TERM_WIDTH;
  const head = runLine(p, o.maxPossibleVUs, o.maxDurationMs);
  let lineBreaks = Math.floor((runes(head) - TERM_PADDING) / termWidth);
  let longestLine = 0;
  // Right-hand columns line up, except each bar's last column (nothing follows it); only the first two count.
  const maxCol = [0, 0];
  for (const s of p.scenarios) {
    s.right.forEach((col, i) => {
      if (i === s.right.length - 1 || i >= maxCol.length) return;
      maxCol[i] = Math.max(maxCol[i] ?? 0, col.length);
    });
  }
  const lines = [head];
  for (const s of p.scenarios) {
    const left = s.name.length > o.maxLeft && o.maxLeft > 3 ? `${s.name.slice(0, o.maxLeft - 3)}...` : s.name;
    const right = s.right.map((col, i) => ` ${col.padEnd((maxCol[i] ?? 0) + 1)}`).join('');
    const line = `${left.padEnd(o.maxLeft)} ${STATUS_SYMBOLS[s.status]} ${barBody(Math.min(1, Math.max(0, s.fraction)), width)}${right}`;
    const n = runes(line);
    longestLine = Math.max(longestLine, n);
    lineBreaks += Math.floor((n - TERM_PADDING) / termWidth);
    lines.push(line);
  }
  const back = o.tty && o.goBack ? `\r\x1b[J\x1b[${String(lines.length + lineBreaks + 1)}A` : '';
  return { text: `${lineEnd}${lines.map((l) => l + lineEnd).join('')}${back}`, longestLine };
}

/** Where the display draws: a TTY stream knows its width (`columns`). */
export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressDisplayOptions {
  readonly out: ProgressStream;
  /** Current progress (the scheduler's snapshot). */
  readonly source: () => TestProgress;
  readonly scenarioNames: readonly string[];
  readonly maxPossibleVUs: number;
  readonly maxDurationMs: number;
  /** Redraw period; k6 uses 100 ms on a TTY. */
  readonly intervalMs?: number;
}

/**
 * The live display on a TTY stream. `start()` draws every intervalMs, `stop()` draws the final frame
 * and leaves it on screen. Log lines written through `logWriter()` appear above the bars (k6's
 * PersistentText): each is followed by the last frame again.
 */
/** How often the status is printed when the output is not a terminal (plain lines, no redraw). */
export const NON_TTY_INTERVAL_MS = 5000;

export class ProgressDisplay {
  readonly #o: ProgressDisplayOptions;
  readonly #maxLeft: number;
  #barWidth = BAR_WIDTH;
  #widthDelta = 0;
  #last = '';
  #timer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  private constructor(o: ProgressDisplayOptions) {
    this.#o = o;
    this.#maxLeft = leftWidth(o.scenarioNames);
  }

  /**
   * A display for `out`, or undefined when it must stay silent (quiet). On a TTY the bars are redrawn in
   * place every 100 ms; elsewhere (CI logs, a file) the same frame is printed as plain lines every
   * NON_TTY_INTERVAL_MS, so a long run is never silent until its end.
   */
  static create(o: ProgressDisplayOptions & { readonly quiet?: boolean }): ProgressDisplay | undefined {
    if (o.quiet === true) return undefined;
    return new ProgressDisplay(o.out.isTTY === true || o.intervalMs !== undefined ? o : { ...o, intervalMs: NON_TTY_INTERVAL_MS });
  }

  /** Renders the next frame (k6 narrows the bars by how much the last frame overflowed the terminal). */
  frame(goBack: boolean): string {
    const termWidth = this.#o.out.columns ?? DEFAULT_TERM_WIDTH;
    this.#barWidth = clamp(this.#barWidth + this.#widthDelta, MIN_BAR_WIDTH, BAR_WIDTH);
    const tty = this.#o.out.isTTY === true;
    const f = renderProgress(this.#o.source(), {
      tty,
      goBack: goBack && tty,
      maxLeft: this.#maxLeft,
      termWidth,
      barWidth: this.#barWidth,
      maxPossibleVUs: this.#o.maxPossibleVUs,
      maxDurationMs: this.#o.maxDurationMs,
    });
    this.#widthDelta = termWidth - f.longestLine - TERM_PADDING;
    this.#last = f.text;
    return f.text;
  }

  draw(): void {
    if (this.#stopped) return;
    this.#o.out.write(this.frame(true));
  }

  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => {
      this.draw();
    }, this.#o.intervalMs ?? 100);
    this.#timer.unref();
  }

  /** Draws the final frame (not going back) and stops. */
  stop(): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#o.out.write(this.frame(false));
    this.#stopped = true;
    this.#last = '';
  }

  /**
   * What a log line written to the same terminal becomes while the bars are on screen: erased to the
   * end of each line, followed by the last frame again so the bars stay below the logs.
   */
  persist(text: string): string {
    if (this.#last === '' || this.#stopped || this.#o.out.isTTY !== true) return text;
    return `${text.replaceAll('\n', '\x1b[0K\n')}${this.#last}`;
  }
}
