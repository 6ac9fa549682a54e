/**
 * Bytes that follow a response in the same read answer no request: an HTTP/1.1 connection carries one
 * request at a time here, so they are an extra response from a misbehaving server (or a body longer than
 * its Content-Length, or one sent after a HEAD, 204 or 304). Go's transport closes such a connection
 * ("Unsolicited response received on idle HTTP channel", persistConn.readLoopPeekFailLocked): the next
 * request goes on a new one. Kept, the connection would hand the next request what is left of the extra
 * response: the tail of its body in front of the real one.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import { clientRequest } from './client-request.ts';

const R1 = {
  /** Read whole by whole-response.ts. */
  sized: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none',
  /** Read by http-parser-js (chunked). */
  chunked: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n',
} as const;
const EXTRA = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
const EXTRA_BODY = 'extra-body';
const R3 = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree';
/** An informational response: part of the request's own answer, the final response follows it. */
const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';

/**
 * Two requests in a row to a server whose first response is followed, in the same write, by an extra one:
 * whole, or its head and half its body (the rest comes with the answer to a request on the same connection).
 */
async function twoRequests(first: keyof typeof R1, extra: 'whole' | 'half' | 'none'): Promise<{ bodies: string[]; connections: number }> {
  let requests = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    let onThis = 0;
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        const n = requests++;
        const i = onThis++;
        if (n === 0 && extra === 'none') s.write(EARLY_HINTS + R1[first]);
        else if (n === 0) s.write(R1[first] + EXTRA + (extra === 'whole' ? EXTRA_BODY : EXTRA_BODY.slice(0, 5)));
        else if (i > 0 && extra === 'half') s.write(EXTRA_BODY.slice(5) + R3);
        else s.write(R3);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const pool = new ConnectionPool({ now: () => performance.now(), rejectUnauthorized: true });
  const bodies: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const ex = await pool.requestAsync(clientRequest(port, '/', { headers: {}, timeoutMs: 2000 }), undefined);
      assert.equal(ex.error, undefined);
      bodies.push(Buffer.concat(ex.chunks).toString('latin1'));
      // The extra bytes are there before the next request is written (they came in the same write).
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    pool.close();
    for (const s of sockets) s.destroy();
    server.close();
  }
  return { bodies, connections };
}

for (const first of ['sized', 'chunked'] as const) {
  for (const extra of ['whole', 'half'] as const) {
    void test(`a ${first} response followed in the same read by ${extra === 'whole' ? 'a whole' : 'half an'} unsolicited one: the connection is closed, the next request gets its own response`, async () => {
      assert.deepEqual(await twoRequests(first, extra), { bodies: ['one', 'three'], connections: 2 });
    });
  }
}

void test('a 1xx response and the final one in the same read: the final one is the answer, the connection is kept', async () => {
  for (const first of ['sized', 'chunked'] as const) {
    assert.deepEqual(await twoRequests(first, 'none'), { bodies: ['one', 'three'], connections: 1 }, first);
  }
});
