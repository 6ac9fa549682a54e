/**
 * The common HTTP/1.1 response read in one piece: status line, headers and a Content-Length body all in
 * one read. connection.ts tries it before http-parser-js when the parser is between messages, and hands
 * the read to the parser, untouched, whenever the response is anything else: so it only ever answers
 * what http-parser-js would have answered (test/engine/modules/http-whole-response.test.ts compares the
 * two over many responses, odd ones included).
 *
 * Why: under load nearly every response is a small one that arrives whole, and http-parser-js takes it
 * apart line by line with a RegExp match per line, a string per line and new parser state per message
 * (about 2 KB of garbage and two microseconds of CPU per response on the bench, docs/engine.md "Hot
 * path"). Here the bytes are scanned once; header names and values that repeat from response to
 * response (all of them but Date, most of the time) come from a small table instead of a new string each.
 *
 * What sends a response to the parser: a first byte other than `H`, a status line that is not
 * `HTTP/d.d ddd`, 1xx, 204 or 304, a header line that starts with white space (a continuation), has no
 * `:`, white space in its name or a byte that is not 7-bit ASCII (http-parser-js decodes as 'ascii',
 * which clears the high bit), a bare CR or LF, Transfer-Encoding, Upgrade, no Content-Length or a repeated
 * one, a Content-Length that is not a whole number, a read over the parser's 80 KB header limit, or a body
 * that has not all arrived.
 */

/** What the parser tells its kOnHeadersComplete, and where the body is. */
export interface WholeResponse {
  versionMajor: number;
  versionMinor: number;
  statusCode: number;
  statusMessage: string;
  /** Names and values, alternating, as received. */
  headers: string[];
  shouldKeepAlive: boolean;
  /** The body: `bodyLength` bytes from `bodyStart`. */
  bodyStart: number;
  bodyLength: number;
}

/** http-parser-js's default maxHeaderSize. */
const MAX_HEAD_BYTES = 80 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Strings up to this long are looked up in the table; longer ones are decoded each time. */
const INTERN_MAX_LENGTH = 64;
/** Strings kept per (length, first byte): the most recent first. */
const INTERN_PER_KEY = 8;
/** Buckets at most; the table starts over beyond it. */
const INTERN_MAX_KEYS = 512;
const interned = new Map<number, string[]>();

/** The 7-bit ASCII bytes `b[start..end)` as a string, the same string object as last time when it was seen lately. */
function ascii(b: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length === 0) return '';
  if (length > INTERN_MAX_LENGTH) return b.toString('latin1', start, end);
  const key = length * 256 + (b[start] ?? 0);
  const list = interned.get(key);
  if (list !== undefined) {
    next: for (let j = 0; j < list.length; j++) {
      const s = list[j] ?? '';
      for (let i = 1; i < length; i++) if (s.charCodeAt(i) !== b[start + i]) continue next;
      return s;
    }
  }
  const s = b.toString('latin1', start, end);
  if (list === undefined) {
    if (interned.size >= INTERN_MAX_KEYS) interned.clear();
    interned.set(key, [s]);
  } else {
    list.unshift(s);
    if (list.length > INTERN_PER_KEY) list.length = INTERN_PER_KEY;
  }
  return s;
}

const isDigit = (c: number | undefined): c is number => c !== undefined && c >= 0x30 && c <= 0x39;

