/**
 * slack-to-response — a signed Slack event goes in, the bot's reply comes out: end-to-end latency.
 *
 * Proves: the time from sending a Slack Events API `app_mention` (signed with the v0 HMAC scheme) to the bot's
 * `chat.postMessage` reply, P95 per complexity (`slack_e2e_latency{complexity:simple|complex}`; design:
 * simple < 3 s, complex < 10 s); events without a reply before REPLY_TIMEOUT (`slack_reply_missing`);
 * events the bot refused (`slack_event_accepted`); and, from the sink at the end, replies that matched no
 * event, came late or twice (`slack_replies_unmatched`, `slack_replies_late`, `slack_replies_duplicate`).
 *
 * Needs from the system: a Slack Events endpoint (default `POST /slack/events`) that verifies the v0
 * signature and replies through the Slack Web API at a base URL you can point at the agentload Slack sink
 * (the bundled platform: `SLACK_API_URL`). The reply is matched by correlation id: message metadata
 * `event_payload.correlation_id`, a `correlation_id=<id>` token in the text, or `thread_ts` = the event's ts.
 * The sink (`node --import tsx src/slack-sink/main.ts`, started by `npm run k6` for this scenario) receives
 * the replies; its clock times them, from registration just before the event is sent.
 *
 * Variables:
 *   BASE_URL               the bot/platform
 *   SLACK_SINK_URL         the agentload Slack sink (set by `npm run k6`)
 *   SLACK_SIGNING_SECRET   the bot's signing secret (required; never inlined in the bundle)
 *   SLACK_EVENTS_PATH      default /slack/events
 *   SIZE                   smoke (default: 2 events/s for 15 s) | full (10 events/s for 5 min)
 *   RATE, DURATION         events per second and for how long
 *   COMPLEX_SHARE          share of complex requests, default 0.2
 *   REPLY_TIMEOUT          seconds to wait for a reply, default 15 (smoke) / 30 (full)
 *   SLACK_CHANNEL, SLACK_BOT_USER, SLACK_USER   ids put in the events
 *   PROFILE                mvp (default) | production
 */
import { check } from 'k6';
import exec from 'k6/execution';
import { bySize, duration, httpUrl, int, num, required, size, str, target } from '../lib/config.ts';
import { correlationId, slackTs } from '../lib/correlation.ts';
import { slackRequestText, seedFactories } from '../lib/factories.ts';
import { get, json, ok, postJson, request } from '../lib/http.ts';
import { boolField, numField } from '../lib/json.ts';
import { slackMetrics } from '../lib/metrics.ts';
import { arrival, type ScriptOptions } from '../lib/scenario.ts';
import { appMention, signedHeaders } from '../lib/slack.ts';
import { selectProfile, slackThresholds } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const SINK = httpUrl(
  env,
  'SLACK_SINK_URL',
  required(
    env,
    'SLACK_SINK_URL',
    'start the sink (`node --import tsx src/slack-sink/main.ts`) or run through `npm run k6`, which starts it',
  ),
);
const SECRET_HINT = "set it to the bot's signing secret (for the bundled platform, its SLACK_SIGNING_SECRET)";
const EVENTS_PATH = str(env, 'SLACK_EVENTS_PATH', '/slack/events');
const RATE = num(env, 'RATE', bySize(sz, { smoke: 2, full: 10 }), { min: 0.1 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '15s', full: '5m' }));
const COMPLEX_SHARE = num(env, 'COMPLEX_SHARE', 0.2, { min: 0, max: 1 });
const REPLY_TIMEOUT_S = int(env, 'REPLY_TIMEOUT', bySize(sz, { smoke: 15, full: 30 }), { min: 1, max: 120 });
const CHANNEL = str(env, 'SLACK_CHANNEL', 'C0AGENTLOAD');
const BOT = str(env, 'SLACK_BOT_USER', 'U0AGENTBOT');
const USER = str(env, 'SLACK_USER', 'U0LOADTEST');
// Read in init so a missing secret fails before any traffic; it stays in memory only.
required(env, 'SLACK_SIGNING_SECRET', SECRET_HINT);

/** VUs needed: every iteration waits up to the reply timeout. */
const vus = Math.ceil(RATE * (REPLY_TIMEOUT_S + 2)) + 2;

export const options: ScriptOptions = {
  scenarios: {
    events: arrival({
      exec: 'event',
      rate: RATE,
      duration: DURATION,
      preAllocatedVUs: Math.min(vus, 50),
      maxVUs: vus,
      gracefulStop: secs(REPLY_TIMEOUT_S + 5),
    }),
  },
  thresholds: slackThresholds(selectProfile(env)),
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '30s',
  teardownTimeout: '30s',
};

function secs(n: number): string {
  return `${n}s`;
}

const m = slackMetrics();
seedFactories(__VU);

export async function event(): Promise<void> {
  const secret = required(env, 'SLACK_SIGNING_SECRET', SECRET_HINT);
  const vu = exec.vu.idInTest;
  const iter = exec.scenario.iterationInTest;
  const complexity = Math.random() < COMPLEX_SHARE ? 'complex' : 'simple';
  const id = correlationId('corr', vu, iter);
  const ts = slackTs(Date.now(), vu, iter);
  const expect = await postJson(
    `${SINK}/expect`,
    { correlationId: id, keys: [ts], lateAfterMs: REPLY_TIMEOUT_S * 1000 },
    { endpoint: 'sink_expect', name: '/expect' },
  );
  if (!ok(expect)) {
    console.error(`slack sink at ${SINK} refused /expect (${expect.status}): is SLACK_SINK_URL right?`);
    return;
  }
  const body = JSON.stringify(
    appMention({
      correlationId: id,
      text: slackRequestText(complexity),
      channel: CHANNEL,
      user: USER,
      botUserId: BOT,
      ts,
      eventTimeSec: Math.floor(Date.now() / 1000),
    }),
  );
  const sent = await request(
    'POST',
    `${baseUrl}${EVENTS_PATH}`,
    body,
    { endpoint: 'slack_events', name: EVENTS_PATH, complexity },
    { headers: signedHeaders(secret, body) },
  );
  const accepted = check(sent, { 'slack event accepted (2xx)': ok });
  m.accepted.add(accepted, { complexity });
  if (!accepted) return;
  const match = await get(
    `${SINK}/matches/${encodeURIComponent(id)}?timeoutMs=${REPLY_TIMEOUT_S * 1000}`,
    { endpoint: 'sink_match', name: '/matches/:id' },
    { timeout: secs(REPLY_TIMEOUT_S + 10) },
  );
  const mj = json(match);
  const latency = numField(mj, 'latencyMs');
  if (boolField(mj, 'matched') === true && latency !== undefined) {
    m.latency.add(latency, { complexity });
    m.missing.add(false, { complexity });
  } else {
    m.missing.add(true, { complexity });
  }
}

export async function teardown(): Promise<void> {
  const s = json(await get(`${SINK}/stats`, { endpoint: 'sink_stats', name: '/stats' }));
  m.matched.add(numField(s, 'matched') ?? 0);
  m.unmatched.add(numField(s, 'unmatched') ?? 0);
  m.late.add(numField(s, 'late') ?? 0);
  m.duplicate.add(numField(s, 'duplicates') ?? 0);
}
