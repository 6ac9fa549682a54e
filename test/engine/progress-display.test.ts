/* eslint-disable no-control-regex -- ANSI escape sequences are what these tests check */
/**
 * k6's live progress: a run line and one bar per scenario (cmd/ui.go renderMultipleBars, ui/pb),
 * checked against the frames k6 v0.49 recorded in test/fixtures/k6-reference (its non-TTY rendering),
 * redrawn in place on a TTY (erase to end of line, cursor up), and silent when not a TTY or --quiet.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runEngine } from '../../engine/index.ts';
import {
  BAR_WIDTH,
  ProgressDisplay,
  leftWidth,
  renderProgress,
  type ScenarioProgress,
  type TestProgress,
} from '../../engine/execution/index.ts';
import { newScenarioStats, type ScenarioStats } from '../../engine/executors/index.ts';
import { Capture } from './conformance/run-helpers.ts';
import { k6ReferenceFile } from '../support/k6-reference.ts';

const dir = mkdtempSync(join(tmpdir(), 'agentload-progress-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in terminal: a Writable that says it is a TTY and how wide it is. */
class FakeTTY extends Capture {
  readonly isTTY = true;
  constructor(readonly columns: number) {
    super();
  }
}

function scenario(name: string, status: ScenarioStats['status'], fraction: number, right: string[]): ScenarioProgress {
  return { name, executor: 'constant-vus', status, fraction, right, stats: newScenarioStats() };
}

function snapshot(elapsed: number, vus: number, completed: number, scenarios: ScenarioProgress[]): TestProgress {
  return { elapsed, vus, vusMax: 9, completed, interrupted: 0, dropped: 0, scenarios };
}

/** The fixture's first two frames (3 scenarios, 13 max VUs, 41 s max duration) as k6 recorded them. */
const FRAMES: TestProgress[] = [
  snapshot(1000, 1, 21, [
    scenario('api', 'running', 0.25, ['0/4 VUs', '1.0s/4s', '20.00 iters/s']),
    scenario('ramp', 'running', 0.25, ['1/3 VUs', '1.0s/4.0s']),
    scenario('ws', 'waiting', 0, ['waiting', '0.0s']),
  ]),
  snapshot(2000, 2, 50, [
    scenario('api', 'running', 0.5, ['0/4 VUs', '2.0s/4s', '20.00 iters/s']),
    scenario('ramp', 'running', 0.5, ['2/3 VUs', '2.0s/4.0s']),
    scenario('ws', 'done', 1, ['2 VUs', '00.0s/10s', '4/4 iters, 2 per VU']),
  ]),
];

/** The reference's progress blocks: a blank line, `running (...)`, one line per scenario. */
function referenceBlocks(): string[] {
  const lines = readFileSync(k6ReferenceFile('fixture-default-summary.stdout.txt'), 'utf8').split('\n');
  const blocks: string[] = [];
  lines.forEach((l, i) => {
    if (l.startsWith('running (')) blocks.push(`\n${lines.slice(i, i + 4).join('\n')}\n`);
  });
  return blocks;
}

const base = { maxLeft: leftWidth(['api', 'ramp', 'ws']), termWidth: 80, maxPossibleVUs: 13, maxDurationMs: 41_000 };

void test("the layout is k6's to the character: run line, names padded, status, bar, right columns aligned (reference frames)", () => {
  const ref = referenceBlocks();
  assert.ok(ref.length >= 2, 'the reference has progress blocks');
  // k6 renders its compact form (percentages) when not on a TTY: bar width 40 - 40, clamped to 8.
  FRAMES.forEach((frame, i) => {
    const r = renderProgress(frame, { ...base, tty: false, goBack: false, barWidth: 0 });
    assert.equal(r.text, ref[i], `frame ${String(i + 1)}`);
  });
});

