/**
 * A local HTTP stand-in for the Salesforce REST API as documented (REST API Developer Guide,
 * Bulk API 2.0 Developer Guide, OAuth 2.0 username-password flow), for Apto's org: the real
 * service is out of reach, so the tests talk to this. Labelled as a stand-in; it answers in the
 * documented formats only:
 *
 * - `POST /services/oauth2/token` (form): grant_type=password (client_id, client_secret, username,
 *   password+security token) or refresh_token → `{access_token, instance_url, id, token_type,
 *   issued_at, signature}`; a wrong one → 400 `{"error": "invalid_grant", "error_description":
 *   "authentication failure"}`.
 * - `Authorization: Bearer`; an unknown or expired token → 401 `[{"message": "Session expired or
 *   invalid", "errorCode": "INVALID_SESSION_ID"}]`.
 * - `Sforce-Limit-Info: api-usage=N/MAX` on every answer; past MAX → 403 `[{"message":
 *   "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]`.
 * - `GET /services/data/vXX.X/sobjects` (global describe), `.../sobjects/{o}/describe`.
 * - `GET .../query?q=SOQL` → `{totalSize, done, records: [{attributes: {type, url}, ...}],
 *   nextRecordsUrl}`; `GET .../query/{locator}-{offset}` the next batch (queryMore); `tooling/query`.
 *   SOQL understood: `SELECT f, ... | COUNT() FROM o [WHERE f = 'v' | f != 'v' | f = true | f IN ('a', ...)]`.
 * - Bulk API 2.0: `POST .../jobs/query {operation, query}` → job `UploadComplete`; each status poll
 *   moves it on (InProgress, then JobComplete, or Failed with `errorMessage` when scripted);
 *   `GET .../jobs/query/{id}/results?maxRecords=N[&locator=L]` → CSV, `Sforce-Locator` (`null`
 *   on the last page), `Sforce-NumberOfRecords`.
 * - Blob fields: `GET .../sobjects/Attachment/{id}/Body`, `.../ContentVersion/{id}/VersionData`.
 *
 * Trouble a test scripts per request path (matched by a substring): a 429 with Retry-After, a
 * 503, a dropped connection; `expireTokens()` expires every token; requests are counted per path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SfValue = string | number | boolean | null;
export type SfRecord = Record<string, SfValue>;

export interface SfField {
  name: string;
  label: string;
  type: string;
  custom?: boolean;
  referenceTo?: string[];
  picklist?: string[];
}
export interface SfObject {
  name: string;
  label: string;
  keyPrefix: string;
  custom?: boolean;
  fields: SfField[];
  records: SfRecord[];
}

export interface SalesforceOrg {
  objects: SfObject[];
  /** blobs by record id */
  blobs: Record<string, Buffer>;
  toolingRecords?: Record<string, SfRecord[]>;
}

export type SfTrouble = '429' | '503' | 'drop';

export interface StandinOptions {
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  refreshToken?: string;
  /** records per query batch (Salesforce: 2000 by default) */
  batchSize?: number;
  /** the org's daily API requests allowed, and already used */
  dailyLimit?: number;
  used?: number;
  /** Bulk API 2.0: polls a job stays InProgress; a job over these objects fails */
  bulkPolls?: number;
  bulkFail?: string[];
}

const V = '/services/data/v60.0';

export class SalesforceStandin {
  readonly requests = new Map<string, number>();
  readonly trouble = new Map<string, SfTrouble[]>();
  used: number;
  logins = 0;
  private server: Server | null = null;
  private tokens = new Set<string>();
  private seq = 0;
  private cursors = new Map<string, SfRecord[]>();
  private jobs = new Map<
    string,
    { object: string; records: SfRecord[]; fields: string[]; polls: number; state: string }
  >();
  url = '';

