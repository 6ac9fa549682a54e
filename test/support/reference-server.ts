/**
 * The loopback server the k6 reference outputs were recorded against: /health, /api/agents
 * (5 agents), /slow (100 ms), /err (500), POST /echo, WS /ws echo. Listens on 127.0.0.1 port 0.
 * `down()` gives a URL where nothing listens (for "target is down" tests).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeHttpAndWs, listenOnLoopback } from './loopback.ts';
import { createServer as createNetServer } from 'node:net';
import { WebSocketServer } from 'ws';
import { after, before } from 'node:test';

export interface ReferenceServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Requests served so far, per path. */
  readonly hits: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

const AGENTS = Array.from({ length: 5 }, (_, i) => ({ id: `agent-${String(i + 1)}`, name: `Agent ${String(i + 1)}`, status: 'ready' }));

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startReferenceServer(): Promise<ReferenceServer> {
  const hits = new Map<string, number>();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/health') {
      send(res, 200, '{"status":"ok"}');
      return;
    }
    if (path === '/api/agents') {
      send(res, 200, JSON.stringify(AGENTS));
      return;
    }
    if (path === '/slow') {
      setTimeout(() => {
        send(res, 200, '{"slow":true}');
      }, 100);
      return;
    }
    if (path === '/err') {
      send(res, 500, '{"error":"internal"}');
      return;
    }
    if (path === '/echo' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        send(res, 200, Buffer.concat(chunks).toString('utf8'), req.headers['content-type'] ?? 'application/octet-stream');
      });
      return;
    }
    if (path === '/redirect') {
      res.writeHead(302, { location: '/health', 'content-length': 0 });
      res.end();
      return;
    }
    send(res, 404, '{"error":"not found"}');
  };
  const server = createServer(handle);
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    ws.send('{"hello":true}');
    ws.on('message', (data, isBinary) => {
      ws.send(data, { binary: isBinary });
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    hits,
    close: () => closeHttpAndWs(server, wss),
  };
}

/** A loopback URL where nothing listens (a port that was free a moment ago). */
export async function downUrl(): Promise<string> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  await new Promise<void>((r) =>
    srv.close(() => {
      r();
    }),
  );
  return `http://127.0.0.1:${String(port)}`;
}

/**
 * The reference server of one test file: started before its first test and closed after its last, then
 * `cleanup` runs (a project folder's removal). Its fields are read inside tests, once it is up.
 */
export function referenceServerPerFile(cleanup?: () => void): ReferenceServer {
  let server: ReferenceServer | undefined;
  const up = (): ReferenceServer => {
    if (server === undefined) throw new Error('the reference server starts in before(): read it inside a test');
    return server;
  };
  before(async () => {
    server = await startReferenceServer();
  });
  after(async () => {
    await server?.close();
    cleanup?.();
  });
  return {
    get url() {
      return up().url;
    },
    get port() {
      return up().port;
    },
    get hits() {
      return up().hits;
    },
    close: () => up().close(),
  };
}
