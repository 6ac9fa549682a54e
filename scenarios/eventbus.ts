/**
 * eventbus — sustained and burst publishing on an event bus: delivery latency, loss, duplicates,
 * reordering and queue build-up.
 *
 * Proves: delivery latency P95 (`bus_delivery_latency`, publish request start → subscriber receipt, one clock);
 * zero loss (`bus_messages_lost`: gaps in the topic's sequence numbers, trailing gaps included), duplicates
 * (`bus_messages_duplicated`), out-of-order deliveries (`bus_messages_out_of_order`), no queue build-up
 * (`bus_queue_depth`, `bus_consumer_lag_ms` polled during the run), publish errors (`bus_publish_failed`).
 * Design: 200 msgs/s sustained, 500 msgs/s burst for 1 min, delivery P95 < 100 ms, zero loss.
 *
 * Needs from the system: publish over HTTP (`POST /api/bus/:topic {"payload"}` → 2xx), subscribe over
 * WebSocket (`GET /ws/bus?topic=T`, frames `{"type":"message","topic","seq","payload"}` with a per-topic `seq`
 * from 1 that drops leave as gaps), and stats (`GET /api/bus/stats` → `{"topics":[{"topic","published","depth","lagMs"}]}`).
 *
 * Variables:
 *   BASE_URL, WS_URL       the system
 *   SIZE                   smoke (default: 20/s for 10 s, burst 50/s for 5 s) | full (200/s for 5 min, 500/s for 1 min)
 *   BUS_TOPIC              default agent_results
 *   RATE, DURATION         sustained phase
 *   BURST_RATE, BURST_DURATION   burst phase (after the sustained one)
 *   SUBSCRIBERS            WebSocket subscribers (each must see every message), default 1 (smoke) / 2 (full)
 *   DRAIN_TIMEOUT          seconds subscribers wait for stragglers after the last publish, default 10
 *   PROFILE                mvp (default) | production
 */
import { check } from 'k6';
import { bySize, duration, durationMs, int, size, str, target } from '../lib/config.ts';
import { runId } from '../lib/correlation.ts';
import { get, json, ok, postJson } from '../lib/http.ts';
import { arrField, field, numField, strField } from '../lib/json.ts';
import { busMetrics } from '../lib/metrics.ts';
import { arrival, once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { SequenceTracker } from '../lib/sequence.ts';
import { connect, delay } from '../lib/ws.ts';
import { eventbusThresholds, selectProfile } from '../thresholds/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl, wsUrl } = target(env);
const TOPIC = str(env, 'BUS_TOPIC', 'agent_results');
const RATE = int(env, 'RATE', bySize(sz, { smoke: 20, full: 200 }), { min: 1 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '10s', full: '5m' }));
const BURST_RATE = int(env, 'BURST_RATE', bySize(sz, { smoke: 50, full: 500 }), { min: 0 });
const BURST_DURATION = duration(env, 'BURST_DURATION', bySize(sz, { smoke: '5s', full: '1m' }));
const SUBSCRIBERS = int(env, 'SUBSCRIBERS', bySize(sz, { smoke: 1, full: 2 }), { min: 1 });
const DRAIN_S = int(env, 'DRAIN_TIMEOUT', 10, { min: 1 });
const LEAD_S = 2;
const sustainedS = durationMs(DURATION) / 1000;
const burstS = BURST_RATE > 0 ? durationMs(BURST_DURATION) / 1000 : 0;
const publishEndS = LEAD_S + sustainedS + burstS;

const scenarios: ScriptOptions['scenarios'] = {
  subscribers: once('subscribe', SUBSCRIBERS, secs(publishEndS + DRAIN_S + 30)),
  sustained: arrival({ exec: 'publish', rate: RATE, duration: DURATION, startTime: secs(LEAD_S), tags: { phase: 'sustained' } }),
  depth: arrival({ exec: 'depth', rate: 1, duration: secs(publishEndS + 2), preAllocatedVUs: 1, maxVUs: 2 }),
};
if (BURST_RATE > 0) {
  scenarios.burst = arrival({ exec: 'publish', rate: BURST_RATE, duration: BURST_DURATION, startTime: secs(LEAD_S + sustainedS), tags: { phase: 'burst' } });
}

