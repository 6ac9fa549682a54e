/**
 * The engine's own HTTP/2 (h2.ts) against real servers on loopback, for what http2.test.ts does not reach:
 * flow control both ways (a download larger than the 4 MiB stream window, an upload to a server with a 1 KiB
 * window), CONTINUATION both ways, MAX_CONCURRENT_STREAMS, RST_STREAM and GOAWAY from the server, PING, the
 * CANCEL a timed-out stream sends, and (against a hand-written TLS server) the client's SETTINGS, its SETTINGS
 * ACK, and the COMPRESSION_ERROR a malformed header block gets.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type ServerHttp2Session,
  type ServerHttp2Stream,
  type IncomingHttpHeaders,
  type Settings,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import type { ClientRequest, Exchange } from '../../../engine/modules/http/exchange.ts';
import { encodeHeaders } from '../../../engine/modules/http/hpack.ts';
import { selfSignedCert } from '../conformance/run-helpers.ts';
import { clientRequest } from './client-request.ts';

const cert = selfSignedCert();
const now = (): number => performance.now();
const BIG = 5 * 1024 * 1024 + 123;
/** 5 MiB and a bit, not one repeated byte: a lost or repeated frame shows. */
const bigBody = Buffer.alloc(BIG);
for (let i = 0; i < BIG; i++) bigBody[i] = (i * 7 + (i >> 12)) & 0xff;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Served {
  readonly server: Http2SecureServer;
  readonly port: number;
  readonly sessions: ServerHttp2Session[];
}

async function serve(
  settings: Settings,
  onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, served: Served) => void,
): Promise<Served> {
  const server = createSecureServer({ ...cert, settings });
  const sessions: ServerHttp2Session[] = [];
  const port: number = await new Promise((r) => {
    server.listen(0, '127.0.0.1', () => {
      r((server.address() as AddressInfo).port);
    });
  });
  const served = { server, port, sessions };
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {
      /* streams the client cancels, or a GOAWAY leaves unprocessed */
    });
    onStream(stream, headers, served);
  });
  return served;
}

const req = (port: number, path: string, extra: Partial<ClientRequest> = {}): ClientRequest =>
  clientRequest(port, path, { tls: true, ...extra });
const text = (ex: Exchange): string => Buffer.concat(ex.chunks).toString('utf8');
const header = (ex: Exchange, name: string): string | undefined => {
  const i = ex.rawHeaders.findIndex((v, k) => k % 2 === 0 && v === name);
  return i === -1 ? undefined : ex.rawHeaders[i + 1];
};

let main: Served;
/** Streams the server saw closed with a reset code (path → code). */
const resets = new Map<string, number>();

before(async () => {
  main = await serve({}, (stream, headers) => {
    const path = String(headers[':path']);
    stream.on('close', () => {
      if (stream.rstCode !== constants.NGHTTP2_NO_ERROR) resets.set(path, stream.rstCode);
    });
    if (path === '/big') {
      stream.respond({ ':status': 200, 'content-length': BIG });
      stream.end(bigBody);
    } else if (path === '/big-header') {
      stream.respond({ ':status': 200, 'x-big': 'h'.repeat(40_000) });
      stream.end(`request x-big ${String(String(headers['x-big'] ?? '').length)}`);
    } else if (path === '/never') {
      // never answers: the client's timeout cancels the stream
    } else {
      stream.respond({ ':status': 200 });
      stream.end(`hello ${path}`);
    }
  });
});
after(() => {
  main.server.close();
});

void test('a download larger than the 4 MiB stream window arrives whole (the client gives the window back as it reads)', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    for (const round of [1, 2]) {
      const ex = await pool.requestAsync(req(main.port, '/big', { timeoutMs: 10_000 }), undefined);
      assert.equal(ex.error, undefined, `round ${String(round)}: ${ex.error?.message ?? ''}`);
      const body = Buffer.concat(ex.chunks);
      assert.equal(body.length, BIG);
      assert.equal(sha(body), sha(bigBody));
      assert.ok(ex.received > BIG, 'wire bytes counted');
    }
  } finally {
    pool.close();
  }
});

