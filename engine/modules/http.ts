/**
 * `k6/http` on the engine's own HTTP/1.1 client (`http/client.ts`). Each VU has its own connection
 * pool (like k6's per-VU transport). Every request returns a promise (async first); the timing
 * breakdown: blocked = until the request got a connection (includes connecting), sending = until
 * the request was written, waiting = until the first response byte, receiving = until the end.
 * A failing target is measured as an error sample (status 0, k6's error_code), never a crash.
 *
 * Files: `http/vu.ts` (one VU's requests: prepare, hops, samples), `http/request.ts` (params, URLs,
 * bodies, tags), `http/response.ts` (Response, error codes, timings), `http/batch.ts` (http.batch
 * limits), `http/client.ts` (the connection pool), `http/cookies.ts`, `http/digest.ts`, `http/proxy.ts`.
 */
import type { EngineModuleContext } from './context.ts';
import { VuCookieJar } from './http/cookies.ts';
import { ModuleUsageError } from './k6.ts';
import type { BatchItem } from './http/batch.ts';
import { expectedStatuses, FileData, urlTemplate, type Body, type HttpParams, type ResponseCallback } from './http/request.ts';
import { VuHttp } from './http/vu.ts';

export { DEFAULT_USER_AGENT, FileData, urlTemplate, type HttpParams } from './http/request.ts';
export { errorCodeOf, Response, ResponsePromise, type ResponseWire, type Timings } from './http/response.ts';

export function createHttpModule(ctx: EngineModuleContext): Record<string, unknown> {
  const vu = new VuHttp(ctx);
  return {
    request: (method: string, url: unknown, body?: Body, params?: HttpParams) => vu.start('http.request(...)', method, url, body, params),
    asyncRequest: (method: string, url: unknown, body?: Body, params?: HttpParams) => vu.start('http.asyncRequest(...)', method, url, body, params),
    get: (url: unknown, params?: HttpParams) => vu.start('http.get(...)', 'GET', url, null, params),
    head: (url: unknown, params?: HttpParams) => vu.start('http.head(...)', 'HEAD', url, null, params),
    post: (url: unknown, body?: Body, params?: HttpParams) => vu.start('http.post(...)', 'POST', url, body, params),
    put: (url: unknown, body?: Body, params?: HttpParams) => vu.start('http.put(...)', 'PUT', url, body, params),
    patch: (url: unknown, body?: Body, params?: HttpParams) => vu.start('http.patch(...)', 'PATCH', url, body, params),
    del: (url: unknown, body?: Body, params?: HttpParams) => vu.start('http.del(...)', 'DELETE', url, body, params),
    options: (url: unknown, body?: Body, params?: HttpParams) => vu.start('http.options(...)', 'OPTIONS', url, body, params),
    batch: (requests: BatchItem[] | Record<string, BatchItem>) => vu.batch(requests),
    expectedStatuses,
    setResponseCallback: (cb: ResponseCallback | null) => { vu.responseCallback = cb; },
    CookieJar: VuCookieJar,
    file: (data: unknown, filename?: unknown, contentType?: unknown) => new FileData(data, filename, contentType),
    cookieJar: () => {
      if (ctx.stage() === 'init') throw new ModuleUsageError('cookie-jar-in-init', 'http.cookieJar(): making cookie jars in the init context is not supported; call it in setup() or the default function (new http.CookieJar() works anywhere)');
      return vu.currentJar();
    },
    url: urlTemplate,
    /** Closes this VU's connections (called by the runtime when the VU is discarded). */
    [Symbol.for('agentload.close')]: () => { vu.close(); },
  };
}