  constructor(
    readonly org: SalesforceOrg,
    readonly options: StandinOptions = {},
  ) {
    this.used = options.used ?? 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  expireTokens(): void {
    this.tokens.clear();
  }

  /** a valid token without logging in (the access-token flow) */
  issueToken(): string {
    const t = `00Dstandin!tok${++this.seq}`;
    this.tokens.add(t);
    return t;
  }

  count(fragment: string): number {
    let n = 0;
    for (const [k, v] of this.requests) if (k.includes(fragment)) n += v;
    return n;
  }

  private object(name: string): SfObject | undefined {
    return this.org.objects.find((o) => o.name.toLowerCase() === name.toLowerCase());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const key = `${req.method} ${url.pathname}${url.search}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const body = await new Promise<string>((r) => {
      let b = '';
      req.on('data', (c: Buffer) => (b += c.toString()));
      req.on('end', () => r(b));
    });
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === '/services/oauth2/token' && req.method === 'POST') {
      const f = new URLSearchParams(body);
      const o = this.options;
      const ok =
        f.get('grant_type') === 'password'
          ? f.get('client_id') === (o.clientId ?? 'cid') &&
            f.get('client_secret') === (o.clientSecret ?? 'csecret') &&
            f.get('username') === (o.username ?? 'broker@apto.example') &&
            f.get('password') === (o.password ?? 'pw+token')
          : f.get('grant_type') === 'refresh_token' &&
            f.get('refresh_token') === (o.refreshToken ?? 'refresh-1') &&
            f.get('client_id') === (o.clientId ?? 'cid');
      if (!ok) return json(400, { error: 'invalid_grant', error_description: 'authentication failure' });
      this.logins += 1;
      const token = this.issueToken();
      return json(200, {
        access_token: token,
        instance_url: this.url,
        id: `${this.url}/id/00Dstandin/005000000000001AAA`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
        signature: 'c3RhbmQtaW4=',
      });
    }
    // scripted trouble first (as a proxy or the org itself would answer)
    for (const [fragment, list] of this.trouble) {
      if (!key.includes(fragment) || list.length === 0) continue;
      const t = list.shift();
      if (t === 'drop') {
        req.socket.destroy();
        return;
      }
      if (t === '429')
        return json(429, [{ message: 'Too many requests', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], {
          'retry-after': '1',
        });
      if (t === '503') return json(503, [{ message: 'Service unavailable', errorCode: 'SERVER_UNAVAILABLE' }]);
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!auth || !this.tokens.has(auth))
      return json(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    const max = this.options.dailyLimit ?? 15_000;
    this.used += 1;
    const limit = { 'sforce-limit-info': `api-usage=${this.used}/${max}` };
    if (this.used > max)
      return json(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }], limit);

    const path = url.pathname;
    if (path === `${V}/sobjects`) {
      return json(
        200,
        {
          encoding: 'UTF-8',
          maxBatchSize: 200,
          sobjects: this.org.objects.map((o) => ({
            name: o.name,
            label: o.label,
            keyPrefix: o.keyPrefix,
            custom: o.custom ?? o.name.endsWith('__c'),
            queryable: true,
            urls: { sobject: `${V}/sobjects/${o.name}` },
          })),
        },
        limit,
      );
    }
    let m = /^\/services\/data\/v60\.0\/sobjects\/([^/]+)\/describe$/.exec(path);
    if (m) {
      const o = this.object(m[1] as string);
      if (!o) return json(404, [{ message: `The requested resource does not exist`, errorCode: 'NOT_FOUND' }], limit);
      return json(
        200,
        {
          name: o.name,
          label: o.label,
          custom: o.custom ?? false,
          fields: o.fields.map((f) => ({
            name: f.name,
            label: f.label,
            type: f.type,
            custom: f.custom ?? f.name.endsWith('__c'),
            referenceTo: f.referenceTo ?? [],
            picklistValues: (f.picklist ?? []).map((v) => ({ value: v, label: v, active: true, defaultValue: false })),
          })),
        },
        limit,
      );
    }
    m = /^\/services\/data\/v60\.0\/sobjects\/([^/]+)\/([^/]+)\/(Body|VersionData)$/.exec(path);
    if (m) {
      const blob = this.org.blobs[m[2] as string];
      if (!blob)
        return json(404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }], limit);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(blob.length),
        ...limit,
      });
      res.end(blob);
      return;
    }
    if (path === `${V}/query` || path === `${V}/tooling/query`) {
      const soql = url.searchParams.get('q') ?? '';
      const parsed = this.run(soql, path.includes('tooling'));
      if ('error' in parsed) return json(400, [{ message: parsed.error, errorCode: 'MALFORMED_QUERY' }], limit);
      if (parsed.count) return json(200, { totalSize: parsed.records.length, done: true, records: [] }, limit);
      return json(200, this.batch(parsed.object, parsed.records, parsed.fields, 0), limit);
    }
    m = /^\/services\/data\/v60\.0\/query\/([^-]+)-(\d+)$/.exec(path);
    if (m) {
      const rows = this.cursors.get(m[1] as string);
      if (!rows) return json(400, [{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }], limit);
      return json(200, this.batchOf(m[1] as string, rows, Number(m[2])), limit);
    }
    if (path === `${V}/jobs/query` && req.method === 'POST') {
      const b = JSON.parse(body) as { operation: string; query: string };
      const parsed = this.run(b.query, false);
      if ('error' in parsed || parsed.count)
        return json(
          400,
          [
            {
              errorCode: 'INVALIDJOB',
              message: 'error' in parsed ? parsed.error : 'Aggregate queries are not supported',
            },
          ],
          limit,
        );
      const id = `750standin${++this.seq}`;
      this.jobs.set(id, {
        object: parsed.object,
        records: parsed.records,
        fields: parsed.fields,
        polls: 0,
        state: 'UploadComplete',
      });
      return json(
        200,
        {
          id,
          operation: 'query',
          object: parsed.object,
          state: 'UploadComplete',
          contentType: 'CSV',
          apiVersion: 60,
          lineEnding: 'LF',
          columnDelimiter: 'COMMA',
        },
        limit,
      );
    }
    m = /^\/services\/data\/v60\.0\/jobs\/query\/([^/]+)(\/results)?$/.exec(path);
    if (m) {
      const job = this.jobs.get(m[1] as string);
      if (!job) return json(404, [{ errorCode: 'NOT_FOUND', message: 'job not found' }], limit);
      if (!m[2]) {
        job.polls += 1;
        if (this.options.bulkFail?.includes(job.object)) job.state = job.polls >= 2 ? 'Failed' : 'InProgress';
        else job.state = job.polls > (this.options.bulkPolls ?? 1) ? 'JobComplete' : 'InProgress';
        return json(
          200,
          {
            id: m[1],
            operation: 'query',
            object: job.object,
            state: job.state,
            ...(job.state === 'Failed' ? { errorMessage: 'INVALID_FIELD: scripted failure' } : {}),
            numberRecordsProcessed: job.records.length,
          },
          limit,
        );
      }
      if (job.state !== 'JobComplete')
        return json(400, [{ errorCode: 'INVALIDJOB', message: 'job not complete' }], limit);
      const size = Number(url.searchParams.get('maxRecords') ?? 50_000);
      const start = Number(url.searchParams.get('locator') ?? 0);
      const page = job.records.slice(start, start + size);
      const next = start + size < job.records.length ? String(start + size) : 'null';
      const csv =
        [
          job.fields.map(csvCell).join(','),
          ...page.map((r) => job.fields.map((f) => csvCell(r[f] ?? null)).join(',')),
        ].join('\n') + '\n';
      res.writeHead(200, {
        'content-type': 'text/csv',
        'sforce-locator': next,
        'sforce-numberofrecords': String(page.length),
        ...limit,
      });
      res.end(csv);
      return;
    }
    return json(404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }], limit);
  }

  private batch(object: string, records: SfRecord[], fields: string[], start: number) {
    const id = `01gstandin${++this.seq}`;
    const rows = records.map((r) => ({
      attributes: { type: object, url: `${V}/sobjects/${object}/${String(r.Id ?? '')}` },
      ...Object.fromEntries(fields.map((f) => [f, r[f] ?? null])),
    }));
    this.cursors.set(id, rows as unknown as SfRecord[]);
    return this.batchOf(id, rows as unknown as SfRecord[], start);
  }

  private batchOf(id: string, rows: SfRecord[], start: number) {
    const size = this.options.batchSize ?? 2000;
    const page = rows.slice(start, start + size);
    const done = start + size >= rows.length;
    return {
      totalSize: rows.length,
      done,
      records: page,
      ...(done ? {} : { nextRecordsUrl: `${V}/query/${id}-${start + size}` }),
    };
  }

  /** the little SOQL this stand-in understands */
  private run(
    soql: string,
    tooling: boolean,
  ): { object: string; fields: string[]; records: SfRecord[]; count: boolean } | { error: string } {
    const m = /^SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+))?$/i.exec(soql.trim());
    if (!m) return { error: `unexpected token: ${soql.slice(0, 40)}` };
    const object = m[2] as string;
    let records: SfRecord[];
    if (tooling) records = this.org.toolingRecords?.[object] ?? [];
    else {
      const o = this.object(object);
      if (!o) return { error: `sObject type '${object}' is not supported.` };
      records = o.records;
      const known = new Set(o.fields.map((f) => f.name.toLowerCase()));
      if (m[1] !== 'COUNT()') {
        for (const f of (m[1] as string).split(',').map((s) => s.trim()))
          if (!known.has(f.toLowerCase())) return { error: `No such column '${f}' on entity '${object}'` };
      }
    }
    if (m[3]) {
      const w = /^(\w+)\s*(=|!=|IN)\s*(.+)$/i.exec(m[3].trim());
      if (!w) return { error: `unexpected WHERE: ${m[3]}` };
      const field = w[1] as string;
      const op = (w[2] as string).toUpperCase();
      const raw = (w[3] as string).trim();
      const values =
        op === 'IN'
          ? raw
              .replace(/^\(|\)$/g, '')
              .split(',')
              .map((v) => v.trim().replace(/^'|'$/g, ''))
          : [raw.replace(/^'|'$/g, '')];
      const test = (r: SfRecord) => values.includes(String(r[field] ?? (raw === 'null' ? 'null' : '')));
      records = records.filter((r) => (op === '!=' ? !test(r) : test(r)));
    }
    if (m[1] === 'COUNT()') return { object, fields: [], records, count: true };
    return { object, fields: (m[1] as string).split(',').map((s) => s.trim()), records, count: false };
  }
}

function csvCell(v: SfValue): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
