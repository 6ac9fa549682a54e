/** Prometheus metrics of one target instance (its own registry, so several targets can share a process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TopicStats } from './bus.ts';
import type { PoolStats } from './db/db.ts';

export interface MetricSources {
  bus(): TopicStats[];
  agents(): Record<string, number>;
  tasks(): Record<string, number>;
  pool(): PoolStats;
  queries(): number;
  dialect: string;
  leakedBytes(): number;
  wsClients(): Record<string, number>;
}

export class TargetMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly slackReplies: Counter<'result'>;

  constructor(src: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.httpRequests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.slackReplies = new Counter({
      name: 'slack_replies_total',
      help: 'chat.postMessage replies by result (sent, failed, skipped)',
      labelNames: ['result'],
      registers,
    });

    const perTopic = (name: string, help: string, pick: (s: TopicStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['topic'],
        registers,
        collect() {
          for (const s of src.bus()) this.set({ topic: s.topic }, pick(s));
        },
      });
    };
    perTopic('bus_published_total', 'Messages published per topic', (s) => s.published);
    perTopic('bus_delivered_total', 'Messages delivered to consumers per topic', (s) => s.delivered);
    perTopic('bus_dropped_total', 'Messages dropped by the drop knob per topic', (s) => s.dropped);
    perTopic('bus_duplicated_total', 'Messages duplicated by the duplicate knob per topic', (s) => s.duplicated);
    perTopic('bus_queue_depth', 'Messages waiting in the fullest consumer queue per topic', (s) => s.depth);
    perTopic('bus_consumer_lag_seconds', 'Age of the oldest waiting message per topic', (s) => s.lagMs / 1000);
    perTopic('bus_consumers', 'Subscriptions per topic', (s) => s.consumers);

    new Gauge({
      name: 'agents',
      help: 'Agents by state',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [k, v] of Object.entries(src.agents())) this.set({ state: k }, v);
      },
    });
    new Gauge({
      name: 'tasks',
      help: 'Tasks by state',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [k, v] of Object.entries(src.tasks())) this.set({ state: k }, v);
      },
    });
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state (total, idle, waiting)',
      labelNames: ['state'],
      registers,
      collect() {
        const p = src.pool();
        this.set({ state: 'total' }, p.total);
        this.set({ state: 'idle' }, p.idle);
        this.set({ state: 'waiting' }, p.waiting);
      },
    });
    new Gauge({
      name: 'db_pool_errors_total',
      help: 'Database operations that got no pooled connection within DB_POOL_TIMEOUT_MS',
      registers,
      collect() {
        this.set(src.pool().errors);
      },
    });
    new Gauge({
      name: 'db_queries_total',
      help: 'Database statements run',
      labelNames: ['dialect'],
      registers,
      collect() {
        this.set({ dialect: src.dialect }, src.queries());
      },
    });
    new Gauge({
      name: 'target_leaked_bytes',
      help: 'Bytes retained by the memory-leak fault knob',
      registers,
      collect() {
        this.set(src.leakedBytes());
      },
    });
    new Gauge({
      name: 'ws_clients',
      help: 'Open WebSocket clients by endpoint',
      labelNames: ['endpoint'],
      registers,
      collect() {
        for (const [k, v] of Object.entries(src.wsClients())) this.set({ endpoint: k }, v);
      },
    });
  }
}
