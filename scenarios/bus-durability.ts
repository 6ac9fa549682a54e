/**
 * bus-durability — zero message loss across process-level failures: a consumer crash, a network partition
 * between the platform and its broker, a publisher crash and a broker restart, each once, while messages
 * are published at a steady rate.
 *
 * Proves: no message a publisher was told was accepted is lost (`bus_messages_lost` = 0); duplicates are
 * counted (`bus_messages_duplicated`) and kept within the profile's tolerance (`bus_duplicate_rate`:
 * at-least-once may deliver twice); reordering is counted (`bus_messages_out_of_order`); the platform
 * delivers again within 60 s of every fault (`fault_recovery_time{action}`: fault start → first delivery
 * of a message published once the fault was in effect); every failed publish was retried until it got through
 * (`bus_publish_abandoned` = 0; retries in `bus_publish_retries`). Delivery latency is reported
 * (`bus_delivery_latency`), not gated: it includes the outages on purpose.
 *
 * How: PUBLISHERS VUs each publish their own numbered messages (key `<run>:p<VU>`, payload `n`) at
 * RATE/PUBLISHERS per second, retrying a failed publish with the same `n`; afterwards each compares the
 * numbers it got 2xx for with what the platform's consumers recorded in the delivery log. One more VU
 * applies the fault plan through the fault controller (FAULTS_URL) and measures each recovery.
 *
 * Needs from the system: `POST /api/bus/:topic {"payload","key"}` → 2xx; the delivery log
 * `GET /api/bus/deliveries?key=K&after=ID&limit=N` and `?topic=T&publishedAfter=MS&limit=1` →
 * `{"items":[{"id","seq","key","publishedAt","deliveredAt","redelivered","payload"}],"next"}` (consumers
 * write every message they get before acknowledging it); a fault controller at FAULTS_URL.
 * `npm run k6 -- scenarios/bus-durability.ts` starts all of it: a RabbitMQ broker, the platform as
 * API instances and consumer workers behind a balancer, the controller (docs/faults.md).
 * Against your own system: BASE_URL plus AGENTLOAD_FAULT_<ACTION>_CMD commands (docs/faults.md).
 *
 * Variables:
 *   SIZE          smoke (default: 20 msgs/s for 46 s) | full (200 msgs/s for 10 min)
 *   RATE          messages/s over all publishers (20 / 200); VUS publishers (4 / 20; PUBLISHERS too)
 *   DURATION      publishing phase; LEAD seconds before it (2)
 *   FAULTS        the plan (lib/fault-plan.ts); default one of each spread over DURATION — smoke:
 *                 consumer-crash@8s,partition@14s:4s,publisher-crash@22s,broker-restart@28s; `none` = no faults
 *   BUS_TOPIC     agent_results; RETRY_FOR publish retries per message (60s); DRAIN_TIMEOUT (30 s);
 *   RECOVERY_TIMEOUT seconds a fault may take to recover before it is recorded as that long (90)
 *   PROFILE       mvp (default: duplicates <= 5 %) | production (<= 1 %)
 */
