/**
 * A request for the engine's connection pool to a test server on 127.0.0.1: the fields a pool test rarely
 * varies filled in (GET, plain http, a `User-Agent` header, a 5 s timeout, the body kept), `extra` for the rest.
 */
import type { ClientRequest } from '../../../engine/modules/http/exchange.ts';

export function clientRequest(port: number, path: string, extra: Partial<ClientRequest> = {}): ClientRequest {
  return {
    method: 'GET',
    tls: false,
    hostname: '127.0.0.1',
    port,
    host: `127.0.0.1:${String(port)}`,
    path,
    headers: { 'User-Agent': 'test' },
    body: undefined,
    timeoutMs: 5000,
    keepBody: true,
    ...extra,
  };
}
