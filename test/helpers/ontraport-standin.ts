/**
 * A local HTTP stand-in for Ontraport's REST API, as documented (api.ontraport.com/doc, summarised
 * in shared/reference/sources.md §2.2): base path /1, both `Api-Key` and `Api-Appid` headers
 * required, plural endpoints paged with `start` and `range` (at most 50 per page), answers
 * `{"code": 0, "data": [...], "account_id": ...}`, rate limit on a rolling window with
 * `X-Rate-Limit-Limit/Remaining/Reset` headers and a 429 "Too Many Requests" when exhausted
 * (Ontraport sends no Retry-After there).
 *
 * The generic object interface is served too (`GET /1/objects?objectID=N`, same paging, for the
 * objects given in `objects`: users 2, tags 14, deals 149, companies 150, contacts 0) with each
 * object's field metadata (`GET /1/objects/meta?objectID=N&format=byId` → `{code: 0, data: {"N":
 * {name, fields: {key: {alias, type, options?}}}}}`), as the Ontraport source reads them.
 *
 * Beyond the documented behaviour, a test can script trouble per page: a 429 with Retry-After
 * (RFC 9110, as many APIs send), a connection dropped before or in the middle of an answer, a
 * 5xx, an answer of the wrong shape; or keep a page down for good. Every request is counted per
 * page (`start`), so a test can assert exactly what was fetched.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Trouble = 'retry-after' | 'drop' | 'drop-mid-body' | 'server-error' | 'bad-shape';

export interface StandinOptions {
  contacts: Record<string, string | number | null>[];
  apiKey?: string;
  appId?: string;
  /** requests per rolling window before 429 (Ontraport: 180 per minute) */
  rateLimit?: number;
  rateWindowMs?: number;
  /** seconds in the Retry-After of a scripted 429 */
  retryAfterSeconds?: number;
  /** records of the generic object interface, by object type id (0 defaults to `contacts`) */
  objects?: Record<number, Record<string, string | number | null>[]>;
  /** field metadata by object type id: field → {alias, type, options?} */
  meta?: Record<number, Record<string, { alias: string; type: string; options?: Record<string, string> }>>;
}

export class OntraportStandin {
  readonly requests = new Map<number, number>();
  /** every request, in order: "GET /1/Contacts?start=0&range=50" */
  readonly log: string[] = [];
  /** troubles still to play, per page start, one per request */
  readonly trouble = new Map<number, Trouble[]>();
  /** pages whose connection is always dropped (the API is down for them) */
  readonly down = new Set<number>();
  /** generic object interface: requests per "objectID:start" ("meta:N" for metadata) */
  readonly objectRequests = new Map<string, number>();
  /** troubles per "objectID:start", one per request */
  readonly objectTrouble = new Map<string, Trouble[]>();
  /** "objectID:start" pages whose connection is always dropped */
  readonly objectDown = new Set<string>();
  posts = 0;
  private readonly times: number[] = [];
  private server: Server | undefined;

