/**
 * `agentload new <name>`: scaffolds scenarios/<name>.ts with what every scenario here has: the header (what it
 * proves, what it needs, its variables), typed configuration from lib/config (SIZE, RATE, DURATION), requests
 * tagged with their endpoint, thresholds from the profile (objectives/), async-first code. It runs as written
 * (`npm run k6 -- <name>`) against the bundled platform's /health.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AgentloadError, EXIT_CODES } from '../errors.ts';
import type { CliIO } from './io.ts';

const NAME = /^[a-z][a-z0-9-]*$/;

export function scenarioTemplate(name: string): string {
  const exec = name.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return `/**
 * ${name} — TODO: one line on what this scenario measures.
 *
 * Proves: TODO (the objective, e.g. "GET /health P95 under the profile's objective at RATE req/s, < 1 % errors").
 *
 * Needs from the system: TODO (the endpoints and answers it relies on), e.g. \`GET /health\` → 200.
 *
 * Variables:
 *   BASE_URL        the system under test (the run command starts the bundled platform when unset)
 *   SIZE            smoke (default: 5 req/s for 10 s) | full (50 req/s for 2 min)
 *   RATE            requests per second
 *   DURATION        e.g. 2m
 *   PROFILE         mvp (default) | production — the thresholds
 */
import { check } from 'k6';
import { bySize, duration, int, size, target } from '../lib/config.ts';
import { get, ok } from '../lib/http.ts';
import { arrival, type ScriptOptions } from '../lib/scenario.ts';
import { selectProfile } from '../objectives/index.ts';

const env = __ENV;
const sz = size(env);
const { baseUrl } = target(env);
const RATE = int(env, 'RATE', bySize(sz, { smoke: 5, full: 50 }), { min: 1 });
const DURATION = duration(env, 'DURATION', bySize(sz, { smoke: '10s', full: '2m' }));
const profile = selectProfile(env);

export const options: ScriptOptions = {
  scenarios: {
    ${exec}: arrival({ exec: '${exec}', rate: RATE, duration: DURATION, tags: { endpoint: 'health' } }),
  },
  thresholds: {
    'http_req_duration{endpoint:health}': [\`p(95)<\${String(profile.api.p95Ms.health)}\`],
    http_req_failed: [\`rate<\${String(profile.api.maxErrorRate)}\`],
  },
};

export async function ${exec}(): Promise<void> {
  const res = await get(\`\${baseUrl}/health\`, { endpoint: 'health', name: '/health' });
  check(res, { 'health is 2xx': (r) => ok(r) });
}
`;
}

export function newCommand(argv: readonly string[], io: CliIO): number {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout.write(
      'Usage: agentload new <name>   writes scenarios/<name>.ts (a runnable scenario with the header, config, tags and thresholds the others use)\n',
    );
    return name === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  if (rest.length > 0) throw new AgentloadError('usage', EXIT_CODES.usage, `agentload new takes one name, got ${argv.join(' ')}`);
  if (!NAME.test(name))
    throw new AgentloadError(
      'usage',
      EXIT_CODES.usage,
      `scenario name "${name}" must be lower-case letters, digits and "-", starting with a letter (e.g. agent-search)`,
    );
  const dir = join(io.cwd, 'scenarios');
  const file = join(dir, `${name}.ts`);
  if (existsSync(file))
    throw new AgentloadError('usage', EXIT_CODES.usage, `${relative(io.cwd, file)} exists already: pick another name or edit it`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, scenarioTemplate(name), { flag: 'wx' });
  io.stdout.write(`wrote ${relative(io.cwd, file)}: fill in its header's TODOs, then run it with npm run k6 -- ${name}\n`);
  return EXIT_CODES.ok;
}