void test("an upload larger than the server's 1 KiB stream window and 64 KiB connection window is sent as its WINDOW_UPDATEs allow, whole", async () => {
  const small = await serve({ initialWindowSize: 1024 }, (stream) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const all = Buffer.concat(parts);
      stream.respond({ ':status': 200 });
      stream.end(`${String(all.length)} ${sha(all)}`);
    });
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const body = bigBody.subarray(0, 300_000);
    const ex = await pool.requestAsync(req(small.port, '/up', { method: 'POST', body, timeoutMs: 10_000 }), undefined);
    assert.equal(ex.error, undefined, ex.error?.message);
    assert.equal(text(ex), `300000 ${sha(body)}`);
  } finally {
    pool.close();
    small.server.close();
  }
});

void test('header blocks larger than a frame: the response arrives in HEADERS + CONTINUATION, the request is sent in them', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const ex = await pool.requestAsync(
      req(main.port, '/big-header', { headers: { 'User-Agent': 'test', 'X-Big': 'r'.repeat(30_000) } }),
      undefined,
    );
    assert.equal(ex.error, undefined, ex.error?.message);
    assert.equal(header(ex, 'x-big')?.length, 40_000);
    assert.equal(text(ex), 'request x-big 30000');
    const next = await pool.requestAsync(req(main.port, '/after'), undefined);
    assert.deepEqual([text(next), next.newConn], ['hello /after', undefined], 'the session goes on');
  } finally {
    pool.close();
  }
});

void test('a batch on a server allowing one stream at a time: the streams wait for each other, none refused, all answered', async () => {
  let running = 0;
  let most = 0;
  const one = await serve({ maxConcurrentStreams: 1 }, (stream, headers) => {
    running++;
    most = Math.max(most, running);
    setTimeout(() => {
      running--;
      stream.respond({ ':status': 200 });
      stream.end(String(headers[':path']));
    }, 50);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    await pool.requestAsync(req(one.port, '/first'), undefined); // the server's SETTINGS are known from here
    const all = await Promise.all([1, 2, 3, 4].map((i) => pool.requestAsync(req(one.port, `/b${String(i)}`), undefined)));
    assert.deepEqual(
      all.map((ex) => [ex.error?.message, text(ex)]),
      [1, 2, 3, 4].map((i) => [undefined, `/b${String(i)}`]),
    );
    assert.equal(most, 1);
    assert.equal(one.sessions.length, 1);
  } finally {
    pool.close();
    one.server.close();
  }
});

void test('a timed-out stream is cancelled with RST_STREAM(CANCEL)', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    resets.delete('/never');
    const ex = await pool.requestAsync(req(main.port, '/never', { timeoutMs: 150 }), undefined);
    assert.equal(ex.error?.code, 'request-timeout');
    for (let i = 0; i < 50 && !resets.has('/never'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(resets.get('/never'), constants.NGHTTP2_CANCEL);
  } finally {
    pool.close();
  }
});

void test('GOAWAY: a stream the server did not process is sent again on a new session; later requests use the new one', async () => {
  const gone = await serve({}, (stream, headers, served) => {
    const path = String(headers[':path']);
    if (path === '/goaway' && served.sessions.length === 1) {
      // Says it processed only the streams before this one, and leaves this one unanswered.
      stream.session?.goaway(constants.NGHTTP2_NO_ERROR, (stream.id ?? 1) - 2);
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end(`${path} on session ${String(served.sessions.length)}`);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const first = await pool.requestAsync(req(gone.port, '/first'), undefined);
    assert.equal(text(first), '/first on session 1');
    const ex = await pool.requestAsync(req(gone.port, '/goaway', { timeoutMs: 3000 }), undefined);
    assert.equal(ex.error, undefined, ex.error?.message);
    assert.equal(text(ex), '/goaway on session 2');
    const next = await pool.requestAsync(req(gone.port, '/next'), undefined);
    assert.deepEqual([text(next), next.newConn], ['/next on session 2', undefined]);
  } finally {
    pool.close();
    gone.server.close();
  }
});

void test('PING from the server is answered (PING ACK with its payload)', async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const before = main.sessions.length;
    await pool.requestAsync(req(main.port, '/ping'), undefined);
    const session = main.sessions[before];
    assert.ok(session !== undefined);
    const payload = Buffer.from('pingpong');
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error('no PING ACK within 2 s'));
      }, 2000);
      session.ping(payload, (err, _ms, back) => {
        clearTimeout(timer);
        if (err !== null) reject(err);
        else resolve(back);
      });
    });
    assert.deepEqual(echoed, payload);
  } finally {
    pool.close();
  }
});

