/**
 * The loopback balancer in front of the API instances: round robin over the healthy ones, HTTP and
 * WebSocket upgrades, per-instance request counts. A request whose instance refuses the connection (it
 * just died) is sent to the next one, as nginx's `proxy_next_upstream error` does — nothing was sent, so
 * that is safe for any method; once a request reached an instance it is never sent twice.
 *
 * `/admin/cluster` (loopback clients only) shows and changes the cluster: list, add, kill/crash. Knob
 * changes (`PUT|DELETE /admin/faults`, `POST /admin/leak/release`) go to every process.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { TargetError } from '../errors.ts';
import { toError } from '../../shared/errors.ts';
import type { Supervisor } from './supervisor.ts';

/** Bodies up to this size are buffered, so a refused connection can be retried on another instance. */
const RETRY_BODY_LIMIT = 1024 * 1024;
const BROADCAST = new Set(['PUT /admin/faults', 'DELETE /admin/faults', 'POST /admin/leak/release']);

type Backend = ReturnType<Supervisor['backends']>[number];

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function isConnectError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}

export class Balancer {
  readonly server: Server;
  private next = 0;

  constructor(private readonly sup: Supervisor) {
    this.server = createServer((req, res) => {
      void this.onRequest(req, res);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.onUpgrade(req, socket, head);
    });
    this.server.keepAliveTimeout = 5000;
  }

