/**
 * The client's fast path for a response that arrived whole (engine/modules/http/whole-response.ts) answers
 * exactly what http-parser-js answers for the same bytes, or leaves the response to it: compared over
 * plain, odd and malformed responses, and over random mutations of a plain one. Then end to end: the
 * client's exchanges are the same when the fast path is taken as when the parser reads every byte.
 */
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { HTTPParser } from 'http-parser-js';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import type { ClientRequest, Exchange } from '../../../engine/modules/http/exchange.ts';
import { readWholeResponse, type WholeResponse } from '../../../engine/modules/http/whole-response.ts';

interface ParserView {
  versionMajor: number;
  versionMinor: number;
  statusCode: number;
  statusMessage: string;
  headers: string[];
  shouldKeepAlive: boolean;
  body: string;
}

/** What http-parser-js reports for `bytes` fed in one execute(): the first message, whether it ended, and where. */
function byParser(bytes: Buffer): { first: ParserView | undefined; completedAt: number[]; error: string | undefined } {
  const p = new HTTPParser(HTTPParser.RESPONSE);
  let first: ParserView | undefined;
  let body = '';
  let messages = 0;
  const completedAt: number[] = [];
  p[HTTPParser.kOnHeadersComplete] = (info) => {
    messages++;
    if (messages === 1)
      first = {
        versionMajor: info.versionMajor,
        versionMinor: info.versionMinor,
        statusCode: info.statusCode,
        statusMessage: info.statusMessage,
        headers: [...info.headers],
        shouldKeepAlive: info.shouldKeepAlive,
        body: '',
      };
    return 0;
  };
  p[HTTPParser.kOnBody] = (chunk, offset, length) => {
    if (messages === 1) body += chunk.toString('latin1', offset, offset + length);
  };
  p[HTTPParser.kOnMessageComplete] = () => {
    // The parser's own offset is not public: feeding byte by byte below finds where a message ends.
    completedAt.push(messages);
  };
  const r = p.execute(bytes, 0, bytes.length);
  if (first !== undefined) first.body = body;
  return { first, completedAt, error: r instanceof Error ? r.message : undefined };
}

/** The number of bytes after which http-parser-js completes the first message (fed whole prefixes), or -1. */
function parserMessageEnd(bytes: Buffer): number {
  for (let n = 1; n <= bytes.length; n++) if (byParser(bytes.subarray(0, n)).completedAt.length > 0) return n;
  return -1;
}

const fresh = (): WholeResponse => ({
  versionMajor: 0,
  versionMinor: 0,
  statusCode: 0,
  statusMessage: '',
  headers: [],
  shouldKeepAlive: false,
  bodyStart: 0,
  bodyLength: 0,
});

/** Checks the fast path against the parser for `text`; returns whether the fast path took it. */
function agree(text: string | Buffer): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  // A bigger buffer with stale bytes after the read, as the shared read buffer has.
  const buf = Buffer.alloc(bytes.length + 64, 0x41);
  bytes.copy(buf);
  const out = fresh();
  const used = readWholeResponse(buf, bytes.length, out);
  if (used === 0) return false;
  const label = JSON.stringify(bytes.toString('latin1'));
  const parsed = byParser(bytes);
  assert.equal(parsed.error, undefined, `${label}: the parser failed where the fast path read a response`);
  assert.ok(parsed.first !== undefined, `${label}: no message from the parser`);
  assert.deepEqual(
    {
      versionMajor: out.versionMajor,
      versionMinor: out.versionMinor,
      statusCode: out.statusCode,
      statusMessage: out.statusMessage,
      headers: out.headers,
      shouldKeepAlive: out.shouldKeepAlive,
      body: buf.toString('latin1', out.bodyStart, out.bodyStart + out.bodyLength),
    },
    parsed.first,
    label,
  );
  assert.equal(used, parserMessageEnd(bytes), `${label}: the message ends where the parser ends it`);
  return true;
}

const OK =
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nDate: Sun, 06 Dec 2026 14:40:01 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\nok';