/** Frames in `buf` (type, flags, stream id, payload); the rest that is not a whole frame is left out. */
function frames(buf: Buffer): { type: number; flags: number; id: number; payload: Buffer }[] {
  const out: { type: number; flags: number; id: number; payload: Buffer }[] = [];
  let p = 0;
  while (buf.length - p >= 9) {
    const len = buf.readUIntBE(p, 3);
    if (buf.length - p < 9 + len) break;
    out.push({
      type: buf[p + 3] ?? 0,
      flags: buf[p + 4] ?? 0,
      id: buf.readUInt32BE(p + 5) & 0x7fffffff,
      payload: buf.subarray(p + 9, p + 9 + len),
    });
    p += 9 + len;
  }
  return out;
}

const rawFrame = (type: number, flags: number, id: number, payload: Buffer): Buffer => {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(id, 5);
  return Buffer.concat([h, payload]);
};

/** A frame the client sent, and a way to answer on its connection. */
type OnFrame = (f: { type: number; flags: number; id: number; payload: Buffer }, write: (b: Buffer) => void) => void;

/**
 * A TLS server speaking just enough HTTP/2 by hand: its SETTINGS (MAX_CONCURRENT_STREAMS 7, and `settings`), then
 * `onFrame` for each frame the client sends (by default: `answer(streamId)`'s bytes for each HEADERS). Keeps every
 * byte the client sent.
 */
async function rawServer(
  answer: (id: number) => Buffer,
  settings: readonly (readonly [number, number])[] = [],
  onFrame: OnFrame = (f, write) => {
    if (f.type === 1) write(answer(f.id));
  },
): Promise<{ port: number; received: () => Buffer; close: () => void }> {
  const got: Buffer[] = [];
  const server = createTlsServer({ ...cert, ALPNProtocols: ['h2'] }, (socket: TLSSocket) => {
    const payload = Buffer.alloc(6 * (1 + settings.length));
    [[3, 7] as const, ...settings].forEach(([id, value], i) => {
      payload.writeUInt16BE(id, i * 6);
      payload.writeUInt32BE(value, i * 6 + 2);
    });
    socket.write(rawFrame(4, 0, 0, payload));
    let seen = 0;
    const write = (b: Buffer): void => {
      socket.write(b);
    };
    socket.on('data', (c: Buffer) => {
      got.push(c);
      const all = Buffer.concat(got);
      const fs = frames(all.subarray(24));
      for (const f of fs.slice(seen)) onFrame(f, write);
      seen = fs.length;
    });
    socket.on('error', () => {
      /* the client closes */
    });
  });
  const port: number = await new Promise((r) => {
    server.listen(0, '127.0.0.1', () => {
      r((server.address() as AddressInfo).port);
    });
  });
  return {
    port,
    received: () => Buffer.concat(got),
    close: () => {
      server.close();
    },
  };
}

