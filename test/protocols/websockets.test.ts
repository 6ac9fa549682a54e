import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { WebSocketError, createWebSocketsModule, type WebSocketEvent } from '../../engine/modules/websockets.ts';
import { createTestContext, type TestContext } from './context.ts';

/** The script-facing surface of a socket, as tests use it. */
interface Sock {
  readonly url: string;
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  binaryType: string;
  onopen: ((e: WebSocketEvent) => unknown) | null;
  onmessage: ((e: WebSocketEvent) => unknown) | null;
  onerror: ((e: WebSocketEvent) => unknown) | null;
  onclose: ((e: WebSocketEvent) => unknown) | null;
  onping: ((e: WebSocketEvent) => unknown) | null;
  onpong: ((e: WebSocketEvent) => unknown) | null;
  addEventListener(type: string, fn: (e: WebSocketEvent) => unknown): void;
  send(data: unknown): void;
  ping(): void;
  close(code?: number, reason?: string): void;
}
type SockClass = new (url: unknown, protocols?: unknown, params?: unknown) => Sock;

function wsModule(ctx: TestContext): SockClass {
  return createWebSocketsModule(ctx).WebSocket as SockClass;
}

interface TestServer {
  readonly url: string;
  readonly wss: WebSocketServer;
  readonly headers: Record<string, string | string[] | undefined>[];
  close(): Promise<void>;
}

/** A real ws server on port 0: echoes every message back with the same frame type. */
async function startServer(onConnection?: (s: ServerSocket) => void): Promise<TestServer> {
  const headers: TestServer['headers'] = [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: true,
    handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
  });
  wss.on('connection', (s, req) => {
    headers.push(req.headers);
    if (onConnection) onConnection(s);
    else
      s.on('message', (data, isBinary) => {
        s.send(data, { binary: isBinary });
      });
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    wss,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => {
          resolve();
        });
      }),
  };
}

function events(sock: Sock): string[] {
  const seen: string[] = [];
  for (const t of ['open', 'message', 'error', 'close', 'ping', 'pong'])
    sock.addEventListener(t, (e) => {
      seen.push(e.type);
    });
  return seen;
}

function metricNames(ctx: TestContext): string[] {
  return ctx.samples.map((s) => s.metric);
}

