/**
 * `k6/http` on the engine's own HTTP/1.1 client (`http/client.ts`). Each VU has its own connection
 * pool (like k6's per-VU transport). Every request returns a promise (async first); the timing
 * breakdown: blocked = until the request got a connection (includes connecting), sending = until
 * the request was written, waiting = until the first response byte, receiving = until the end.
 * A failing target is measured as an error sample (status 0, k6's error_code), never a crash.
 *
 * Files: `http/vu.ts` (one VU's requests: prepare, hops, samples), `http/request.ts` (params, URLs,
 * bodies, tags), `http/response.ts` (Response, error codes, timings), `http/batch.ts` (http.batch
 * limits), `http/client.ts` (the connection pool), `http/exchange.ts` (a request and its outcome),
 * `http/connection.ts` (one HTTP/1.1 connection), `http/h2.ts` (HTTP/2), `http/cookies.ts` (the jar and
 * the Cookie header) with `http/cookie-syntax.ts` and `http/cookie-args.ts`, `http/digest.ts`, `http/proxy.ts`.
 */
import type { EngineModuleContext } from './context.ts';
import { VuCookieJar } from './http/cookies.ts';
import { ModuleUsageError } from './k6.ts';
import type { BatchItem } from './http/batch.ts';
import { expectedStatuses, FileData, urlTemplate, type Body, type HttpParams, type ResponseCallback } from './http/request.ts';
import { VuHttp } from './http/vu.ts';
import type { K6Module } from './k6-types.ts';

export { DEFAULT_USER_AGENT, FileData, urlTemplate, type HttpParams } from './http/request.ts';
export { errorCodeOf, Response, ResponsePromise, type ResponseWire, type Timings } from './http/response.ts';

/**
 * k6's TLS version and OCSP constants (the embedded client neither pins TLS versions nor checks OCSP),
 * and FileData, which @types/k6 declares as a class but k6 does not export (http.file() makes one).
 */
type HttpMissing =
  | 'FileData'
  | 'SSL_3_0'
  | 'TLS_1_0'
  | 'TLS_1_1'
  | 'TLS_1_2'
  | 'TLS_1_3'
  | 'OCSP_STATUS_GOOD'
  | 'OCSP_STATUS_REVOKED'
  | 'OCSP_STATUS_SERVER_FAILED'
  | 'OCSP_STATUS_UNKNOWN'
  | 'OCSP_REASON_AA_COMPROMISE'
  | 'OCSP_REASON_AFFILIATION_CHANGED'
  | 'OCSP_REASON_CA_COMPROMISE'
  | 'OCSP_REASON_CERTIFICATE_HOLD'
  | 'OCSP_REASON_CESSATION_OF_OPERATION'
  | 'OCSP_REASON_KEY_COMPROMISE'
  | 'OCSP_REASON_PRIVILEGE_WITHDRAWN'
  | 'OCSP_REASON_REMOVE_FROM_CRL'
  | 'OCSP_REASON_SUPERSEDED'
  | 'OCSP_REASON_UNSPECIFIED';

export function createHttpModule(ctx: EngineModuleContext): Record<string, unknown> {
  const vu = new VuHttp(ctx);
  return httpModule(ctx, vu);
}

type K6Http = typeof import('k6/http');
type K6Params = Parameters<K6Http['get']>[1];

/**
 * k6's params as the engine reads them: the same fields; a responseCallback is what expectedStatuses()
 * returned (k6 declares it opaque). Scripts are untyped JavaScript, so every field is checked where it is used.
 */
function paramsOf(params: K6Params | HttpParams): HttpParams | null | undefined {
  return params as HttpParams | null | undefined;
}

function httpModule(ctx: EngineModuleContext, vu: VuHttp): K6Module<K6Http, HttpMissing> {
  return {
    request: (method: string, url: unknown, body?: Body, params?: K6Params) =>
      vu.start('http.request(...)', method, url, body, paramsOf(params)),
    asyncRequest: (method: string, url: unknown, body?: Body, params?: K6Params) =>
      vu.start('http.asyncRequest(...)', method, url, body, paramsOf(params)),
    get: (url: unknown, params?: K6Params) => vu.start('http.get(...)', 'GET', url, null, paramsOf(params)),
    head: (url: unknown, params?: K6Params) => vu.start('http.head(...)', 'HEAD', url, null, paramsOf(params)),
    post: (url: unknown, body?: Body, params?: K6Params) => vu.start('http.post(...)', 'POST', url, body, paramsOf(params)),
    put: (url: unknown, body?: Body, params?: K6Params) => vu.start('http.put(...)', 'PUT', url, body, paramsOf(params)),
    patch: (url: unknown, body?: Body, params?: K6Params) => vu.start('http.patch(...)', 'PATCH', url, body, paramsOf(params)),
    del: (url: unknown, body?: Body, params?: K6Params) => vu.start('http.del(...)', 'DELETE', url, body, paramsOf(params)),
    options: (url: unknown, body?: Body, params?: K6Params) => vu.start('http.options(...)', 'OPTIONS', url, body, paramsOf(params)),
    // k6's batch items are the same shapes (a string, [method, url, body, params], { method, url, body, params }).
    batch: (requests: Parameters<K6Http['batch']>[0]) => vu.batch(requests as BatchItem[] | Record<string, BatchItem>),
    expectedStatuses,
    setResponseCallback: (cb: Parameters<K6Http['setResponseCallback']>[0] | ResponseCallback | null) => {
      vu.responseCallback = cb as ResponseCallback | null;
    },
    CookieJar: VuCookieJar,
    file: (data: unknown, filename?: unknown, contentType?: unknown) => new FileData(data, filename, contentType),
    cookieJar: () => {
      if (ctx.stage() === 'init')
        throw new ModuleUsageError(
          'cookie-jar-in-init',
          'http.cookieJar(): making cookie jars in the init context is not supported; call it in setup() or the default function (new http.CookieJar() works anywhere)',
        );
      return vu.currentJar();
    },
    url: urlTemplate,
    /** Closes this VU's connections (called by the runtime when the VU is discarded). */
    [Symbol.for('agentload.close')]: () => {
      vu.close();
    },
  };
}
