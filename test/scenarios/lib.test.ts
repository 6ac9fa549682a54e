import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import * as cfg from '../../lib/config.ts';
import { SequenceTracker } from '../../lib/sequence.ts';
import { parsePrometheus, promMax, promValue } from '../../lib/prom.ts';
import { appMention, signatureBase, signatureWith, signedHeadersWith } from '../../lib/slack-payload.ts';
import { correlationId, slackTs } from '../../lib/correlation.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof cfg.ConfigError) return `${e.code}:${e.variable}`;
    throw e;
  }
  return 'no error';
}

const TARGET_LOCAL = { baseUrl: 'http://127.0.0.1:8080', wsUrl: 'ws://127.0.0.1:8080' };
const TARGET_GIVEN = { baseUrl: 'https://x.test', wsUrl: 'wss://y.test' };

/** [name, what the reader returns (or the error code it throws), expected]. */
const CONFIG_CASES: [string, () => unknown, unknown][] = [
  ['int: default', () => cfg.int({}, 'N', 5), 5],
  ['int: trimmed', () => cfg.int({ N: ' 12 ' }, 'N', 5), 12],
  ['int: empty = unset', () => cfg.int({ N: '' }, 'N', 5), 5],
  ['int: a fraction is invalid', () => code(() => cfg.int({ N: '1.5' }, 'N', 5)), 'config-invalid:N'],
  ['int: below min is invalid', () => code(() => cfg.int({ N: '0' }, 'N', 5, { min: 1 })), 'config-invalid:N'],
  ['num: not a number is invalid', () => code(() => cfg.num({ R: 'abc' }, 'R', 1)), 'config-invalid:R'],
  ['num: a decimal', () => cfg.num({ R: '2.5' }, 'R', 1), 2.5],
  ['bool: yes', () => cfg.bool({ B: 'yes' }, 'B', false), true],
  ['bool: maybe is invalid', () => code(() => cfg.bool({ B: 'maybe' }, 'B', false)), 'config-invalid:B'],
  ['oneOf: case-insensitive', () => cfg.oneOf({ P: 'LIGHT' }, 'P', ['light', 'heavy'] as const, 'heavy'), 'light'],
  [
    'oneOf: another value is invalid',
    () => code(() => cfg.oneOf({ P: 'huge' }, 'P', ['light', 'heavy'] as const, 'heavy')),
    'config-invalid:P',
  ],
  ['duration: k6 form kept', () => cfg.duration({ D: '8h' }, 'D', '1m'), '8h'],
  ['duration: words are invalid', () => code(() => cfg.duration({ D: '8 hours' }, 'D', '1m')), 'config-invalid:D'],
  ['required: missing', () => code(() => cfg.required({}, 'X', 'set it')), 'config-missing:X'],
  ['list: trimmed, empty items dropped', () => cfg.list({ L: 'a, b,,c' }, 'L', []), ['a', 'b', 'c']],
  ['parseDuration: 1m30s', () => cfg.parseDuration('1m30s'), 90_000],
  ['parseDuration: 500ms', () => cfg.parseDuration('500ms'), 500],
  ['parseDuration: bare seconds', () => cfg.parseDuration('2'), 2000],
  ['parseDuration: days are not k6 units', () => cfg.parseDuration('1d'), undefined],
  ['size: smoke by default', () => cfg.size({}), 'smoke'],
  ['size: full', () => cfg.size({ SIZE: 'full' }), 'full'],
  ['size: another is invalid', () => code(() => cfg.size({ SIZE: 'big' })), 'config-invalid:SIZE'],
  ['bySize: the full value', () => cfg.bySize('full', { smoke: 1, full: 2 }), 2],
  ['target: ws URL derived, trailing slash dropped', () => cfg.target({ BASE_URL: 'http://127.0.0.1:8080/' }), TARGET_LOCAL],
  ['target: WS_URL given', () => cfg.target({ BASE_URL: 'https://x.test', WS_URL: 'wss://y.test/' }), TARGET_GIVEN],
  ['target: BASE_URL missing', () => code(() => cfg.target({})), 'config-missing:BASE_URL'],
  ['target: BASE_URL without a scheme', () => code(() => cfg.target({ BASE_URL: 'localhost:80' })), 'config-invalid:BASE_URL'],
  ['target: WS_URL not ws', () => code(() => cfg.target({ BASE_URL: 'http://a', WS_URL: 'http://b' })), 'config-invalid:WS_URL'],
];

