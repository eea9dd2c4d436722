/**
 * A local HTTP stand-in for Ortto's person API, as documented (help.ortto.com developer guide,
 * "Retrieve one or more people (get)" and "Rate limits", summarised in shared/reference/sources.md
 * §3): `POST /v1/person/get` with an `X-Api-Key` header and a JSON body `{limit, offset,
 * cursor_id, fields}`; the answer `{contacts: [{id, fields: {...}}], meta, offset, next_offset,
 * cursor_id, has_more}`; a 429 whose body says how long to wait:
 * `{"error": {"code": "rate-limit", "message": "rate limit", "try-in-seconds": N}}` (no header).
 * A test scripts trouble per page (the n-th page asked) and reads the request count per page.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type OrttoTrouble = 'rate-limit' | 'drop';

export class OrttoStandin {
  /** page number (0-based, from the cursor) → requests */
  readonly requests = new Map<number, number>();
  readonly trouble = new Map<number, OrttoTrouble[]>();
  readonly down = new Set<number>();
  private server: Server | undefined;

  constructor(private readonly people: Record<string, unknown>[], private readonly apiKey = 'ortto-key', private readonly tryInSeconds = 1) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/v1`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString('utf8')));
      req.on('end', () => this.answer(req, res, text));
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    if (req.headers['x-api-key'] !== this.apiKey) return send(res, 401, { error: { code: 'unauthorized', message: 'invalid API key' } });
    if (req.method !== 'POST' || req.url !== '/v1/person/get') return send(res, 404, { error: { code: 'not-found', message: 'not found' } });
    let body: { limit?: number; cursor_id?: string; fields?: string[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return send(res, 400, { error: { code: 'bad-request', message: 'invalid JSON' } });
    }
    const limit = Math.min(Math.max(body.limit ?? 50, 1), 500);
    // the cursor is opaque to clients; here it encodes the page number and the page size
    const page = body.cursor_id ? Number(Buffer.from(body.cursor_id, 'base64url').toString('utf8').split(':')[0]) : 0;
    this.requests.set(page, (this.requests.get(page) ?? 0) + 1);
    if (this.down.has(page)) return void req.socket.destroy();
    const trouble = this.trouble.get(page)?.shift();
    if (trouble === 'rate-limit') return send(res, 429, { error: { code: 'rate-limit', message: 'rate limit', 'try-in-seconds': this.tryInSeconds } });
    if (trouble === 'drop') return void req.socket.destroy();
    const start = page * limit;
    const slice = this.people.slice(start, start + limit);
    const hasMore = start + limit < this.people.length;
    send(res, 200, {
      contacts: slice.map((p) => ({ id: String(p.id), fields: Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'id' && (!body.fields || body.fields.includes(k)))) })),
      meta: { total_contacts: this.people.length, total_matches: this.people.length },
      offset: start,
      next_offset: hasMore ? start + limit : 0,
      cursor_id: hasMore ? Buffer.from(`${page + 1}:${limit}`).toString('base64url') : '',
      has_more: hasMore,
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