/** Whether the header name at `b[p..]` is `lower` in any case (its length already matched; `lower` has letters and '-' only). */
function named(b: Buffer, p: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if (((b[p + i] ?? 0) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads the response in `b[0..end)` if it is whole and plain (see the file comment): fills `out` and returns
 * the bytes it took (the rest, if any, is the next message's), or 0 when http-parser-js must read it.
 */
export function readWholeResponse(b: Buffer, end: number, out: WholeResponse): number {
  // Status line: HTTP/d.d ddd[ ]message — http-parser-js's /^HTTP\/(\d)\.(\d) (\d{3}) ?(.*)$/.
  if (end < 16 || b[0] !== 0x48 || b[1] !== 0x54 || b[2] !== 0x54 || b[3] !== 0x50 || b[4] !== 0x2f) return 0;
  const major = b[5];
  const minor = b[7];
  const s0 = b[9];
  const s1 = b[10];
  const s2 = b[11];
  if (!isDigit(major) || b[6] !== 0x2e || !isDigit(minor) || b[8] !== SP || !isDigit(s0) || !isDigit(s1) || !isDigit(s2)) return 0;
  const status = (s0 - 0x30) * 100 + (s1 - 0x30) * 10 + (s2 - 0x30);
  // 1xx, 204 and 304 have no body (and 1xx a response after it): the parser's.
  if (status < 200 || status === 204 || status === 304) return 0;
  let p = b[12] === SP ? 13 : 12;
  const msgStart = p;
  const lineEnd = lineEndFrom(b, p, end);
  if (lineEnd < 0) return 0;
  const statusMessage = ascii(b, msgStart, lineEnd);
  p = lineEnd + 2;
  const headers: string[] = [];
  let contentLength = -1;
  let connection = '';
  for (;;) {
    if (p + 1 >= end) return 0;
    const c = b[p];
    if (c === CR) {
      if (b[p + 1] !== LF) return 0;
      p += 2;
      break;
    }
    // A continuation line, or an empty name.
    if (c === SP || c === HT || c === COLON) return 0;
    let colon = p;
    for (;;) {
      const x = b[colon];
      if (x === undefined || colon >= end) return 0;
      if (x === COLON) break;
      if (x === SP || x === HT || x === CR || x === LF || x >= 0x80) return 0;
      colon++;
    }
    let v = colon + 1;
    while (v < end && (b[v] === SP || b[v] === HT)) v++;
    const eol = lineEndFrom(b, v, end);
    if (eol < 0) return 0;
    let vEnd = eol;
    while (vEnd > v && (b[vEnd - 1] === SP || b[vEnd - 1] === HT)) vEnd--;
    const name = ascii(b, p, colon);
    const value = ascii(b, v, vEnd);
    headers.push(name, value);
    switch (colon - p) {
      case 14:
        if (named(b, p, 'content-length')) {
          if (contentLength !== -1) return 0;
          const n = +value;
          if (!Number.isSafeInteger(n) || n < 0) return 0;
          contentLength = n;
        }
        break;
      case 10:
        if (named(b, p, 'connection')) connection += value.toLowerCase();
        break;
      case 17:
        if (named(b, p, 'transfer-encoding')) return 0;
        break;
      case 7:
        if (named(b, p, 'upgrade')) return 0;
        break;
      default:
        break;
    }
    p = eol + 2;
  }
  // The parser counts a whole read against its header limit (execute() adds it after the message ended).
  if (contentLength < 0 || end > MAX_HEAD_BYTES || p + contentLength > end) return 0;
  const vMajor = major - 0x30;
  const vMinor = minor - 0x30;
  out.versionMajor = vMajor;
  out.versionMinor = vMinor;
  out.statusCode = status;
  out.statusMessage = statusMessage;
  out.headers = headers;
  // http-parser-js's shouldKeepAlive for a message with a known length.
  out.shouldKeepAlive = vMajor > 0 && vMinor > 0 ? !connection.includes('close') : connection.includes('keep-alive');
  out.bodyStart = p;
  out.bodyLength = contentLength;
  return p + contentLength;
}

/**
 * Where the line from `p` ends: the index of its CR (followed by LF), or -1 when the line is not all
 * there, holds a bare CR or LF, or a byte that is not 7-bit ASCII.
 */
function lineEndFrom(b: Buffer, p: number, end: number): number {
  for (let i = p; i < end; i++) {
    const x = b[i] ?? 0;
    if (x === CR) return b[i + 1] === LF && i + 1 < end ? i : -1;
    if (x === LF || x >= 0x80) return -1;
  }
  return -1;
}
