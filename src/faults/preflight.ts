/**
 * The run command's checks for fault scenarios, before anything starts: the fault plan parses and fits
 * in the test, and every action in it can be applied in this setup (else one line saying what to
 * configure, exit 104); a given `TARGET_AMQP_URL` answers.
 */
import { ConfigError } from '../../lib/config.ts';
import { scenarioFaultTimeline } from '../../lib/fault-plan.ts';
import { AgentloadError, EXIT_CODES, toError } from '../errors.ts';
import { redactUrl } from '../run/allowlist.ts';
import { labPlan, labRefusals, type LabPlan } from './lab.ts';

/** The lab the run needs (undefined: none); throws AgentloadError 104 for a bad or impossible plan. */
export function faultLabFor(name: string, env: Readonly<Record<string, string | undefined>>): LabPlan | undefined {
  let actions: string[] = [];
  let plan: LabPlan | undefined;
  try {
    actions = (scenarioFaultTimeline(name, env)?.plan ?? []).map((f) => f.action);
    plan = labPlan(name, env);
  } catch (e) {
    if (e instanceof ConfigError) throw new AgentloadError('invalid-fault-plan', EXIT_CODES.invalidConfig, e.message);
    throw e;
  }
  if (plan === undefined) return undefined;
  const lines = labRefusals(name, plan, actions as Parameters<typeof labRefusals>[2]);
  const first = lines[0];
  if (first !== undefined) throw new AgentloadError('fault-unavailable', EXIT_CODES.invalidConfig, first, lines.slice(1));
  return plan;
}

/** Refuses (104) a TARGET_AMQP_URL that does not answer, before the load (and, with that URL set, before the platform) starts. */
export async function checkAmqpUrl(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const url = env.TARGET_AMQP_URL;
  if (url === undefined || url.trim() === '') return;
  try {
    // Loaded only here: amqplib is not needed by runs without a broker of their own.
    const { probeAmqp } = await import('../rabbitmq/probe.ts');
    await probeAmqp(url);
  } catch (e) {
    throw new AgentloadError(
      'amqp-unreachable',
      EXIT_CODES.invalidConfig,
      `TARGET_AMQP_URL ${redactUrl(url)} does not answer (${toError(e).message}): start that broker, fix the URL, or unset it to let agentload start one`,
    );
  }
}
