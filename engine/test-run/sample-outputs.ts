/** Where a run's samples go: the aggregator (summary, thresholds), --out json and the other --out outputs. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Aggregator } from '../metrics/index.ts';
import { JsonOutput } from '../output/index.ts';
import { OutputSet } from '../output/outputs.ts';
import type { LoadedRun } from './loaded-run.ts';

/** Where samples go: the aggregator (summary, thresholds), --out json and the other outputs. */
export interface Outputs {
  readonly aggregator: Aggregator;
  readonly json: JsonOutput | undefined;
  readonly extra: OutputSet;
}

/** The aggregator (with the thresholds' submetrics), --out json and the other --out outputs, each fed by the VUs' samples. */
export function openOutputs({ o, settings, inst, plan, thresholds, logger }: LoadedRun): Outputs {
  // k6 v1's full summary breaks the metrics down per group and per scenario: kept only when asked for.
  const aggregator = new Aggregator(inst.registry, { submetrics: thresholds.keys(), breakdown: plan.resolved.summaryMode === 'full' });
  thresholds.attach(aggregator);
  inst.fan.sinks.push(aggregator);
  let json: JsonOutput | undefined;
  if (settings.jsonOut !== undefined) {
    if (settings.jsonOut !== '-') mkdirSync(dirname(settings.jsonOut), { recursive: true });
    json = new JsonOutput({
      path: settings.jsonOut,
      stdout: o.stdout,
      registry: inst.registry,
      thresholds: thresholds.sourcesByKey(),
      submetrics: (m) => aggregator.submetricsOf(m),
    });
    inst.fan.sinks.push(json);
  }
  const systemTags = plan.options.systemTags;
  const extra = new OutputSet(settings.outputs, {
    cwd: o.cwd,
    stdout: o.stdout,
    systemTags: Array.isArray(systemTags) ? systemTags : undefined,
    metric: (name) => inst.registry.get(name),
    logError: (m) => {
      logger.log('error', m);
    },
  });
  if (!extra.isEmpty) inst.fan.sinks.push(extra);
  return { aggregator, json, extra };
}
