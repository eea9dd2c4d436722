/**
 * STAND-IN for Ortto's REST API (the real service is out of reach from tests), answering in the
 * documented formats (help.ortto.com developer guide, summarised in shared/reference/sources.md §3):
 * every call a `POST /v1/...` with an `X-Api-Key` header and a JSON body.
 *
 * - `person/get` (§3.2): `{limit 1–500, cursor_id, fields, audience_id?}` → `{contacts: [{id, fields}],
 *   meta, offset, next_offset, cursor_id, has_more}`; the cursor is opaque (here: page and size).
 * - `accounts/get` (§3.3): the same body → `{accounts: [{id, fields}], cursor_id, has_more}`.
 * - `tags/get` (§3.4): `{q}` → an array of tags.
 * - `person/get/activities` (§3.4): `{person_id (required), limit ≤ 40, offset, timeframe}` →
 *   `{activities: [{activity_id, activity_name, timestamp, fields}], meta: {total_count, has_next}, offset, next_offset}`.
 * - `audiences/get` (§3.4): `{limit ≤ 40, offset, with_filter}` → an array of audiences.
 * - `campaign/get-all` (§3.4): `{limit 1–50, offset}` → `{campaigns: [...], has_more}` (answer shape assumed).
 * - Not in the reference (shapes assumed, as the reader assumes them): `person/custom-field/get`,
 *   `accounts/custom-field/get` → `{fields: [{field: {...}}]}`, `widgets/get`, `kb/get-articles`.
 * - Errors as documented (§3.5, a-714): 400 for a body outside the documented limits or invalid
 *   JSON, 401 for a wrong key, 404 for an unknown path, 429 with
 *   `{"error": {"code": "rate-limit", "message": "rate limit", "try-in-seconds": N}}`, and the
 *   **bad-request limiter**: 15 bad requests within 15 s ban the caller for 15 s (`bans` counts
 *   them: a test asserts it stays 0).
 * A test scripts trouble per person/get page (`trouble`, `down`, as before) or per path
 * (`troubleAt`), and reads request counts per page and per path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** 'ok': this request is answered normally (to script trouble for a later one) */
export type OrttoTrouble = 'ok' | 'rate-limit' | 'drop' | 'bad-request' | 'server-error';

type Rec = Record<string, unknown>;

export interface OrttoActivity {
  activity_id: string;
  activity_name: string;
  timestamp: string;
  fields?: Rec;
}

/** An Ortto instance's data beyond its people (all optional). */
export interface OrttoAccountData {
  accounts?: { id: string; fields: Rec }[];
  personFields?: Rec[];
  accountFields?: Rec[];
  tags?: Rec[];
  /** person id → feed, newest first as the API pages it */
  activities?: Record<string, OrttoActivity[]>;
  audiences?: (Rec & { id: string; members: string[] })[];
  campaigns?: Rec[];
  widgets?: Rec[];
  articles?: Rec[];
}

export const BAN = { bad: 15, windowMs: 15_000, banMs: 15_000 };

export class OrttoStandin {
  /** person/get page number (0-based, from the cursor) → requests */
  readonly requests = new Map<number, number>();
  readonly trouble = new Map<number, OrttoTrouble[]>();
  readonly down = new Set<number>();
  /** path (e.g. "person/get/activities") → requests / trouble for its next requests */
  readonly requestsAt = new Map<string, number>();
  readonly troubleAt = new Map<string, OrttoTrouble[]>();
  /** every request's path and body, in order */
  readonly log: { path: string; body: Rec; at: number }[] = [];
  /** times of bad requests (answered 4xx/5xx or dropped) */
  readonly badAt: number[] = [];
  bans = 0;
  private bannedUntil = 0;
  private server: Server | undefined;