void describe('config readers: defaults, parsing and stable error codes', () => {
  for (const [name, got, want] of CONFIG_CASES)
    void test(name, () => {
      assert.deepEqual(got(), want, name);
    });
});

void test('config: an error is one line naming the variable and the value', () => {
  try {
    cfg.int({ WS_CLIENTS: 'lots' }, 'WS_CLIENTS', 10);
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof cfg.ConfigError);
    assert.match(e.message, /^WS_CLIENTS must be an integer, got "lots"/);
    assert.doesNotMatch(e.message, /\n/);
  }
});

void test('sequence: in order, gaps (lost), duplicates and out-of-order, trailing loss with the real last', () => {
  const t = new SequenceTracker(1);
  const seen = [1, 2, 4, 3, 3, 6, 2, 8].map((s) => t.observe(s));
  assert.deepEqual(seen, ['in-order', 'in-order', 'in-order', 'out-of-order', 'duplicate', 'in-order', 'duplicate', 'in-order']);
  assert.deepEqual(t.counts(), { received: 8, unique: 6, duplicates: 2, outOfOrder: 1, lost: 2, beforeStart: 0 });
  assert.equal(t.counts(10).lost, 4, 'numbers 9 and 10 never came');
  assert.throws(() => t.observe(1.5), RangeError);
});

void test('sequence: numbers before the first one seen count as beforeStart, not out of order', () => {
  const late = new SequenceTracker();
  late.observe(50);
  late.observe(49);
  late.observe(51);
  assert.deepEqual(late.counts(), { received: 3, unique: 2, duplicates: 0, outOfOrder: 0, lost: 0, beforeStart: 1 });
});

void test('sequence: nothing seen is nothing lost, unless a last number is given', () => {
  assert.equal(new SequenceTracker(1).counts().lost, 0, 'nothing seen, nothing expected yet');
  assert.equal(new SequenceTracker(1).counts(3).lost, 3, 'nothing seen of 1..3');
});

void test('sequence: matches an exact reference on random streams (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 200 }), fc.integer({ min: 0, max: 80 }), (stream, extra) => {
      const t = new SequenceTracker(1);
      const seen = new Set<number>();
      let max = 0;
      let dup = 0;
      let ooo = 0;
      for (const s of stream) {
        t.observe(s);
        if (seen.has(s)) dup++;
        else {
          if (s < max) ooo++;
          seen.add(s);
          max = Math.max(max, s);
        }
      }
      const last = Math.max(max, extra);
      const c = t.counts(last);
      assert.equal(c.duplicates, dup);
      assert.equal(c.outOfOrder, ooo);
      assert.equal(c.unique, seen.size);
      assert.equal(c.lost, last - seen.size);
    }),
  );
});

void describe('prometheus: parses samples with labels, skips comments, sums and maxes', () => {
  const text = [
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes 123456789',
    'nodejs_eventloop_lag_seconds 0.0123',
    'bus_queue_depth{topic="agent_results"} 3',
    'bus_queue_depth{topic="task_submissions"} 7',
    'http_requests_total{method="GET",route="/a \\"b\\"",status="200"} 5 1700000000000',
    'weird line without value',
    'http_request_duration_seconds_bucket{le="+Inf"} 9',
  ].join('\n');
  const s = parsePrometheus(text);
  const cases: [string, () => unknown, unknown][] = [
    ['a gauge', () => promValue(s, 'process_resident_memory_bytes'), 123456789],
    ['summed across label sets', () => promValue(s, 'bus_queue_depth'), 10],
    ['one label set', () => promValue(s, 'bus_queue_depth', { topic: 'task_submissions' }), 7],
    ['the max across label sets', () => promMax(s, 'bus_queue_depth'), 7],
    ['an escaped label value, the timestamp ignored', () => promValue(s, 'http_requests_total', { route: '/a "b"' }), 5],
    ['a missing metric', () => promValue(s, 'missing'), undefined],
    ['a +Inf bucket label', () => promValue(s, 'http_request_duration_seconds_bucket', { le: '+Inf' }), 9],
    ['the malformed line is skipped', () => s.length, 6],
  ];
  for (const [name, got, want] of cases)
    void test(name, () => {
      assert.equal(got(), want, name);
    });
});