void test("a request body is held to the peer's windows: the stream's (SETTINGS_INITIAL_WINDOW_SIZE 1000), then the connection's 65,535, each opened by a WINDOW_UPDATE", async () => {
  const windowUpdate = (id: number, inc: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(inc, 0);
    return rawFrame(8, 0, id, b);
  };
  let dataOn3 = 0;
  let ended = false;
  let write: ((b: Buffer) => void) | undefined;
  const raw = await rawServer(
    () => Buffer.alloc(0),
    [[4, 1000]],
    (f, w) => {
      write = w;
      if (f.type === 1 && f.id === 1) w(Buffer.concat([rawFrame(1, 0x4 | 0x1, 1, encodeHeaders([':status', '204']))]));
      if (f.type === 0 && f.id === 3) {
        dataOn3 += f.payload.length;
        if ((f.flags & 1) === 1) {
          ended = true;
          w(
            Buffer.concat([
              rawFrame(1, 0x4, 3, encodeHeaders([':status', '200'])),
              rawFrame(0, 0x1, 3, Buffer.from(`got ${String(dataOn3)}`)),
            ]),
          );
        }
      }
    },
  );
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));
  try {
    const warm = await pool.requestAsync(req(raw.port, '/warm', { timeoutMs: 3000 }), undefined); // the server's SETTINGS are known from here
    assert.equal(warm.status, 204);
    const post = pool.requestAsync(req(raw.port, '/up', { method: 'POST', body: Buffer.alloc(70_000, 1), timeoutMs: 5000 }), undefined);
    await settle();
    assert.deepEqual([dataOn3, ended], [1000, false], 'the stream window');
    write?.(windowUpdate(3, 100_000));
    await settle();
    assert.deepEqual([dataOn3, ended], [65_535, false], 'the connection window (1000 of it used by then, 64,535 more)');
    write?.(windowUpdate(0, 100_000));
    const ex = await post;
    assert.equal(ex.error, undefined, ex.error?.message);
    assert.equal(text(ex), 'got 70000');
  } finally {
    pool.close();
    raw.close();
  }
});

