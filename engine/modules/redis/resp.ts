/**
 * Redis values as xk6-redis hands them to scripts: command arguments (strings, numbers, booleans), reply
 * shapes (go-redis's `redis: nil` for a missing key), and the RESP bytes a command and its reply take.
 */
import { ModuleUsageError } from '../k6.ts';

/** A decoded RESP2 reply. */
export type Reply = string | number | null | Reply[] | Buffer;

/** Bytes of a command in RESP (what goes on the wire). */
export function respRequestBytes(args: readonly string[]): number {
  let n = `*${args.length}\r\n`.length;
  for (const a of args) {
    const len = Buffer.byteLength(a);
    n += `$${len}\r\n`.length + len + 2;
  }
  return n;
}

/** Bytes of a reply in RESP2, as near as the decoded value tells (simple and bulk strings are not told apart). */
export function respReplyBytes(r: Reply): number {
  if (r === null) return 5; // $-1\r\n
  if (typeof r === 'number') return `:${r}\r\n`.length;
  if (Array.isArray(r)) return r.reduce<number>((s, x) => s + respReplyBytes(x), `*${r.length}\r\n`.length);
  const len = Buffer.byteLength(r);
  return `$${len}\r\n`.length + len + 2;
}

/** go-redis's Nil error: what a command on a missing key rejects with. */
class RedisNil extends Error {
  constructor() {
    super('redis: nil');
    this.name = 'Error';
  }
}

/** One command argument on the wire; `index` names it in the error. */
export function arg(v: unknown, index: number): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  throw new ModuleUsageError(
    'redis-bad-type',
    `unsupported type provided for argument at index ${index}, supported types are string, number, and boolean`,
  );
}

export const asString = (r: Reply): string => (Buffer.isBuffer(r) ? r.toString('utf8') : String(r));
export const asNumber = (r: Reply): number => (typeof r === 'number' ? r : Number(asString(r)));
export const asBool = (r: Reply): boolean => asNumber(r) === 1;
export const asStrings = (r: Reply): string[] => (Array.isArray(r) ? r.map(asString) : []);
/** A string reply; nil rejects. */
export function nonNil(r: Reply): string {
  if (r === null) throw new RedisNil();
  return asString(r);
}
/** `sendCommand`'s reply as plain values (nested arrays keep their nils; a nil reply rejects). */
export function plain(r: Reply): unknown {
  if (r === null) throw new RedisNil();
  if (Array.isArray(r)) return r.map((x) => (x === null ? null : plain(x)));
  return typeof r === 'number' ? r : asString(r);
}
