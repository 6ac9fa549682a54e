/**
 * HTTP helpers: every request is async (`http.asyncRequest`), tagged with `endpoint` (the objective it
 * counts toward) and a `name` (the route pattern, so URLs with ids do not explode the tag set).
 */
import http from 'k6/http';
import type { Params, RefinedResponse, ResponseType } from 'k6/http';
import { parseJson } from './json.ts';

export type Res = RefinedResponse<ResponseType | undefined>;

export interface RequestTags {
  /** The objective this request counts toward, e.g. `health`, `agents_list`. */
  readonly endpoint: string;
  /** Route pattern for the `name` tag, e.g. `/api/agents/:id/status`; defaults to the URL path. */
  readonly name?: string;
  readonly [tag: string]: string | undefined;
}

export interface RequestOptions {
  readonly headers?: Readonly<Record<string, string>>;
  /** k6 duration, e.g. "10s". */
  readonly timeout?: string;
}

function cleanTags(tags: RequestTags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (v !== undefined) out[k] = v;
  return out;
}

export async function request(method: string, url: string, body: string | null, tags: RequestTags, o: RequestOptions = {}): Promise<Res> {
  const params: Params = {
    headers: { ...(body !== null ? { 'Content-Type': 'application/json' } : {}), ...(o.headers ?? {}) },
    tags: cleanTags(tags),
  };
  if (o.timeout !== undefined) params.timeout = o.timeout;
  return http.asyncRequest(method, url, body, params);
}

export function get(url: string, tags: RequestTags, o?: RequestOptions): Promise<Res> {
  return request('GET', url, null, tags, o);
}

export function postJson(url: string, payload: unknown, tags: RequestTags, o?: RequestOptions): Promise<Res> {
  return request('POST', url, JSON.stringify(payload), tags, o);
}

/** The response body parsed as JSON; undefined when it is not JSON (or the request failed). */
export function json(r: Res): unknown {
  return parseJson(r.body);
}

/** True for 2xx. */
export function ok(r: Res): boolean {
  return r.status >= 200 && r.status < 300;
}

/** A response header by name, whatever its case (k6 canonicalises names: `X-Cache`, `Server-Timing`). */
export function header(r: Res, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(r.headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}
