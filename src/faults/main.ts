/**
 * The failure lab as a process of its own (started by the run command with an IPC channel, in its own
 * process group so a terminal Ctrl+C reaches only the load generator): `startLab()` with the plan from
 * `AGENTLOAD_LAB` (JSON), then `{type:'ready', faultsUrl, baseUrl, actions}` over IPC, progress as
 * `{type:'say', line}` and platform errors as `{type:'platform', line}`. It shuts everything down when the
 * IPC channel closes (the run ended, however it ended) or on SIGTERM/SIGINT.
 */
import { startLab, type LabPlan, type RunningLab } from './lab.ts';

interface LabRequest {
  plan: Omit<LabPlan, 'setup'> & { setup: Omit<LabPlan['setup'], 'env'> };
  root: string;
  platformEnv: Record<string, string>;
  faultLog?: string;
}

function send(msg: Record<string, unknown>): void {
  try { if (process.connected) process.send?.(msg); } catch { /* parent gone */ }
}

const raw = process.env.AGENTLOAD_LAB;
if (raw === undefined || typeof process.send !== 'function') {
  console.error('src/faults/main.ts is started by the run command (npm run k6), with AGENTLOAD_LAB and an IPC channel');
  process.exit(2);
}
const req = JSON.parse(raw) as LabRequest;
delete process.env.AGENTLOAD_LAB;

let lab: RunningLab | undefined;
const state = { stopping: false };
const stop = (): void => {
  if (state.stopping) return;
  state.stopping = true;
  const force = setTimeout(() => { process.exit(1); }, 60_000);
  force.unref();
  void (lab?.close() ?? Promise.resolve()).finally(() => { process.exit(0); });
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Ends with its parent even if the IPC channel somehow stays open.
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) stop(); }, 1000).unref();

try {
  lab = await startLab({
    plan: { ...req.plan, setup: { ...req.plan.setup, env: process.env } },
    root: req.root,
    platformEnv: req.platformEnv,
    ...(req.faultLog !== undefined ? { faultLog: req.faultLog } : {}),
    say: (line) => { send({ type: 'say', line }); },
    onPlatformLine: (line) => { send({ type: 'platform', line }); },
  });
  if (state.stopping) await lab.close();
  else send({ type: 'ready', faultsUrl: lab.faultsUrl, baseUrl: lab.baseUrl ?? null, actions: lab.actions });
} catch (e) {
  send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
  process.disconnect();
}
