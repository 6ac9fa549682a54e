/**
 * The run command shows the engine's log lines as k6 does on a terminal: `ERRO[0003] message  key=value`,
 * a stack trace's frames on lines of their own, never logfmt with escaped `\n\t`; other output untouched.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { parseLogfmt, ReadableLog, readableLogLine } from '../../src/run/log-lines.ts';
import { K6_REFERENCE_DIR } from '../support/k6-reference.ts';
import { cleanEnv, countingServer, makeProject, runCli } from './helpers.ts';

const project = makeProject();
after(() => project.cleanup());

void test("k6's own logfmt lines (the reference run's) become readable lines: level, seconds since the start, the message, its fields, one frame per line", () => {
  // k6 v0.49's line for an iteration that throws (shared/k6-reference/exception.stdout.txt).
  const line =
    'time="2026-11-23T15:58:23Z" level=error msg="Error: boom from script\\n\\tat file:///k6-reference/exception.js:3:35(3)\\n" executor=shared-iterations scenario=default source=stacktrace';
  const thresholds =
    readFileSync(join(K6_REFERENCE_DIR, 'fixture.stderr.txt'), 'utf8')
      .split('\n')
      .find((l) => l.includes('level=error')) ?? assert.fail('a k6 error line');
  assert.equal(
    readableLogLine(thresholds, Date.parse('2026-11-23T15:58:14Z')),
    "ERRO[0004] thresholds on metrics 'checks, fixture_ttft, http_req_duration{scenario:ramp}' have been crossed",
  );
  const fields = parseLogfmt(line) ?? assert.fail('parsed');
  assert.deepEqual(
    fields.map((f) => f.key),
    ['time', 'level', 'msg', 'executor', 'scenario', 'source'],
  );
  const start = Date.parse('2026-11-23T15:58:20Z');
  assert.equal(
    readableLogLine(line, start),
    'ERRO[0003] Error: boom from script  executor=shared-iterations scenario=default source=stacktrace\n    at file:///k6-reference/exception.js:3:35(3)',
  );
  assert.equal(
    readableLogLine('time="2026-11-23T15:58:21Z" level=warning msg="a \\"quoted\\" word" source=console', start),
    'WARN[0001] a "quoted" word  source=console',
  );
  // Not a log line: as it is.
  for (const other of ['running (01.0s), 01/09 VUs', 'time is up', 'time="x" level=error msg="unterminated'])
    assert.equal(readableLogLine(other, start), other);
});

void test('the stream holds a partial log line until its end, and passes anything else through at once', async () => {
  let out = '';
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      out += c.toString('utf8');
      cb();
    },
  });
  const log = new ReadableLog(sink, Date.parse('2026-01-01T00:00:00Z'));
  await new Promise<void>((res) =>
    log.write('\x1b[K\nrunning (01.0s)\x1b[3A', () => {
      res();
    }),
  );
  assert.equal(out, '\x1b[K\nrunning (01.0s)\x1b[3A', 'a progress frame is never held back');
  await new Promise<void>((res) =>
    log.write('time="2026-01-01T00:00:02Z" level=error msg="a\\n\\tat b"', () => {
      res();
    }),
  );
  await new Promise<void>((res) =>
    log.write(' source=stacktrace\n', () => {
      res();
    }),
  );
  await new Promise<void>((res) => {
    log.end(res);
  });
  assert.equal(out, '\x1b[K\nrunning (01.0s)\x1b[3AERRO[0002] a  source=stacktrace\n    at b\n');
});

void test('a run whose script throws: the error and its stack frames on readable lines, no escaped \\n\\t', async () => {
  const server = await countingServer();
  try {
    const scenario = project.write(
      'throws.ts',
      `export const options = { vus: 1, iterations: 1 };
function inner(): never { throw new Error('boom from the scenario'); }
export default function (): void { inner(); }
`,
    );
    const r = await runCli([scenario, '--engine', 'node', '--no-report'], {
      cwd: project.dir,
      env: cleanEnv(project, { BASE_URL: server.url }),
    });
    assert.match(r.stderr, /^ERRO\[\d{4}\] (Uncaught )?Error: boom from the scenario.* source=stacktrace$/m, r.stderr);
    assert.match(r.stderr, /^ {4}at inner .*throws\.(ts|js):\d+:\d+/m, r.stderr);
    assert.doesNotMatch(r.stderr, /\\n\\tat|level=error/, r.stderr);
  } finally {
    await server.close();
  }
});
