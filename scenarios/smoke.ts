/**
 * smoke: the smallest useful run — a few requests to `GET /health` to prove the toolkit, the engine and
 * the target are wired together. Point it at a real system with BASE_URL (its host must be loopback or
 * listed in AGENTLOAD_ALLOWED_HOSTS).
 */
import http from 'k6/http';
import { check } from 'k6';
import type { Options } from 'k6/options';
import { target } from '../lib/config.ts';

export const options: Options = {
  vus: 1,
  iterations: 3,
  thresholds: { http_req_failed: ['rate<0.5'] },
};

// BASE_URL checked and without a trailing slash (lib/config): `http://host/` gives /health, not //health.
const { baseUrl } = target(__ENV);

export default async function (): Promise<void> {
  const res = await http.asyncRequest('GET', `${baseUrl}/health`, null, { tags: { endpoint: 'health' } });
  check(res, { 'health is 200': (r) => r.status === 200 });
}
