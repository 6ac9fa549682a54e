/**
 * The load script's side of the fault controller (src/faults/controller.ts): plain `k6/http` calls, so
 * the same script works on real k6. `runFaultPlan` applies a plan on schedule, one fault after the other,
 * measures each recovery with the scenario's own probe, and reports it back for the run's fault log.
 */
import { check } from 'k6';
import { get, json, ok, postJson } from './http.ts';
import { arrField, field, numField, strField } from './json.ts';
import { sleep } from './k6.ts';
import type { PlannedFault } from './fault-plan.ts';
import type { faultMetrics } from './metrics.ts';

/** `faultMetrics()`, created in the scenario's init code (k6 declares metrics there only). */
export type FaultMetrics = ReturnType<typeof faultMetrics>;

export interface AppliedFault {
  readonly id: string;
  readonly action: string;
  /** Epoch ms the controller started it (the platform's clock: same machine). */
  readonly at: number;
  readonly appliedAt: number;
  readonly detail: unknown;
}

/** What a scenario's probe found: recovered after `ms` (from the fault's start), or not within its window. */
export interface Recovery {
  readonly recovered: boolean;
  readonly ms: number;
}

/** Waits (async) until the epoch ms `t`. */
export async function until(t: number): Promise<void> {
  const wait = t - Date.now();
  if (wait > 0) await sleep(wait / 1000);
}

/**
 * Throws one line when the controller does not answer or cannot apply an action of `plan` (the run
 * command refuses such a plan before the run; this catches a controller started by hand).
 */
export async function checkFaultController(faultsUrl: string, plan: readonly PlannedFault[]): Promise<void> {
  const r = await get(`${faultsUrl}/health`, { endpoint: 'faults', name: '/health' }, { timeout: '10s' });
  if (!ok(r))
    throw new Error(
      `the fault controller at FAULTS_URL=${faultsUrl} does not answer (status ${r.status}): run through npm run k6, which starts it`,
    );
  const actions = field(json(r), 'actions');
  for (const f of plan) {
    const a = field(actions, f.action);
    if (field(a, 'available') !== true)
      throw new Error(strField(a, 'how') ?? `fault ${f.action} cannot be applied by the controller at ${faultsUrl}`);
  }
}

/**
 * Applies every fault of `plan` at its time after `startedAt` (never earlier; later when the previous
 * fault's recovery took longer), records `fault_actions`, `fault_action_failed`, `fault_recovery_time`
 * and `fault_unrecovered` (tagged with the action), and posts each recovery to the controller for the report.
 */
export async function runFaultPlan(
  faultsUrl: string,
  plan: readonly PlannedFault[],
  startedAt: number,
  measure: (f: AppliedFault) => Promise<Recovery>,
  m: FaultMetrics,
): Promise<void> {
  for (const f of plan) {
    await until(startedAt + f.atS * 1000);
    const tags = { action: f.action };
    const r = await postJson(
      `${faultsUrl}/faults`,
      { action: f.action, durationMs: Math.round(f.durationS * 1000), mode: f.mode },
      { endpoint: 'faults', name: '/faults', action: f.action },
      { timeout: '180s' },
    );
    const body = json(r);
    const applied = check(r, { 'fault applied': ok });
    m.failed.add(!applied, tags);
    if (!applied) {
      console.error(`fault ${f.action} was not applied (status ${r.status}): ${strField(body, 'error') ?? r.error}`);
      continue;
    }
    m.actions.add(1, tags);
    const fault: AppliedFault = {
      id: strField(body, 'id') ?? '',
      action: f.action,
      at: numField(body, 'at') ?? Date.now(),
      appliedAt: numField(body, 'appliedAt') ?? Date.now(),
      detail: field(body, 'detail'),
    };
    const rec = await measure(fault);
    const recoveryMs = Math.max(0, rec.ms);
    const when = `fault ${fault.id} ${f.action} at +${((fault.at - startedAt) / 1000).toFixed(1)}s`;
    if (!rec.recovered) {
      m.unrecovered.add(1, tags);
      console.error(`${when}: not recovered ${(recoveryMs / 1000).toFixed(1)} s later`);
      continue;
    }
    m.unrecovered.add(0, tags);
    m.recovery.add(recoveryMs, tags);
    console.log(`${when}: recovered after ${(recoveryMs / 1000).toFixed(1)} s`);
    await postJson(`${faultsUrl}/faults/${fault.id}/recovery`, { recoveryMs }, { endpoint: 'faults', name: '/faults/:id/recovery' });
  }
}

export interface InstanceView {
  readonly id: string;
  readonly role: string;
  readonly state: string;
  readonly requests: number;
}

/** The platform's processes with their request counts (`GET /cluster` of the controller). */
export async function clusterView(faultsUrl: string): Promise<InstanceView[] | undefined> {
  const r = await get(`${faultsUrl}/cluster`, { endpoint: 'faults', name: '/cluster' });
  if (!ok(r)) {
    console.error(`no view of the platform's processes: ${strField(json(r), 'error') ?? `status ${r.status}`}`);
    return undefined;
  }
  return arrField(json(r), 'instances').map((x) => ({
    id: strField(x, 'id') ?? '',
    role: strField(x, 'role') ?? '',
    state: strField(x, 'state') ?? '',
    requests: numField(x, 'requests') ?? 0,
  }));
}
