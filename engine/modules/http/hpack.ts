/**
 * HPACK (RFC 7541), the header compression of HTTP/2, for h2.ts. Decoding is complete and strict: the
 * static table, the dynamic table with its size updates and evictions, Huffman-coded and plain string
 * literals, every representation; a malformed block throws `HpackError` (the session's COMPRESSION_ERROR).
 * Encoding is the simple valid subset a client needs: a header the static table has whole is indexed, any
 * other is a literal without indexing (the static table's name index when it has the name), never Huffman,
 * so one request's block never depends on the ones before it (and a VU repeating a request reuses it).
 */

/** RFC 7541 Appendix A: the static table, index 1 first. */
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/**
 * RFC 7541 Appendix B: the Huffman code's length in bits for each symbol (0–255, then EOS as 256). The code is
 * canonical (codes of one length are consecutive, in symbol order, after those of shorter lengths), so the
 * lengths determine every code; `HUFFMAN_CODES` are derived from them.
 */
// prettier-ignore
const HUFFMAN_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

/** The canonical code of each symbol (right-aligned in `HUFFMAN_LENGTHS[s]` bits). */
export const HUFFMAN_CODES: readonly number[] = (() => {
  const order = HUFFMAN_LENGTHS.map((_, s) => s).sort((a, b) => (HUFFMAN_LENGTHS[a] ?? 0) - (HUFFMAN_LENGTHS[b] ?? 0) || a - b);
  const codes = new Array<number>(order.length).fill(0);
  let code = 0;
  let prev = 0;
  order.forEach((s, k) => {
    const len = HUFFMAN_LENGTHS[s] ?? 0;
    if (k > 0) code = (code + 1) * 2 ** (len - prev);
    prev = len;
    codes[s] = code;
  });
  return codes;
})();

export class HpackError extends Error {
  override readonly name = 'HpackError';
  readonly code = 'ERR_HTTP2_COMPRESSION';
}

/**
 * The Huffman decoder as a state machine that reads four bits at a time: a state is an inner node of the code
 * tree; `HUFFMAN_FSM[state * 16 + nibble]` = next state << 10 | EMIT << 8 | symbol, or FAIL << 8 (EOS, which a
 * string must not contain). No code is shorter than 5 bits, so a nibble completes at most one symbol.
 * `HUFFMAN_ACCEPT[state]`: a string may end here (at a symbol's end, or inside at most 7 bits of padding that are
 * the EOS code's leading ones).
 */
const EMIT = 1;
const FAIL = 2;
const { fsm: HUFFMAN_FSM, accept: HUFFMAN_ACCEPT } = (() => {
  const zero: number[] = [-1];
  const one: number[] = [-1];
  const symbol: number[] = [-1];
  const depth: number[] = [0];
  const allOnes: boolean[] = [true];
  for (let s = 0; s < HUFFMAN_LENGTHS.length; s++) {
    const len = HUFFMAN_LENGTHS[s] ?? 0;
    const code = HUFFMAN_CODES[s] ?? 0;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) % 2;
      const next = bit === 1 ? one : zero;
      if ((next[node] ?? -1) === -1) {
        next[node] = zero.length;
        zero.push(-1);
        one.push(-1);
        symbol.push(-1);
        depth.push((depth[node] ?? 0) + 1);
        allOnes.push((allOnes[node] ?? false) && bit === 1);
      }
      node = next[node] ?? 0;
    }
    symbol[node] = s;
  }
  const stateOf = new Int32Array(zero.length).fill(-1);
  const inner: number[] = [];
  for (let n = 0; n < zero.length; n++)
    if (symbol[n] === -1) {
      stateOf[n] = inner.length;
      inner.push(n);
    }
  const fsm = new Int32Array(inner.length * 16);
  const accept = new Uint8Array(inner.length);
  inner.forEach((n, state) => {
    accept[state] = n === 0 || ((depth[n] ?? 99) <= 7 && allOnes[n] === true) ? 1 : 0;
    for (let v = 0; v < 16; v++) {
      let m = n;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        m = ((v >> i) & 1) === 1 ? (one[m] ?? -1) : (zero[m] ?? -1);
        const sym = symbol[m] ?? -1;
        if (m === -1 || sym === 256) {
          entry = FAIL << 8;
          break;
        }
        if (sym !== -1) {
          entry = (EMIT << 8) | sym;
          m = 0;
        }
      }
      fsm[state * 16 + v] = entry >> 8 === FAIL ? entry : ((stateOf[m] ?? 0) << 10) | entry;
    }
  });
  return { fsm, accept };
})();

