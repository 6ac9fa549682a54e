/**
 * WebSocket hub on the HTTP server's `upgrade` event: `/ws/broadcast` (fan-out with server time and
 * sequence), `/ws/bus` (bus subscriptions) and `/ws/monitor` (snapshots and live events).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { TOPICS, isTopic, type BusAdapter, type Subscription, type Topic } from './bus.ts';

export type Endpoint = 'broadcast' | 'bus' | 'monitor';

export interface BroadcastResult {
  seq: number;
  serverTime: number;
  recipients: number;
}

export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  private readonly channels = new Map<string, { seq: number; clients: Set<WebSocket> }>();
  private readonly monitors = new Set<WebSocket>();
  private readonly busClients = new Set<WebSocket>();
  private monitorSeq = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

  constructor(
    private readonly server: Server,
    private readonly bus: BusAdapter,
    private readonly snapshot: () => Record<string, unknown>,
    monitorIntervalMs: number,
  ) {
    this.onUpgrade = (req, socket, head) => {
      this.upgrade(req, socket, head);
    };
    server.on('upgrade', this.onUpgrade);
    this.timer = setInterval(() => {
      if (this.monitors.size > 0) this.monitorSend({ type: 'snapshot', ...this.snapshot() });
    }, monitorIntervalMs);
    this.timer.unref();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path !== '/ws/broadcast' && path !== '/ws/bus' && path !== '/ws/monitor') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (path === '/ws/broadcast') this.joinBroadcast(ws, url.searchParams.get('channel') ?? 'default');
      else if (path === '/ws/bus') this.joinBus(ws, url.searchParams.getAll('topic'));
      else this.joinMonitor(ws);
    });
  }

  private channel(name: string): { seq: number; clients: Set<WebSocket> } {
    let c = this.channels.get(name);
    if (c === undefined) {
      c = { seq: 0, clients: new Set() };
      this.channels.set(name, c);
    }
    return c;
  }

  private joinBroadcast(ws: WebSocket, name: string): void {
    const c = this.channel(name);
    c.clients.add(ws);
    ws.on('close', () => c.clients.delete(ws));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ type: 'welcome', channel: name, serverTime: Date.now(), subscribers: c.clients.size }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse((Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8'));
      } catch {
        ws.send(
          JSON.stringify({
            type: 'error',
            code: 'WS_BAD_JSON',
            error: 'messages must be JSON text like {"type":"broadcast","payload":...}',
          }),
        );
        return;
      }
      const m = typeof msg === 'object' && msg !== null ? (msg as Record<string, unknown>) : {};
      if (m.type === 'broadcast') this.broadcast(name, m.payload ?? null);
      else if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong', id: m.id ?? null, serverTime: Date.now() }));
      else
        ws.send(
          JSON.stringify({
            type: 'error',
            code: 'WS_UNKNOWN_TYPE',
            error: `unknown message type ${JSON.stringify(m.type)}: use broadcast or ping`,
          }),
        );
    });
  }

  /** Sends one message to every subscriber of `channel`. The JSON is encoded once. */
  broadcast(channel: string, payload: unknown): BroadcastResult {
    const c = this.channel(channel);
    c.seq += 1;
    const serverTime = Date.now();
    const text = JSON.stringify({ type: 'broadcast', channel, seq: c.seq, serverTime, payload });
    let recipients = 0;
    for (const ws of c.clients) {
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(text);
        recipients += 1;
      }
    }
    return { seq: c.seq, serverTime, recipients };
  }

  private joinBus(ws: WebSocket, topics: string[]): void {
    const bad = topics.filter((t) => !isTopic(t));
    if (bad.length > 0) {
      ws.close(1008, `unknown topic ${bad[0] ?? ''}: use ${TOPICS.join(', ')}`.slice(0, 120));
      return;
    }
    const chosen: readonly Topic[] = topics.length > 0 ? (topics as Topic[]) : TOPICS;
    this.busClients.add(ws);
    const subs: Subscription[] = chosen.map((topic) =>
      this.bus.subscribe(topic, (m) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.send(
          JSON.stringify({
            type: 'message',
            topic: m.topic,
            id: m.id,
            seq: m.seq,
            publishedAt: m.publishedAt,
            deliveredAt: Date.now(),
            key: m.key,
            payload: m.payload,
          }),
        );
      }),
    );
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.busClients.delete(ws);
      for (const s of subs) s.close();
    });
  }

  private joinMonitor(ws: WebSocket): void {
    this.monitors.add(ws);
    ws.on('error', () => undefined);
    ws.on('close', () => this.monitors.delete(ws));
    this.monitorSeq += 1;
    ws.send(JSON.stringify({ type: 'snapshot', seq: this.monitorSeq, serverTime: Date.now(), ...this.snapshot() }));
  }

  /** Sends an event (`{type, ...}`) to every monitor client, stamped with seq and serverTime. */
  monitorSend(event: Record<string, unknown>): void {
    if (this.monitors.size === 0) return;
    this.monitorSeq += 1;
    const text = JSON.stringify({ ...event, seq: this.monitorSeq, serverTime: Date.now() });
    for (const ws of this.monitors) if (ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  clients(): Record<Endpoint, number> {
    let broadcast = 0;
    for (const c of this.channels.values()) broadcast += c.clients.size;
    return { broadcast, bus: this.busClients.size, monitor: this.monitors.size };
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    this.server.off('upgrade', this.onUpgrade);
    // Close frames first (1001 going away), then cut whoever has not answered within 500 ms.
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
    return new Promise((resolve) => {
      const cut = setTimeout(() => {
        for (const ws of this.wss.clients) ws.terminate();
      }, 500);
      this.wss.close(() => {
        clearTimeout(cut);
        resolve();
      });
    });
  }
}
