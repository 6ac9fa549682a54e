/**
 * A loopback TCP proxy between the platform and its broker, for network partitions.
 *
 * - `open`: bytes flow both ways.
 * - `blackhole`: connections stay open but every byte, either way, is read and dropped (a partition
 *   the peers only notice by silence: heartbeats, timeouts); new connections are accepted and get
 *   nothing. When it heals, those connections are cut: their streams lost data and cannot resume.
 * - `cut`: every connection is reset now, and new ones are refused, until it heals.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type PartitionMode = 'blackhole' | 'cut';
export type ProxyState = 'open' | PartitionMode;

export interface ProxyCounts {
  connections: number;
  open: number;
  bytesForwarded: number;
  bytesDropped: number;
  refused: number;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  blackholed: boolean;
}

export class PartitionProxy {
  private readonly server: Server;
  private readonly pairs = new Set<Pair>();
  private mode: ProxyState = 'open';
  private healTimer: NodeJS.Timeout | undefined;
  readonly counts: ProxyCounts = { connections: 0, open: 0, bytesForwarded: 0, bytesDropped: 0, refused: 0 };
  port = 0;

  constructor(private readonly upstream: { host: string; port: number }) {
    this.server = createServer((client) => {
      this.accept(client);
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        const a = this.server.address();
        this.port = typeof a === 'object' && a !== null ? a.port : 0;
        resolve(this.port);
      });
    });
  }

  state(): ProxyState {
    return this.mode;
  }

  private accept(client: Socket): void {
    this.counts.connections += 1;
    if (this.mode === 'cut') {
      this.counts.refused += 1;
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(this.upstream);
    const pair: Pair = { client, upstream, blackholed: this.mode === 'blackhole' };
    this.pairs.add(pair);
    this.counts.open = this.pairs.size;
    const relay = (from: Socket, to: Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.mode !== 'open' || pair.blackholed) {
          this.counts.bytesDropped += chunk.length;
          return;
        }
        this.counts.bytesForwarded += chunk.length;
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            from.resume();
          });
        }
      });
    };
    relay(client, upstream);
    relay(upstream, client);
    const end = (): void => {
      if (!this.pairs.delete(pair)) return;
      this.counts.open = this.pairs.size;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  }

  /** Starts a partition; `durationMs` > 0 heals it by itself after that long. */
  partition(mode: PartitionMode, durationMs: number, onHealed?: () => void): void {
    clearTimeout(this.healTimer);
    this.mode = mode;
    if (mode === 'cut') {
      for (const p of this.pairs) {
        p.client.resetAndDestroy();
        p.upstream.resetAndDestroy();
      }
    } else {
      for (const p of this.pairs) p.blackholed = true;
    }
    if (durationMs > 0) {
      this.healTimer = setTimeout(() => {
        this.heal();
        onHealed?.();
      }, durationMs);
    }
  }

  /** Ends the partition: connections that lived through a black hole are cut (their streams lost bytes). */
  heal(): void {
    clearTimeout(this.healTimer);
    this.healTimer = undefined;
    this.mode = 'open';
    for (const p of this.pairs) {
      if (!p.blackholed) continue;
      p.client.resetAndDestroy();
      p.upstream.resetAndDestroy();
    }
  }

  close(): Promise<void> {
    clearTimeout(this.healTimer);
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
