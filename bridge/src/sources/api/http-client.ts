/**
 * A small JSON-over-HTTP client for reading a CRM's API politely (node's fetch).
 *
 * - Pace: at most `rate.limit` requests per `rate.intervalMs` on a rolling window (p-throttle,
 *   strict mode), and on top of that the API's own word: a `Retry-After` (seconds or HTTP date),
 *   a rate-limit reset header once the remaining count reaches 0, or a hint in a 429's body. While
 *   paused, no request leaves (one gate for every caller, so a 429 is not answered by a burst).
 * - Retries only for safe requests (GET/HEAD, or a read the caller marks `idempotent`, such as a
 *   POST search): on 429, 408, 5xx, a dropped connection or a timeout, with jittered backoff.
 *   Anything else (400, 401, 403, 404...) stops at once with the status and the API's message.
 * - A guard that stops and reports instead of getting banned: once `guard.maxBad` answers within
 *   `guard.windowMs` went wrong (any non-2xx, dropped connection, timeout), no further request is
 *   sent and ApiStoppedError says why. Set it below the API's own ban threshold.
 * - Every answer is checked with a zod schema before anyone uses it.
 */
import pThrottle from 'p-throttle';
import type { Logger } from 'pino';
import type { z } from 'zod';

export interface ApiClientOptions {
  /** for messages: "Ontraport API" */
  name: string;
  baseUrl: string;
  /** sent with every request (auth headers); never logged */
  headers?: Record<string, string>;
  /** steady pace, rolling window; default 60 per minute */
  rate?: { limit: number; intervalMs: number };
  /** tries of a safe request, the first included; default 5 */
  maxAttempts?: number;
  /** first backoff (doubles each retry, ±25% jitter) when the API gives no wait; default 1000 ms */
  backoffMs?: number;
  /** a wait the API asks for longer than this stops the run (reported) instead; default 10 min */
  maxWaitMs?: number;
  /** stop once this many bad answers came within this window; default 10 in 15 s. `shared`: clients
   *  naming the same key count their bad answers together (an API that bans per IP or per key:
   *  a resumed extraction, or a second migration, starts with the bad answers of the first) */
  guard?: { maxBad: number; windowMs: number; shared?: string };
  /** one request, headers and body; default 60 s */
  timeoutMs?: number;
  /** rate headers (lower case); default the common x-rate-limit-* / x-ratelimit-* names */
  rateHeaders?: { remaining: string[]; reset: string[] };
  /** a wait (seconds) an API states in a 429's JSON body rather than a header */
  retryAfterFromBody?: (body: unknown) => number | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
  fetch?: typeof fetch;
}

export interface ApiRequest<S extends z.ZodType> {
  method?: 'GET' | 'HEAD' | 'POST';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** a POST that only reads (a search) may be retried like a GET */
  idempotent?: boolean;
  schema: S;
}

/** The API answered in a way that stops this request (status, body that does not fit, refusal). */
export class ApiError extends Error {
  constructor(
    readonly api: string,
    readonly where: string,
    readonly status: number | null,
    message: string,
  ) {
    super(`${api}, ${where}: ${message}`);
    this.name = 'ApiError';
  }
}

/** The client stopped itself (too many bad answers, or the API asked for too long a wait). */
export class ApiStoppedError extends ApiError {
  constructor(api: string, where: string, message: string) {
    super(api, where, null, message);
    this.name = 'ApiStoppedError';
  }
}

const DEFAULT_RATE_HEADERS = {
  remaining: ['x-rate-limit-remaining', 'x-ratelimit-remaining', 'ratelimit-remaining'],
  reset: ['x-rate-limit-reset', 'x-ratelimit-reset', 'ratelimit-reset'],
};

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface ApiStats {
  requests: number;
  retries: number;
  bad: number;
  waitedMs: number;
}

export class ApiClient {
  readonly stats: ApiStats = { requests: 0, retries: 0, bad: 0, waitedMs: 0 };
  private readonly throttled: () => Promise<void>;
  private pausedUntil = 0;
  private readonly badAt: number[];
  private readonly opts: Required<Omit<ApiClientOptions, 'retryAfterFromBody' | 'log' | 'headers'>> &
    Pick<ApiClientOptions, 'retryAfterFromBody' | 'log' | 'headers'>;

  constructor(options: ApiClientOptions) {
    this.opts = {
      rate: { limit: 60, intervalMs: 60_000 },
      maxAttempts: 5,
      backoffMs: 1000,
      maxWaitMs: 10 * 60_000,
      guard: { maxBad: 10, windowMs: 15_000 },
      timeoutMs: 60_000,
      rateHeaders: DEFAULT_RATE_HEADERS,
      fetch: globalThis.fetch,
      ...options,
    };
    this.badAt = this.opts.guard.shared === undefined ? [] : sharedBadAnswers(this.opts.guard.shared);
    this.throttled = pThrottle({ limit: this.opts.rate.limit, interval: this.opts.rate.intervalMs, strict: true })(
      async () => undefined,
    );
  }

