/**
 * Assembles the platform: database, bus, agents, tasks, Slack, LLM, WebSockets, metrics, and the routes,
 * one Fastify plugin per route group (`routes/`), all under the fault hooks and the error handler here.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AgentManager } from './agents.ts';
import type { BusAdapter, BusMessage } from './bus.ts';
import { DeliveryLog } from './bus/delivery-log.ts';
import { registerBusRoutes } from './bus/routes.ts';
import { createBus, readBusConfig, type BusConfig } from './bus/select.ts';
import { readNodeConfig, runsWorkerConsumers } from './cluster/node.ts';
import { readConfig, type Env, type Knobs, type TargetConfig } from './config.ts';
import { openDb, type Db } from './db/db.ts';
import { TargetError } from './errors.ts';
import { sleep } from './sleep.ts';
import { toError } from '../shared/errors.ts';
import { TargetMetrics } from './metrics.ts';
import { readFeatureConfig, registerFeatures } from './plugins.ts';
import { adminRoutes } from './routes/admin.ts';
import { agentRoutes } from './routes/agents.ts';
import { artifactRoutes } from './routes/artifacts.ts';
import { busRoutes } from './routes/bus.ts';
import { adminOnly, Leak, type KnobsCell, type PlatformDeps } from './routes/deps.ts';
import { installFaultHooks } from './routes/faults.ts';
import { healthRoutes } from './routes/health.ts';
import { knowledgeRoutes } from './routes/knowledge.ts';
import { llmRoutes } from './routes/llm.ts';
import { slackRoutes } from './routes/slack.ts';
import { taskRoutes } from './routes/tasks.ts';
import { SlackBridge } from './slack.ts';
import { Store } from './store.ts';
import { TaskEngine } from './tasks.ts';
import { WsHub } from './ws.ts';

export { isLoopback, isLoopbackHostHeader } from './routes/deps.ts';

export interface PlatformOptions {
  env: Env;
  logger: boolean | Record<string, unknown>;
}

export interface Platform {
  app: FastifyInstance;
  config: TargetConfig;
  db: Db;
  close(): Promise<void>;
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
      if (c === 92)
        i++; // backslash: skip the escaped character
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

/** The route groups, each registered as its own Fastify plugin (an encapsulated scope under the root's hooks). */
const ROUTE_PLUGINS: readonly ((app: FastifyInstance, d: PlatformDeps) => Promise<void>)[] = [
  healthRoutes,
  adminRoutes,
  agentRoutes,
  taskRoutes,
  busRoutes,
  slackRoutes,
  llmRoutes,
  knowledgeRoutes,
  artifactRoutes,
];

/** Fastify with the platform's logger, limits, pre-routing errors, and JSON-only bodies of bounded depth. */
function createApp(o: PlatformOptions): FastifyInstance {
  const app = Fastify({
    logger:
      o.logger === false
        ? false
        : {
            level:
              o.env.TARGET_LOG !== undefined && /^(trace|debug|info|warn|error|fatal)$/.test(o.env.TARGET_LOG) ? o.env.TARGET_LOG : 'info',
            ...(o.logger === true ? {} : o.logger),
            redact: { paths: ['req.headers.authorization', 'req.headers["x-slack-signature"]'], censor: '***' },
          },
    forceCloseConnections: true,
    bodyLimit: 4 * 1024 * 1024,
    // Errors Fastify raises before routing (a malformed URL, an over-long path parameter) in the platform's
    // own {error, code} shape, without echoing the URL back.
    frameworkErrors: (err, _req, reply: FastifyReply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply
        .code(tooLong ? 414 : 400)
        .send(
          tooLong
            ? { error: 'a path parameter is longer than 100 characters: shorten it', code: 'URI_TOO_LONG' }
            : { error: 'the URL is malformed (a %-escape is not valid): encode the path properly', code: 'BAD_URL' },
        );
    },
  });
  // Bodies are JSON only (plus the Slack and artifact routes' own parsers): a text/plain or form POST,
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
  return app;
}