let huffmanScratch = Buffer.allocUnsafe(4096);

/** The Huffman-coded string in `buf[start, end)`, as latin1 (a character per octet). */
export function huffmanDecode(buf: Buffer, start: number, end: number): string {
  // A symbol takes at least 5 bits: at most 8/5 octets out per octet in.
  if ((end - start) * 2 > huffmanScratch.length) huffmanScratch = Buffer.allocUnsafe((end - start) * 2);
  const out = huffmanScratch;
  let state = 0;
  let o = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i] ?? 0;
    let e = HUFFMAN_FSM[state * 16 + (b >> 4)] ?? 0;
    if (e >> 8 === FAIL) throw new HpackError('HPACK: EOS or an invalid code in a Huffman string');
    if ((e & 0x100) !== 0) out[o++] = e & 0xff;
    state = e >> 10;
    e = HUFFMAN_FSM[state * 16 + (b & 15)] ?? 0;
    if (e >> 8 === FAIL) throw new HpackError('HPACK: EOS or an invalid code in a Huffman string');
    if ((e & 0x100) !== 0) out[o++] = e & 0xff;
    state = e >> 10;
  }
  if (HUFFMAN_ACCEPT[state] !== 1) throw new HpackError('HPACK: a Huffman string ends in padding that is not 1 to 7 one-bits');
  return out.toString('latin1', 0, o);
}

/** `s` (latin1) Huffman-coded (for tests and callers that want the shorter form). */
export function huffmanEncode(s: string): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[c] ?? 0;
    const code = HUFFMAN_CODES[c] ?? 0;
    for (let k = len - 1; k >= 0; k--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** k) % 2);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | (0xff >> bits)) & 0xff);
  return Buffer.from(out);
}

/** An integer with an N-bit prefix too large for any table or string here: a hostile or broken encoder. */
const MAX_INT = 2 ** 31 - 1;

/** Decodes header blocks of one connection (its dynamic table lives across blocks). */
export class HpackDecoder {
  /** Dynamic table entries, oldest first from `#head` (index 62 is the newest, at the end). */
  #names: string[] = [];
  #values: string[] = [];
  #head = 0;
  #size = 0;
  /** The table's size now (the encoder's last size update), at most `#limit`. */
  #max: number;
  /** Where the block being decoded is. */
  #pos = 0;
  /** The largest table size the encoder may choose: our SETTINGS_HEADER_TABLE_SIZE. */
  constructor(readonly limit = 4096) {
    this.#max = limit;
  }

  /** Octets in the dynamic table (RFC 7541 4.1: 32 more per entry), and its entry count. */
  get size(): number {
    return this.#size;
  }
  get entries(): number {
    return this.#names.length - this.#head;
  }
  get maxSize(): number {
    return this.#max;
  }

  /**
   * The header list in `buf[start, end)` as alternating names and values (latin1), appended to `out`. Returns
   * the list's size as HTTP/2 counts it (32 more per header) for SETTINGS_MAX_HEADER_LIST_SIZE.
   */
  decode(buf: Buffer, start: number, end: number, out: string[]): number {
    this.#pos = start;
    let listSize = 0;
    let headersSeen = false;
    while (this.#pos < end) {
      const b = buf[this.#pos] ?? 0;
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // Indexed header field (6.1).
        const i = this.#int(buf, end, 7);
        name = this.#name(i);
        value = i <= STATIC.length ? (STATIC[i - 1]?.[1] ?? '') : (this.#values[this.#dynamic(i)] ?? '');
      } else if (b >= 0x20 && b < 0x40) {
        // Dynamic table size update (6.3): only before the first header of a block.
        if (headersSeen) throw new HpackError('HPACK: a dynamic table size update after a header field');
        const size = this.#int(buf, end, 5);
        if (size > this.limit)
          throw new HpackError(`HPACK: a dynamic table size update to ${String(size)}, above the ${String(this.limit)} allowed`);
        this.#max = size;
        this.#evict(0);
        continue;
      } else {
        // Literal with incremental indexing (6.2.1, 01xxxxxx), without indexing (0000xxxx) or never indexed (0001xxxx).
        const incremental = b >= 0x40;
        const i = this.#int(buf, end, incremental ? 6 : 4);
        name = i === 0 ? this.#string(buf, end) : this.#name(i);
        value = this.#string(buf, end);
        if (incremental) this.#add(name, value);
      }
      headersSeen = true;
      listSize += 32 + name.length + value.length;
      out.push(name, value);
    }
    return listSize;
  }

  #name(i: number): string {
    if (i === 0) throw new HpackError('HPACK: index 0');
    if (i <= STATIC.length) return STATIC[i - 1]?.[0] ?? '';
    return this.#names[this.#dynamic(i)] ?? '';
  }

