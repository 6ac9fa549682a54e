/** Slack signing with `k6/crypto` (the in-script side of lib/slack-payload.ts). */
import crypto from 'k6/crypto';
import { signatureWith, signedHeadersWith, type HmacSha256Hex } from './slack-payload.ts';

export * from './slack-payload.ts';

export const k6Hmac: HmacSha256Hex = (secret, data) => crypto.hmac('sha256', secret, data, 'hex');

export function sign(secret: string, timestampSec: number | string, rawBody: string): string {
  return signatureWith(k6Hmac, secret, timestampSec, rawBody);
}

export function signedHeaders(secret: string, rawBody: string, nowMs: number = Date.now()): Record<string, string> {
  return signedHeadersWith(k6Hmac, secret, nowMs / 1000, rawBody);
}
