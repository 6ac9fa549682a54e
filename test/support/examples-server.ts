/**
 * A loopback stand-in for the public test services k6's examples call (httpbin-style endpoints and a
 * WebSocket echo), so the conformance corpus (test/fixtures/k6-examples) runs offline:
 *
 * GET /get, /post, /put, /patch, /delete, /anything (echo: method, args, headers, data, json, form, files), /status/N,
 * /redirect/N (N hops then /get), /cookies, /cookies/set?k=v (sets, then 302 to /cookies),
 * /delay/MS, /json (a list of launches for GJSON selectors), /gzip and /zstd (encoded bodies),
 * /html (a page with a form and links), POST /echo-encoding (reports Content-Encoding and the
 * decompressed body), WS /ws (echo; `close` closes with 1000; `ping-me` makes the server ping).
 * Listens on 127.0.0.1 port 0; `hits` counts requests per path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeHttpAndWs, listenOnLoopback } from './loopback.ts';
import { gunzipSync, gzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import { WebSocketServer } from 'ws';

export interface ExamplesServer {
  readonly url: string;
  readonly wsUrl: string;
  readonly hits: ReadonlyMap<string, number>;
  /** User-Agent headers seen. */
  readonly userAgents: ReadonlySet<string>;
  close(): Promise<void>;
}

const LAUNCHES = [
  { flight_number: 54, mission_name: 'Iridium', rocket: { rocket_id: 'falcon9', rocket_name: 'Falcon 9' } },
  { flight_number: 55, mission_name: 'Falcon Heavy Test', rocket: { rocket_id: 'falconheavy', rocket_name: 'Falcon Heavy' } },
  { flight_number: 56, mission_name: 'GovSat-1', rocket: { rocket_id: 'falcon9', rocket_name: 'Falcon 9' } },
];

/** A zstd frame holding `data` in one raw (stored) block: valid zstd without a compressor (Node 20 has none). */
export function zstdStored(data: Buffer): Buffer {
  if (data.length > 255) throw new Error('zstdStored: keep test bodies under 256 bytes');
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, data.length]);
  const block = 1 | (data.length << 3);
  return Buffer.concat([header, Buffer.from([block & 0xff, (block >> 8) & 0xff, (block >> 16) & 0xff]), data]);
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function parseCookies(h: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (h ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function decodeBody(buf: Buffer, encoding: string | undefined): Buffer {
  let out = buf;
  for (const c of (encoding ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
    .reverse()) {
    if (c === 'gzip') out = gunzipSync(out);
    else if (c === 'deflate') out = inflateSync(out);
    else if (c === 'br') out = brotliDecompressSync(out);
  }
  return out;
}

export async function startExamplesServer(): Promise<ExamplesServer> {
  const hits = new Map<string, number>();
  const userAgents = new Set<string>();
  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const u = new URL(req.url ?? '/', 'http://x');
    const path = u.pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (req.headers['user-agent'] !== undefined) userAgents.add(req.headers['user-agent']);
    const args = Object.fromEntries(u.searchParams);
    if (['/get', '/anything', '/post', '/put', '/patch', '/delete'].includes(path)) {
      const text = body.toString('utf8');
      const type = req.headers['content-type'] ?? '';
      let json: unknown = null;
      let form: Record<string, string> = {};
      if (type.includes('application/json')) {
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
      }
      if (type.includes('application/x-www-form-urlencoded')) form = Object.fromEntries(new URLSearchParams(text));
      const files = type.includes('multipart/form-data') ? [...text.matchAll(/filename="([^"]*)"/g)].map((m) => m[1]) : [];
      send(
        res,
        200,
        JSON.stringify({
          method: req.method,
          args,
          headers: req.headers,
          data: text,
          json,
          form,
          files,
          url: `http://${String(req.headers.host)}${req.url ?? ''}`,
        }),
      );
      return;
    }
    let m = /^\/status\/(\d+)$/.exec(path);
    if (m !== null) {
      send(res, Number(m[1]), '');
      return;
    }
    m = /^\/redirect\/(\d+)$/.exec(path);
    if (m !== null) {
      const n = Number(m[1]);
      res.writeHead(302, { location: n <= 1 ? '/get' : `/redirect/${String(n - 1)}`, 'content-length': 0 });
      res.end();
      return;
    }
    if (path === '/cookies') {
      send(res, 200, JSON.stringify({ cookies: parseCookies(req.headers.cookie) }));
      return;
    }
    if (path === '/cookies/set') {
      res.writeHead(302, {
        location: '/cookies',
        'set-cookie': Object.entries(args).map(([k, v]) => `${k}=${v}; Path=/`),
        'content-length': 0,
      });
      res.end();
      return;
    }
    m = /^\/delay\/(\d+)$/.exec(path);
    if (m !== null) {
      setTimeout(() => {
        send(res, 200, '{"delayed":true}');
      }, Number(m[1]));
      return;
    }
    if (path === '/json') {
      send(res, 200, JSON.stringify(LAUNCHES));
      return;
    }
    if (path === '/gzip') {
      send(res, 200, gzipSync(Buffer.from('{"gzipped":true}')), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return;
    }
    if (path === '/zstd') {
      send(res, 200, zstdStored(Buffer.from('{"zstd":true}')), { 'content-type': 'application/json', 'content-encoding': 'zstd' });
      return;
    }
    if (path === '/html') {
      send(
        res,
        200,
        '<html><head><title>Test page</title></head><body><h1>Welcome</h1><a href="/get?x=1">one</a><a href="/get?x=2">two</a>' +
          '<form action="/anything" method="POST"><input name="login" value="admin"><input name="csrf" value="tok123"></form></body></html>',
        { 'content-type': 'text/html' },
      );
      return;
    }
    if (path === '/echo-encoding') {
      send(
        res,
        200,
        JSON.stringify({
          encoding: req.headers['content-encoding'] ?? '',
          length: body.length,
          body: decodeBody(body, req.headers['content-encoding']).toString('utf8'),
        }),
      );
      return;
    }
    send(res, 404, '{"error":"not found"}');
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : '';
      if (!isBinary && text === 'close') {
        ws.close(1000);
        return;
      }
      if (!isBinary && text === 'ping-me') {
        ws.ping('srv');
        return;
      }
      ws.send(data, { binary: isBinary });
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${String(port)}`,
    wsUrl: `ws://127.0.0.1:${String(port)}/ws`,
    hits,
    userAgents,
    close: () => closeHttpAndWs(server, wss),
  };
}
