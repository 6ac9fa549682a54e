/** Assembles the platform: database, bus, agents, tasks, Slack, LLM, WebSockets, metrics and routes. */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AgentManager } from './agents.ts';
import { TOPICS, isTopic, type BusAdapter, type BusMessage } from './bus.ts';
import { DeliveryLog } from './bus/delivery-log.ts';
import { registerBusRoutes } from './bus/routes.ts';
import { createBus, readBusConfig } from './bus/select.ts';
import { readNodeConfig, runsWorkerConsumers } from './cluster/node.ts';
import { mergeKnobs, readConfig, type Env, type Knobs, type TargetConfig } from './config.ts';
import { openDb, type Db } from './db/db.ts';
import { TargetError, sleep, toError } from './errors.ts';
import { MODEL_ID, ModelServer, completionId, parseChat, parseGenerate, rateLimitBody, tokens } from './llm.ts';
import { TargetMetrics } from './metrics.ts';
import { readFeatureConfig, registerFeatures } from './plugins.ts';
import { SlackBridge, verifySlackRequest } from './slack.ts';
import { Store, NODE_KINDS } from './store.ts';
import { TaskEngine, parseTaskRequest } from './tasks.ts';
import { WsHub } from './ws.ts';

export interface PlatformOptions { env: Env; logger: boolean | Record<string, unknown> }