void test("the client's preface: SETTINGS as Go's (no push, 4 MiB stream window, 10 MiB header list), the connection window raised to 1 GiB, the server's SETTINGS acknowledged; padded frames read", async () => {
  const raw = await rawServer((id) => {
    // HEADERS padded (3 octets) with :status 200, then DATA padded, ending the stream.
    const block = encodeHeaders([':status', '200', 'x-raw', 'yes']);
    const headers = rawFrame(1, 0x4 | 0x8, id, Buffer.concat([Buffer.from([3]), block, Buffer.alloc(3)]));
    const data = rawFrame(0, 0x1 | 0x8, id, Buffer.concat([Buffer.from([2]), Buffer.from('raw body'), Buffer.alloc(2)]));
    return Buffer.concat([headers, data]);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const ex = await pool.requestAsync(req(raw.port, '/raw', { timeoutMs: 3000 }), undefined);
    assert.equal(ex.error, undefined, ex.error?.message);
    assert.deepEqual([ex.status, header(ex, 'x-raw'), text(ex), ex.versionMajor], [200, 'yes', 'raw body', 2]);
    // The ACK went out with the response's read: wait until the server has it.
    const acked = (): boolean => frames(raw.received().subarray(24)).some((f) => f.type === 4 && (f.flags & 1) === 1);
    for (let i = 0; i < 50 && !acked(); i++) await new Promise((r) => setTimeout(r, 10));
    const sent = raw.received();
    assert.equal(sent.subarray(0, 24).toString('latin1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const fs = frames(sent.subarray(24));
    const settings = fs.find((f) => f.type === 4 && (f.flags & 1) === 0);
    assert.ok(settings !== undefined);
    const values = new Map<number, number>();
    for (let p = 0; p < settings.payload.length; p += 6) values.set(settings.payload.readUInt16BE(p), settings.payload.readUInt32BE(p + 2));
    assert.deepEqual(
      [...values],
      [
        [2, 0],
        [4, 4 * 1024 * 1024],
        [6, 10 * 1024 * 1024],
      ],
    );
    const windowUpdate = fs.find((f) => f.type === 8 && f.id === 0);
    assert.equal(windowUpdate?.payload.readUInt32BE(0), 1024 * 1024 * 1024 - 65_535);
    assert.ok(
      fs.some((f) => f.type === 4 && (f.flags & 1) === 1),
      'SETTINGS ACK sent',
    );
  } finally {
    pool.close();
    raw.close();
  }
});

void test('a malformed header block (index 0) is a connection error: GOAWAY(COMPRESSION_ERROR), the request failed', async () => {
  const raw = await rawServer((id) => rawFrame(1, 0x4 | 0x1, id, Buffer.from([0x80])));
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const ex = await pool.requestAsync(req(raw.port, '/bad', { timeoutMs: 3000 }), undefined);
    assert.equal(ex.status, 0);
    assert.match(ex.error?.message ?? '', /COMPRESSION_ERROR/);
    let goaway: { payload: Buffer } | undefined;
    for (let i = 0; i < 50 && goaway === undefined; i++) {
      goaway = frames(raw.received().subarray(24)).find((f) => f.type === 7);
      if (goaway === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(goaway?.payload.readUInt32BE(4), 0x9, 'GOAWAY with COMPRESSION_ERROR');
  } finally {
    pool.close();
    raw.close();
  }
});

void test('RST_STREAM from the server in the middle of a body fails that request (never a partial success); the session goes on', async () => {
  // Stream 1: headers (no content-length), part of a body, then RST_STREAM(INTERNAL_ERROR) without END_STREAM. Stream 3: a whole response.
  const raw = await rawServer((id) => {
    const headers = rawFrame(1, 0x4, id, encodeHeaders([':status', '200']));
    if (id !== 1) return Buffer.concat([headers, rawFrame(0, 0x1, id, Buffer.from('whole'))]);
    const code = Buffer.alloc(4);
    code.writeUInt32BE(0x2, 0);
    return Buffer.concat([headers, rawFrame(0, 0, id, Buffer.from('part of it')), rawFrame(3, 0, id, code)]);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const ex = await pool.requestAsync(req(raw.port, '/reset-mid-body', { timeoutMs: 3000 }), undefined);
    assert.equal(ex.error?.message, 'Stream closed with error code NGHTTP2_INTERNAL_ERROR');
    const next = await pool.requestAsync(req(raw.port, '/after-reset', { timeoutMs: 3000 }), undefined);
    assert.deepEqual([next.error, text(next), next.newConn], [undefined, 'whole', undefined]);
  } finally {
    pool.close();
    raw.close();
  }
});

void test('a response whose body is shorter than its content-length when the stream ends is an error (PROTOCOL_ERROR), not a success', async () => {
  const raw = await rawServer((id) =>
    Buffer.concat([
      rawFrame(1, 0x4, id, encodeHeaders([':status', '200', 'content-length', '1000'])),
      rawFrame(0, 0x1, id, Buffer.from('short')),
    ]),
  );
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const ex = await pool.requestAsync(req(raw.port, '/short', { timeoutMs: 3000 }), undefined);
    assert.equal(ex.error?.message, 'Stream closed with error code NGHTTP2_PROTOCOL_ERROR');
  } finally {
    pool.close();
    raw.close();
  }
});

void test('a response header with an upper-case or non-token name, or a control character in its value (or in a trailer), is a stream error (PROTOCOL_ERROR), as Go and nghttp2 treat it; the session goes on', async () => {
  const bad: Record<number, string[]> = {
    1: [':status', '200', 'X-Upper', 'yes'],
    3: [':status', '200', 'bad name', 'yes'],
    5: [':status', '200', 'x-value', 'a\rb'],
    7: [':status', '200', 'x-value', 'tab\tand space are fine'],
  };
  const raw = await rawServer((id) => {
    if (id === 9)
      // A trailer with an upper-case name.
      return Buffer.concat([
        rawFrame(1, 0x4, id, encodeHeaders([':status', '200'])),
        rawFrame(0, 0, id, Buffer.from('body')),
        rawFrame(1, 0x4 | 0x1, id, encodeHeaders(['X-Trailer', 'no'])),
      ]);
    return Buffer.concat([rawFrame(1, 0x4, id, encodeHeaders(bad[id] ?? [':status', '200'])), rawFrame(0, 0x1, id, Buffer.from('whole'))]);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const got: (string | undefined)[] = [];
    for (const path of ['/upper', '/space', '/cr', '/tab', '/trailer', '/after'])
      got.push((await pool.requestAsync(req(raw.port, path, { timeoutMs: 3000 }), undefined)).error?.message);
    const protocolError = 'Stream closed with error code NGHTTP2_PROTOCOL_ERROR';
    assert.deepEqual(got, [protocolError, protocolError, protocolError, undefined, protocolError, undefined]);
  } finally {
    pool.close();
    raw.close();
  }
});

void test("content-length as Go's transport sends it over HTTP/2: 0 for a POST, PUT or PATCH without a body, none for a GET", async () => {
  const echo = await serve({}, (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(`${headers[':method'] ?? ''} ${headers['content-length'] ?? 'none'}`);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    const got: string[] = [];
    for (const method of ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'])
      got.push(text(await pool.requestAsync(req(echo.port, '/len', { method }), undefined)));
    got.push(text(await pool.requestAsync(req(echo.port, '/len', { method: 'POST', body: Buffer.from('abc') }), undefined)));
    got.push(text(await pool.requestAsync(req(echo.port, '/len', { method: 'DELETE', body: Buffer.alloc(0) }), undefined)));
    assert.deepEqual(got, ['POST 0', 'PUT 0', 'PATCH 0', 'GET none', 'DELETE none', 'POST 3', 'DELETE none']);
  } finally {
    pool.close();
    echo.server.close();
  }
});

void test("a server's SETTINGS_ENABLE_PUSH 1 is accepted as Go's transport accepts it (RFC 7540 did not forbid it); 2 is a connection error", async () => {
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  const got: (string | undefined)[] = [];
  for (const value of [1, 2]) {
    const raw = await rawServer(
      (id) => Buffer.concat([rawFrame(1, 0x4, id, encodeHeaders([':status', '200'])), rawFrame(0, 0x1, id, Buffer.from('pushed'))]),
      [[2, value]],
    );
    try {
      const ex = await pool.requestAsync(req(raw.port, '/push', { timeoutMs: 3000 }), undefined);
      got.push(ex.error?.message ?? text(ex));
    } finally {
      raw.close();
    }
  }
  pool.close();
  assert.deepEqual(got, ['pushed', 'HTTP/2 connection error PROTOCOL_ERROR: SETTINGS_ENABLE_PUSH 2 from a server']);
});

void test("a request whose header list is larger than the server's SETTINGS_MAX_HEADER_LIST_SIZE fails with Go's error, unsent; the session goes on", async () => {
  const small = await serve({ maxHeaderListSize: 2000 }, (stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(`served ${String(headers[':path'])}`);
  });
  const pool = new ConnectionPool({ now, rejectUnauthorized: false });
  try {
    await pool.requestAsync(req(small.port, '/warm'), undefined); // the server's SETTINGS are known from here
    const big = await pool.requestAsync(
      req(small.port, '/big', { headers: { 'User-Agent': 'test', 'X-Big': 'b'.repeat(3000) } }),
      undefined,
    );
    assert.equal(big.error?.message, "http2: request header list larger than peer's advertised limit");
    const next = await pool.requestAsync(req(small.port, '/next'), undefined);
    assert.deepEqual([text(next), next.newConn], ['served /next', undefined]);
  } finally {
    pool.close();
    small.server.close();
  }
});