void describe('k6/websockets', { timeout: 60_000 }, () => {
  let echo: TestServer;
  before(async () => {
    echo = await startServer();
  });
  after(async () => {
    await echo.close();
  });

  void it('echoes a text message with k6 event objects, and the iteration ends when the socket closes', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    const sock = new WebSocket(echo.url);
    assert.equal(sock.readyState, 0, 'CONNECTING right after construction');
    assert.equal(sock.binaryType, 'blob', 'k6 default binaryType');
    const got: WebSocketEvent[] = [];
    let closeEvent: WebSocketEvent | undefined;
    sock.onopen = (e) => {
      assert.equal(e.type, 'open');
      assert.equal(sock.readyState, 1);
      sock.send('hello');
    };
    sock.onmessage = (e) => {
      got.push(e);
      sock.close();
    };
    sock.onclose = (e) => {
      closeEvent = e;
    };
    await ctx.settled();
    assert.equal(sock.readyState, 3, 'CLOSED');
    assert.equal(got.length, 1);
    assert.equal(got[0]?.data, 'hello');
    assert.equal(got[0].type, 'message');
    assert.equal(got[0].origin, sock.url);
    assert.equal(got[0].target, sock);
    assert.equal(typeof got[0].timestamp, 'number');
    assert.equal(closeEvent?.code, 1000);
    assert.equal(closeEvent.wasClean, true);
  });

  void it('emits k6 ws metrics with k6 tags, and counts traffic in data_sent/data_received', async () => {
    const ctx = createTestContext({ scenario: 'ws', group: '::g' });
    const WebSocket = wsModule(ctx);
    const sock = new WebSocket(echo.url, null, { tags: { endpoint: 'hub' } });
    sock.onopen = () => {
      sock.send('a');
      sock.send('b');
      sock.ping();
    };
    let n = 0;
    sock.onmessage = () => {
      n++;
    };
    sock.onpong = () => {
      sock.close();
    };
    await ctx.settled();
    assert.equal(n, 2);
    const names = metricNames(ctx);
    for (const m of [
      'ws_sessions',
      'ws_connecting',
      'ws_msgs_sent',
      'ws_msgs_received',
      'ws_ping',
      'ws_session_duration',
      'data_sent',
      'data_received',
    ]) {
      assert.ok(names.includes(m), `${m} emitted (got ${names.join(',')})`);
    }
    assert.equal(names.filter((x) => x === 'ws_msgs_sent').length, 2);
    assert.equal(names.filter((x) => x === 'ws_sessions').length, 1);
    const wsTags = { scenario: 'ws', group: '::g', endpoint: 'hub', status: '101', subproto: '', url: echo.url };
    for (const s of ctx.samples.filter((x) => x.metric.startsWith('ws_'))) assert.deepEqual({ ...s.tags }, wsTags, `${s.metric} tags`);
    for (const s of ctx.samples.filter((x) => x.metric.startsWith('data_'))) {
      assert.deepEqual({ ...s.tags }, { scenario: 'ws', group: '::g' }, `${s.metric} carries the iteration tags only`);
      assert.ok(s.value > 0, `${s.metric} counts bytes`);
    }
    const sessions = ctx.samples.find((s) => s.metric === 'ws_sessions');
    const connecting = ctx.samples.find((s) => s.metric === 'ws_connecting');
    assert.equal(sessions?.time, connecting?.time, 'both timed at the connection start, as k6 does');
  });

  void it('sends headers, negotiates a subprotocol (subproto tag), uses the name tag as url, and compresses only on request', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    const a = new WebSocket(echo.url, ['chat.v1', 'chat.v2'], {
      headers: { 'X-Agent': 'agentload' },
      tags: { name: 'hub' },
      compression: 'deflate',
    });
    const b = new WebSocket(echo.url);
    let opened = 0;
    for (const s of [a, b])
      s.onopen = () => {
        if (++opened === 2) {
          a.close();
          b.close();
        }
      };
    await ctx.settled();
    assert.equal(a.protocol, 'chat.v2');
    assert.match(a.extensions, /permessage-deflate/);
    assert.equal(b.extensions, '', 'no compression unless params.compression is "deflate"');
    assert.ok(
      echo.headers.some((h) => h['x-agent'] === 'agentload'),
      'custom header reached the server',
    );
    const aTags = ctx.samples.find((s) => s.metric === 'ws_sessions' && s.tags.name === 'hub')?.tags;
    assert.equal(aTags?.url, 'hub');
    assert.equal(aTags.subproto, 'chat.v2');
    assert.throws(
      () => new WebSocket(echo.url, null, { compression: 'gzip' }),
      (e: unknown) => e instanceof WebSocketError && e.code === 'ws-bad-params',
    );
  });

  void it('sends ArrayBuffer, typed-array views, DataView and Blob as binary frames and receives arraybuffer or blob', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    const sock = new WebSocket(echo.url);
    const received: unknown[] = [];
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    sock.onopen = () => {
      sock.binaryType = 'arraybuffer';
      sock.send(new Uint8Array([1, 2, 3]).buffer);
      sock.send(backing.subarray(2, 5)); // a view with an offset: only its own bytes go
      sock.send(new DataView(new Uint8Array([4, 5]).buffer));
      sock.send(new Blob([new Uint8Array([6, 7])]));
    };
    sock.onmessage = (e) => {
      received.push(e.data);
      if (received.length === 4) sock.binaryType = 'blob';
      if (received.length === 4) sock.send(new Uint16Array([0x0102]));
      if (received.length === 5) sock.close();
    };
    await ctx.settled();
    const bytes = received.slice(0, 4).map((d) => {
      assert.ok(d instanceof ArrayBuffer, 'arraybuffer binaryType gives ArrayBuffers');
      return [...new Uint8Array(d)];
    });
    assert.deepEqual(bytes, [
      [1, 2, 3],
      [1, 2, 3],
      [4, 5],
      [6, 7],
    ]);
    const last = received[4];
    assert.ok(last instanceof Blob, 'blob binaryType gives Blobs');
    assert.equal(last.size, 2);
    assert.throws(
      () => {
        sock.binaryType = 'text';
      },
      (e: unknown) => e instanceof WebSocketError && e.code === 'ws-bad-binary-type',
    );
    assert.throws(
      () => {
        sock.send(42);
      },
      (e: unknown) => e instanceof WebSocketError && e.code === 'ws-invalid-state',
    );
  });

  void it('rejects unsupported payloads and sending before open with stable codes', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    const sock = new WebSocket(echo.url);
    assert.throws(
      () => {
        sock.send('early');
      },
      (e: unknown) => e instanceof WebSocketError && e.code === 'ws-invalid-state' && /CONNECTING/.test(e.message),
    );
    sock.onopen = () => {
      assert.throws(
        () => {
          sock.send({ not: 'bytes' });
        },
        (e: unknown) => e instanceof WebSocketError && e.code === 'ws-bad-send',
      );
      assert.throws(
        () => {
          sock.close(1234);
        },
        (e: unknown) => e instanceof WebSocketError && e.code === 'ws-bad-close-code',
      );
      sock.close(4000, 'done');
    };
    await ctx.settled();
    assert.equal(sock.readyState, 3);
  });

  void it('answers server pings (ping event) and times its own pings (pong event, ws_ping)', async () => {
    const server = await startServer((s) => {
      s.ping('srv');
      s.on('pong', () => {
        s.send('ponged');
      });
    });
    try {
      const ctx = createTestContext();
      const WebSocket = wsModule(ctx);
      const sock = new WebSocket(server.url);
      const seen = events(sock);
      sock.onopen = () => {
        sock.ping();
      };
      sock.onmessage = (e) => {
        if (e.data === 'ponged') sock.close();
      };
      await ctx.settled();
      assert.ok(seen.includes('ping'), 'server ping fired a ping event');
      assert.ok(seen.includes('pong'), 'our ping got a pong event');
      const ping = ctx.samples.find((s) => s.metric === 'ws_ping');
      assert.ok(ping !== undefined && ping.value >= 0, 'ws_ping measured');
    } finally {
      await server.close();
    }
  });

  void it('server-initiated normal close fires close only; other codes fire error first', async () => {
    const normal = await startServer((s) => {
      s.close(1000, 'bye');
    });
    const custom = await startServer((s) => {
      s.close(4001, 'kicked');
    });
    try {
      const ctx = createTestContext();
      const WebSocket = wsModule(ctx);
      const a = new WebSocket(normal.url);
      const b = new WebSocket(custom.url);
      const seenA = events(a);
      const seenB = events(b);
      let closeA: WebSocketEvent | undefined;
      let closeB: WebSocketEvent | undefined;
      let errorB: WebSocketEvent | undefined;
      a.onclose = (e) => {
        closeA = e;
      };
      b.onclose = (e) => {
        closeB = e;
      };
      b.onerror = (e) => {
        errorB = e;
      };
      await ctx.settled();
      assert.deepEqual(seenA, ['open', 'close']);
      assert.equal(closeA?.code, 1000);
      assert.equal(closeA.reason, 'bye');
      assert.deepEqual(seenB, ['open', 'error', 'close']);
      assert.equal(closeB?.code, 4001);
      assert.equal(closeB.reason, 'kicked');
      assert.match(errorB?.error ?? '', /4001/);
      assert.equal(ctx.samples.filter((s) => s.metric === 'ws_session_duration').length, 2);
    } finally {
      await normal.close();
      await custom.close();
    }
  });

  void it('abnormal close (server drops the TCP connection) fires error then close with code 1006', async () => {
    const server = await startServer((s) => {
      s.on('message', () => {
        s.terminate();
      });
    });
    try {
      const ctx = createTestContext();
      const WebSocket = wsModule(ctx);
      const sock = new WebSocket(server.url);
      const seen = events(sock);
      let close: WebSocketEvent | undefined;
      sock.onopen = () => {
        sock.send('die');
      };
      sock.onclose = (e) => {
        close = e;
      };
      await ctx.settled();
      assert.deepEqual(seen, ['open', 'error', 'close']);
      assert.equal(close?.code, 1006);
      assert.equal(close.wasClean, false);
      assert.equal(sock.readyState, 3);
    } finally {
      await server.close();
    }
  });

  void it('a bad URL throws a clear error with code ws-bad-url; a refused or rejected connection fires error and close', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    for (const bad of ['http://127.0.0.1/ws', 'not a url', 'ws://127.0.0.1/ws#frag', undefined]) {
      assert.throws(
        () => new WebSocket(bad),
        (e: unknown) => e instanceof WebSocketError && e.code === 'ws-bad-url' && e.message.includes('WebSocket'),
        String(bad),
      );
    }
    // A port nobody listens on.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) =>
      probe.close(() => {
        r();
      }),
    );
    const refused = new WebSocket(`ws://127.0.0.1:${freePort}/`);
    const seenRefused = events(refused);
    let refusedError = '';
    refused.onerror = (e) => {
      refusedError = e.error ?? '';
    };
    // An HTTP server that answers 404 instead of upgrading.
    const http = createServer((_req, res) => {
      res.statusCode = 404;
      res.end('no');
    });
    http.on('upgrade', (_req, socket) => {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const rejected = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`);
    const seenRejected = events(rejected);
    try {
      await ctx.settled();
    } finally {
      await new Promise<void>((r) =>
        http.close(() => {
          r();
        }),
      );
    }
    assert.deepEqual(seenRefused, ['error', 'close']);
    assert.match(refusedError, /ECONNREFUSED/);
    assert.deepEqual(seenRejected, ['error', 'close']);
    const statuses = ctx.samples
      .filter((s) => s.metric === 'ws_sessions')
      .map((s) => s.tags.status)
      .sort();
    assert.deepEqual(statuses, ['', '404'], 'ws_sessions counted for failed attempts, with the HTTP status when there was one');
    assert.ok(!metricNames(ctx).includes('ws_session_duration'), 'no session duration without a session');
  });

  void it('refuses to open sockets in init code', () => {
    const ctx = createTestContext();
    ctx.setStage('init');
    const WebSocket = wsModule(ctx);
    assert.throws(
      () => new WebSocket(echo.url),
      (e: unknown) => e instanceof WebSocketError && e.code === 'ws-in-init',
    );
  });

  void it('a listener that throws closes the socket and fails the iteration with that error', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    const sock = new WebSocket(echo.url);
    let closed = false;
    sock.onopen = () => {
      sock.send('x');
    };
    sock.onmessage = () => {
      throw new Error('boom in handler');
    };
    sock.onclose = () => {
      closed = true;
    };
    await assert.rejects(ctx.settled(), /boom in handler/);
    assert.equal(closed, true);
    assert.equal(sock.readyState, 3);
  });

  void it('an interrupted iteration closes its open sockets, so the iteration can end', async () => {
    const ctx = createTestContext();
    const WebSocket = wsModule(ctx);
    const socks = [new WebSocket(echo.url), new WebSocket(echo.url)];
    let opened = 0;
    for (const s of socks)
      s.onopen = () => {
        if (++opened === 2) ctx.abort.abort();
      };
    await ctx.settled();
    assert.deepEqual(
      socks.map((s) => s.readyState),
      [3, 3],
    );
  });

  void it('fans out: 1,000 sockets from one process each receive one broadcast', { timeout: 120_000 }, async () => {
    const N = 1000;
    const server = await startServer(() => undefined);
    try {
      const ctx = createTestContext();
      const WebSocket = wsModule(ctx);
      let opened = 0;
      let received = 0;
      const payload = JSON.stringify({ kind: 'broadcast', n: 1 });
      for (let i = 0; i < N; i++) {
        const sock = new WebSocket(server.url);
        sock.onopen = () => {
          opened++;
          if (opened === N) {
            // every socket is open on our side; the server sees them all once its handshakes finished
            const waitAll = (): void => {
              if (server.wss.clients.size < N) {
                setTimeout(waitAll, 10);
                return;
              }
              for (const c of server.wss.clients) c.send(payload);
            };
            waitAll();
          }
        };
        sock.onmessage = (e) => {
          if (e.data === payload) received++;
          sock.close();
        };
      }
      await ctx.settled();
      assert.equal(opened, N);
      assert.equal(received, N, 'every subscriber got the broadcast exactly once');
      assert.equal(ctx.samples.filter((s) => s.metric === 'ws_msgs_received').length, N);
    } finally {
      await server.close();
    }
  });
});