export interface Platform {
  app: FastifyInstance;
  config: TargetConfig;
  db: Db;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (LOOPBACK.has(address) || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/** A Host header naming loopback: localhost, 127.x.x.x or [::1], with or without a port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  const h = name.toLowerCase();
  return h === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '[::1]';
}

/** Deepest JSON nesting the platform parses (a body nested thousands deep would exhaust the parser's stack). */
export const MAX_JSON_DEPTH = 64;

/** How deep `text` nests arrays and objects (brackets inside strings do not count); stops counting past the limit. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth++;
      if (depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 93 || c === 125) depth--;
  }
  return max;
}

/** Routes the fault knobs never touch. */
function exempt(url: string): boolean {
  return url.startsWith('/admin/') || url === '/metrics';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function queryInt(q: Record<string, string | undefined>, key: string, def: number, min: number, max: number): number {
  const v = q[key];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new TargetError(400, 'BAD_QUERY', `query parameter ${key} must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

type Query = Record<string, string | undefined>;

async function drain(stream: Readable): Promise<void> {
  for await (const chunk of stream) if (chunk === undefined) break;
}
type Params = Record<string, string>;

export async function buildPlatform(o: PlatformOptions): Promise<Platform> {
  const config = readConfig(o.env);
  const featureConfig = readFeatureConfig(o.env);
  const busConfig = readBusConfig(o.env);
  const node = readNodeConfig(o.env);
  const initialKnobs: Readonly<Knobs> = config.knobs;
  let knobs: Knobs = { ...initialKnobs };
  const getKnobs = (): Knobs => knobs;

  const app = Fastify({
    logger: o.logger === false ? false : {
      level: o.env.TARGET_LOG !== undefined && /^(trace|debug|info|warn|error|fatal)$/.test(o.env.TARGET_LOG) ? o.env.TARGET_LOG : 'info',
      ...(o.logger === true ? {} : o.logger),
      redact: { paths: ['req.headers.authorization', 'req.headers["x-slack-signature"]'], censor: '***' },
    },
    forceCloseConnections: true,
    bodyLimit: 4 * 1024 * 1024,
    // Errors Fastify raises before routing (a malformed URL, an over-long path parameter) in the platform's
    // own {error, code} shape, without echoing the URL back.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply.code(tooLong ? 414 : 400).send(tooLong
        ? { error: 'a path parameter is longer than 100 characters: shorten it', code: 'URI_TOO_LONG' }
        : { error: 'the URL is malformed (a %-escape is not valid): encode the path properly', code: 'BAD_URL' });
    },
  });
  // Bodies are JSON only (plus the Slack and artifact routes' own parsers below): a text/plain or form POST,
  // which a browser sends cross-site without a CORS preflight, gets 415 instead of reaching a route.
  app.removeContentTypeParser('text/plain');
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepth(text) > MAX_JSON_DEPTH) {
      done(new TargetError(400, 'BODY_TOO_DEEP', `JSON body nests deeper than ${String(MAX_JSON_DEPTH)} levels: flatten it`), undefined);
      return;
    }
    void defaultJson(req, text, done);
  });
  const logError = (e: unknown): void => { app.log.error({ err: toError(e).message }, 'background error'); };

  const db = await openDb({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, poolMax: config.dbPoolMax, poolTimeoutMs: config.dbPoolTimeoutMs });
  const store = new Store(db);
  await store.seed({ seed: config.seed, agents: config.seedAgents, knowledgeNodes: config.seedKnowledgeNodes });

  let bus: BusAdapter;
  try {
    bus = await createBus(busConfig, {
      faults: getKnobs, db,
      onError: (e, m?: BusMessage) => { app.log.error({ err: toError(e).message, topic: m?.topic, seq: m?.seq }, 'bus consumer failed'); },
      onState: (state, detail) => { app.log.warn({ state, detail }, 'RabbitMQ bus connection'); },
    });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  const deliveryLog = new DeliveryLog(db, bus, busConfig.deliveryLog, node.id);
  deliveryLog.start(runsWorkerConsumers(node.role));
  // eslint-disable-next-line prefer-const -- assigned once the server exists; closures above read it
  let hub: WsHub | undefined;
  const leak: Buffer[] = [];
  let leakedBytes = 0;

  // eslint-disable-next-line prefer-const -- assigned after the task engine that needs it
  let agents: AgentManager;
  const tasks = new TaskEngine(store, bus, () => agents, getKnobs,
    { workMs: config.taskWorkMs, collaborativeAgents: config.collaborativeAgents, continuousIterations: config.continuousIterations },
    (t) => hub?.monitorSend({ type: 'task', id: t.id, status: t.status, mode: t.mode }));
  await tasks.init();
  agents = new AgentManager(store, bus, getKnobs, config.agentMemoryBytes, (a, m) => tasks.handle(a, m),
    (a) => hub?.monitorSend({ type: 'agent', id: a.id, status: a.status }), logError);

  const metrics = new TargetMetrics({
    bus: () => bus.stats(),
    agents: () => agents.counts(),
    tasks: () => tasks.stateCounts(),
    pool: () => db.pool(),
    queries: () => db.queries(),
    dialect: db.dialect.name,
    leakedBytes: () => leakedBytes,
    wsClients: () => hub?.clients() ?? { broadcast: 0, bus: 0, monitor: 0 },
  });
  const slack = new SlackBridge({ apiUrl: config.slackApiUrl, botToken: config.slackBotToken }, bus, tasks, getKnobs,
    (r) => metrics.slackReplies.inc({ result: r }), logError);

  const startedAt = Date.now();
  const snapshot = (): Record<string, unknown> => {
    const mem = process.memoryUsage();
    return { agents: agents.counts(), tasks: tasks.stateCounts(), bus: bus.stats(), memory: { rss: mem.rss, heapUsed: mem.heapUsed } };
  };

  // ---- fault knobs and request metrics ----
  app.addHook('onRequest', async (req, reply) => {
    const url = req.url.split('?')[0] ?? req.url;
    if (exempt(url)) return;
    const k = knobs;
    if (k.leakBytesPerRequest > 0) {
      leak.push(Buffer.alloc(k.leakBytesPerRequest, 0xa5));
      leakedBytes += k.leakBytesPerRequest;
    }
    const route = req.routeOptions.url ?? url;
    const key = `${req.method} ${route}`;
    const lat = k.routeLatency[key] ?? k.routeLatency[route] ?? { ms: k.latencyMs, jitterMs: k.latencyJitterMs };
    const delay = lat.ms + Math.random() * lat.jitterMs;
    if (delay > 0) await sleep(delay);
    const rate = k.routeErrorRate[key] ?? k.routeErrorRate[route] ?? k.errorRate;
    if (rate > 0 && Math.random() < rate) {
      await reply.code(503).send({ error: `injected fault on ${key} (knob errorRate ${rate})`, code: 'FAULT_INJECTED' });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const labels = { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    await Promise.resolve();
  });

  app.setErrorHandler(async (err: unknown, _req: FastifyRequest, reply) => {
    if (err instanceof TargetError) return reply.code(err.statusCode).send({ error: err.message, code: err.code });
    const e = toError(err) as Error & { statusCode?: number; code?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500) app.log.error({ err: e.message }, 'request failed');
    if (status === 415) {
      return reply.code(415).send({ error: `send the body as application/json (got ${JSON.stringify(_req.headers['content-type'] ?? 'no content-type')})`, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    const code = status === 413 ? 'BODY_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : e.message, code });
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0] ?? ''}: see docs/target.md`, code: 'NOT_FOUND' }));

  // ---- health, metrics, admin ----
  app.get('/health', () => {
    const c = agents.counts();
    return { status: 'ok', uptimeMs: Date.now() - startedAt, db: db.dialect.name, agents: { healthy: c.healthy, total: Object.values(c).reduce((a, b) => a + b, 0) }, node };
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  const adminOnly = async (req: FastifyRequest): Promise<void> => {
    if (!isLoopback(req.socket.remoteAddress)) {
      throw new TargetError(403, 'ADMIN_LOOPBACK_ONLY', `admin routes answer loopback clients only, not ${req.socket.remoteAddress ?? 'unknown'}`);
    }
    // A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) reaches a loopback socket
    // too, but its requests carry that site's name in Host: only loopback names are taken.
    if (!isLoopbackHostHeader(req.headers.host)) {
      throw new TargetError(403, 'ADMIN_HOST_NOT_LOOPBACK', 'admin routes answer requests addressed to localhost, 127.0.0.1 or [::1] only: use http://127.0.0.1:PORT/admin/...');
    }
    await Promise.resolve();
  };
  app.get('/admin/faults', { onRequest: adminOnly }, () => knobs);
  app.put('/admin/faults', { onRequest: adminOnly }, (req) => {
    knobs = mergeKnobs(knobs, req.body);
    app.log.info({ knobs }, 'fault knobs changed');
    return knobs;
  });
  app.delete('/admin/faults', { onRequest: adminOnly }, () => {
    knobs = { ...initialKnobs };
    return knobs;
  });
  registerBusRoutes(app, { bus, log: deliveryLog, node, busKind: busConfig.amqpUrl === undefined ? 'in-process' : 'rabbitmq', adminOnly });
  app.post('/admin/leak/release', { onRequest: adminOnly }, () => {
    const releasedBytes = leakedBytes;
    leak.length = 0;
    leakedBytes = 0;
    return { releasedBytes };
  });

  // ---- agents ----
  app.get('/api/agents', async (req) => {
    const q = req.query as Query;
    return store.listAgents({ limit: queryInt(q, 'limit', 100, 1, 1000), offset: queryInt(q, 'offset', 0, 0, 1e9), status: q.status });
  });
  app.post('/api/agents', async (req, reply) => {
    const b = isRecord(req.body) ? req.body : {};
    const count = b.count ?? 1;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 500) {
      throw new TargetError(400, 'AGENT_INVALID', `agent count must be an integer in 1..500, got ${JSON.stringify(count)}`);
    }
    const role = typeof b.role === 'string' ? b.role : undefined;
    const prefix = typeof b.namePrefix === 'string' ? b.namePrefix : undefined;
    const created = await agents.spawn(count, role, prefix);
    return reply.code(201).send({ agents: created });
  });
  app.get('/api/agents/:id/status', (req) => agents.status((req.params as Params).id ?? ''));
  app.get('/api/agents/:id/logs', async (req) => {
    const id = (req.params as Params).id ?? '';
    if (!agents.has(id)) throw new TargetError(404, 'AGENT_NOT_FOUND', `agent ${JSON.stringify(id)} does not exist: list agents with GET /api/agents`);
    const q = req.query as Query;
    const cursor = q.cursor === undefined || q.cursor === '' ? undefined : queryInt(q, 'cursor', 0, 0, Number.MAX_SAFE_INTEGER);
    return store.pageLogs(id, queryInt(q, 'limit', 50, 1, 1000), cursor);
  });
  const startAgent = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const id = (req.params as Params).id ?? '';
    const status = await agents.start(id);
    return reply.code(status === 'healthy' ? 200 : 202).send({ id, status });
  };
  const stopAgent = async (req: FastifyRequest): Promise<{ id: string; status: string }> => {
    const id = (req.params as Params).id ?? '';
    return Promise.resolve({ id, status: agents.stop(id) });
  };
  app.post('/agents/:id/start', startAgent);
  app.post('/api/agents/:id/start', startAgent);
  app.post('/agents/:id/stop', stopAgent);
  app.post('/api/agents/:id/stop', stopAgent);

  // ---- tasks ----
  app.post('/api/tasks', async (req, reply) => {
    const t = await tasks.submit(parseTaskRequest(req.body));
    return reply.code(202).send({ id: t.id, mode: t.mode, status: t.status, createdAt: t.createdAt });
  });
  app.get('/api/tasks/:id', async (req) => tasks.view((req.params as Params).id ?? ''));
  app.get('/api/tasks', async (req) => {
    const q = req.query as Query;
    return { items: await store.listTasks({ status: q.status, mode: q.mode, limit: queryInt(q, 'limit', 50, 1, 1000) }) };
  });

  // ---- bus ----
  app.get('/api/bus/stats', () => ({ topics: bus.stats() }));
  app.post('/api/bus/:topic', async (req, reply) => {
    const topic = (req.params as Params).topic ?? '';
    if (!isTopic(topic)) throw new TargetError(404, 'BUS_TOPIC_UNKNOWN', `bus topic ${JSON.stringify(topic)} does not exist: use ${TOPICS.join(', ')}`);
    const b = req.body;
    if (!isRecord(b)) throw new TargetError(400, 'BUS_INVALID', 'bus publish body must be {"payload": ...} or {"messages": [{"payload": ...}]}');
    const one = async (m: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const key = typeof m.key === 'string' ? m.key : null;
      const msg = await bus.publish(topic, m.payload ?? null, key);
      return { id: msg.id, topic: msg.topic, seq: msg.seq, publishedAt: msg.publishedAt };
    };
    if (Array.isArray(b.messages)) {
      if (b.messages.length > 1000) throw new TargetError(400, 'BUS_INVALID', `a batch holds at most 1000 messages, got ${b.messages.length}`);
      const items: Array<Record<string, unknown>> = [];
      for (const m of b.messages) items.push(await one(isRecord(m) ? m : { payload: m }));
      return reply.code(202).send({ items });
    }
    return reply.code(202).send(await one(b));
  });

  // ---- WebSocket broadcast over HTTP ----
  app.post('/api/broadcast', (req) => {
    const b = isRecord(req.body) ? req.body : {};
    const channel = typeof b.channel === 'string' && b.channel !== '' ? b.channel : 'default';
    if (hub === undefined) throw new TargetError(503, 'NOT_READY', 'WebSocket hub is not running yet');
    return hub.broadcast(channel, b.payload ?? null);
  });

  // ---- Slack (raw body kept for the signature) ----
  await app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, next) => { next(null, body); });
    scope.post('/slack/events', async (req) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      verifySlackRequest(config.slackSigningSecret, req.headers, raw);
      let parsed: unknown;
      try { parsed = JSON.parse(raw.toString('utf8')); } catch {
        throw new TargetError(400, 'SLACK_BAD_REQUEST', 'Slack request body is not JSON: send the Events API envelope as application/json');
      }
      return slack.receive(parsed);
    });
    done();
  });

  // ---- LLM simulator ----
  app.get('/v1/models', () => ({ object: 'list', data: [{ id: MODEL_ID, object: 'model', owned_by: 'agentload' }] }));
  const models = new ModelServer(Number(o.env.LLM_MODEL_KEEP_ALIVE_MS ?? 300_000) || 300_000);
  const limited = (reply: FastifyReply, waitMs: number): FastifyReply =>
    reply.code(429).header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000)))).header('retry-after-ms', String(Math.round(waitMs))).send(rateLimitBody(waitMs));
  app.post('/v1/chat/completions', async (req, reply) => {
    const r = parseChat(req.body);
    const wait = models.rateLimited(knobs);
    if (wait !== undefined) return limited(reply, wait);
    const { pace: p, release } = await models.begin(knobs, r.model);
    const id = completionId();
    const created = Math.floor(Date.now() / 1000);
    const ac = new AbortController();
    reply.raw.on('close', () => { ac.abort(); release(); });
    if (!r.stream) {
      let content = '';
      for await (const t of tokens(r.maxTokens, p, ac.signal)) content += t;
      release();
      return {
        id, object: 'chat.completion', created, model: r.model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'length' }],
        usage: { prompt_tokens: r.promptTokens, completion_tokens: r.maxTokens, total_tokens: r.promptTokens + r.maxTokens },
      };
    }
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: r.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    async function* sse(): AsyncGenerator<string> {
      let first = true;
      for await (const t of tokens(r.maxTokens, p, ac.signal)) {
        yield chunk(first ? { role: 'assistant', content: t } : { content: t }, null);
        first = false;
      }
      yield chunk({}, 'length');
      yield 'data: [DONE]\n\n';
    }
    return reply.header('cache-control', 'no-cache').type('text/event-stream; charset=utf-8').send(Readable.from(sse()));
  });
  app.post('/api/generate', async (req, reply) => {
    const r = parseGenerate(req.body);
    if (r.unload) {
      models.unload(r.model);
      return { model: r.model, created_at: new Date().toISOString(), response: '', done: true, done_reason: 'unload' };
    }
    const wait = models.rateLimited(knobs);
    if (wait !== undefined) return limited(reply, wait);
    const t0 = process.hrtime.bigint();
    const { pace: p, release, loadMs } = await models.begin(knobs, r.model);
    const ac = new AbortController();
    reply.raw.on('close', () => { ac.abort(); release(); });
    let firstAt = 0n;
    const final = (): Record<string, unknown> => {
      const total = Number(process.hrtime.bigint() - t0);
      return {
        model: r.model, created_at: new Date().toISOString(), done: true, done_reason: 'length',
        total_duration: total, load_duration: Math.round(loadMs * 1e6), prompt_eval_count: r.promptTokens, eval_count: r.maxTokens,
        eval_duration: firstAt === 0n ? 0 : Number(process.hrtime.bigint() - firstAt),
      };
    };
    if (!r.stream) {
      let response = '';
      for await (const t of tokens(r.maxTokens, p, ac.signal)) {
        if (firstAt === 0n) firstAt = process.hrtime.bigint();
        response += t;
      }
      return { ...final(), response };
    }
    async function* ndjson(): AsyncGenerator<string> {
      for await (const t of tokens(r.maxTokens, p, ac.signal)) {
        if (firstAt === 0n) firstAt = process.hrtime.bigint();
        yield `${JSON.stringify({ model: r.model, created_at: new Date().toISOString(), response: t, done: false })}\n`;
      }
      yield `${JSON.stringify({ ...final(), response: '' })}\n`;
    }
    return reply.type('application/x-ndjson').send(Readable.from(ndjson()));
  });

  // ---- knowledge graph (query classes) ----
  app.get('/api/knowledge/nodes', async (req) => {
    const q = req.query as Query;
    const key = q.key;
    if (key !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key)) {
      throw new TargetError(400, 'BAD_QUERY', `query parameter key must be a property name like "tag", got ${JSON.stringify(key)}`);
    }
    return { items: await store.findNodes({ kind: q.kind, key, value: q.value, limit: queryInt(q, 'limit', 50, 1, 1000) }) };
  });
  app.get('/api/knowledge/nodes/:id', async (req) => {
    const id = (req.params as Params).id ?? '';
    const n = await store.getNode(id);
    if (n === undefined) throw new TargetError(404, 'NODE_NOT_FOUND', `knowledge node ${JSON.stringify(id)} does not exist: list nodes with GET /api/knowledge/nodes`);
    return n;
  });
  app.get('/api/knowledge/nodes/:id/neighbors', async (req) => ({ items: await store.neighbors((req.params as Params).id ?? '') }));
  app.post('/api/knowledge/nodes', async (req, reply) => {
    const b = isRecord(req.body) ? req.body : {};
    const nodes = b.nodes;
    if (!Array.isArray(nodes) || nodes.length < 1 || nodes.length > 1000) {
      throw new TargetError(400, 'NODE_INVALID', `body must be {"nodes":[{"kind","name","properties"}]} with 1..1000 nodes, got ${Array.isArray(nodes) ? nodes.length : typeof nodes}`);
    }
    const parsed = nodes.map((n, i) => {
      if (!isRecord(n) || typeof n.name !== 'string') throw new TargetError(400, 'NODE_INVALID', `nodes[${i}] needs a string "name"`);
      return { kind: typeof n.kind === 'string' ? n.kind : NODE_KINDS[0], name: n.name, properties: n.properties ?? {} };
    });
    const ids = await store.insertNodes(parsed);
    return reply.code(201).send({ inserted: ids.length, ids });
  });

  // ---- artifacts (streamed, hashed, discarded) ----
  const artifacts = new Map<string, Record<string, unknown>>();
  await app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, next) => { next(null, payload); });
    scope.post('/api/artifacts', async (req, reply) => {
      const limit = config.artifactMaxBytes;
      const name = (req.query as Query).name ?? `artifact-${Date.now()}`;
      const contentType = req.headers['content-type'] ?? 'application/octet-stream';
      const declared = Number(req.headers['content-length'] ?? NaN);
      const stream = req.body as Readable;
      const tooLarge = (bytes: number): TargetError =>
        new TargetError(413, 'ARTIFACT_TOO_LARGE', `artifact ${JSON.stringify(name)} is ${bytes}+ bytes, over the limit of ${limit} (ARTIFACT_MAX_BYTES)`);
      const drainCap = limit * 4 + 64 * 1024 * 1024;
      if (Number.isFinite(declared) && declared > limit) {
        // Read and discard a bounded rest, so the client reads our 413 instead of a reset.
        if (declared <= drainCap) { await drain(stream); } else void reply.header('connection', 'close');
        throw tooLarge(declared);
      }
      const hash = createHash('sha256');
      let bytes = 0;
      let over = false;
      for await (const chunk of stream) {
        const b = chunk as Buffer;
        bytes += b.length;
        if (bytes > limit) {
          over = true;
          if (bytes > drainCap) { void reply.header('connection', 'close'); break; }
          continue;
        }
        hash.update(b);
      }
      if (over) throw tooLarge(bytes);
      const meta = { id: `art_${randomUUID()}`, name, bytes, sha256: hash.digest('hex'), contentType };
      artifacts.set(meta.id, meta);
      if (artifacts.size > 10_000) {
        const first = artifacts.keys().next();
        if (first.done !== true) artifacts.delete(first.value);
      }
      return reply.code(201).send(meta);
    });
    done();
  });
  app.get('/api/artifacts/:id', (req) => {
    const id = (req.params as Params).id ?? '';
    const a = artifacts.get(id);
    if (a === undefined) throw new TargetError(404, 'ARTIFACT_NOT_FOUND', `artifact ${JSON.stringify(id)} does not exist`);
    return a;
  });

  await registerFeatures({ app, db, env: o.env, knobs: getKnobs, registry: metrics.registry, logError }, featureConfig);
  await app.ready();
  hub = new WsHub(app.server, bus, snapshot, config.monitorIntervalMs);
  await agents.load();

  let closing: Promise<void> | undefined;
  return {
    app, config, db,
    close() {
      closing ??= (async () => {
        agents.close();
        tasks.close();
        await hub.close();
        await slack.close();
        await app.close();
        deliveryLog.close();
        await bus.close();
        await sleep(5); // let in-flight handlers of this tick see the bus closed before the DB goes
        await db.close();
        leak.length = 0;
      })();
      return closing;
    },
  };
}