import { check } from 'k6';
import { bySize, duration, durationMs, int, optional, size, sizeVar, str, target } from '../lib/config.ts';
import { runId } from '../lib/correlation.ts';
import { busDurabilityTimeline } from '../lib/fault-plan.ts';
import { checkFaultController, runFaultPlan, until, type AppliedFault, type Recovery } from '../lib/faults.ts';
import { get, json, ok, postJson } from '../lib/http.ts';
import { arrField, field, numField, strField } from '../lib/json.ts';
import { sleep } from '../lib/k6.ts';
import { durabilityMetrics, faultMetrics } from '../lib/metrics.ts';
import { once, secs, type ScriptOptions } from '../lib/scenario.ts';
import { durabilityThresholds, selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const timeline = busDurabilityTimeline(env);
const FAULTS_URL = timeline.plan.length > 0 ? optional(env, 'FAULTS_URL') : undefined;
const TOPIC = str(env, 'BUS_TOPIC', 'agent_results');
const RATE = int(env, 'RATE', bySize(sz, { smoke: 20, full: 200 }), { min: 1 });
const PUBLISHERS = int(env, sizeVar(env, 'VUS', 'PUBLISHERS'), bySize(sz, { smoke: 4, full: 20 }), { min: 1, max: 1000 });
const RETRY_S = durationMs(duration(env, 'RETRY_FOR', '60s')) / 1000;
const DRAIN_S = int(env, 'DRAIN_TIMEOUT', 30, { min: 1 });
const RECOVERY_S = int(env, 'RECOVERY_TIMEOUT', 90, { min: 1 });
const perVu = RATE / PUBLISHERS;
const perVuCount = Math.max(1, Math.floor(perVu * timeline.loadS));
const loadEndS = timeline.leadS + timeline.loadS;

if (timeline.plan.length > 0 && FAULTS_URL === undefined) {
  throw new Error(
    'FAULTS_URL is not set: run through `npm run k6 -- scenarios/bus-durability.ts` (it starts the fault controller), or set FAULTS=none',
  );
}

export const options: ScriptOptions = {
  scenarios: {
    publishers: once('publish', PUBLISHERS, secs(loadEndS + RETRY_S + DRAIN_S + 60)),
    ...(timeline.plan.length > 0 ? { faults: once('faults', 1, secs(loadEndS + RECOVERY_S * timeline.plan.length + 60)) } : {}),
  },
  thresholds: durabilityThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
};

const m = durabilityMetrics();
const fm = faultMetrics();

interface Data {
  readonly run: string;
  readonly startedAt: number;
}

export async function setup(): Promise<Data> {
  const r = await get(`${baseUrl}/api/bus/deliveries?limit=1`, { endpoint: 'bus_deliveries', name: '/api/bus/deliveries' });
  if (!ok(r)) {
    throw new Error(
      `the platform has no delivery log (GET /api/bus/deliveries answered ${r.status}: ${strField(json(r), 'error') ?? ''}): start it with BUS_DELIVERY_LOG=${TOPIC}`,
    );
  }
  if (FAULTS_URL !== undefined) await checkFaultController(FAULTS_URL, timeline.plan);
  return { run: runId('dur'), startedAt: Date.now() };
}

interface Delivery {
  readonly id: number;
  readonly n: number;
  readonly sentAt: number | undefined;
  readonly deliveredAt: number;
  readonly redelivered: boolean;
}

function deliveryOf(x: unknown): Delivery | undefined {
  const payload = field(x, 'payload');
  const n = numField(payload, 'n');
  const id = numField(x, 'id');
  const deliveredAt = numField(x, 'deliveredAt');
  if (n === undefined || id === undefined || deliveredAt === undefined) return undefined;
  return { id, n, sentAt: numField(payload, 'sentAt'), deliveredAt, redelivered: field(x, 'redelivered') === true };
}

/** What the consumers recorded for `key`, in log order; each call fetches only what is new. */
function deliveryLog(key: string): () => Promise<Delivery[]> {
  const log: Delivery[] = [];
  let after = 0;
  return async () => {
    for (;;) {
      const r = await get(`${baseUrl}/api/bus/deliveries?key=${encodeURIComponent(key)}&after=${after}&limit=1000`, {
        endpoint: 'bus_deliveries',
        name: '/api/bus/deliveries',
      });
      if (!ok(r)) return log;
      const body = json(r);
      for (const x of arrField(body, 'items')) {
        const d = deliveryOf(x);
        if (d !== undefined) {
          log.push(d);
          after = Math.max(after, d.id);
        }
      }
      if (numField(body, 'next') === undefined) return log;
    }
  };
}

/** One message, retried with the same number until it is accepted; the accepted attempt's send time, or undefined. */
async function publishOne(run: string, key: string, n: number, giveUpAt: number): Promise<number | undefined> {
  for (let attempt = 0; ; attempt++) {
    const sentAt = Date.now();
    const r = await postJson(
      `${baseUrl}/api/bus/${TOPIC}`,
      { key, payload: { run, n, sentAt, attempt } },
      { endpoint: 'bus_publish', name: '/api/bus/:topic' },
      { timeout: '30s' },
    );
    if (ok(r)) return sentAt;
    if (Date.now() >= giveUpAt) return undefined;
    m.retries.add(1);
    await sleep(Math.min(2, 0.2 * 2 ** Math.min(attempt, 4)));
  }
}

export async function publish(d: Data): Promise<void> {
  const key = `${d.run}:p${__VU}`;
  const start = d.startedAt + timeline.leadS * 1000;
  const accepted = new Set<number>();
  let abandoned = 0;
  for (let n = 1; n <= perVuCount; n++) {
    const due = start + ((n - 1) * 1000) / perVu;
    await until(due);
    const sentAt = await publishOne(d.run, key, n, due + RETRY_S * 1000);
    if (sentAt === undefined) abandoned += 1;
    else accepted.add(n);
  }
  m.published.add(accepted.size);
  m.abandoned.add(abandoned);
  if (abandoned > 0) console.warn(`publisher ${__VU}: ${abandoned} message(s) still failed after ${RETRY_S}s of retries`);

  // Wait until every accepted number is in the delivery log (or the drain timeout).
  const drainEnd = Date.now() + DRAIN_S * 1000;
  const fetchLog = deliveryLog(key);
  let log = await fetchLog();
  const got = new Set<number>();
  for (;;) {
    for (const x of log) got.add(x.n);
    let missing = 0;
    for (const n of accepted) if (!got.has(n)) missing += 1;
    if (missing === 0 || Date.now() >= drainEnd) break;
    await sleep(1);
    log = await fetchLog();
  }

  const firstSeen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let highest = 0;
  for (const x of log) {
    if (!accepted.has(x.n)) continue; // a publish that was never acknowledged (its retry was)
    if (firstSeen.has(x.n)) {
      duplicates += 1;
      m.duplicateRate.add(true);
      continue;
    }
    firstSeen.add(x.n);
    m.duplicateRate.add(false);
    if (x.n < highest) outOfOrder += 1;
    highest = Math.max(highest, x.n);
    if (x.sentAt !== undefined) m.latency.add(Math.max(0, x.deliveredAt - x.sentAt));
  }
  const lost = [...accepted].filter((n) => !firstSeen.has(n));
  m.delivered.add(firstSeen.size);
  m.lost.add(lost.length);
  m.duplicated.add(duplicates);
  m.outOfOrder.add(outOfOrder);
  check(lost, { 'every accepted message delivered': (l) => l.length === 0 });
  if (lost.length > 0) {
    console.warn(
      `publisher ${__VU}: ${lost.length} of ${accepted.size} accepted messages never reached a consumer (numbers ${lost.slice(0, 10).join(', ')}${lost.length > 10 ? ', …' : ''})`,
    );
  }
}

/**
 * Fault start → first delivery of a message published once the fault was in effect (a message published
 * while a broker is still stopping would say nothing about recovery). Besides the publishers' traffic, a
 * probe message (key `<run>:probe`) goes out every 2 s, so a fault that lands after the publishers are done
 * (late on a slow machine) is still measured.
 */
async function firstDeliveryAfter(run: string, f: AppliedFault): Promise<Recovery> {
  const deadline = f.at + RECOVERY_S * 1000;
  let nextProbe = 0;
  while (Date.now() < deadline) {
    if (Date.now() >= nextProbe) {
      nextProbe = Date.now() + 2000;
      await postJson(
        `${baseUrl}/api/bus/${TOPIC}`,
        { key: `${run}:probe`, payload: { run, probe: f.id, sentAt: Date.now() } },
        { endpoint: 'bus_probe', name: '/api/bus/:topic' },
        { timeout: '15s' },
      );
    }
    const r = await get(`${baseUrl}/api/bus/deliveries?topic=${encodeURIComponent(TOPIC)}&publishedAfter=${f.appliedAt}&limit=1`, {
      endpoint: 'bus_deliveries',
      name: '/api/bus/deliveries',
    });
    const first = ok(r) ? arrField(json(r), 'items')[0] : undefined;
    const at = numField(first, 'deliveredAt');
    if (at !== undefined) return { recovered: true, ms: at - f.at };
    await sleep(0.25);
  }
  return { recovered: false, ms: Date.now() - f.at };
}

export async function faults(d: Data): Promise<void> {
  if (FAULTS_URL === undefined) return;
  await runFaultPlan(FAULTS_URL, timeline.plan, d.startedAt, (f) => firstDeliveryAfter(d.run, f), fm);
}