  /** One request whose JSON answer fits `schema`; retried where safe, paced, guarded. */
  async json<S extends z.ZodType>(req: ApiRequest<S>): Promise<z.output<S>> {
    const method = req.method ?? 'GET';
    const safe = method === 'GET' || method === 'HEAD' || req.idempotent === true;
    const url = this.url(req.path, req.query);
    const where = `${method} ${url.pathname}${url.search}`;
    for (let attempt = 1; ; attempt += 1) {
      await this.ready(where);
      this.stats.requests += 1;
      let wait: number | undefined;
      let problem: string;
      let status: number | null = null;
      try {
        const res = await this.opts.fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...this.opts.headers,
          },
          ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        status = res.status;
        const text = await res.text();
        this.noteRateHeaders(res.headers);
        if (res.ok) return this.parse(where, text, req.schema);
        this.noteBad();
        const body = tryJson(text);
        problem = `HTTP ${res.status}${summary(body, text)}`;
        if (!RETRY_STATUS.has(res.status)) {
          const hint =
            res.status === 401 || res.status === 403
              ? ' (the credentials were refused: check the key and its permissions)'
              : '';
          throw new ApiError(this.opts.name, where, res.status, `${problem}${hint}`);
        }
        wait =
          retryAfter(res.headers.get('retry-after')) ??
          (res.status === 429 ? (this.resetWait(res.headers) ?? this.bodyWait(body)) : undefined);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        this.noteBad();
        problem = describeNetworkError(err);
      }
      if (!safe)
        throw new ApiError(this.opts.name, where, status, `${problem}; not retried (${method} is not safe to repeat)`);
      if (attempt >= this.opts.maxAttempts)
        throw new ApiError(this.opts.name, where, status, `${problem}; gave up after ${attempt} tries`);
      const backoff = this.opts.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      const ms = wait ?? backoff;
      if (ms > this.opts.maxWaitMs)
        throw new ApiStoppedError(
          this.opts.name,
          where,
          `${problem}; the API asks to wait ${Math.round(ms / 1000)} s, longer than the ${Math.round(this.opts.maxWaitMs / 1000)} s allowed: resume later`,
        );
      this.pause(ms);
      this.stats.retries += 1;
      this.opts.log?.warn(
        { api: this.opts.name, where, attempt, waitMs: Math.round(ms), problem },
        'API request retried',
      );
    }
  }

  private url(path: string, query: ApiRequest<z.ZodType>['query']): URL {
    const base = this.opts.baseUrl.endsWith('/') ? this.opts.baseUrl : `${this.opts.baseUrl}/`;
    const url = new URL(path.replace(/^\//, ''), base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private parse<S extends z.ZodType>(where: string, text: string, schema: S): z.output<S> {
    const body = tryJson(text);
    if (body === undefined)
      throw new ApiError(this.opts.name, where, 200, `the answer is not JSON: ${text.slice(0, 120)}`);
    const checked = schema.safeParse(body);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw new ApiError(
        this.opts.name,
        where,
        200,
        `the answer does not have the documented shape (${issue?.path.join('.') || '(root)'}: ${issue?.message})`,
      );
    }
    return checked.data;
  }

  /** Waits for the pause the API asked for and for the pace; stops when the guard says so. */
  private async ready(where: string): Promise<void> {
    for (;;) {
      this.checkGuard(where);
      const ms = this.pausedUntil - Date.now();
      if (ms <= 0) break;
      this.stats.waitedMs += ms;
      await new Promise((r) => setTimeout(r, ms));
    }
    await this.throttled();
  }

  private pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  private noteBad(): void {
    this.stats.bad += 1;
    this.badAt.push(Date.now());
  }

  private checkGuard(where: string): void {
    const since = Date.now() - this.opts.guard.windowMs;
    while (this.badAt.length > 0 && (this.badAt[0] as number) < since) this.badAt.shift();
    if (this.badAt.length >= this.opts.guard.maxBad) {
      throw new ApiStoppedError(
        this.opts.name,
        where,
        `stopped: ${this.badAt.length} bad answers within ${this.opts.guard.windowMs / 1000} s (the limit set to stay clear of the API's ban); nothing more is sent, resume later`,
      );
    }
  }

  /** remaining 0 → no request until the reset the API named */
  private noteRateHeaders(headers: Headers): void {
    const remaining = firstHeader(headers, this.opts.rateHeaders.remaining);
    if (remaining !== null && Number(remaining) <= 0) {
      const ms = this.resetWait(headers);
      if (ms !== undefined) this.pause(ms);
    }
  }

  /** a reset header: seconds from now, or a Unix time in seconds (values above 10^9) */
  private resetWait(headers: Headers): number | undefined {
    const raw = firstHeader(headers, this.opts.rateHeaders.reset);
    if (raw === null || !/^\d+(\.\d+)?$/.test(raw.trim())) return undefined;
    const n = Number(raw);
    return n > 1e9 ? Math.max(0, n * 1000 - Date.now()) : n * 1000;
  }

  private bodyWait(body: unknown): number | undefined {
    const s = this.opts.retryAfterFromBody?.(body);
    return s === undefined || !Number.isFinite(s) ? undefined : s * 1000;
  }
}

/** bad-answer times per shared guard key, for the life of the process */
const sharedBad = new Map<string, number[]>();
function sharedBadAnswers(key: string): number[] {
  let list = sharedBad.get(key);
  if (!list) sharedBad.set(key, (list = []));
  return list;
}

function firstHeader(headers: Headers, names: string[]): string | null {
  for (const n of names) {
    const v = headers.get(n);
    if (v !== null) return v;
  }
  return null;
}

/** Retry-After: delay-seconds or an HTTP date (RFC 9110 10.2.3) → ms */
export function retryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function summary(body: unknown, text: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const m = b.message ?? b.error ?? b.errors;
    if (m !== undefined) return `: ${typeof m === 'string' ? m : JSON.stringify(m).slice(0, 200)}`;
  }
  const t = text.trim();
  return t === '' ? '' : `: ${t.slice(0, 200)}`;
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'no answer in time';
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return `connection failed (${cause?.code ?? cause?.message ?? err.message})`;
  }
  return `connection failed (${String(err)})`;
}
