/**
 * One VU's `k6/http`: its connection pool (like k6's per-VU transport), cookie jar, URL cache and
 * response callback, and the request path: prepare the request once, then one hop per redirect (or
 * digest answer), each measured as its own request. Callbacks, not async: no promise per hop.
 */
import { HTTP_REQ_METRICS } from '../../../shared/k6-metrics.ts';
import type { Tags } from '../../contracts.ts';
import { awaitable, deferredAwaitable, forgotAwaitMessage, type Awaitable } from '../awaitable.ts';
import type { EngineModuleContext } from '../context.ts';
import { ModuleUsageError } from '../k6.ts';
import { runBatch, type BatchItem } from './batch.ts';
import { ConnectionPool } from './client.ts';
import { headerValue, requestHead, type ClientRequest, type Exchange } from './exchange.ts';
import { cookieHeaderFor, jarForIteration, jarForRequest, responseCookies, storeResponseCookies, type VuCookieJar } from './cookies.ts';
import { digestAuthorization, parseDigestChallenge } from './digest.ts';
import { proxyFromEnv } from './proxy.ts';
import {
  compressBody,
  credentialsOf,
  DEFAULT_USER_AGENT,
  encodeBody,
  expectedStatuses,
  isDomainOrSubdomain,
  isFormBody,
  parseDuration,
  parseUrl,
  requestTags,
  urlTextOf,
  withoutAuthorization,
  type Body,
  type HttpParams,
  type ParsedUrl,
  type ResponseCallback,
} from './request.ts';
import { Memo, Response, responseOf, ResponsePromise, setCookieLines, type Timings } from './response.ts';

/**
 * A request's samples, as one row (contracts.ts SampleRow): k6's per-request metrics in k6's order
 * (shared/k6-metrics.ts); http_req_failed last, only when a response callback decides what is expected.
 */
const REQUEST_ROW = HTTP_REQ_METRICS;

type EngineOptions = ReturnType<EngineModuleContext['options']>;

/** Everything one request keeps across its hops (redirects, the digest answer). */
interface RequestPlan {
  readonly method: string;
  readonly nameFromUrlObj: string | undefined;
  readonly params: HttpParams;
  readonly opts: EngineOptions;
  readonly headers: Record<string, string>;
  readonly hostOverride: string | undefined;
  readonly userCookie: string | undefined;
  readonly firstUrl: URL;
  readonly user: { readonly name: string; readonly password: string } | undefined;
  /** With auth: 'digest', until the unauthenticated first request got its answer. */
  digestPending: boolean;
  readonly ownAuthorization: boolean;
  /** Set for good at the first redirect to another domain: the request's own Authorization stays behind. */
  crossedDomain: boolean;
  readonly jar: ReturnType<typeof jarForRequest>;
  readonly timeout: number;
  readonly responseType: 'text' | 'binary' | 'none';
  readonly cb: ResponseCallback | null;
  readonly intr: ReturnType<EngineModuleContext['iterationInterruption']>;
  readonly baseTags: Tags;
  readonly maxRedirects: number;
  readonly done: (res: Response) => void;
  readonly fail: (err: unknown) => void;
}

/**
 * One hop of a request: what the pool sends (its method, headers and body), with its URL, the redirects it
 * may still follow and the request it belongs to. One object per hop: the pool hands it back on the
 * exchange (`ex.req`), so the answer needs no closure of its own.
 */
interface Hop extends ClientRequest {
  readonly plan: RequestPlan;
  readonly urlText: string;
  readonly redirectsLeft: number;
  readonly first: boolean;
  readonly url: ParsedUrl;
  readonly headers: Record<string, string>;
}

