/**
 * k6's http.batch scheduling: every request runs in parallel, but at most `total` at once and at most
 * `perHost` per host (0 lifts a limit). Results keep the input's shape (array or object); the first
 * failure (e.g. a bad URL) rejects the batch.
 */
import type { Body, HttpParams } from './request.ts';
import { toError } from '../../../shared/errors.ts';

export type BatchItem =
  string | [string, unknown, Body?, HttpParams?] | { method?: string; url: unknown; body?: Body; params?: HttpParams };

export interface BatchLimits {
  readonly total: number;
  readonly perHost: number;
}

interface Queued {
  readonly i: number;
  readonly method: string;
  readonly url: unknown;
  readonly body: Body;
  readonly params: HttpParams | null | undefined;
  readonly host: string;
}

/** One batch item as (method, url, body, params) with its host. */
function queued(r: BatchItem, i: number, hostOf: (url: unknown) => string): Queued {
  const [method, url, body, params] =
    typeof r === 'string'
      ? (['GET', r, null, undefined] as const)
      : Array.isArray(r)
        ? ([r[0], r[1], r[2] ?? null, r[3]] as const)
        : ([r.method ?? 'GET', r.url, r.body ?? null, r.params] as const);
  return { i, method, url, body, params, host: hostOf(url) };
}

/** Runs `requests` through `send` within `limits`; `hostOf` names the host a request counts against. */
export function runBatch<R>(
  requests: BatchItem[] | Record<string, BatchItem>,
  limits: BatchLimits,
  hostOf: (url: unknown) => string,
  send: (method: string, url: unknown, body: Body, params: HttpParams | null | undefined) => Promise<R>,
): Promise<R[] | Record<string, R>> {
  const entries: [string, BatchItem][] = Array.isArray(requests) ? requests.map((r, i) => [String(i), r]) : Object.entries(requests);
  const { total, perHost } = limits;
  return new Promise<R[] | Record<string, R>>((resolve, reject) => {
    const results: R[] = [];
    const queue = entries.map(([, r], i) => queued(r, i, hostOf));
    const active = new Map<string, number>();
    let running = 0;
    let finished = 0;
    let failed = false;
    const finish = (): void => {
      if (Array.isArray(requests)) resolve(results);
      else resolve(Object.fromEntries(entries.map(([k], i) => [k, results[i] as R])));
    };
    const pump = (): void => {
      for (let q = 0; q < queue.length && (total <= 0 || running < total);) {
        const item = queue[q];
        if (item === undefined) break;
        const onHost = active.get(item.host) ?? 0;
        if (perHost > 0 && onHost >= perHost) {
          q++;
          continue;
        }
        queue.splice(q, 1);
        running++;
        active.set(item.host, onHost + 1);
        send(item.method, item.url, item.body, item.params).then(
          (res) => {
            results[item.i] = res;
            running--;
            active.set(item.host, (active.get(item.host) ?? 1) - 1);
            if (++finished === entries.length) finish();
            else if (!failed) pump();
          },
          (e: unknown) => {
            failed = true;
            reject(toError(e));
          },
        );
      }
    };
    if (entries.length === 0) finish();
    else pump();
  });
}
