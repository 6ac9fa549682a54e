/**
 * eventbus — sustained and burst publishing on an event bus: delivery latency, loss, duplicates,
 * reordering and queue build-up.
 *
 * Proves: delivery latency P95 (`bus_delivery_latency`, publish request start → subscriber receipt, one clock);
 * zero loss (`bus_messages_lost`: gaps in the topic's sequence numbers, trailing gaps included), duplicates
 * (`bus_messages_duplicated`), out-of-order deliveries (`bus_messages_out_of_order`), no queue build-up
 * (`bus_queue_depth`, `bus_consumer_lag_ms` polled during the run), publish errors (`bus_publish_failed`).
 * Design: 200 msgs/s sustained, 500 msgs/s burst for 1 min, delivery P95 < 100 ms, zero loss. The load is the
 * seed's four-topic mix, 100/50/50/10 msgs/s (agent_results / task_submissions / slack_events / scheduled_tasks
 * by default; BUS_TOPICS sets topics and weights), scaled to RATE and BURST_RATE in total; queue depth and
 * consumer lag are Trends, so their maximum during the burst is what the thresholds read.
 *
 * Needs from the system: publish over HTTP (`POST /api/bus/:topic {"payload"}` → 2xx), subscribe over
 * WebSocket (`GET /ws/bus?topic=T`, frames `{"type":"message","topic","seq","payload"}` with a per-topic `seq`
 * from 1 that drops leave as gaps), and stats (`GET /api/bus/stats` → `{"topics":[{"topic","published","depth","lagMs"}]}`).
 *
 * Variables:
 *   BASE_URL, WS_URL       the system
 *   SIZE                   smoke (default: 21/s for 10 s, burst 50/s for 5 s) | full (210/s for 5 min, 500/s for 1 min)
 *   BUS_TOPICS             topic=weight list, default agent_results=100,task_submissions=50,slack_events=50,scheduled_tasks=10
 *   RATE, DURATION         sustained phase, total msgs/s over the topics (21 smoke / 210 full)
 *   BURST_RATE, BURST_DURATION   burst phase (after the sustained one), total msgs/s (50 / 500)
 *   SUBSCRIBERS            WebSocket subscribers (each must see every message), default 1 (smoke) / 2 (full)
 *   DRAIN_TIMEOUT          seconds subscribers wait for stragglers after the last publish, default 10
 *   PROFILE                mvp (default) | production
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { bySize, duration, durationMs, int, list, size, target } from '../lib/config.ts';
import { runId } from '../lib/correlation.ts';
import { get, json, ok, postJson } from '../lib/http.ts';
import { arrField, field, numField, strField } from '../lib/json.ts';
import { busMetrics } from '../lib/metrics.ts';
import { arrival, once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { SequenceTracker } from '../lib/sequence.ts';
import { connect, delay } from '../lib/ws.ts';
import { eventbusThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl, wsUrl } = target(env);
/** The seed's mix: topic → share of the total rate (100/50/50/10 msgs/s). */
const MIX = list(env, 'BUS_TOPICS', ['agent_results=100', 'task_submissions=50', 'slack_events=50', 'scheduled_tasks=10']).map((e) => {
  const [topic, w] = e.split('=');
  const weight = Number(w ?? '1');
  if (topic === undefined || topic === '' || !Number.isFinite(weight) || weight <= 0)
    throw new Error(`BUS_TOPICS must list topic=weight pairs like agent_results=100,slack_events=50, got "${e}"`);
  return { topic, weight };
});
const WEIGHTS = MIX.reduce((a, x) => a + x.weight, 0);
const TOPICS = MIX.map((x) => x.topic);
const RATE = int(env, 'RATE', bySize(sz, { smoke: 21, full: 210 }), { min: 1 });
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
  depth: arrival({ exec: 'depth', rate: 1, duration: secs(publishEndS + 2), preAllocatedVUs: 1, maxVUs: 2 }),
};
for (const { topic, weight } of MIX) {
  const share = weight / WEIGHTS;
  scenarios[`sustained_${topic}`] = arrival({
    exec: 'publish',
    rate: RATE * share,
    duration: DURATION,
    startTime: secs(LEAD_S),
    tags: { phase: 'sustained', topic },
  });
  if (BURST_RATE > 0) {
    scenarios[`burst_${topic}`] = arrival({
      exec: 'publish',
      rate: BURST_RATE * share,
      duration: BURST_DURATION,
      startTime: secs(LEAD_S + sustainedS),
      tags: { phase: 'burst', topic },
    });
  }
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

/** Stats of the mix's topics, by topic. */
async function topicStats(): Promise<Map<string, TopicStats>> {
  const r = await get(`${baseUrl}/api/bus/stats`, { endpoint: 'bus_stats', name: '/api/bus/stats' });
  const out = new Map<string, TopicStats>();
  for (const t of arrField(json(r), 'topics')) {
    const name = strField(t, 'topic');
    if (name === undefined || !TOPICS.includes(name)) continue;
    out.set(name, { published: numField(t, 'published') ?? 0, depth: numField(t, 'depth') ?? 0, lagMs: numField(t, 'lagMs') ?? 0 });
  }
  return out;
}

export async function subscribe(d: Data): Promise<void> {
  const trackers = new Map<string, SequenceTracker>();
  const early: Array<[string, number]> = [];
  const query = TOPICS.map((t) => `topic=${encodeURIComponent(t)}`).join('&');
  const session = await connect(`${wsUrl}/ws/bus?${query}`, {
    tags: { endpoint: 'ws_bus' },
    onJson: (msg, at) => {
      if (strField(msg, 'type') !== 'message') return;
      const seq = numField(msg, 'seq');
      const topic = strField(msg, 'topic');
      if (seq === undefined || topic === undefined) return;
      const tracker = trackers.get(topic);
      if (tracker === undefined) {
        early.push([topic, seq]);
        return;
      }
      observe(tracker, seq, field(msg, 'payload'), at, d.run);
    },
  });
  // Each topic's published count when we joined: every later seq must reach us.
  const joined = await topicStats();
  for (const t of TOPICS) trackers.set(t, new SequenceTracker((joined.get(t)?.published ?? 0) + 1));
  for (const [t, s] of early) {
    const tracker = trackers.get(t);
    if (tracker !== undefined) observe(tracker, s, undefined, Date.now(), d.run);
  }
  const endAt = d.startedAt + publishEndS * 1000;
  while (Date.now() < endAt) await delay(Math.min(1000, endAt - Date.now()));
  // Drain: publishes still in flight may land after the schedule ends. Done when every topic's published count
  // has stood still for a second and every message up to it arrived, or at the drain timeout.
  const drainEnd = Date.now() + DRAIN_S * 1000;
  const lastOf = (s: Map<string, TopicStats>, prev: ReadonlyMap<string, number>): Map<string, number> =>
    new Map(TOPICS.map((t) => [t, s.get(t)?.published ?? prev.get(t) ?? trackers.get(t)?.highest() ?? 0]));
  let last = lastOf(await topicStats(), new Map());
  let stillSince = Date.now();
  while (Date.now() < drainEnd) {
    await delay(250);
    const now = lastOf(await topicStats(), last);
    if (TOPICS.some((t) => now.get(t) !== last.get(t))) {
      last = now;
      stillSince = Date.now();
    }
    if (TOPICS.every((t) => (trackers.get(t)?.missing(last.get(t) ?? 0) ?? 0) === 0) && Date.now() - stillSince >= 1000) break;
  }
  session.ws.close();
  m.duplicated.add(0);
  m.outOfOrder.add(0);
  for (const t of TOPICS) {
    const tracker = trackers.get(t);
    if (tracker === undefined) continue;
    const upTo = last.get(t) ?? 0;
    const c = tracker.counts(upTo);
    m.lost.add(c.lost, { topic: t });
    if (c.lost > 0)
      console.warn(`subscriber ${__VU}: ${c.lost} of ${upTo - (joined.get(t)?.published ?? 0)} messages on ${t} never arrived`);
  }
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
  const topic = exec.scenario.name.replace(/^(sustained|burst)_/, '');
  const r = await postJson(
    `${baseUrl}/api/bus/${topic}`,
    { payload: { run: d.run, sentAt, source: 'agentload' } },
    { endpoint: 'bus_publish', name: '/api/bus/:topic', topic },
  );
  const good = check(r, { 'publish accepted': ok });
  m.publishFailed.add(!good);
  if (good) m.published.add(1);
}

export async function depth(): Promise<void> {
  for (const [topic, s] of await topicStats()) {
    m.queueDepth.add(s.depth, { topic });
    m.consumerLag.add(s.lagMs, { topic });
  }
}