void test('slack: v0 signature equals the node:crypto HMAC of "v0:ts:body" (known vector)', () => {
  const nodeHmac = (secret: string, data: string): string => createHmac('sha256', secret).update(data).digest('hex');
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
    '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
    '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
    '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const ts = 1531420618;
  assert.equal(signatureBase(ts, body), `v0:1531420618:${body}`);
  // Slack's documented example signature for this secret, timestamp and body.
  assert.equal(signatureWith(nodeHmac, secret, ts, body), 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  const h = signedHeadersWith(nodeHmac, secret, 1531420618.9, body);
  assert.equal(h['X-Slack-Request-Timestamp'], '1531420618');
  assert.notEqual(signatureWith(nodeHmac, 'other', ts, body), h['X-Slack-Signature'], 'another secret gives another signature');
  assert.throws(() => signatureWith(nodeHmac, '', ts, body), /SLACK_SIGNING_SECRET/);
});

void test('slack: app_mention payload carries the correlation id as client_msg_id and in the text', () => {
  const e = appMention({
    correlationId: 'corr-1-2-abc',
    text: 'summarise x',
    channel: 'C1',
    user: 'U1',
    botUserId: 'UBOT',
    ts: '1.000002',
    eventTimeSec: 1,
  });
  assert.equal(e.type, 'event_callback');
  assert.equal(e.event.client_msg_id, 'corr-1-2-abc');
  assert.match(e.event.text, /^<@UBOT> summarise x \[correlation_id=corr-1-2-abc\]$/);
  assert.equal(e.event_id, 'EvCORR12ABC');
});

void test('correlation ids are unique per vu/iteration', () => {
  let x = 0;
  const rnd = (): number => (x = (x + 0.37) % 1);
  const ids = new Set<string>();
  for (let vu = 1; vu <= 5; vu++) for (let it = 0; it < 20; it++) ids.add(correlationId('corr', vu, it, rnd));
  assert.equal(ids.size, 100);
  assert.match(correlationId('c', 1, 2), /^c-1-2-[0-9a-z]{8}$/);
});

void test('Slack ts values look like Slack ones and differ per vu/iteration', () => {
  assert.match(slackTs(1_700_000_000_123, 3, 4), /^1700000000\.\d{6}$/);
  assert.notEqual(slackTs(0, 1, 1), slackTs(0, 1, 2));
});

void test('schedule tally: expected instants per kind', async () => {
  const { expectedInstants } = await import('../../lib/schedule.ts');
  assert.deepEqual(expectedInstants({ kind: 'interval', createdAt: 1000 }, 4500, 1000, 2), [2000, 3000, 4000]);
  assert.deepEqual(expectedInstants({ kind: 'cron', createdAt: 10_500 }, 16_000, 1000, 2), [12_000, 14_000, 16_000]);
});

void test('schedule tally: missed and duplicated runs counted', async () => {
  const { tallyRuns } = await import('../../lib/schedule.ts');
  const seen = new Map([
    [2000, 1],
    [4000, 3],
  ]);
  assert.deepEqual(tallyRuns([2000, 3000, 4000], seen), { missed: 1, duplicated: 2 });
  assert.deepEqual(
    tallyRuns(
      [2000, 4000],
      new Map([
        [2000, 1],
        [4000, 1],
      ]),
    ),
    { missed: 0, duplicated: 0 },
  );
});

void test('Server-Timing header parsed into milliseconds per entry', async () => {
  const { parseServerTiming } = await import('../../lib/server-timing.ts');
  assert.deepEqual(parseServerTiming('cache;dur=0.412, db;desc="pg";dur=3.1, fill'), { cache: 0.412, db: 3.1 });
  assert.deepEqual(parseServerTiming(undefined), {});
});

void test('Ollama NDJSON stream: tokens, done and the final counters', async () => {
  const { parseNdjson } = await import('../../lib/sse.ts');
  const body =
    '{"response":"a ","done":false}\n{"response":"b ","done":false}\n{"done":true,"eval_count":2,"eval_duration":5000000,"load_duration":7}\n';
  assert.deepEqual(parseNdjson(body), { tokens: 2, done: true, evalCount: 2, evalDurationNs: 5_000_000, loadDurationNs: 7 });
  assert.equal(parseNdjson('{"response":"a","done":false}\n').done, false);
});
