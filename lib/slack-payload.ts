/**
 * Slack Events API payloads and the v0 signing scheme, without k6 imports (so Node tests use them too).
 * Signature: `v0=` + hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body)).
 */

export interface SlackEventInput {
  readonly correlationId: string;
  readonly text: string;
  readonly channel: string;
  readonly user: string;
  /** Bot user id mentioned at the start of the text. */
  readonly botUserId: string;
  /** Message timestamp ("seconds.micro"), also the thread the bot replies in. */
  readonly ts: string;
  readonly eventTimeSec: number;
  readonly teamId?: string;
  readonly appId?: string;
}

export interface SlackEventCallback {
  readonly token: string;
  readonly team_id: string;
  readonly api_app_id: string;
  readonly type: 'event_callback';
  readonly event_id: string;
  readonly event_time: number;
  readonly event: {
    readonly type: 'app_mention';
    readonly user: string;
    readonly text: string;
    readonly channel: string;
    readonly ts: string;
    readonly event_ts: string;
    readonly client_msg_id: string;
  };
}

/** An `app_mention` event callback. The correlation id travels as `client_msg_id` and in the text. */
export function appMention(i: SlackEventInput): SlackEventCallback {
  return {
    token: 'agentload-verification-token',
    team_id: i.teamId ?? 'T0AGENTLOAD',
    api_app_id: i.appId ?? 'A0AGENTLOAD',
    type: 'event_callback',
    event_id: `Ev${i.correlationId.replace(/[^A-Za-z0-9]/g, '').toUpperCase()}`,
    event_time: i.eventTimeSec,
    event: {
      type: 'app_mention',
      user: i.user,
      text: `<@${i.botUserId}> ${i.text} [correlation_id=${i.correlationId}]`,
      channel: i.channel,
      ts: i.ts,
      event_ts: i.ts,
      client_msg_id: i.correlationId,
    },
  };
}

/** The string Slack signs: `v0:<timestamp>:<raw body>`. */
export function signatureBase(timestampSec: number | string, rawBody: string): string {
  return `v0:${String(timestampSec)}:${rawBody}`;
}

/** HMAC-SHA256 as lowercase hex: `k6/crypto` in scripts, `node:crypto` in tests. */
export type HmacSha256Hex = (secret: string, data: string) => string;

export function signatureWith(hmac: HmacSha256Hex, secret: string, timestampSec: number | string, rawBody: string): string {
  if (secret === '') throw new Error('the Slack signing secret is empty: set SLACK_SIGNING_SECRET');
  return `v0=${hmac(secret, signatureBase(timestampSec, rawBody))}`;
}

/** Request headers of a signed Slack event delivery. */
export function signedHeadersWith(hmac: HmacSha256Hex, secret: string, timestampSec: number, rawBody: string): Record<string, string> {
  const ts = String(Math.floor(timestampSec));
  return {
    'Content-Type': 'application/json',
    'X-Slack-Request-Timestamp': ts,
    'X-Slack-Signature': signatureWith(hmac, secret, ts, rawBody),
  };
}
