/**
 * websocket-fanout — one publish reaches N WebSocket subscribers: how fast, and did every one get it once.
 *
 * Proves: publish → subscriber latency P95 (`ws_fanout_latency`, measured on the load generator's clock from
 * the publisher's send time), connection setup time (`ws_connection_setup`), missed messages
 * (`ws_fanout_missed`, `ws_fanout_missed_rate`) and duplicates (`ws_fanout_duplicates`) per subscriber,
 * counted from the publisher's own sequence numbers; subscribers that could not connect (`ws_connect_failed`).
 * At full size: 1,000 clients × 15 publishes/s = 15,000 messages/s fanned out.
 *
 * Needs from the system: a broadcast WebSocket (`GET /ws/broadcast?channel=C`) that relays every published
 * JSON payload to all subscribers of the channel as `{"type":"broadcast","payload":…}`, and an HTTP publish
 * (`POST /api/broadcast {"channel","payload"}`). A fresh channel per run keeps runs apart.
 *
 * Variables:
 *   BASE_URL, WS_URL     the system (WS_URL defaults to BASE_URL with ws://)
 *   SIZE                 smoke (default: 20 clients, 20 messages) | full (1,000 clients, 900 messages at 15/s)
 *   VUS                  subscribers (WS_CLIENTS too)
 *   ITERATIONS           messages published (WS_MESSAGES too)
 *   RATE                 publishes per second (PUBLISH_RATE too)
 *   CONNECT_WINDOW       seconds subscribers get to connect before the first publish
 *   WS_PATH, PUBLISH_PATH  default /ws/broadcast and /api/broadcast
 *   PROFILE              mvp (default) | production
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { runId } from '../lib/correlation.ts';
import { bySize, int, num, size, sizeVar, str, target } from '../lib/config.ts';
import { sleep } from '../lib/k6.ts';
import { postJson, ok } from '../lib/http.ts';
import { field, numField, strField } from '../lib/json.ts';
import { wsFanoutMetrics } from '../lib/metrics.ts';
import { once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { SequenceTracker } from '../lib/sequence.ts';
import { connect, waitUntil } from '../lib/ws.ts';
import { selectProfile, websocketThresholds } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl, wsUrl } = target(env);
const CLIENTS = int(env, sizeVar(env, 'VUS', 'WS_CLIENTS'), bySize(sz, { smoke: 20, full: 1000 }), { min: 1 });
const MESSAGES = int(env, sizeVar(env, 'ITERATIONS', 'WS_MESSAGES'), bySize(sz, { smoke: 20, full: 900 }), { min: 1 });
const RATE = num(env, sizeVar(env, 'RATE', 'PUBLISH_RATE'), bySize(sz, { smoke: 10, full: 15 }), { min: 0.1 });
const WINDOW = int(env, 'CONNECT_WINDOW', bySize(sz, { smoke: 3, full: 20 }), { min: 1 });
const WS_PATH = str(env, 'WS_PATH', '/ws/broadcast');
const PUBLISH_PATH = str(env, 'PUBLISH_PATH', '/api/broadcast');
const GRACE_S = 5;
const publishSeconds = MESSAGES / RATE;
const sessionSeconds = WINDOW + publishSeconds + GRACE_S;

export const options: ScriptOptions = {
  scenarios: {
    subscribers: once('subscribe', CLIENTS, secs(sessionSeconds + 30)),
    publisher: once('publish', 1, secs(publishSeconds + 30), secs(WINDOW)),
  },
  thresholds: { ...websocketThresholds(selectProfile(env)), 'http_req_failed{endpoint:broadcast_publish}': ['rate<0.01'] },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = wsFanoutMetrics();

interface Data {
  readonly run: string;
  readonly channel: string;
  /** Epoch ms when the test started (setup time): subscribers derive their deadline from it. */
  readonly startedAt: number;
}

export function setup(): Data {
  const run = runId('fanout');
  return { run, channel: run, startedAt: Date.now() };
}

export async function subscribe(d: Data): Promise<void> {
  const tracker = new SequenceTracker(1);
  const deadline = d.startedAt + sessionSeconds * 1000;
  const waiting = waitUntil(Math.max(1000, deadline - Date.now()));
  const url = `${wsUrl}${WS_PATH}?channel=${encodeURIComponent(d.channel)}`;
  let session;
  try {
    session = await connect(url, {
      tags: { endpoint: 'ws_broadcast' },
      onJson: (msg, at) => {
        if (strField(msg, 'type') !== 'broadcast') return;
        const p = field(msg, 'payload');
        if (strField(p, 'run') !== d.run) return;
        const n = numField(p, 'n');
        const sentAt = numField(p, 'sentAt');
        if (n === undefined) return;
        const seen = tracker.observe(n);
        m.received.add(1);
        if (seen === 'duplicate') m.duplicates.add(1);
        else if (sentAt !== undefined) m.latency.add(Math.max(0, at - sentAt));
        if (seen === 'out-of-order') m.outOfOrder.add(1);
        if (tracker.counts().unique >= MESSAGES) waiting.finish();
      },
    });
  } catch (e) {
    m.connectFailed.add(true);
    m.missed.add(MESSAGES);
    for (let i = 0; i < MESSAGES; i++) m.missedRate.add(true);
    console.warn(`subscriber ${exec.vu.idInTest}: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  m.connectFailed.add(false);
  m.setup.add(session.connectMs);
  await waiting.done;
  session.ws.close();
  const c = tracker.counts(MESSAGES);
  m.missed.add(c.lost);
  m.duplicates.add(0);
  for (let i = 0; i < MESSAGES; i++) m.missedRate.add(i < c.lost);
}

export async function publish(d: Data): Promise<void> {
  const start = Date.now();
  for (let n = 1; n <= MESSAGES; n++) {
    const due = start + ((n - 1) * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait / 1000);
    const r = await postJson(
      `${baseUrl}${PUBLISH_PATH}`,
      { channel: d.channel, payload: { run: d.run, n, sentAt: Date.now() } },
      { endpoint: 'broadcast_publish', name: PUBLISH_PATH },
    );
    check(r, { 'publish accepted': ok });
  }
}