  private pick(skip: ReadonlySet<string>): Backend | undefined {
    const pool = this.sup.backends().filter((b) => !skip.has(b.id));
    if (pool.length === 0) return undefined;
    const b = pool[this.next % pool.length];
    this.next = (this.next + 1) % 1_000_000;
    return b;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (path === '/admin/cluster' || path.startsWith('/admin/cluster/')) {
        await this.admin(req, res, path);
        return;
      }
      if (BROADCAST.has(`${req.method ?? ''} ${path}`)) {
        await this.broadcast(req, res);
        return;
      }
      await this.proxy(req, res);
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof TargetError) sendJson(res, e.statusCode, { error: e.message, code: e.code });
      else sendJson(res, 502, { error: `balancer: ${toError(e).message}`, code: 'BALANCER_ERROR' });
    }
  }

  private async proxy(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, RETRY_BODY_LIMIT);
    const tried = new Set<string>();
    for (;;) {
      const b = this.pick(tried);
      if (b === undefined) {
        throw new TargetError(
          503,
          'NO_HEALTHY_INSTANCE',
          `no healthy API instance to take ${req.method ?? ''} ${req.url ?? ''} (tried ${tried.size})`,
        );
      }
      tried.add(b.id);
      try {
        await this.forward(req, res, b, body);
        return;
      } catch (e) {
        // Without health checks the balancer is a static list: no retry either (TARGET_BALANCER_HEALTH=off).
        if (!(e instanceof RefusedError) || body === undefined || !this.sup.healthChecks()) {
          throw e instanceof RefusedError
            ? new TargetError(502, 'BAD_GATEWAY', `instance ${b.id} refused the connection: ${e.message}`)
            : e;
        }
        this.sup.markDown(b); // refused: it is gone; try the next one
      }
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse, b: Backend, body: Buffer | undefined): Promise<void> {
    const url = new URL(b.url ?? '');
    return new Promise<void>((resolve, reject) => {
      b.inflight += 1;
      b.requests += 1;
      let settled = false;
      const done = (e?: Error): void => {
        if (settled) return;
        settled = true;
        b.inflight -= 1;
        if (e === undefined) resolve();
        else reject(e);
      };
      const headers = { ...req.headers, host: url.host, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
      if (body !== undefined) {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(body.length);
      }
      let clientGone = false;
      const out = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
        up.pipe(res);
        up.on('error', () => {
          res.destroy();
        });
      });
      let connected = false;
      out.on('socket', (s: Socket) => {
        if (!s.connecting) connected = true;
        else
          s.once('connect', () => {
            connected = true;
          });
      });
      out.on('error', (e) => {
        if (!connected && isConnectError(e)) {
          b.requests -= 1; // it never got there
          done(new RefusedError(toError(e).message));
          return;
        }
        if (clientGone) return; // the client left; the instance is not to blame
        b.proxyErrors += 1;
        this.sup.markDown(b);
        if (!res.headersSent) sendJson(res, 502, { error: `instance ${b.id} failed: ${toError(e).message}`, code: 'BAD_GATEWAY' });
        else res.destroy();
      });
      // The exchange is over when our response to the client is (sent or cut).
      res.on('close', () => {
        if (!res.writableFinished) {
          clientGone = !res.headersSent || !res.writableEnded;
          out.destroy();
        }
        done();
      });
      if (body !== undefined) out.end(body);
      else req.pipe(out);
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const b = this.pick(new Set());
    if (b === undefined) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const url = new URL(b.url ?? '');
    const up = netConnect({ host: url.hostname, port: Number(url.port) });
    b.requests += 1;
    up.on('connect', () => {
      const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i] ?? ''}: ${req.rawHeaders[i + 1] ?? ''}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => {
      socket.destroy();
    });
    socket.on('error', () => {
      up.destroy();
    });
    socket.on('close', () => {
      up.destroy();
    });
    up.on('close', () => {
      socket.destroy();
    });
  }

  private async broadcast(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress))
      throw new TargetError(403, 'ADMIN_LOOPBACK_ONLY', 'admin routes answer loopback clients only');
    const body = (await readBody(req, RETRY_BODY_LIMIT)) ?? Buffer.alloc(0);
    const nodes = this.sup.live();
    const answers = await Promise.all(
      nodes.map(async (n) => {
        const r = await fetch(`${n.url ?? ''}${req.url ?? ''}`, {
          method: req.method ?? 'GET',
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(body.length > 0 ? { body } : {}),
        });
        return { status: r.status, text: await r.text() };
      }),
    );
    const first = answers.find((a) => a.status >= 400) ?? answers[0];
    if (first === undefined) throw new TargetError(503, 'NO_HEALTHY_INSTANCE', 'no process to send the change to');
    res.writeHead(first.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(first.text);
  }

  private async admin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress))
      throw new TargetError(403, 'ADMIN_LOOPBACK_ONLY', 'admin routes answer loopback clients only');
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/admin/cluster') {
      sendJson(res, 200, { instances: this.sup.list() });
      return;
    }
    const raw = (await readBody(req, 64 * 1024)) ?? Buffer.alloc(0);
    let body: Record<string, unknown> = {};
    if (raw.length > 0) {
      try {
        const v: unknown = JSON.parse(raw.toString('utf8'));
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) body = v as Record<string, unknown>;
      } catch {
        throw new TargetError(400, 'CLUSTER_INVALID', 'admin body must be JSON');
      }
    }
    if (method === 'POST' && path === '/admin/cluster/instances') {
      const role = body.role ?? 'api';
      if (role !== 'api' && role !== 'worker')
        throw new TargetError(400, 'CLUSTER_INVALID', `role must be api or worker, got ${JSON.stringify(role)}`);
      sendJson(res, 201, await this.sup.add(role));
      return;
    }
    const kill = /^\/admin\/cluster\/instances\/([^/]+)\/kill$/.exec(path);
    if (method === 'POST' && kill?.[1] !== undefined) {
      const signal = body.signal ?? 'SIGKILL';
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM')
        throw new TargetError(400, 'CLUSTER_INVALID', `signal must be SIGKILL or SIGTERM, got ${JSON.stringify(signal)}`);
      const when = body.when ?? 'now';
      if (when !== 'now' && when !== 'mid-message' && when !== 'in-flight')
        throw new TargetError(400, 'CLUSTER_INVALID', `when must be now, mid-message or in-flight, got ${JSON.stringify(when)}`);
      const restart = body.restart ?? false;
      if (typeof restart !== 'boolean')
        throw new TargetError(400, 'CLUSTER_INVALID', `restart must be true or false, got ${JSON.stringify(restart)}`);
      sendJson(res, 200, await this.sup.kill(decodeURIComponent(kill[1]), { signal, restart, when }));
      return;
    }
    throw new TargetError(
      404,
      'NOT_FOUND',
      `no admin route ${method} ${path}: GET /admin/cluster, POST /admin/cluster/instances, POST /admin/cluster/instances/:id/kill`,
    );
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        resolve(typeof a === 'object' && a !== null ? a.port : port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => {
        resolve();
      });
    });
  }
}

class RefusedError extends Error {}