export class VuHttp {
  readonly #ctx: EngineModuleContext;
  readonly #pool: ConnectionPool;
  #defaultHeaders: Readonly<Record<string, string>> = Object.freeze({ 'User-Agent': DEFAULT_USER_AGENT });
  readonly #urls = new Memo<ParsedUrl>(256);
  // k6 (Go's ProxyFromEnvironment) takes proxies from the process environment, not from -e variables.
  readonly #proxyFor = proxyFromEnv(process.env);
  #vuJar: VuCookieJar | undefined;
  #jarStage = '';
  #jarIter = -1;
  readonly #countBytes = (sent: number, received: number): void => {
    this.#ctx.countBytes(sent, received);
  };
  /** http.setResponseCallback's; by default 200-399 are expected. */
  responseCallback: ResponseCallback | null = expectedStatuses({ min: 200, max: 399 });

  constructor(ctx: EngineModuleContext) {
    this.#ctx = ctx;
    // Options are read when needed: VU 0 (setup/teardown) loads this module before the options are known.
    // HTTP/2 is offered on https unless GODEBUG=http2client=0, the switch Go (and so k6) honours.
    const http2 = !/(^|,)\s*http2client=0\s*(,|$)/.test(process.env.GODEBUG ?? '');
    this.#pool = new ConnectionPool({
      now: () => ctx.clock.now(),
      rejectUnauthorized: () => ctx.options().insecureSkipTLSVerify !== true,
      http2,
      refuse: (host) => ctx.connectRefusal(host),
    });
  }

  /**
   * The VU's cookie jar, asked for by every request: at its first use in an iteration (or setup/teardown)
   * k6 starts with an empty jar unless noCookiesReset, and with no idle connection under noVUConnectionReuse.
   */
  currentJar(): VuCookieJar {
    const ctx = this.#ctx;
    const stage = ctx.stage();
    const iter = ctx.iterationInVu();
    if (this.#vuJar === undefined || stage !== this.#jarStage || iter !== this.#jarIter) {
      this.#vuJar = jarForIteration(this.#vuJar, ctx.options().noCookiesReset === true);
      if (ctx.options().noVUConnectionReuse === true) this.#pool.closeIdle();
      this.#jarStage = stage;
      this.#jarIter = iter;
    }
    return this.#vuJar;
  }

  /** Closes this VU's connections. */
  close(): void {
    this.#pool.close();
  }

  #parsed(text: string, method: string): ParsedUrl {
    return this.#urls.get(text) ?? this.#urls.set(text, parseUrl(text, method, this.#proxyFor));
  }

  /** The host a batch request counts against for batchPerHost ('' when the URL is invalid: the request reports it). */
  #hostOf(urlIn: unknown): string {
    try {
      return this.#parsed(urlTextOf(urlIn), 'GET').host;
    } catch {
      return '';
    }
  }

  /** `http.get(...)` and friends: the request started, its promise returned. */
  start(call: string, method: string, url: unknown, body: Body, params: HttpParams | null | undefined): ResponsePromise {
    if (this.#ctx.stage() === 'init') {
      throw new ModuleUsageError(
        'http-in-init',
        `${call}: making HTTP requests in the init context is not supported; move it into setup() or the default function`,
      );
    }
    const d = deferredAwaitable<Response, ResponsePromise>(this.#ctx, call, ResponsePromise);
    d.promise.warnField = this.#warnField;
    this.request(method, url, body, params, d.settle, d.fail);
    return d.promise;
  }

  /** Warns once per call site that a response field was read from the promise (a forgotten await). */
  readonly #warnField = (promise: ResponsePromise, field: string): void => {
    const where = this.#ctx.callSite(3);
    const call = promise.call;
    // Keyed by where the field was read; the end-of-iteration check skips this promise.
    promise.warned = true;
    this.#ctx.warnOnce(
      `forgot-await-field:${where !== '' ? where : call}`,
      forgotAwaitMessage(call, where, `\`.${field}\` was read from the promise`),
    );
  };

  /** `http.batch(...)`, within options.batch (default 20) and options.batchPerHost (default 6). */
  batch(requests: BatchItem[] | Record<string, BatchItem>): Awaitable<Response[] | Record<string, Response>> {
    const opts = this.#ctx.options();
    const limits = {
      total: typeof opts.batch === 'number' ? opts.batch : 20,
      perHost: typeof opts.batchPerHost === 'number' ? opts.batchPerHost : 6,
    };
    const send = (method: string, url: unknown, body: Body, params: HttpParams | null | undefined): Promise<Response> =>
      new Promise<Response>((resolve, reject) => {
        this.request(method, url, body, params, resolve, reject);
      });
    return awaitable(
      this.#ctx,
      'http.batch(...)',
      runBatch(requests, limits, (url) => this.#hostOf(url), send),
    );
  }

  /**
   * One request with its redirect hops; `done` gets the final response, `fail` an exception for the
   * script (bad arguments, an interrupted iteration), also one thrown while preparing the request.
   */
  request(
    method: string,
    urlIn: unknown,
    body: Body,
    params: HttpParams | null | undefined,
    done: (res: Response) => void,
    fail: (err: unknown) => void,
  ): void {
    try {
      const { plan, urlText, payload } = this.#prepare(method, urlIn, body, params, done, fail);
      this.#hop(plan, urlText, plan.method, payload, plan.maxRedirects, true);
    } catch (e) {
      fail(e);
    }
  }

  /** The VU's default headers, renewed (and cached request heads dropped) when options.userAgent changed. */
  #headersFor(opts: EngineOptions): Readonly<Record<string, string>> {
    const ua = typeof opts.userAgent === 'string' ? opts.userAgent : DEFAULT_USER_AGENT;
    if (this.#defaultHeaders['User-Agent'] !== ua) {
      this.#defaultHeaders = Object.freeze({ 'User-Agent': ua });
      this.#urls.clear(); // cached request heads carry the old User-Agent
    }
    return this.#defaultHeaders;
  }

  /** What every hop of the request shares: headers, credentials, jar, body, timeout, tags. */
  #prepare(
    methodIn: string,
    urlIn: unknown,
    body: Body,
    params: HttpParams | null | undefined,
    done: (res: Response) => void,
    fail: (err: unknown) => void,
  ): { plan: RequestPlan; urlText: string; payload: Buffer | undefined } {
    const ctx = this.#ctx;
    const method = methodIn.toUpperCase();
    const urlText = urlTextOf(urlIn);
    const nameFromUrlObj = typeof urlIn === 'object' && urlIn !== null && 'name' in urlIn ? String(urlIn.name) : undefined;
    const p = params ?? {};
    const opts = ctx.options();
    const defaults = this.#headersFor(opts);
    // Shared (frozen) while the request adds nothing to it: the common case allocates no headers.
    const headers: Record<string, string> =
      p.headers === undefined && p.compression === undefined && !isFormBody(body) ? defaults : { ...defaults };
    const { hostOverride, userCookie } = copyParamHeaders(p.headers, headers);
    // Credentials in the URL (Go's client): Basic on each hop whose URL has them, unless the request has
    // its own Authorization; with auth: 'digest', k6's exchange instead. An Authorization leaves for good
    // at a redirect to another domain (Go's shouldCopyHeaderOnRedirect, sticky as since Go 1.23.5).
    const auth = p.auth === undefined ? undefined : typeof p.auth === 'string' ? p.auth.toLowerCase() : JSON.stringify(p.auth);
    if (auth !== undefined && auth !== 'basic' && auth !== 'digest') {
      throw new ModuleUsageError(
        'unsupported-auth',
        `k6/http: params.auth "${auth}" is not supported by the embedded engine; use "basic" or "digest" (NTLM needs the k6 binary)`,
      );
    }
    const first = this.#parsed(urlText, method);
    const firstUrl = first.url;
    const user = first.userInfo ? credentialsOf(firstUrl, urlText, method) : undefined;
    const jar = jarForRequest(p.jar, this.currentJar());
    let payload = encodeBody(body, headers);
    if (p.compression !== undefined && p.compression !== null && p.compression !== '' && payload !== undefined) {
      const c = compressBody(payload, p.compression);
      payload = c.body;
      headers['Content-Encoding'] = c.encoding;
    }
    const plan: RequestPlan = {
      method,
      nameFromUrlObj,
      params: p,
      opts,
      headers,
      hostOverride,
      userCookie,
      firstUrl,
      user,
      digestPending: auth === 'digest' && user !== undefined,
      ownAuthorization: headerValue(headers, 'authorization') !== undefined,
      crossedDomain: false,
      jar,
      timeout: parseDuration(p.timeout, 60_000),
      responseType: p.responseType ?? (ctx.discardResponseBodies() ? 'none' : 'text'),
      cb: p.responseCallback === undefined ? this.responseCallback : p.responseCallback,
      intr: ctx.iterationInterruption(),
      baseTags: ctx.currentTags(),
      maxRedirects: p.redirects ?? (typeof opts.maxRedirects === 'number' ? opts.maxRedirects : 10),
      done,
      fail,
    };
    return { plan, urlText, payload };
  }

  /** The headers of one hop: cookies from the jar, Basic credentials or the digest answer, Authorization kept or dropped. */
  #hopHeaders(
    plan: RequestPlan,
    url: ParsedUrl,
    urlText: string,
    first: boolean,
    authorization: string | undefined,
  ): Record<string, string> {
    // On a redirect k6 rebuilds the Cookie header from params.cookies and the jar alone.
    const cookie = cookieHeaderFor(plan.jar, url.url, plan.params.cookies, first ? plan.userCookie : undefined);
    let hopHeaders = cookie === undefined ? plan.headers : { ...plan.headers, Cookie: cookie };
    if (!first && !plan.crossedDomain && !isDomainOrSubdomain(url.url.hostname, plan.firstUrl.hostname)) plan.crossedDomain = true;
    const hopUser = first ? plan.user : url.userInfo ? credentialsOf(url.url, urlText, plan.method) : undefined;
    const basic =
      hopUser === undefined || plan.digestPending || (plan.ownAuthorization && !plan.crossedDomain)
        ? undefined
        : `Basic ${Buffer.from(`${hopUser.name}:${hopUser.password}`).toString('base64')}`;
    const hopAuthorization = authorization ?? basic;
    if (hopAuthorization !== undefined || (plan.ownAuthorization && plan.crossedDomain)) {
      hopHeaders = withoutAuthorization(hopHeaders);
      if (hopAuthorization !== undefined) hopHeaders.Authorization = hopAuthorization;
    }
    return hopHeaders;
  }

  /** Sends one hop; its answer goes to #answered. */
  #hop(
    plan: RequestPlan,
    urlText: string,
    method: string,
    body: Buffer | undefined,
    redirectsLeft: number,
    first: boolean,
    authorization?: string,
  ): void {
    const url = this.#parsed(urlText, plan.method);
    const headers = this.#hopHeaders(plan, url, urlText, first, authorization);
    const hop: Hop = {
      method,
      tls: url.tls,
      hostname: url.hostname,
      port: url.port,
      host: plan.hostOverride ?? url.host,
      path: url.path,
      headers,
      body,
      timeoutMs: plan.timeout,
      keepBody: plan.responseType !== 'none',
      proxy: url.proxy,
      key: url.key,
      close: plan.opts.noConnectionReuse === true,
      head: undefined,
      plan,
      urlText,
      redirectsLeft,
      first,
      url,
    };
    if (headers === this.#defaultHeaders && body === undefined && plan.hostOverride === undefined) {
      const cached = url.heads.get(method);
      if (cached !== undefined) hop.head = cached;
      else if (url.heads.size < 16) url.heads.set(method, (hop.head = requestHead(hop)));
    }
    this.#pool.request(hop, plan.intr, this.#onExchange);
  }

  /** The pool's answer to a hop (#hop sent a Hop: it comes back as `ex.req`). */
  readonly #onExchange = (ex: Exchange): void => {
    const hop = ex.req as Hop;
    try {
      this.#answered(hop.plan, hop, ex);
    } catch (e) {
      hop.plan.fail(e);
    }
  };

  /** A hop's exchange: the response, its cookies and samples, then the digest answer, a redirect or the end. */
  #answered(plan: RequestPlan, hop: Hop, ex: Exchange): void {
    const { url } = hop;
    const res = responseOf(this.#countBytes, ex, hop.method, url.href, hop.headers, hop.body, plan.responseType);
    const setCookie = setCookieLines(ex);
    if (setCookie !== undefined) {
      storeResponseCookies(plan.jar, url.url, setCookie);
      res.cookies = responseCookies(url.url, setCookie);
    }
    // k6's digest: the unauthenticated first request is expected to get its 401.
    const digestProbe = plan.digestPending;
    plan.digestPending = false;
    const expected = plan.cb === null ? undefined : digestProbe ? res.status === 401 : plan.cb.__expected(res.status);
    this.#record(plan, hop, res, expected);
    if (digestProbe && res.status === 401 && plan.user !== undefined) {
      const challenge = parseDigestChallenge(res.headers['Www-Authenticate']);
      const answer =
        challenge === undefined
          ? undefined
          : digestAuthorization(challenge, {
              method: hop.method,
              uri: url.path,
              username: plan.user.name,
              password: plan.user.password,
              body: hop.body,
            });
      if (answer !== undefined) {
        this.#hop(plan, hop.urlText, hop.method, hop.body, hop.redirectsLeft, hop.first, answer);
        return;
      }
    }
    // Redirects: each hop is its own request in the metrics, like k6.
    const location = res.headers.Location;
    if (
      res.status >= 301 &&
      res.status <= 308 &&
      res.status !== 304 &&
      res.status !== 305 &&
      res.status !== 306 &&
      location !== undefined
    ) {
      if (hop.redirectsLeft <= 0) {
        this.#ctx.log(
          'warn',
          `Stopped after ${String(plan.maxRedirects)} redirects and returned the redirection; pass { redirects: n } in request params or set global maxRedirects option`,
        );
        plan.done(res);
        return;
      }
      const see = res.status === 303 || ((res.status === 301 || res.status === 302) && hop.method === 'POST');
      this.#hop(plan, new URL(location, url.url).href, see ? 'GET' : hop.method, see ? undefined : hop.body, hop.redirectsLeft - 1, false);
      return;
    }
    plan.done(res);
  }

  /** The hop's samples, tagged with the URL as shown (credentials masked) and the request's name. */
  #record(plan: RequestPlan, hop: Hop, res: Response, expected: boolean | undefined): void {
    const { url } = hop;
    const urlTag = url.tag;
    const tags = requestTags(url, plan.baseTags, res, hop.method, urlTag, plan.nameFromUrlObj ?? urlTag, expected, plan.params.tags);
    this.#emitSamples(res.timings, tags, expected);
  }

  #emitSamples(t: Timings, tags: Tags, expected: boolean | undefined): void {
    // One array literal each way: pushing a ninth value would copy the array.
    const values =
      expected === undefined
        ? [1, t.duration, t.blocked, t.connecting, t.tls_handshaking, t.sending, t.waiting, t.receiving]
        : [1, t.duration, t.blocked, t.connecting, t.tls_handshaking, t.sending, t.waiting, t.receiving, expected ? 0 : 1];
    this.#ctx.emitRow({ metrics: REQUEST_ROW, values, time: this.#ctx.clock.wallNow(), tags });
  }
}

/**
 * Copies params.headers into `headers`, except Host (Go sends it as the Host line), Cookie (merged with
 * params.cookies and the jar) and Content-Length (the client writes the body's real length).
 */
function copyParamHeaders(
  from: HttpParams['headers'],
  headers: Record<string, string>,
): { hostOverride: string | undefined; userCookie: string | undefined } {
  let hostOverride: string | undefined;
  let userCookie: string | undefined;
  if (from !== undefined) {
    for (const k in from) {
      const v = String(from[k]);
      const lower = k.length === 4 || k.length === 6 || k.length === 14 ? k.toLowerCase() : '';
      if (lower === 'host') hostOverride = v;
      else if (lower === 'cookie') userCookie = v;
      else if (lower !== 'content-length') headers[k] = v;
    }
  }
  return { hostOverride, userCookie };
}