void test('plain responses are read by the fast path exactly as http-parser-js reads them', () => {
  const taken = [
    OK,
    'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found',
    'HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nx', // no reason phrase
    'HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx', // empty reason phrase
    'HTTP/1.1 200  two spaces \r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200OK\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\ncontent-length: 3\r\nCONNECTION: Close\r\n\r\nabc',
    'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc', // 1.0 without keep-alive: not kept
    'HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: Keep-Alive\r\n\r\nabc',
    'HTTP/2.0 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Spaces:   \r\nX-Tab:\tv\t\r\nX-Inner: a  b \r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Colon: a:b:c\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\nContent-Length: 1.0\r\n\r\nx', // the parser takes +value too
    'HTTP/1.1 200 OK\r\nContent-Length: 1e1\r\n\r\n0123456789',
    'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n',
    'HTTP/1.1 200 OK\r\nConnection: upgrade\r\nContent-Length: 1\r\n\r\nx', // upgrade only with an Upgrade header
    'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy',
    `HTTP/1.1 200 OK\r\nX-Long: ${'v'.repeat(200)}\r\nContent-Length: 1\r\n\r\nx`,
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n', // the next message follows
    'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\u00e9\u00ff\u0080', // any bytes in the body
  ];
  for (const t of taken) assert.equal(agree(t), true, `taken: ${JSON.stringify(t)}`);
  // The same response read twice gives the same strings (names and values come from a table).
  const a = fresh();
  const b = fresh();
  readWholeResponse(Buffer.from(OK, 'latin1'), OK.length, a);
  readWholeResponse(Buffer.from(OK, 'latin1'), OK.length, b);
  assert.deepEqual(a.headers, b.headers);
});

void test('responses the fast path leaves to http-parser-js', () => {
  const left = [
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no', // the body has not all arrived
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n', // nor the head
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\n\r\nread until close',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\nBad Name: v\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 OK\nContent-Length: 1\n\nx', // bare LF
    'HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/1.1 200 \u00c9t\u00e9\r\nContent-Length: 1\r\n\r\nx', // high bytes: the parser reads 'ascii'
    'HTTP/1.1 200 OK\r\nX-Latin: caf\u00e9\r\nContent-Length: 1\r\n\r\nx',
    '\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx', // a stray line first
    'HTTP/1.1 20 OK\r\nContent-Length: 1\r\n\r\nx',
    'HTTP/11 200 OK\r\nContent-Length: 1\r\n\r\nx',
    'HTTPS/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
    'garbage',
    '',
  ];
  for (const t of left) assert.equal(agree(t), false, `left: ${JSON.stringify(t)}`);
});

void test('random mutations of a plain response: whatever the fast path reads, the parser reads the same', () => {
  const base = Buffer.from(OK, 'latin1');
  const alphabet = [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x30, 0x39, 0x48, 0x61, 0x80, 0xff, 0x00, 0x2c];
  let x = 12_345;
  const rand = (n: number): number => {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    return (x >>> 8) % n;
  };
  let taken = 0;
  for (let round = 0; round < 3000; round++) {
    const b = Buffer.from(base);
    const edits = 1 + rand(3);
    let bytes: Buffer = b;
    for (let e = 0; e < edits; e++) {
      const at = rand(bytes.length);
      const op = rand(3);
      const c = alphabet[rand(alphabet.length)] ?? 0x20;
      if (op === 0) bytes[at] = c;
      else if (op === 1) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(c), bytes.subarray(at)]);
      else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    }
    if (agree(bytes)) taken++;
  }
  // Most single edits in the body or a value keep it plain; the check is that each one taken agreed.
  assert.ok(taken > 300, `fast path taken ${String(taken)} times of 3000`);
});

void test("the connection finds http-parser-js between messages (the fast path's condition reads the parser's state)", () => {
  const p = new HTTPParser(HTTPParser.RESPONSE) as unknown as { state: unknown; line: unknown; headerSize: unknown };
  assert.equal(p.state, 'RESPONSE_LINE');
  assert.equal(p.line, '');
  assert.equal(p.headerSize, 0);
});

/** A raw server that answers each request with the next of `answers`, split into the given pieces. */
async function rawServer(answers: readonly (readonly string[])[]): Promise<{ port: number; close: () => void }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    let buf = '';
    s.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        const pieces = answers[next++ % answers.length] ?? [];
        // Each piece its own write, a little apart, so the client reads them separately.
        let i = 0;
        const write = (): void => {
          const piece = pieces[i++];
          if (piece === undefined) return;
          s.write(Buffer.from(piece, 'latin1'));
          setTimeout(write, 5);
        };
        write();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const view = (ex: Exchange): unknown => ({
  status: ex.status,
  statusText: ex.statusText,
  headers: ex.rawHeaders,
  version: [ex.versionMajor, ex.versionMinor],
  keepAlive: ex.keepAlive,
  body: Buffer.concat(ex.chunks).toString('latin1'),
  received: ex.received,
  error: ex.error?.message,
});

