/**
 * A Salesforce REST client for reading an org (Apto is a managed package on Salesforce), built on
 * the toolkit's ApiClient (one gate for the pace and the API's waits, retries only for reads, the
 * bad-answer guard, zod-checked answers). What Salesforce adds, from its REST API Developer Guide:
 *
 * - Auth: the OAuth 2.0 username-password flow (`POST /services/oauth2/token`, grant_type=password,
 *   client_id/client_secret of a connected app, the password followed by the security token) →
 *   `{access_token, instance_url}`; or an access token (and optionally a refresh token) given as
 *   is. `Authorization: Bearer <token>` on every call. An expired session answers 401
 *   `[{"errorCode": "INVALID_SESSION_ID"}]`: the client logs in again (password flow) or refreshes
 *   (refresh_token grant) **once** and repeats the request; a second 401 stops.
 * - The daily API request budget: every answer carries `Sforce-Limit-Info: api-usage=N/MAX`; the
 *   client keeps the last count (shown in progress) and stops on its own once `budgetShare` of MAX
 *   is used, so a migration never takes the org's whole allowance. The org's own refusal, 403
 *   `REQUEST_LIMIT_EXCEEDED`, stops the extraction (resumable once the 24-hour window allows).
 * - SOQL: `GET /services/data/vXX.X/query?q=` → `{totalSize, done, records, nextRecordsUrl}`;
 *   the next batch (queryMore) is `GET nextRecordsUrl`.
 * - Bulk API 2.0 query jobs: `POST jobs/query {operation: "query", query}` → `{id, state}`, poll
 *   `GET jobs/query/{id}` through UploadComplete / InProgress until JobComplete (Failed or Aborted
 *   stop with the job's `errorMessage`), then `GET jobs/query/{id}/results?maxRecords=N` pages of
 *   CSV, the next one named by the `Sforce-Locator` header (`null` on the last).
 * - Blob fields (`Attachment.Body`, `ContentVersion.VersionData`): `GET sobjects/{type}/{id}/{field}`
 *   streamed to disk, hashed on the way (sha1), never whole in memory.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiClient, ApiError, ApiStoppedError, retryAfter, type ApiClientOptions } from '../api/http-client.js';

export const API_VERSION = 'v60.0';
const NAME = 'Salesforce API';

export interface SalesforceAuth {
  /** https://login.salesforce.com, https://test.salesforce.com, a My Domain; with an access token: the instance URL */
  loginUrl: string;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  username?: string | undefined;
  /** the password followed by the user's security token */
  password?: string | undefined;
  accessToken?: string | undefined;
  refreshToken?: string | undefined;
}

export interface ApiUsage {
  used: number;
  max: number;
}

export interface SalesforceOptions {
  auth: SalesforceAuth;
  version?: string;
  /** stop on our own once this share of the org's daily requests is used (default 0.8) */
  budgetShare?: number;
  /** Bulk API 2.0: wait between job status polls (default 2 s) and polls before giving up (default 900) */
  pollMs?: number;
  maxPolls?: number;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
  /** toolkit client options (tests: quicker backoff) */
  client?: Partial<ApiClientOptions>;
  onUsage?: (u: ApiUsage) => void;
}

const tokenAnswer = z
  .object({
    access_token: z.string().min(1),
    instance_url: z.string().url().optional(),
    token_type: z.string().optional(),
  })
  .passthrough();
const sfError = z.array(z.object({ errorCode: z.string(), message: z.string() }).passthrough());
export const sfRecord = z.record(z.string(), z.unknown());
export const queryAnswer = z.object({
  totalSize: z.number(),
  done: z.boolean(),
  records: z.array(sfRecord),
  nextRecordsUrl: z.string().optional(),
});
const jobAnswer = z
  .object({
    id: z.string(),
    state: z.enum(['Open', 'UploadComplete', 'InProgress', 'JobComplete', 'Failed', 'Aborted']),
    errorMessage: z.string().nullish(),
    numberRecordsProcessed: z.number().optional(),
  })
  .passthrough();