void test('on a TTY each frame erases to the end of every line and goes back up over itself; the final one stays', () => {
  const frame = FRAMES[0] ?? assert.fail('frame');
  const r = renderProgress(frame, { ...base, tty: true, goBack: true, barWidth: BAR_WIDTH });
  const lines = r.text.split('\x1b[K\n');
  assert.equal(lines[0], '', 'starts with an empty line');
  assert.equal(lines[1], 'running (01.0s), 01/09 VUs, 21 complete and 0 interrupted iterations');
  // 25 % of 38 cells: 9 filled (8 "=" and the ">" caret), 29 to go.
  assert.equal(lines[2], `api    [${'='.repeat(8)}>${'-'.repeat(29)}] 0/4 VUs  1.0s/4s  20.00 iters/s`);
  assert.equal(lines[3], `ramp   [${'='.repeat(8)}>${'-'.repeat(29)}] 1/3 VUs  1.0s/4.0s`);
  assert.equal(lines[4], `ws   • [${'-'.repeat(38)}] waiting  0.0s    `);
  assert.equal(lines[5], '\r\x1b[J\x1b[5A', 'cursor back up over the blank line, the run line and 3 bars');
  const last = renderProgress(frame, { ...base, tty: true, goBack: false, barWidth: BAR_WIDTH });
  assert.doesNotMatch(last.text, /\x1b\[\d+A/, 'the final frame stays on screen');
  const full = renderProgress(FRAMES[1] ?? assert.fail('frame'), { ...base, tty: true, goBack: false, barWidth: BAR_WIDTH });
  assert.match(full.text, new RegExp(`ws   ✓ \\[${'='.repeat(38)}\\] 2 VUs`));
});

void test('the display draws one line per scenario on a fake TTY, narrows the bars to the terminal, and ends with a final frame', () => {
  const out = new FakeTTY(60);
  let i = 0;
  const display =
    ProgressDisplay.create({
      out,
      source: () => FRAMES[Math.min(i++, 1)] ?? assert.fail('frame'),
      scenarioNames: ['api', 'ramp', 'ws'],
      maxPossibleVUs: 13,
      maxDurationMs: 41_000,
    }) ?? assert.fail('a TTY gets a display');
  display.draw();
  display.draw();
  display.draw();
  display.stop();
  const frames = out.text.split(/(?=\x1b\[K\nrunning \()/);
  assert.equal(frames.length, 4);
  for (const f of frames) {
    const lines = f.split('\x1b[K\n').filter((l) => l !== '' && !l.startsWith('\r'));
    assert.equal(lines.length, 4, JSON.stringify(f));
    assert.match(lines[0] ?? '', /^running \(0[12]\.0s\), 0[12]\/09 VUs, \d+ complete and 0 interrupted iterations$/);
    assert.match(lines[1] ?? '', /^api {4}\[[=>-]+\] 0\/4 VUs/);
    assert.match(lines[2] ?? '', /^ramp {3}\[[=>-]+\] [12]\/3 VUs/);
    assert.match(lines[3] ?? '', /^ws {3}[•✓] \[[=>-]+\] /);
  }
  // The first frame's bars are 40 wide; from the second on they shrink until the bar lines fit 60 columns.
  const widest = (f: string): number =>
    Math.max(
      ...f
        .split('\x1b[K\n')
        .filter((l) => !l.startsWith('running') && !l.startsWith('\r'))
        .map((l) => l.length),
    );
  assert.ok(widest(frames[0] ?? '') > 60);
  assert.ok(widest(frames[2] ?? '') <= 59, frames[2]);
  // Every line of the first frame is wider than 60 columns and wraps once: 5 lines + 4 wraps to go back over.
  assert.match(frames[0] ?? '', /\x1b\[9A$/);
  // Once the bars fit, only the 69-character run line wraps.
  assert.match(frames[2] ?? '', /\x1b\[6A$/);
  assert.doesNotMatch(frames[3] ?? '', /\x1b\[\d+A/);
  // Log lines written meanwhile land above the bars: erased to the end and followed by the last frame.
  assert.equal(display.persist('log line\n'), 'log line\n', 'after stop() logs pass through untouched');
});

void test('a stream that is not a TTY gets plain status blocks (no escape codes, logs untouched); --quiet gets nothing', () => {
  const source = (): TestProgress => FRAMES[0] ?? assert.fail('frame');
  const common = { source, scenarioNames: ['api', 'ramp', 'ws'], maxPossibleVUs: 13, maxDurationMs: 41_000 };
  const log = new Capture();
  const plain = ProgressDisplay.create({ ...common, out: log }) ?? assert.fail('a display for a log too');
  plain.draw();
  plain.draw();
  assert.equal(plain.persist('log line\n'), 'log line\n', 'a log line is not followed by a redraw');
  plain.stop();
  assert.doesNotMatch(log.text, /\x1b/);
  assert.equal(log.text.match(/^running \(01\.0s\), 01\/09 VUs, 21 complete and 0 interrupted iterations$/gm)?.length, 3, log.text);
  assert.match(log.text, /^api {4}\[[=>-]+\] 0\/4 VUs/m);
  assert.equal(ProgressDisplay.create({ ...common, out: new FakeTTY(80), quiet: true }), undefined);
  assert.notEqual(ProgressDisplay.create({ ...common, out: new FakeTTY(80) }), undefined);
});

const SCRIPT = `import { sleep } from 'k6';
export const options = { scenarios: {
  first: { executor: 'shared-iterations', vus: 1, iterations: 2, exec: 'slow' },
  second: { executor: 'per-vu-iterations', vus: 1, iterations: 1, exec: 'logs' },
} };
export async function slow() { await sleep(0.2); }
export async function logs() { await sleep(0.3); console.log('between the frames'); }
`;

async function runWith(stderrIsTTY: boolean, extra: string[] = [], source = SCRIPT): Promise<string> {
  const script = join(dir, 'two.js');
  writeFileSync(script, source);
  const stderr = new FakeTTY(120);
  const code = await runEngine({
    script,
    args: ['--no-summary', ...extra],
    env: {},
    cwd: dir,
    stdout: new Capture(),
    stderr,
    stderrIsTTY,
    handleSignals: false,
  });
  assert.equal(code, 0, stderr.text);
  return stderr.text;
}

void test('runEngine on a TTY stderr: bars per scenario redrawn in place, the final frame done, logs above the bars', async () => {
  const text = await runWith(true);
  // 10m maxDuration + 30s gracefulStop: the time keeps k6's fixed width for that maximum.
  assert.match(text, /running \(00m00\.\ds\), \d\/2 VUs, \d complete and 0 interrupted iterations/);
  assert.match(text, /\x1b\[4A/, 'redrawn in place: cursor up over the blank line, run line and 2 bars');
  const finalFrame = text.slice(text.lastIndexOf('\x1b[K\nrunning ('));
  assert.match(finalFrame, new RegExp(`\\nfirst  ✓ \\[${'='.repeat(38)}\\] 1 VUs +00m00\\.\\ds/10m0s +2/2 shared iters`));
  assert.match(finalFrame, new RegExp(`\\nsecond ✓ \\[${'='.repeat(38)}\\] 1 VUs +00m00\\.\\ds/10m0s +1/1 iters, 1 per VU`));
  assert.doesNotMatch(finalFrame, /\x1b\[\d+A/);
  assert.match(text, /msg="between the frames" source=console\x1b\[0K\n\x1b\[K\nrunning \(/, 'the log line is followed by the bars again');
});

void test('runEngine when stderr is not a TTY (CI logs): plain status blocks, no escape codes, a final one; with --quiet: no progress at all', async () => {
  const text = await runWith(false);
  assert.doesNotMatch(text, /\x1b\[/, 'no cursor movement or colour in a log');
  assert.match(
    text,
    /\nrunning \(\d\dm\d\d\.\ds\), \d\/2 VUs, 3 complete and 0 interrupted iterations\nfirst {2}✓ \[/,
    'the final status: the run line and one line per scenario',
  );
  assert.doesNotMatch(await runWith(true, ['--quiet']), /running \(|\x1b\[/);
});

/** Two VUs per scenario, so each of two workers runs one VU of each: the bars must add both up. */
const SPLIT_SCRIPT = `import { sleep } from 'k6';
export const options = { scenarios: {
  shared: { executor: 'shared-iterations', vus: 2, iterations: 6, exec: 'work' },
  each: { executor: 'per-vu-iterations', vus: 2, iterations: 2, exec: 'work' },
} };
export async function work() { await sleep(0.15); }
`;

void test('runEngine --workers 2 on a TTY: the bars show each scenario summed over the workers, redrawn, and a final frame', async () => {
  const text = await runWith(true, ['--workers', '2'], SPLIT_SCRIPT);
  assert.match(text, /\x1b\[4A/, 'redrawn in place while the workers run');
  const finalFrame = text.slice(text.lastIndexOf('\x1b[K\nrunning ('));
  assert.match(finalFrame, /running \(\d\dm\d\d\.\ds\), 0\/4 VUs, 10 complete and 0 interrupted iterations/);
  assert.match(finalFrame, new RegExp(`\\nshared ✓ \\[${'='.repeat(38)}\\] 2 VUs +00m0\\d\\.\\ds/10m0s +6/6 shared iters`));
  assert.match(finalFrame, new RegExp(`\\neach   ✓ \\[${'='.repeat(38)}\\] 2 VUs +00m0\\d\\.\\ds/10m0s +4/4 iters, 2 per VU`));
  assert.doesNotMatch(finalFrame, /\x1b\[\d+A/);
});
