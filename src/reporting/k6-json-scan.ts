/**
 * The byte-level scanner of k6 `--out json` lines (src/reporting/ingest.ts aggregates what it reads).
 * k6 writes each sample as {"metric":"NAME","type":"Point","data":{"time":"T","value":V,"tags":{...}}}:
 * these functions check that fixed layout on raw bytes and read the name, time fraction, value and tags
 * without making strings. Each returns where it stopped (or -1 / NaN / false when the bytes are not in
 * that layout, so the caller falls back to a slower path); hashes and ends go through the reused `scan`.
 * Reads stop at the line's own newline (`lim` is a newline): a read past a typed array's end would
 * deoptimise the caller.
 */

/** FNV-1a offset basis and prime (32-bit), as Math.imul steps. */
export const FNV_BASIS = 2166136261;
const FNV_PRIME = 16777619;

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
export const B_METRIC = Buffer.from('{"metric":"', 'latin1');
export const B_HEAD = Buffer.from(',"type":"Point","data":{"time":"', 'latin1');
export const B_VALUE = Buffer.from(',"value":', 'latin1');
export const B_TAGS = Buffer.from(',"tags":', 'latin1');
export const B_HEAD_LEN = B_HEAD.length;
export const B_VALUE_LEN = B_VALUE.length;
export const B_TAGS_LEN = B_TAGS.length;
/** 0.1, 0.1/10, 0.1/10/10, ...: exactly the scales the time-fraction loops reach by dividing. */
export const FRAC_SCALES = (() => {
  const t = new Float64Array(24);
  let scale = 0.1;
  for (let d = 0; d < t.length; d++) {
    t[d] = scale;
    scale /= 10;
  }
  return t;
})();
/** B_HEAD as little-endian 32-bit words (its length is a multiple of 4), compared 4 bytes at a time. */
export const HEAD32 = Array.from({ length: B_HEAD_LEN >> 2 }, (_, k) => B_HEAD.readInt32LE(k * 4));
if (B_HEAD_LEN % 4 !== 0) throw new Error('B_HEAD length must be a multiple of 4');

/** Node's Buffer#latin1Slice (a byte-for-byte copy into a one-byte string), not in @types/node. */
interface Latin1Buffer {
  latin1Slice(start: number, end: number): string;
}
export function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}

/** Where the last scan stopped, and the FNV-1a hash it computed (reused: no allocation per line). */
export const scan = { end: 0, hash: 0 };

/**
 * A JSON number at `start` in its plain form (`-12.345`, up to 15 significant digits, no exponent)
 * followed by `,`: mantissa / 10^k, which is exactly the correctly rounded double (both operands
 * exact, one rounding), i.e. what Number() gives. NaN for any other form; `scan.end` is where the
 * digits stopped.
 */
export function plainDecimal(buf: Buffer, start: number, out: { end: number }): number {
  let i = start;
  const neg = buf[i] === 45;
  if (neg) i++;
  let mant = 0;
  let digits = 0;
  let k = 0;
  for (;;) {
    const c = buf[i] ?? 0;
    if (c < 48 || c > 57) break;
    mant = mant * 10 + (c - 48);
    digits++;
    i++;
  }
  if (buf[i] === 46) {
    i++;
    for (;;) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) break;
      mant = mant * 10 + (c - 48);
      digits++;
      k++;
      i++;
    }
  }
  out.end = i;
  if (buf[i] !== 44 || digits === 0 || digits > 15) return Number.NaN;
  const q = mant / (POW10[k] ?? 1);
  return neg ? -q : q;
}

export function bytesAt(buf: Buffer, at: number, want: Uint8Array): boolean {
  const n = want.length;
  if (at + n > buf.length) return false;
  for (let k = 0; k < n; k++) if (buf[at + k] !== want[k]) return false;
  return true;
}

export function latin1(b: Buffer, start: number, end: number): string {
  return (b as unknown as Latin1Buffer).latin1Slice(start, end);
}