/** Salesforce's own refusals, by error code, in words an admin acts on. */
function refusal(status: number, body: unknown): string | null {
  const parsed = sfError.safeParse(body);
  const code = parsed.success ? parsed.data[0]?.errorCode : undefined;
  if (code === 'REQUEST_LIMIT_EXCEEDED')
    return "the org's daily API request limit is used up (REQUEST_LIMIT_EXCEEDED): resume once its 24-hour window frees requests";
  if (status === 401 && code === 'INVALID_SESSION_ID') return 'INVALID_SESSION_ID';
  return null;
}

export class SalesforceClient {
  readonly api: ApiClient;
  usage: ApiUsage | null = null;
  /** logins and refreshes done (the first one included) */
  logins = 0;
  private token: string | null;
  private instance: string | null;
  private readonly version: string;
  private readonly budgetShare: number;

  constructor(private readonly options: SalesforceOptions) {
    this.version = options.version ?? API_VERSION;
    this.budgetShare = options.budgetShare ?? 0.8;
    this.token = options.auth.accessToken ?? null;
    this.instance = options.auth.accessToken ? options.auth.loginUrl.replace(/\/+$/, '') : null;
    this.api = new ApiClient({
      name: NAME,
      baseUrl: 'http://placeholder.invalid/', // every request names its absolute URL (the instance is known after login)
      // no per-second limit in Salesforce, but a budget per day and 25 long-running calls at once: a steady pace
      rate: { limit: 20, intervalMs: 1000 },
      guard: { maxBad: 10, windowMs: 15_000 },
      log: options.log,
      fetch: (input, init) => this.send(input, init),
      ...options.client,
    });
  }

  get dataPath(): string {
    return `/services/data/${this.version}`;
  }

  /** The instance's base URL, logging in first when needed. */
  async instanceUrl(): Promise<string> {
    if (!this.token || !this.instance) await this.login();
    return this.instance as string;
  }

  /** Logs in (password flow) or refreshes (refresh token); an access token alone cannot be renewed. */
  async login(): Promise<void> {
    const a = this.options.auth;
    let form: Record<string, string>;
    if (a.refreshToken && a.clientId)
      form = {
        grant_type: 'refresh_token',
        refresh_token: a.refreshToken,
        client_id: a.clientId,
        ...(a.clientSecret ? { client_secret: a.clientSecret } : {}),
      };
    else if (a.username && a.password && a.clientId && a.clientSecret)
      form = {
        grant_type: 'password',
        client_id: a.clientId,
        client_secret: a.clientSecret,
        username: a.username,
        password: a.password,
      };
    else
      throw new ApiError(
        NAME,
        'login',
        401,
        this.token
          ? 'the access token was refused or has expired, and no username/password or refresh token was given to renew it'
          : "give an access token, or a connected app's client id and secret with a username and password",
      );
    const url = `${a.loginUrl.replace(/\/+$/, '')}/services/oauth2/token`;
    const res = await globalThis.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    this.logins += 1;
    if (!res.ok) {
      const body = safeJson(text) as { error?: string; error_description?: string } | undefined;
      throw new ApiError(
        NAME,
        `POST ${new URL(url).pathname}`,
        res.status,
        `login refused: ${body?.error_description ?? body?.error ?? text.slice(0, 200)} (check the username, the password followed by the security token, and the connected app)`,
      );
    }
    const parsed = tokenAnswer.safeParse(safeJson(text));
    if (!parsed.success)
      throw new ApiError(
        NAME,
        `POST ${new URL(url).pathname}`,
        res.status,
        'the token answer does not have the documented shape',
      );
    this.token = parsed.data.access_token;
    this.instance = (parsed.data.instance_url ?? a.loginUrl).replace(/\/+$/, '');
    this.options.log?.info({ api: NAME, grant: form.grant_type }, 'logged in to Salesforce');
  }

