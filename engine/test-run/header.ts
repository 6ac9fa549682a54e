/** k6's run header after the banner: script, outputs, scenarios, and the synchronous VU mode's cost. */
import { relative } from 'node:path';
import { formatHeader } from '../runtime/banner.ts';
import { syncVuCapacity, SYNC_VU_RSS_MB, SYNC_VU_START_MS } from '../sync/mode.ts';
import type { LoadedRun } from './loaded-run.ts';
import type { Outputs } from './sample-outputs.ts';

/** k6's run header: script, outputs, scenarios (and the synchronous VU mode's cost). */
export function printHeader({ o, settings, scriptPath, plan, mode }: LoadedRun, { extra }: Outputs): void {
  o.stdout.write(
    formatHeader({
      script: relative(o.cwd, scriptPath) || scriptPath,
      output:
        [
          ...(settings.jsonOut === undefined ? [] : [`json (${settings.jsonOut === '-' ? 'stdout' : relative(o.cwd, settings.jsonOut)})`]),
          ...extra.outputs.map((x) => x.description),
        ].join(', ') || '-',
      scenariosLine: plan.scenariosLine,
      scenarioLines: plan.scenarioLines,
      ...(mode.mode === 'sync' ? { vuMode: syncModeLine(mode.why, plan.maxVUs) } : {}),
    }),
  );
}

/** The run header's line for the synchronous VU mode: why, what it costs, how far this machine goes. */
function syncModeLine(why: string, maxVUs: number): string {
  const capacity = syncVuCapacity();
  const over = maxVUs > capacity ? `; this test wants ${String(maxVUs)}, more than fit: expect swapping or an out-of-memory stop` : '';
  return `sync (${why}): one thread per VU, about ${String(SYNC_VU_RSS_MB)} MB and ${String(SYNC_VU_START_MS)} ms of CPU to start each; this machine holds about ${String(capacity)} such VUs${over}`;
}
