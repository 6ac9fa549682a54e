/**
 * Which fault actions a setup can apply, and how: built in (agentload started the broker, the proxy in
 * front of it, or the platform's processes), through a command the user configured
 * (`AGENTLOAD_FAULT_<ACTION>_CMD`), or not at all — then one line says what to configure. Pure: the run
 * command asks it before anything starts, the controller again for each request.
 */
import { FAULT_ACTIONS, type FaultAction } from '../../lib/fault-plan.ts';

export { FAULT_ACTIONS, type FaultAction } from '../../lib/fault-plan.ts';

export interface FaultSetup {
  /** agentload started the broker (it can stop, kill and start it). */
  readonly brokerStarted: boolean;
  /** Why there is no broker of ours, for the refusal line (e.g. "TARGET_AMQP_URL is set"). */
  readonly brokerElsewhere: string;
  /** A TCP proxy of ours sits between the platform and its broker. */
  readonly proxy: boolean;
  /** API instances and consumer workers of a bundled cluster (0/0: none of ours). */
  readonly instances: number;
  readonly workers: number;
  /** Why there is no cluster of ours (e.g. "BASE_URL points at your own system"). */
  readonly clusterElsewhere: string;
  /** The environment holding `AGENTLOAD_FAULT_*_CMD`. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type Backend = { kind: 'builtin' } | { kind: 'command'; command: string; variable: string } | { kind: 'none'; why: string };

/** `broker-restart` → `AGENTLOAD_FAULT_BROKER_RESTART_CMD`. */
export function commandVariable(action: FaultAction): string {
  return `AGENTLOAD_FAULT_${action.toUpperCase().replace(/-/g, '_')}_CMD`;
}

const EXAMPLES: Readonly<Record<FaultAction, string>> = {
  'broker-restart': 'a command that restarts your broker, e.g. "systemctl restart rabbitmq-server"',
  'broker-kill': 'a command that kill -9s your broker and starts it again, e.g. "pkill -9 -f beam.smp; systemctl start rabbitmq-server"',
  'consumer-crash': 'a command that kill -9s one of your consumer processes',
  'publisher-crash': 'a command that kill -9s one of your API (publishing) processes',
  partition: 'a command that cuts your platform off its broker for $FAULT_DURATION_MS ms and then heals it',
  'instance-kill': 'a command that removes one API instance for good (scale down)',
  'instance-add': 'a command that adds an API instance and returns once it is healthy (scale up)',
};

function builtin(action: FaultAction, s: FaultSetup): string | undefined {
  switch (action) {
    case 'broker-restart':
    case 'broker-kill':
      return s.brokerStarted ? undefined : `agentload did not start the broker (${s.brokerElsewhere})`;
    case 'partition':
      return s.proxy ? undefined : `no proxy of agentload's sits between the platform and its broker (${s.clusterElsewhere})`;
    case 'consumer-crash':
      if (s.instances === 0) return `the platform's processes are not agentload's (${s.clusterElsewhere})`;
      return s.workers > 0 ? undefined : 'the bundled platform has no consumer worker (set TARGET_WORKERS=1 or more)';
    case 'publisher-crash':
      return s.instances > 0 ? undefined : `the platform's processes are not agentload's (${s.clusterElsewhere})`;
    case 'instance-kill':
      if (s.instances === 0) return `the platform's processes are not agentload's (${s.clusterElsewhere})`;
      return s.instances > 1
        ? undefined
        : 'the bundled platform has one API instance, and killing it leaves none (set TARGET_INSTANCES=2 or more)';
    case 'instance-add':
      return s.instances > 0 ? undefined : `the platform's processes are not agentload's (${s.clusterElsewhere})`;
  }
}

/** How `action` would be applied in this setup; a configured command wins over the built-in way. */
export function backendFor(action: FaultAction, s: FaultSetup): Backend {
  const variable = commandVariable(action);
  const command = s.env[variable];
  if (command !== undefined && command.trim() !== '') return { kind: 'command', command, variable };
  const why = builtin(action, s);
  if (why === undefined) return { kind: 'builtin' };
  return { kind: 'none', why: `fault ${action} cannot be applied: ${why}: set ${variable} to ${EXAMPLES[action]}` };
}

/** One line per action the setup cannot apply (empty when all can be). */
export function refusals(actions: Iterable<FaultAction>, s: FaultSetup): string[] {
  const out: string[] = [];
  for (const a of new Set(actions)) {
    const b = backendFor(a, s);
    if (b.kind === 'none') out.push(b.why);
  }
  return out;
}

export function availability(s: FaultSetup): Record<FaultAction, { available: boolean; how: string }> {
  const out = {} as Record<FaultAction, { available: boolean; how: string }>;
  for (const a of FAULT_ACTIONS) {
    const b = backendFor(a, s);
    out[a] =
      b.kind === 'none'
        ? { available: false, how: b.why }
        : { available: true, how: b.kind === 'command' ? `command (${b.variable})` : 'built in' };
  }
  return out;
}
