/**
 * A 204 or 304 response has no body whatever its Content-Length says (RFC 9110 §6.4.1; Go's transport:
 * bodyAllowedForStatus), as the answer to HEAD has none: the client must not wait for Content-Length
 * bytes that never come (the request timed out), and the connection serves the next request.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionPool } from '../../../engine/modules/http/client.ts';
import { clientRequest } from './client-request.ts';

void test('204 and 304 with a Content-Length end at their headers; the connection is reused', async () => {
  const answers = [
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "a"\r\n\r\n',
    'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  ];
  let next = 0;
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        s.write(answers[next++] ?? '');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const pool = new ConnectionPool({ now: () => performance.now(), rejectUnauthorized: true });
  const got: unknown[] = [];
  try {
    for (let i = 0; i < answers.length; i++) {
      const ex = await pool.requestAsync(clientRequest(port, '/', { headers: {}, timeoutMs: 2000 }), undefined);
      got.push([ex.status, ex.error?.message, Buffer.concat(ex.chunks).toString('latin1')]);
    }
  } finally {
    pool.close();
    for (const s of sockets) s.destroy();
    server.close();
  }
  assert.deepEqual(got, [
    [304, undefined, ''],
    [204, undefined, ''],
    [200, undefined, 'ok'],
  ]);
  assert.equal(connections, 1);
});