/** Errors as `{ error, code }`: the platform's own with their status, body errors as 4xx, the rest as a bare 500. */
function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (err: unknown, _req: FastifyRequest, reply) => {
    if (err instanceof TargetError) return reply.code(err.statusCode).send({ error: err.message, code: err.code });
    const e = toError(err) as Error & { statusCode?: number; code?: string };
    const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
    if (status >= 500) app.log.error({ err: e.message }, 'request failed');
    if (status === 415) {
      return reply.code(415).send({
        error: `send the body as application/json (got ${JSON.stringify(_req.headers['content-type'] ?? 'no content-type')})`,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    }
    const code = status === 413 ? 'BODY_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : e.message, code });
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0] ?? ''}: see docs/target.md`, code: 'NOT_FOUND' }),
  );
}

/** The fault knobs, starting from (and reset to) `initial`. */
function knobsCell(initial: Readonly<Knobs>): KnobsCell {
  let knobs: Knobs = { ...initial };
  return {
    get: () => knobs,
    set: (k) => {
      knobs = k;
    },
    reset: () => (knobs = { ...initial }),
  };
}

/** The bus the configuration names; the database is closed when it cannot be opened. */
async function openBus(busConfig: BusConfig, knobs: KnobsCell, db: Db, app: FastifyInstance): Promise<BusAdapter> {
  try {
    return await createBus(busConfig, {
      faults: knobs.get,
      db,
      onError: (e, m?: BusMessage) => {
        app.log.error({ err: toError(e).message, topic: m?.topic, seq: m?.seq }, 'bus consumer failed');
      },
      onState: (state, detail) => {
        app.log.warn({ state, detail }, 'RabbitMQ bus connection');
      },
    });
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
}

/** The database (PostgreSQL with DATABASE_URL, else SQLite) and the store on it, seeded. */
async function openStore(config: TargetConfig): Promise<{ db: Db; store: Store }> {
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    sqlitePath: config.sqlitePath,
    poolMax: config.dbPoolMax,
    poolTimeoutMs: config.dbPoolTimeoutMs,
  });
  const store = new Store(db);
  await store.seed({ seed: config.seed, agents: config.seedAgents, knowledgeNodes: config.seedKnowledgeNodes });
  return { db, store };
}

export async function buildPlatform(o: PlatformOptions): Promise<Platform> {
  const config = readConfig(o.env);
  const featureConfig = readFeatureConfig(o.env);
  const busConfig = readBusConfig(o.env);
  const node = readNodeConfig(o.env);
  const knobs = knobsCell(config.knobs);
  const app = createApp(o);
  const logError = (e: unknown): void => {
    app.log.error({ err: toError(e).message }, 'background error');
  };

  const { db, store } = await openStore(config);
  const bus = await openBus(busConfig, knobs, db, app);
  const deliveryLog = new DeliveryLog(db, bus, busConfig.deliveryLog, node.id);
  deliveryLog.start(runsWorkerConsumers(node.role));
  // eslint-disable-next-line prefer-const -- assigned once the server exists; closures above read it
  let hub: WsHub | undefined;
  const leak = new Leak();

  // eslint-disable-next-line prefer-const -- assigned after the task engine that needs it
  let agents: AgentManager;
  const tasks = new TaskEngine(
    store,
    bus,
    () => agents,
    knobs.get,
    { workMs: config.taskWorkMs, collaborativeAgents: config.collaborativeAgents, continuousIterations: config.continuousIterations },
    (t) => hub?.monitorSend({ type: 'task', id: t.id, status: t.status, mode: t.mode }),
  );
  await tasks.init();
  agents = new AgentManager(
    store,
    bus,
    knobs.get,
    config.agentMemoryBytes,
    (a, m) => tasks.handle(a, m),
    (a) => hub?.monitorSend({ type: 'agent', id: a.id, status: a.status }),
    logError,
  );

  const metrics = new TargetMetrics({
    bus: () => bus.stats(),
    agents: () => agents.counts(),
    tasks: () => tasks.stateCounts(),
    pool: () => db.pool(),
    queries: () => db.queries(),
    dialect: db.dialect.name,
    leakedBytes: () => leak.bytes,
    wsClients: () => hub?.clients() ?? { broadcast: 0, bus: 0, monitor: 0 },
  });
  const slack = new SlackBridge(
    { apiUrl: config.slackApiUrl, botToken: config.slackBotToken },
    bus,
    tasks,
    knobs.get,
    (r) => metrics.slackReplies.inc({ result: r }),
    logError,
  );

  const startedAt = Date.now();
  const snapshot = (): Record<string, unknown> => {
    const mem = process.memoryUsage();
    return { agents: agents.counts(), tasks: tasks.stateCounts(), bus: bus.stats(), memory: { rss: mem.rss, heapUsed: mem.heapUsed } };
  };

  const busKind = busConfig.amqpUrl === undefined ? 'in-process' : 'rabbitmq';
  const deps: PlatformDeps = {
    env: o.env,
    config,
    db,
    store,
    bus,
    deliveryLog,
    node,
    busKind,
    agents,
    tasks,
    metrics,
    slack,
    knobs,
    leak,
    hub: () => hub,
    startedAt,
  };
  installFaultHooks(app, deps);
  installErrorHandlers(app);
  // The bus routes add the x-agentload-node header to every response: on the root, not in a plugin's scope.
  registerBusRoutes(app, { bus, log: deliveryLog, node, busKind, adminOnly });
  for (const routes of ROUTE_PLUGINS)
    await app.register(async (scope) => {
      await routes(scope, deps);
    });

  await registerFeatures({ app, db, env: o.env, knobs: knobs.get, registry: metrics.registry, logError }, featureConfig);
  await app.ready();
  hub = new WsHub(app.server, bus, snapshot, config.monitorIntervalMs);
  await agents.load();

  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    db,
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
        leak.release();
      })();
      return closing;
    },
  };
}
