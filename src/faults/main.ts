/**
 * The failure lab as a process of its own, a child of the run (src/faults/launch.ts starts it through
 * src/run/children.ts: its own process group, stopped with the run however the run ends): `startLab()`
 * with the plan from `AGENTLOAD_LAB` (JSON), then one line on stdout `ready {"faultsUrl","baseUrl","actions"}`,
 * progress as `say <text>` and platform errors as `platform <text>`; a failure to start is its last line
 * on stderr (exit 1). It shuts everything it started down on SIGTERM/SIGINT, and when the run is gone
 * (child-preload.ts sends it SIGTERM).
 */
import { EXIT_CODES } from '../../shared/exit-codes.ts';
import { startLab, type LabPlan, type RunningLab } from './lab.ts';

interface LabRequest {
  plan: Omit<LabPlan, 'setup'> & { setup: Omit<LabPlan['setup'], 'env'> };
  root: string;
  platformEnv: Record<string, string>;
  faultLog?: string;
}

function out(kind: 'say' | 'platform' | 'ready', text: string): void {
  process.stdout.write(`${kind} ${text.replace(/\n/g, ' ')}\n`);
}

const raw = process.env.AGENTLOAD_LAB;
if (raw === undefined) {
  console.error('src/faults/main.ts is started by the run command (npm run k6), with AGENTLOAD_LAB');
  process.exit(EXIT_CODES.usage);
}
const req = JSON.parse(raw) as LabRequest;
delete process.env.AGENTLOAD_LAB;

let lab: RunningLab | undefined;
const state = { stopping: false };
const stop = (): void => {
  if (state.stopping) return;
  state.stopping = true;
  const force = setTimeout(() => {
    process.exit(1);
  }, 60_000);
  force.unref();
  void (lab?.close() ?? Promise.resolve()).finally(() => {
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// No top-level await: this file is also loaded as a CommonJS bundle (children.ts, engine/runtime/prebuilt.ts).
async function start(): Promise<void> {
  try {
    lab = await startLab({
      plan: { ...req.plan, setup: { ...req.plan.setup, env: process.env } },
      root: req.root,
      platformEnv: req.platformEnv,
      ...(req.faultLog !== undefined ? { faultLog: req.faultLog } : {}),
      say: (line) => {
        out('say', line);
      },
      onPlatformLine: (line) => {
        out('platform', line);
      },
    });
    if (state.stopping) await lab.close();
    else out('ready', JSON.stringify({ faultsUrl: lab.faultsUrl, baseUrl: lab.baseUrl ?? null, actions: lab.actions }));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
void start();
