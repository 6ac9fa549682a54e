/**
 * The run command's side of the failure lab: starts src/faults/main.ts as its own process (own process
 * group, IPC channel), waits for it to be ready and hands back the URLs. The lab ends when `close()` is
 * called or when this process ends, however it ends (it watches the IPC channel).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { StartedTarget } from '../run/adapters.ts';
import { endChild } from '../run/processes.ts';
import type { availability } from './actions.ts';
import type { LabPlan } from './lab.ts';

export interface LabHandle extends StartedTarget {
  readonly faultsUrl: string;
  /** Whether `url` is a platform the lab started (else it is empty: your own system). */
  readonly bundled: boolean;
  readonly actions: ReturnType<typeof availability>;
}

export interface LaunchOptions {
  readonly plan: LabPlan;
  readonly root: string;
  /** The run's environment: the lab runs your fault commands with it. */
  readonly env: Readonly<Record<string, string>>;
  /** The bundled platform's own variables. */
  readonly platformEnv: Readonly<Record<string, string>>;
  readonly faultLog: string;
  readonly say: (line: string) => void;
  readonly onPlatformLine: (line: string) => void;
  readonly startTimeoutMs?: number;
}

export function startFaultLab(o: LaunchOptions): Promise<LabHandle> {
  // The lab reads the fault commands from its own environment (`env` below), not from the JSON request.
  const setup: Record<string, unknown> = { ...o.plan.setup };
  delete setup.env;
  const request = { plan: { ...o.plan, setup }, root: o.root, platformEnv: o.platformEnv, faultLog: o.faultLog };
  const child = spawn(process.execPath, ['--import', 'tsx', join(o.root, 'src', 'faults', 'main.ts')], {
    cwd: o.root,
    env: { ...o.env, AGENTLOAD_LAB: JSON.stringify(request) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    detached: true,
  });
  const errTail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    for (const line of c.split('\n')) if (line.trim() !== '') { errTail.push(line); if (errTail.length > 5) errTail.shift(); }
  });
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve(); }); });
  // Closing the IPC channel is the lab's cue to shut everything down and exit.
  const close = (): Promise<void> => endChild(child, exited, () => { if (child.connected) child.disconnect(); else child.kill('SIGTERM'); }, 70_000);
  return new Promise<LabHandle>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void close();
      reject(new Error(why));
    };
    const timer = setTimeout(() => { fail(`not ready within ${(o.startTimeoutMs ?? 240_000) / 1000} s`); }, o.startTimeoutMs ?? 240_000);
    child.on('error', (e) => { fail(e.message); });
    child.once('exit', (code, signal) => {
      fail(`it exited (${signal ?? `code ${String(code)}`}) before it was ready${errTail.length > 0 ? `: ${errTail.join(' | ')}` : ''}`);
    });
    child.on('message', (msg: unknown) => {
      const m = msg as { type?: unknown; line?: unknown; message?: unknown; faultsUrl?: unknown; baseUrl?: unknown; actions?: unknown };
      if (m.type === 'say' && typeof m.line === 'string') o.say(m.line);
      else if (m.type === 'platform' && typeof m.line === 'string') o.onPlatformLine(m.line);
      else if (m.type === 'error') fail(String(m.message));
      else if (m.type === 'ready' && typeof m.faultsUrl === 'string' && !settled) {
        settled = true;
        clearTimeout(timer);
        const url = typeof m.baseUrl === 'string' ? m.baseUrl : '';
        resolve({
          url,
          port: url === '' ? 0 : Number(new URL(url).port),
          faultsUrl: m.faultsUrl,
          bundled: url !== '',
          actions: m.actions as LabHandle['actions'],
          close,
        });
      }
    });
  });
}