/** Lines are read as latin1 (one char per byte); this turns such a string back into proper UTF-8 text. */
export function utf8(latin1: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

/** The metric name at `i` (up to its closing quote): its end, its FNV-1a hash in `scan.hash`; -1 at an escape or newline. */
export function nameEndAt(buf: Buffer, i: number): number {
  let h = FNV_BASIS;
  for (;;) {
    const c = buf[i] ?? 10;
    if (c === 34) break;
    if (c === 92 || c === 10) return -1;
    h = Math.imul(h ^ c, FNV_PRIME);
    i++;
  }
  scan.hash = h;
  return i;
}

/** Whether `name` (the bytes of a metric name) followed by its closing quote is at `i`, before `lim`. */
export function nameIsAt(buf: Buffer, i: number, lim: number, name: Uint8Array): boolean {
  const n = name.length;
  if (i + n >= lim || buf[i + n] !== 34) return false;
  for (let k = 0; k < n; k++) if (buf[i + k] !== name[k]) return false;
  return true;
}

/** Whether B_HEAD is at `i` (4 bytes at a time through `dv`, a view on the buffer); the caller checked it fits before lim. */
export function headAt(dv: DataView, i: number): boolean {
  for (let k = 0; k < HEAD32.length; k++) if (dv.getInt32(i + 4 * k, true) !== HEAD32[k]) return false;
  return true;
}

/** Whether the 19 bytes at `i` are `prefix` (a time's "YYYY-MM-DDTHH:MM:SS"; `pv` a view on it). */
export function secondAt(buf: Buffer, dv: DataView, i: number, prefix: Buffer, pv: DataView): boolean {
  return (
    dv.getInt32(i, true) === pv.getInt32(0, true) &&
    dv.getInt32(i + 4, true) === pv.getInt32(4, true) &&
    dv.getInt32(i + 8, true) === pv.getInt32(8, true) &&
    dv.getInt32(i + 12, true) === pv.getInt32(12, true) &&
    buf[i + 16] === prefix[16] &&
    buf[i + 17] === prefix[17] &&
    buf[i + 18] === prefix[18]
  );
}

/**
 * A time's fraction of a second at `i` (".169230497", or nothing): the same sum as the string path (digit × 0.1,
 * × 0.1/10, ...), the scales from a table; `scan.end` is where it stopped. NaN past FRAC_SCALES digits.
 */
export function fractionAt(buf: Buffer, i: number): number {
  let frac = 0;
  if (buf[i] === 46) {
    i++;
    for (let d = 0; ; d++) {
      const c = buf[i] ?? 0;
      if (c < 48 || c > 57) break;
      if (d >= FRAC_SCALES.length) return Number.NaN;
      frac += (c - 48) * (FRAC_SCALES[d] ?? 0);
      i++;
    }
  }
  scan.end = i;
  return frac;
}

/** The JSON number at `i` ending at the next `,`: plainDecimal, else Number() on its text; `scan.end` after it; NaN when not a number. */
export function valueAt(buf: Buffer, i: number): number {
  const value = plainDecimal(buf, i, scan);
  if (!Number.isNaN(value)) return value;
  let e = scan.end;
  while (buf[e] !== 44 && buf[e] !== 10) e++;
  scan.end = e;
  return e === i ? Number.NaN : Number(latin1(buf, i, e));
}

/** Whether the `len` bytes at `at` are `prev` (`pv` a view on it) and the line ends right after them with `}}\n` before lim. */
export function sameTagsAt(buf: Buffer, dv: DataView, at: number, lim: number, prev: Uint8Array, pv: DataView, len: number): boolean {
  if (at + len + 2 > lim || buf[at + len] !== 125 || buf[at + len + 1] !== 125 || buf[at + len + 2] !== 10) return false;
  let k = 0;
  for (; k + 4 <= len; k += 4) if (dv.getInt32(at + k, true) !== pv.getInt32(k, true)) return false;
  for (; k < len; k++) if (buf[at + k] !== prev[k]) return false;
  return true;
}

/**
 * The end of the tags at `at` (an object up to its first "}", or `null`) when the line ends right after them
 * with `}}\n`; `scan.hash` is a hash of the tag bytes and their length. -1 otherwise: a "}" inside a tag value,
 * or a "metadata" object after the tags, fails the check and goes to the other paths (k6 tag values are strings).
 */
export function tagsEndAt(buf: Buffer, at: number): number {
  let j = at;
  let h = FNV_BASIS;
  for (;;) {
    const c = buf[j] ?? 10;
    if (c === 125) break;
    if (c === 10) return -1;
    h = Math.imul(h ^ c, FNV_PRIME);
    j++;
  }
  j++; // past the "}" that closes the tags (or the "null}" form's first "}")
  if (buf[at] === 110 /* n */) j--; // tags:null → `null` then `}}\n`
  if (buf[j] !== 125 || buf[j + 1] !== 125 || buf[j + 2] !== 10) return -1;
  scan.hash = (Math.imul(h, FNV_PRIME) ^ (j - at)) >>> 0;
  return j;
}
