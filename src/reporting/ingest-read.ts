/**
 * Reads one k6 `--out json` file (plain or .gz, detected by magic bytes) in chunks and cuts it into
 * lines for a LineParser: the byte fast path first, then the byte path, then the string path.
 */

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { FileInfo } from './ingest-types.ts';
import { latin1, viewOf } from './k6-json-scan.ts';

/** The three parse paths a line goes through, fastest first (see K6LineParser). */
export interface LineParser {
  /** Parses the line at buf[s, …) if it is for the fastest path; returns the next line's start, or -1. */
  fastLine(buf: Buffer, dv: DataView, s: number, lim: number, info: FileInfo): number;
  /** Parses buf[s, e) in k6's fixed layout; false when it is not in that layout. */
  lineBytes(buf: Buffer, s: number, e: number, info: FileInfo): boolean;
  /** Parses one line (latin1-decoded); false when it is not valid k6 JSON. */
  line(l: string, info: FileInfo): boolean;
}

/** Streams the file at `path` into `parser`, counting into `info` (bad lines, truncation). */
export async function readK6File(path: string, parser: LineParser, info: FileInfo): Promise<void> {
  const gz = await isGzip(path);
  // Lines are cut from the raw bytes and decoded as latin1 (a byte-for-byte copy, much faster than
  // UTF-8 decoding); the few places that may hold non-ASCII text (tags, slow path) re-decode as UTF-8.
  // The start of a line that continues in the next chunk, in pieces: joined once, when its end arrives,
  // so a long line costs its length, not its length squared.
  let rest: Buffer[] = [];
  const eat = (chunk: Buffer): void => {
    let start = 0;
    if (rest.length > 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        rest.push(Buffer.from(chunk)); // a copy: the read buffer is reused
        return;
      }
      // with its newline, so the fast path can take it (its reads stop at the newline)
      const joined = Buffer.concat([...rest, chunk.subarray(0, nl + 1)]);
      const e = joined.length - 1;
      rest = [];
      if (
        e > 0 &&
        parser.fastLine(joined, viewOf(joined), 0, e, info) < 0 &&
        !parser.lineBytes(joined, 0, e, info) &&
        !parser.line(latin1(joined, 0, e), info)
      )
        info.badLines++;
      start = nl + 1;
    }
    const lim = chunk.lastIndexOf(10);
    const dv = viewOf(chunk);
    for (;;) {
      const next = parser.fastLine(chunk, dv, start, lim, info);
      if (next >= 0) {
        start = next;
        continue;
      }
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (nl > start && !parser.lineBytes(chunk, start, nl, info) && !parser.line(latin1(chunk, start, nl), info)) info.badLines++;
      start = nl + 1;
    }
    if (start < chunk.length) rest = [Buffer.from(chunk.subarray(start))];
  };
  if (gz) await readGzip(path, eat, info);
  else await readPlain(path, eat, info);
  if (rest.length > 0) {
    // Last line without a newline: complete JSON is accepted, anything else is a cut line.
    const last = Buffer.concat(rest);
    if (!parser.line(latin1(last, 0, last.length), info)) info.truncated = true;
  }
}

async function readGzip(path: string, eat: (chunk: Buffer) => void, info: FileInfo): Promise<void> {
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = src.pipe(createGunzip({ chunkSize: 1 << 18 }));
  await new Promise<void>((resolve) => {
    stream.on('data', eat);
    stream.on('end', () => resolve());
    stream.on('error', () => {
      // A cut gzip stream (killed run): keep what was decoded.
      info.truncated = true;
      src.destroy();
      resolve();
    });
  });
}

const READ_SIZE = 1 << 20;

/**
 * Plain files: two reused 1 MB buffers, the next read in flight while this one is parsed (no stream
 * machinery, no new Buffer per chunk). `eat` must not keep the chunk: it copies what it keeps.
 */
async function readPlain(path: string, eat: (chunk: Buffer) => void, info: FileInfo): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let cur = Buffer.allocUnsafe(READ_SIZE);
    let spare = Buffer.allocUnsafe(READ_SIZE);
    let pos = 0;
    let pending = fh.read(cur, 0, READ_SIZE, pos);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      pos += bytesRead;
      pending = fh.read(spare, 0, READ_SIZE, pos);
      eat(cur.subarray(0, bytesRead));
      [cur, spare] = [spare, cur];
    }
  } catch {
    // A read error mid-file: keep what was read, as for a cut gzip stream.
    info.truncated = true;
  } finally {
    await fh.close();
  }
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}