export const options: ScriptOptions = {
  scenarios,
  thresholds: eventbusThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = busMetrics();

interface Data {
  readonly run: string;
  readonly startedAt: number;
}

export function setup(): Data {
  return { run: runId('bus'), startedAt: Date.now() };
}

interface TopicStats {
  readonly published: number;
  readonly depth: number;
  readonly lagMs: number;
}

async function topicStats(): Promise<TopicStats | undefined> {
  const r = await get(`${baseUrl}/api/bus/stats`, { endpoint: 'bus_stats', name: '/api/bus/stats' });
  const t = arrField(json(r), 'topics').find((x) => strField(x, 'topic') === TOPIC);
  if (t === undefined) return undefined;
  return { published: numField(t, 'published') ?? 0, depth: numField(t, 'depth') ?? 0, lagMs: numField(t, 'lagMs') ?? 0 };
}

export async function subscribe(d: Data): Promise<void> {
  const state: { tracker?: SequenceTracker } = {};
  const early: number[] = [];
  const session = await connect(`${wsUrl}/ws/bus?topic=${encodeURIComponent(TOPIC)}`, {
    tags: { endpoint: 'ws_bus' },
    onJson: (msg, at) => {
      if (strField(msg, 'type') !== 'message') return;
      const seq = numField(msg, 'seq');
      if (seq === undefined) return;
      if (state.tracker === undefined) {
        early.push(seq);
        return;
      }
      observe(state.tracker, seq, field(msg, 'payload'), at, d.run);
    },
  });
  // The topic's published count when we joined: every later seq must reach us.
  const joined = await topicStats();
  const tracker = new SequenceTracker((joined?.published ?? 0) + 1);
  state.tracker = tracker;
  for (const s of early) observe(tracker, s, undefined, Date.now(), d.run);
  const endAt = d.startedAt + publishEndS * 1000;
  while (Date.now() < endAt) await delay(Math.min(1000, endAt - Date.now()));
  // Drain: publishes still in flight may land after the schedule ends. Done when the topic's published
  // count has stood still for a second and every message up to it arrived, or at the drain timeout.
  const drainEnd = Date.now() + DRAIN_S * 1000;
  let last = (await topicStats())?.published ?? tracker.highest() ?? 0;
  let stillSince = Date.now();
  while (Date.now() < drainEnd) {
    await delay(250);
    const now = (await topicStats())?.published ?? last;
    if (now !== last) {
      last = now;
      stillSince = Date.now();
    }
    if (tracker.missing(last) === 0 && Date.now() - stillSince >= 1000) break;
  }
  session.ws.close();
  const c = tracker.counts(last);
  m.lost.add(c.lost);
  m.duplicated.add(0);
  m.outOfOrder.add(0);
  if (c.lost > 0) console.warn(`subscriber ${__VU}: ${c.lost} of ${last - (joined?.published ?? 0)} messages on ${TOPIC} never arrived`);
}

function observe(t: SequenceTracker, seq: number, payload: unknown, at: number, run: string): void {
  const seen = t.observe(seq);
  m.received.add(1);
  if (seen === 'duplicate') {
    m.duplicated.add(1);
    return;
  }
  if (seen === 'out-of-order') m.outOfOrder.add(1);
  const sentAt = numField(payload, 'sentAt');
  if (strField(payload, 'run') === run && sentAt !== undefined) m.latency.add(Math.max(0, at - sentAt));
}

export async function publish(d: Data): Promise<void> {
  const sentAt = Date.now();
  const r = await postJson(`${baseUrl}/api/bus/${TOPIC}`, { payload: { run: d.run, sentAt, source: 'agentload' } }, { endpoint: 'bus_publish', name: '/api/bus/:topic' });
  const good = check(r, { 'publish accepted': ok });
  m.publishFailed.add(!good);
  if (good) m.published.add(1);
}

export async function depth(): Promise<void> {
  const s = await topicStats();
  if (s === undefined) return;
  m.queueDepth.add(s.depth);
  m.consumerLag.add(s.lagMs);
}