void test('end to end: each response gives the same exchange whole (fast path) as in pieces (the parser reads them)', async () => {
  const responses = [
    OK,
    'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-A: 1\r\n\r\nnot found',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc',
  ];
  const run = async (answers: (readonly string[])[]): Promise<unknown[]> => {
    const srv = await rawServer(answers);
    const pool = new ConnectionPool({ now: () => performance.now(), rejectUnauthorized: true });
    const req: ClientRequest = {
      method: 'GET',
      tls: false,
      hostname: '127.0.0.1',
      port: srv.port,
      host: `127.0.0.1:${String(srv.port)}`,
      path: '/',
      headers: {},
      body: undefined,
      timeoutMs: 5000,
      keepBody: true,
    };
    const out: unknown[] = [];
    try {
      for (let i = 0; i < answers.length; i++) out.push(view(await pool.requestAsync(req, undefined)));
    } finally {
      pool.close();
      srv.close();
    }
    return out;
  };
  // Whole: one write each. In pieces: cut after the status line and inside the body, so the parser reads every byte.
  const wholeRun = await run(responses.map((r) => [r]));
  const pieces = await run(responses.map((r) => [r.slice(0, 10), r.slice(10, r.length - 1), r.slice(r.length - 1)]));
  assert.deepEqual(wholeRun, pieces);
  assert.equal((wholeRun[0] as { status: number }).status, 200);
  assert.equal((wholeRun[0] as { body: string }).body, 'ok');
});

void test("the parser's header-size count after a fast-path response is what the parser's own read would have left", async () => {
  // Drives one Conn read by read (no socket): a big response the parser reads (chunked), a small one the
  // fast path takes, then a response whose 21 KB of headers come in two reads. Read by the parser alone,
  // the small response's read resets the count (http-parser-js counts the bytes of a read that ended
  // between messages); the fast path must leave the same count, not the big read's 60 KB plus these 21 KB
  // (over the parser's 80 KB limit: "max header size exceeded").
  const { Conn } = await import('../../../engine/modules/http/connection.ts');
  const { Exchange } = await import('../../../engine/modules/http/exchange.ts');
  const { EventEmitter } = await import('node:events');
  const done: Exchange[] = [];
  const failed: Error[] = [];
  const host = {
    now: () => 1,
    complete: (c: InstanceType<typeof Conn>, ex: Exchange) => {
      c.ex = undefined;
      done.push(ex);
    },
    fail: (ex: Exchange, err: Error) => {
      if (conn.ex === ex) conn.ex = undefined;
      failed.push(err);
    },
    write: () => undefined,
    start: () => undefined,
    forget: () => undefined,
  };
  const socket = Object.assign(new EventEmitter(), { destroy: () => undefined }) as unknown as Socket;
  const conn = new Conn(host, 'k', socket, undefined, true);
  const req: ClientRequest = {
    method: 'GET',
    tls: false,
    hostname: '127.0.0.1',
    port: 1,
    host: '127.0.0.1:1',
    path: '/',
    headers: {},
    body: undefined,
    timeoutMs: 5000,
    keepBody: true,
  };
  const read = (ex: Exchange | undefined, text: string): void => {
    if (ex !== undefined) conn.ex = ex;
    const b = Buffer.from(text, 'latin1');
    conn.onData(b, b.length);
  };
  const body = 'x'.repeat(60 * 1024);
  read(
    new Exchange(host, req, 0, () => undefined, undefined),
    `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
  );
  read(new Exchange(host, req, 0, () => undefined, undefined), OK);
  read(new Exchange(host, req, 0, () => undefined, undefined), `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(21 * 1024)}\r\n`);
  read(undefined, 'Content-Length: 2\r\n\r\nok');
  assert.deepEqual(
    failed.map((e) => e.message),
    [],
  );
  assert.deepEqual(
    done.map((ex) => ex.status),
    [200, 200, 200],
  );
});