  constructor(private readonly options: StandinOptions) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}/1`;
  }

  get total(): number {
    return [...this.requests.values()].reduce((a, b) => a + b, 0);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return this;
  }

  /** the account's quota for this window used up elsewhere (another integration of the same account) */
  exhaust(): void {
    const now = Date.now();
    for (let i = this.times.length; i < (this.options.rateLimit ?? 180); i += 1) this.times.push(now);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.log.push(`${req.method} ${url.pathname}${url.search}`);
    if (
      req.headers['api-key'] !== (this.options.apiKey ?? 'key-123') ||
      req.headers['api-appid'] !== (this.options.appId ?? 'app-456')
    ) {
      return this.send(res, 401, { code: 1, message: 'Invalid API key or App ID' });
    }
    if (req.method === 'POST' && url.pathname === '/1/objects/saveorupdate') {
      this.posts += 1;
      return this.send(res, 503, { code: 1, message: 'Service temporarily unavailable' });
    }
    const generic = req.method === 'GET' && (url.pathname === '/1/objects' || url.pathname === '/1/objects/meta');
    if (!generic && (req.method !== 'GET' || url.pathname !== '/1/Contacts'))
      return this.send(res, 404, { code: 1, message: 'Not found' });

    const start = Number(url.searchParams.get('start') ?? 0);
    const range = Math.min(Number(url.searchParams.get('range') ?? 50), 50);
    const objectId = Number(url.searchParams.get('objectID') ?? 0);
    const page = url.pathname === '/1/objects/meta' ? `meta:${objectId}` : `${objectId}:${start}`;
    if (generic) this.objectRequests.set(page, (this.objectRequests.get(page) ?? 0) + 1);
    else this.requests.set(start, (this.requests.get(start) ?? 0) + 1);
    if (!this.rateOk(res)) {
      const limit = this.options.rateLimit ?? 180;
      return this.sendText(
        res,
        429,
        `Too Many Requests - You have exceeded your maximum rate limit of ${limit} requests per minute.`,
      );
    }

    if (generic) {
      if (this.objectDown.has(page)) return void req.socket.destroy();
      const trouble = this.objectTrouble.get(page)?.shift();
      const body =
        url.pathname === '/1/objects/meta'
          ? JSON.stringify({
              code: 0,
              data: { [String(objectId)]: { name: `Object ${objectId}`, fields: this.options.meta?.[objectId] ?? {} } },
              account_id: 4242,
            })
          : JSON.stringify({
              code: 0,
              data: (this.options.objects?.[objectId] ?? (objectId === 0 ? this.options.contacts : [])).slice(
                start,
                start + range,
              ),
              account_id: 4242,
            });
      return this.play(req, res, trouble, body);
    }
    if (this.down.has(start)) return void req.socket.destroy();
    const trouble = this.trouble.get(start)?.shift();
    const data = this.options.contacts.slice(start, start + range);
    return this.play(req, res, trouble, JSON.stringify({ code: 0, data, account_id: 4242 }));
  }

  /** counts the request in the rolling window and sets Ontraport's rate headers; false: over the limit */
  private rateOk(res: ServerResponse): boolean {
    const now = Date.now();
    const windowMs = this.options.rateWindowMs ?? 60_000;
    while (this.times.length > 0 && (this.times[0] as number) <= now - windowMs) this.times.shift();
    this.times.push(now);
    const limit = this.options.rateLimit ?? 180;
    const resetSeconds = Math.max(1, Math.ceil(((this.times[0] as number) + windowMs - now) / 1000));
    res.setHeader('X-Rate-Limit-Limit', String(limit));
    res.setHeader('X-Rate-Limit-Remaining', String(Math.max(0, limit - this.times.length)));
    res.setHeader('X-Rate-Limit-Reset', String(resetSeconds));
    return this.times.length <= limit;
  }

  private play(req: IncomingMessage, res: ServerResponse, trouble: Trouble | undefined, body: string): void {
    switch (trouble) {
      case 'retry-after':
        res.setHeader('Retry-After', String(this.options.retryAfterSeconds ?? 1));
        return this.sendText(res, 429, 'Too Many Requests');
      case 'drop':
        return void req.socket.destroy();
      case 'drop-mid-body':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.write(body.slice(0, Math.floor(body.length / 2)));
        setTimeout(() => req.socket.destroy(), 20);
        return;
      case 'server-error':
        return this.send(res, 502, { code: 1, message: 'Bad gateway' });
      case 'bad-shape':
        return this.send(res, 200, { code: 0, data: 'not a list' });
      default:
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private sendText(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(text);
  }
}

/** `n` contacts with Ontraport's API field names (sources.md "Contact field names"). */
export function standinContacts(n: number): Record<string, string | number | null>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    firstname: `First${i + 1}`,
    lastname: `Last${i + 1}`,
    email: `contact${i + 1}@standin.example`,
    office_phone: i % 3 === 0 ? `+1 415 555 ${String(1000 + i).slice(-4)}` : null,
    city: i % 2 === 0 ? 'Santa Barbara' : '',
    date: String(1700000000 + i * 86400),
    bulk_mail: i % 5 === 0 ? -2 : 1,
  }));
}
