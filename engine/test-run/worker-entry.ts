/** A worker thread of the engine: runs one execution segment of the test and reports to the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { Writable } from 'node:stream';
import type { Sample } from '../contracts.ts';
import { Aggregator } from '../metrics/index.ts';
import { parseThresholds } from '../thresholds/index.ts';
import { EngineError, EXIT_CODES, toError } from '../runtime/errors.ts';
import { parseRunFlags } from '../runtime/flags.ts';
import { loadScript } from '../runtime/loader.ts';
import { Logger } from '../runtime/logger.ts';
import { planTest } from '../runtime/test-plan.ts';
import { createInstance, runScenarios } from './instance.ts';
import { realClock } from '../runtime/clock.ts';
import { initVUs, realRss } from '../runtime/vu-init.ts';
import { HostPolicy } from '../net/host-policy.ts';
import {
  PROGRESS_INTERVAL_MS,
  reportScenarios,
  workerVuId,
  type MainMessage,
  type WorkerInit,
  type WorkerMessage,
} from '../runtime/workers.ts';
import { planExecution, vuIdsInTest } from '../execution/index.ts';
import { chooseVuMode } from '../sync/mode.ts';
import { SETTLE_AFTER_STOP_MS } from '../runtime/pool.ts';

function requirePort(): NonNullable<typeof parentPort> {
  if (parentPort === null) throw new Error('worker-entry.ts must run in a worker thread');
  return parentPort;
}
const port = requirePort();
const init = workerData as WorkerInit;
const post = (m: WorkerMessage): void => {
  port.postMessage(m);
};

const logStream = new Writable({
  write(chunk: Buffer | string, _e, cb) {
    post({ t: 'log', text: typeof chunk === 'string' ? chunk : chunk.toString('utf8') });
    cb();
  },
});
const logger = new Logger(logStream);

async function main(): Promise<void> {
  const flags = parseRunFlags(init.args);
  const script = await loadScript(init.script);
  const stopCtl = new AbortController();
  let dataText: string | undefined;
  let resolveIds!: (first: number) => void;
  const ids = new Promise<number>((r) => {
    resolveIds = r;
  });
  let resolveStart!: () => void;
  const started = new Promise<void>((r) => {
    resolveStart = r;
  });
  port.on('message', (m: MainMessage) => {
    if (m.t === 'ids') resolveIds(m.first);
    else if (m.t === 'start') {
      dataText = m.dataText;
      resolveStart();
    } else stopCtl.abort(new Error('stopped by the main thread'));
  });
  const counter = new Int32Array(init.vuIds);
  let planned = 0;
  let first = 1;
  let idsInTest: ((idInInstance: number) => number) | undefined;
  const inst = await createInstance({
    script,
    clock: realClock,
    env: { ...init.env },
    logger,
    hostPolicy: init.allowedHosts === undefined ? undefined : new HostPolicy(init.allowedHosts),
    vuId: (local) => workerVuId(local, planned, first, counter),
    idInTest: (n) => idsInTest?.(n) ?? n,
    discardResponseBodies: () => flags.booleans.has('discard-response-bodies') || inst.options.discardResponseBodies === true,
    onAbort: (reason) => {
      post({ t: 'abort', reason });
      stopCtl.abort(new Error('test aborted'));
    },
  });
  const plan = planTest(inst.lifecycleVu.exports.options, flags, init.env, inst.lifecycleVu.exports, {
    segment: init.segment,
    sequence: init.sequence,
  });
  if (init.userSegment) idsInTest = vuIdsInTest(plan.tuple);
  const thresholds = plan.resolved.noThresholds ? undefined : parseThresholds(plan.options.thresholds, inst.registry).set;
  inst.vuMode = chooseVuMode({
    flag: flags.values['vu-mode'],
    env: init.env.AGENTLOAD_VU_MODE,
    exported: inst.lifecycleVu.exports.agentload,
    reasons: script.syncReasons,
  }).mode;
  inst.options = plan.options;
  inst.runTags = plan.resolved.tags;
  // The full summary's per-group and per-scenario figures travel in the snapshots too (merged on the main thread).
  const agg = new Aggregator(inst.registry, { submetrics: thresholds?.keys() ?? [], breakdown: plan.resolved.summaryMode === 'full' });
  inst.fan.sinks.push(agg);
  let batch: Sample[] = [];
  const flush = (): void => {
    if (batch.length > 0) {
      post({ t: 'samples', samples: batch });
      batch = [];
    }
  };
  if (init.forwardSamples)
    inst.fan.sinks.push({
      add: (s) => {
        for (const x of s) batch.push(x);
        if (batch.length >= 2000) flush();
      },
    });
  planned = plan.preAllocatedVUs;
  post({ t: 'planned', preAllocatedVUs: planned });
  first = await ids;
  inst.pool.setMax(plan.maxVUs);
  await initVUs(inst.pool, plan.preAllocatedVUs, {
    logger,
    signal: stopCtl.signal,
    ...(inst.vuMode === 'sync' ? { heap: realRss() } : {}),
  });
  post({ t: 'ready', maxVUs: plan.maxVUs });
  await started;
  inst.dataText = dataText;
  for (const vu of inst.pool.all) if (dataText !== undefined) vu.setData(JSON.parse(dataText));
  inst.started = realClock.now();
  const timer = setInterval(() => {
    flush();
    post({ t: 'snap', snap: agg.drain(), vus: inst.pool.active, vusMax: inst.pool.initialized });
  }, 1000);
  // inst.scenarioStats[i] belongs to the i-th scenario of the execution plan (the order the run fills it in).
  const names = planExecution(plan.scenarios, plan.tuple).scenarios.map((s) => s.config.name);
  const progress = (): ReturnType<typeof reportScenarios> => reportScenarios(names, inst.scenarioStats, realClock);
  const progressTimer = init.progress
    ? setInterval(() => {
        post({ t: 'progress', scenarios: progress(), vusMax: inst.pool.initialized });
      }, PROGRESS_INTERVAL_MS)
    : undefined;
  await runScenarios(inst, plan, { clock: realClock, signal: stopCtl.signal, logger, noGauges: true });
  await inst.pool.settled(SETTLE_AFTER_STOP_MS);
  clearInterval(timer);
  clearInterval(progressTimer);
  flush();
  await inst.pool.close();
  post({ t: 'done', snap: agg.drain(), scenarios: progress(), vusMax: inst.pool.initialized });
}

main().catch((e: unknown) => {
  const code = e instanceof EngineError ? e.exitCode : EXIT_CODES.genericEngine;
  post({ t: 'failed', code, message: e instanceof EngineError ? e.message : `worker error: ${toError(e).stack ?? toError(e).message}` });
});