  constructor(
    private readonly people: Rec[],
    private readonly apiKey = 'ortto-key',
    private readonly tryInSeconds = 1,
    private readonly data: OrttoAccountData = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/v1`;
  }

  /** the most bad requests seen within any window of `windowMs` */
  maxBadWithin(windowMs = BAN.windowMs): number {
    let most = 0;
    for (let i = 0; i < this.badAt.length; i += 1) {
      let n = 0;
      for (let j = i; j < this.badAt.length && (this.badAt[j] as number) - (this.badAt[i] as number) < windowMs; j += 1)
        n += 1;
      most = Math.max(most, n);
    }
    return most;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => this.answer(req, res, text));
    });
    await new Promise<void>((r) => this.server?.listen(port, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private bad(): void {
    const now = Date.now();
    this.badAt.push(now);
    const recent = this.badAt.filter((t) => t > now - BAN.windowMs).length;
    if (recent >= BAN.bad && now >= this.bannedUntil) {
      this.bans += 1;
      this.bannedUntil = now + BAN.banMs;
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    if (status >= 400) this.bad();
    send(res, status, body);
  }

  private drop(req: IncomingMessage): void {
    this.bad();
    req.socket.destroy();
  }

  private answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    if (Date.now() < this.bannedUntil)
      return this.send(res, 403, { error: { code: 'banned', message: 'too many bad requests: banned for 15 s' } });
    if (req.headers['x-api-key'] !== this.apiKey)
      return this.send(res, 401, { error: { code: 'unauthorized', message: 'invalid API key' } });
    const path = (req.url ?? '').replace(/^\/v1\//, '');
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/'))
      return this.send(res, 404, { error: { code: 'not-found', message: 'not found' } });
    let body: Rec;
    try {
      body = JSON.parse(text || '{}') as Rec;
    } catch {
      return this.send(res, 400, { error: { code: 'bad-request', message: 'invalid JSON' } });
    }
    this.log.push({ path, body, at: Date.now() });
    this.requestsAt.set(path, (this.requestsAt.get(path) ?? 0) + 1);
    if (path === 'person/get' && body.audience_id === undefined) return this.personGet(req, res, body);
    const trouble = this.troubleAt.get(path)?.shift();
    if (trouble && this.troubled(req, res, trouble)) return;
    switch (path) {
      case 'person/get':
        return this.members(res, body);
      case 'accounts/get':
        return this.cursorList(res, body, 'accounts', this.data.accounts ?? []);
      case 'person/custom-field/get':
        return this.send(res, 200, {
          fields: (this.data.personFields ?? []).map((field) => ({ field, tracked_value: false })),
        });
      case 'accounts/custom-field/get':
        return this.send(res, 200, {
          fields: (this.data.accountFields ?? []).map((field) => ({ field, tracked_value: false })),
        });
      case 'tags/get':
        return this.send(res, 200, this.data.tags ?? []);
      case 'person/get/activities':
        return this.activities(res, body);
      case 'audiences/get': {
        const limit = Number(body.limit ?? 40);
        if (!(limit >= 1 && limit <= 40))
          return this.send(res, 400, { error: { code: 'bad-request', message: 'limit must be between 1 and 40' } });
        const offset = Number(body.offset ?? 0);
        return this.send(
          res,
          200,
          (this.data.audiences ?? [])
            .slice(offset, offset + limit)
            .map(({ members: _m, ...a }) => (body.with_filter ? a : { ...a, filter: undefined })),
        );
      }
      case 'campaign/get-all':
        return this.offsetList(res, body, 'campaigns', this.data.campaigns ?? [], 50);
      case 'widgets/get':
        return this.offsetList(res, body, 'widgets', this.data.widgets ?? [], 50);
      case 'kb/get-articles':
        return this.offsetList(res, body, 'articles', this.data.articles ?? [], 50);
      default:
        return this.send(res, 404, { error: { code: 'not-found', message: `no endpoint ${path}` } });
    }
  }

  /** true when the trouble answered the request */
  private troubled(req: IncomingMessage, res: ServerResponse, trouble: OrttoTrouble): boolean {
    if (trouble === 'ok') return false;
    if (trouble === 'rate-limit')
      this.send(res, 429, {
        error: { code: 'rate-limit', message: 'rate limit', 'try-in-seconds': this.tryInSeconds },
      });
    else if (trouble === 'drop') this.drop(req);
    else if (trouble === 'bad-request')
      this.send(res, 400, { error: { code: 'bad-request', message: 'invalid request body' } });
    else this.send(res, 500, { error: { code: 'internal', message: 'internal error' } });
    return true;
  }

  private personGet(
    req: IncomingMessage,
    res: ServerResponse,
    body: { limit?: unknown; cursor_id?: unknown; fields?: unknown },
  ): void {
    const limit = Number(body.limit ?? 50);
    if (!(limit >= 1 && limit <= 500))
      return this.send(res, 400, { error: { code: 'bad-request', message: 'limit must be between 1 and 500' } });
    const fields = Array.isArray(body.fields) ? (body.fields as string[]) : undefined;
    // the cursor is opaque to clients; here it encodes the page number and the page size
    const page =
      typeof body.cursor_id === 'string' && body.cursor_id !== ''
        ? Number(Buffer.from(body.cursor_id, 'base64url').toString('utf8').split(':')[0])
        : 0;
    this.requests.set(page, (this.requests.get(page) ?? 0) + 1);
    if (this.down.has(page)) return this.drop(req);
    const trouble = this.trouble.get(page)?.shift() ?? this.troubleAt.get('person/get')?.shift();
    if (trouble && this.troubled(req, res, trouble)) return;
    const start = page * limit;
    const slice = this.people.slice(start, start + limit);
    const hasMore = start + limit < this.people.length;
    this.send(res, 200, {
      contacts: slice.map((p) => ({
        id: String(p.id),
        fields: Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'id' && (!fields || fields.includes(k)))),
      })),
      meta: { total_contacts: this.people.length, total_matches: this.people.length },
      offset: start,
      next_offset: hasMore ? start + limit : 0,
      cursor_id: hasMore ? Buffer.from(`${page + 1}:${limit}`).toString('base64url') : '',
      has_more: hasMore,
    });
  }

  /** person/get with audience_id: the audience's members, cursor paged */
  private members(res: ServerResponse, body: Rec): void {
    const audience = (this.data.audiences ?? []).find((a) => a.id === body.audience_id);
    if (!audience)
      return this.send(res, 400, {
        error: { code: 'bad-request', message: `unknown audience ${String(body.audience_id)}` },
      });
    const people = audience.members
      .map((id) => this.people.find((p) => String(p.id) === id))
      .filter((p) => p !== undefined)
      .map((p) => ({ id: String(p.id), fields: { 'str::email': p['str::email'] ?? null } }));
    this.cursorList(res, body, 'contacts', people);
  }

  private cursorList(res: ServerResponse, body: Rec, key: string, list: unknown[]): void {
    const limit = Number(body.limit ?? 50);
    if (!(limit >= 1 && limit <= 500))
      return this.send(res, 400, { error: { code: 'bad-request', message: 'limit must be between 1 and 500' } });
    const start =
      typeof body.cursor_id === 'string' && body.cursor_id !== ''
        ? Number(Buffer.from(body.cursor_id, 'base64url').toString('utf8'))
        : 0;
    const hasMore = start + limit < list.length;
    this.send(res, 200, {
      [key]: list.slice(start, start + limit),
      offset: start,
      next_offset: hasMore ? start + limit : 0,
      cursor_id: hasMore ? Buffer.from(String(start + limit)).toString('base64url') : '',
      has_more: hasMore,
    });
  }

  private offsetList(res: ServerResponse, body: Rec, key: string, list: unknown[], max: number): void {
    const limit = Number(body.limit ?? max);
    if (!(limit >= 1 && limit <= max))
      return this.send(res, 400, { error: { code: 'bad-request', message: `limit must be between 1 and ${max}` } });
    const offset = Number(body.offset ?? 0);
    this.send(res, 200, {
      [key]: list.slice(offset, offset + limit),
      offset,
      next_offset: offset + limit,
      has_more: offset + limit < list.length,
    });
  }

  private activities(res: ServerResponse, body: Rec): void {
    if (typeof body.person_id !== 'string' || body.person_id === '')
      return this.send(res, 400, { error: { code: 'bad-request', message: 'person_id is required' } });
    const limit = Number(body.limit ?? 40);
    if (!(limit >= 1 && limit <= 40))
      return this.send(res, 400, { error: { code: 'bad-request', message: 'limit must be between 1 and 40' } });
    const offset = Number(body.offset ?? 0);
    const feed = this.data.activities?.[body.person_id] ?? [];
    const page = feed.slice(offset, offset + limit);
    const hasNext = offset + limit < feed.length;
    this.send(res, 200, {
      activities: page.map((a) => ({ ...a, fields: a.fields ?? {} })),
      meta: { total_count: feed.length, field_ids: [], has_next: hasNext, retention_policy: null },
      offset,
      next_offset: hasNext ? offset + limit : 0,
    });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** `n` people with Ortto's built-in field ids (sources.md §3.2) */
export function orttoPeople(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `00${(i + 1).toString(16).padStart(6, '0')}`,
    'str::first': `Ann${i + 1}`,
    'str::last': 'Ortto',
    'str::email': `person${i + 1}@ortto-standin.example`,
    'phn::phone': i % 2 === 0 ? { c: '61', n: `4123456${String(i).padStart(2, '0')}` } : null,
    'geo::city': { name: 'Sydney' },
    tags: ['vip', `batch-${i % 3}`],
  }));
}