  /**
   * Every request goes through here (the ApiClient's fetch): the bearer token, the budget counted
   * from `Sforce-Limit-Info`, one re-login on an expired session, Salesforce's refusals in words.
   */
  private async send(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    await this.instanceUrl();
    const attempt = () => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${this.token ?? ''}`);
      return globalThis.fetch(input, { ...init, headers });
    };
    let res = await attempt();
    if (res.status === 401) {
      const body = safeJson(await res.clone().text());
      if (refusal(401, body) === 'INVALID_SESSION_ID') {
        this.options.log?.warn({ api: NAME }, 'session expired: logging in again, once');
        await this.login();
        res = await attempt();
      }
    }
    this.noteUsage(res.headers);
    if (res.status === 403) {
      const why = refusal(403, safeJson(await res.clone().text()));
      if (why)
        throw new ApiStoppedError(
          NAME,
          `${init?.method ?? 'GET'} ${new URL(String(input instanceof Request ? input.url : input)).pathname}`,
          why,
        );
    }
    return res;
  }

  private noteUsage(headers: Headers): void {
    const m = /api-usage=(\d+)\/(\d+)/.exec(headers.get('sforce-limit-info') ?? '');
    if (!m) return;
    this.usage = { used: Number(m[1]), max: Number(m[2]) };
    this.options.onUsage?.(this.usage);
  }

  /** Stops before a request once our share of the org's daily budget is used. */
  private checkBudget(where: string): void {
    if (this.usage && this.usage.max > 0 && this.usage.used >= this.usage.max * this.budgetShare) {
      throw new ApiStoppedError(
        NAME,
        where,
        `stopped: the org has used ${this.usage.used} of its ${this.usage.max} daily API requests, and this extraction stops at ${Math.round(this.budgetShare * 100)}% to leave the rest to the org's users; resume later`,
      );
    }
  }

  /** One JSON request to the instance (a path under it, or a path the API named, such as nextRecordsUrl). */
  async json<S extends z.ZodType>(
    path: string,
    schema: S,
    options: { method?: 'GET' | 'POST'; query?: Record<string, string>; body?: unknown; idempotent?: boolean } = {},
  ): Promise<z.output<S>> {
    const base = await this.instanceUrl();
    this.checkBudget(path);
    const url = new URL(path, `${base}/`);
    return this.api.json({
      method: options.method ?? 'GET',
      path: url.href,
      ...(options.query ? { query: options.query } : {}),
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.idempotent ? { idempotent: true } : {}),
      schema,
    });
  }

  /** SOQL: the first batch, or (with `next`) the batch nextRecordsUrl names (queryMore). */
  async query(soql: string, next?: string, tooling = false): Promise<z.output<typeof queryAnswer>> {
    if (next) return this.json(next, queryAnswer);
    return this.json(`${this.dataPath}/${tooling ? 'tooling/' : ''}query`, queryAnswer, { query: { q: soql } });
  }

  async count(object: string): Promise<number> {
    return (await this.query(`SELECT COUNT() FROM ${object}`)).totalSize;
  }

  /** Bulk API 2.0: creates a query job and waits until it is JobComplete; its id. */
  async bulkQuery(soql: string): Promise<string> {
    // creating a job only reads (a second job would be a wasted one, not a wrong write): retried like a GET
    const job = await this.json(`${this.dataPath}/jobs/query`, jobAnswer, {
      method: 'POST',
      body: { operation: 'query', query: soql },
      idempotent: true,
    });
    const pollMs = this.options.pollMs ?? 2000;
    let state = job.state;
    for (let poll = 0; ; poll += 1) {
      if (state === 'JobComplete') return job.id;
      if (state === 'Failed' || state === 'Aborted')
        throw new ApiError(
          NAME,
          `jobs/query/${job.id}`,
          200,
          `the Bulk API query job ${state === 'Failed' ? 'failed' : 'was aborted'}${job.errorMessage ? `: ${job.errorMessage}` : ''}`,
        );
      if (poll >= (this.options.maxPolls ?? 900))
        throw new ApiStoppedError(
          NAME,
          `jobs/query/${job.id}`,
          `the Bulk API query job is still ${state} after ${poll} polls: resume later`,
        );
      await new Promise((r) => setTimeout(r, pollMs));
      const now = await this.json(`${this.dataPath}/jobs/query/${job.id}`, jobAnswer);
      state = now.state;
      job.errorMessage = now.errorMessage;
    }
  }

  /** One page of a completed Bulk API 2.0 query job's results (CSV), and the locator of the next (null: last). */
  async bulkResults(
    jobId: string,
    locator: string | null,
    maxRecords: number,
  ): Promise<{ rows: Record<string, string>[]; next: string | null }> {
    const base = await this.instanceUrl();
    const url = new URL(`${this.dataPath}/jobs/query/${jobId}/results`, `${base}/`);
    url.searchParams.set('maxRecords', String(maxRecords));
    if (locator) url.searchParams.set('locator', locator);
    const res = await this.raw(url, 'text/csv');
    const text = await res.text();
    const rows =
      text.trim() === ''
        ? []
        : (parse(text, { columns: true, skip_empty_lines: true, bom: true, relax_column_count: false }) as Record<
            string,
            string
          >[]);
    const loc = res.headers.get('sforce-locator');
    return { rows, next: loc === null || loc === '' || loc === 'null' ? null : loc };
  }

  /** A blob field (`Attachment/{id}/Body`, `ContentVersion/{id}/VersionData`) streamed to `file`; its sha1 and size. */
  async download(object: string, id: string, field: string, file: string): Promise<{ sha1: string; size: number }> {
    const base = await this.instanceUrl();
    const url = new URL(`${this.dataPath}/sobjects/${object}/${id}/${field}`, `${base}/`);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const part = `${file}.part`;
    for (let attempt = 1; ; attempt += 1) {
      const res = await this.raw(url, '*/*');
      const hash = createHash('sha1');
      let size = 0;
      try {
        if (!res.body) throw new Error('no body');
        const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
        body.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          size += chunk.length;
        });
        await pipeline(body, createWriteStream(part, { mode: 0o600 }));
        const expected = Number(res.headers.get('content-length') ?? size);
        if (expected !== size) throw new Error(`${size} of ${expected} bytes`);
        await rename(part, file);
        return { sha1: hash.digest('hex'), size };
      } catch (err) {
        await rm(part, { force: true });
        if (attempt >= 3)
          throw new ApiError(
            NAME,
            `GET ${url.pathname}`,
            res.status,
            `the file download broke off (${(err as Error).message}); gave up after ${attempt} tries`,
          );
        this.options.log?.warn({ api: NAME, where: url.pathname, attempt }, 'file download broke off; retried');
      }
    }
  }

  /**
   * A non-JSON GET (CSV results, file bytes) under the same rules as the JSON calls: the budget,
   * the token, retries on 429/5xx (Retry-After honoured), refusals stop.
   */
  private async raw(url: URL, accept: string): Promise<Response> {
    const where = `GET ${url.pathname}`;
    for (let attempt = 1; ; attempt += 1) {
      this.checkBudget(where);
      let res: Response | null = null;
      let problem: string;
      try {
        res = await this.send(url, { headers: { accept }, signal: AbortSignal.timeout(300_000) });
        if (res.ok) return res;
        const text = await res.text();
        problem = `HTTP ${res.status}: ${text.slice(0, 200)}`;
        if (![408, 429, 500, 502, 503, 504].includes(res.status)) throw new ApiError(NAME, where, res.status, problem);
      } catch (err) {
        if (err instanceof ApiError) throw err;
        problem = `connection failed (${(err as Error).message})`;
      }
      if (attempt >= 5)
        throw new ApiError(NAME, where, res?.status ?? null, `${problem}; gave up after ${attempt} tries`);
      const ms = retryAfter(res?.headers.get('retry-after') ?? null) ?? 500 * 2 ** (attempt - 1);
      if (ms > 10 * 60_000)
        throw new ApiStoppedError(
          NAME,
          where,
          `${problem}; the API asks to wait ${Math.round(ms / 1000)} s: resume later`,
        );
      this.options.log?.warn({ api: NAME, where, attempt, waitMs: ms, problem }, 'API request retried');
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