  /** The position in #names of index `i` (above the static table). */
  #dynamic(i: number): number {
    const back = i - STATIC.length; // 1: the newest
    if (back > this.#names.length - this.#head)
      throw new HpackError(`HPACK: index ${String(i)} beyond the table (${String(STATIC.length + this.entries)})`);
    return this.#names.length - back;
  }

  #add(name: string, value: string): void {
    const size = 32 + name.length + value.length;
    this.#evict(size);
    // An entry larger than the table empties it and is not added (4.4).
    if (size > this.#max) return;
    this.#names.push(name);
    this.#values.push(value);
    this.#size += size;
  }

  /** Evicts the oldest entries until `room` more octets fit in the table's size. */
  #evict(room: number): void {
    while (this.#size + room > this.#max && this.#head < this.#names.length) {
      this.#size -= 32 + (this.#names[this.#head] ?? '').length + (this.#values[this.#head] ?? '').length;
      this.#head++;
    }
    // Compacted now and then, not on each eviction.
    if (this.#head > 32 && this.#head * 2 > this.#names.length) {
      this.#names = this.#names.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
  }

  /** An integer with a `bits`-bit prefix (5.1) at #pos. */
  #int(buf: Buffer, end: number, bits: number): number {
    const mask = (1 << bits) - 1;
    let v = (buf[this.#pos++] ?? 0) & mask;
    if (v < mask) return v;
    let shift = 0;
    for (;;) {
      if (this.#pos >= end) throw new HpackError('HPACK: the block ends inside an integer');
      const b = buf[this.#pos++] ?? 0;
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (v > MAX_INT) throw new HpackError('HPACK: an integer too large');
      if (b < 0x80) return v;
    }
  }

  /** A string literal (5.2) at #pos, Huffman-coded or not. */
  #string(buf: Buffer, end: number): string {
    if (this.#pos >= end) throw new HpackError('HPACK: the block ends before a string');
    const huffman = (buf[this.#pos] ?? 0) >= 0x80;
    const len = this.#int(buf, end, 7);
    const from = this.#pos;
    if (end - from < len) throw new HpackError(`HPACK: a string of ${String(len)} octets overruns the block`);
    this.#pos = from + len;
    return huffman ? huffmanDecode(buf, from, from + len) : buf.toString('latin1', from, from + len);
  }
}

/** Static table index of a whole header (name + NUL + value), and of a name alone (the first with it). */
const STATIC_WHOLE = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
STATIC.forEach(([name, value], i) => {
  if (value !== '') STATIC_WHOLE.set(`${name}\0${value}`, i + 1);
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i + 1);
});

/** Appends an integer with a `bits`-bit prefix (first octet's high bits: `flags`). */
function pushInt(out: number[], flags: number, bits: number, v: number): void {
  const mask = (1 << bits) - 1;
  if (v < mask) {
    out.push(flags | v);
    return;
  }
  out.push(flags | mask);
  v -= mask;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function pushString(out: number[], s: string): void {
  pushInt(out, 0, 7, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/**
 * A header block for `headers` (alternating lower-case names and latin1 values): indexed when the static table
 * has the header whole, else a literal without indexing. Needs no state: no dynamic table is used.
 */
export function encodeHeaders(headers: readonly string[]): Buffer {
  const out: number[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] ?? '';
    const value = headers[i + 1] ?? '';
    const whole = STATIC_WHOLE.get(`${name}\0${value}`);
    if (whole !== undefined) {
      pushInt(out, 0x80, 7, whole);
      continue;
    }
    const index = STATIC_NAME.get(name);
    if (index !== undefined) pushInt(out, 0, 4, index);
    else {
      out.push(0);
      pushString(out, name);
    }
    pushString(out, value);
  }
  return Buffer.from(out);
}
