/**
 * A SourceReader over a paged JSON API: one table per API object, its rows streamed page by page
 * through the extraction's spool (a page is fetched once; reading again, or resuming after a stop,
 * takes the spooled pages and fetches only what is missing). A source supplies its objects, each
 * with how to fetch one page (offsetPages below covers `start`/`range`-style APIs).
 */
import type { z } from 'zod';
import type { SourceReader, SourceRow, SourceTable } from '../reader.js';
import type { ApiClient } from './http-client.js';
import { Spool, type Cursor, type Json, type SpooledPage } from './spool.js';

export type ApiRecord = Record<string, Json>;

export interface ApiObject {
  /** table name in messages ("Contacts"); also the spool's folder for it */
  name: string;
  /** the mapping object its rows are */
  object: string;
  /** the header, when the source knows its fields; else the keys of the first page's records */
  columns?: string[];
  /** where the first page starts */
  first: Cursor;
  fetchPage(client: ApiClient, cursor: Cursor): Promise<{ rows: ApiRecord[]; next: Cursor | null }>;
}

export interface ExtractionProgress {
  object: string;
  /** pages of this object read so far (spooled or fetched) */
  pages: number;
  rows: number;
  /** this page came from the spool (an earlier run), not from the API */
  fromSpool: boolean;
  /** the object's last page */
  done: boolean;
  /** a source's word on the run (an API budget: "API requests today: 120 of 15000"), shown with the progress */
  message?: string;
}

export interface PagedReaderOptions {
  /** "Ontraport API" */
  name: string;
  client: ApiClient;
  objects: ApiObject[];
  /** the extraction's folder (one per migration/extraction); kept across restarts */
  spoolDir: string;
  /** true (default): pages already spooled are read from there; false: the folder is emptied first (a fresh extraction) */
  resume?: boolean | undefined;
  onProgress?: ((p: ExtractionProgress) => void) | undefined;
}

export function pagedReader(options: PagedReaderOptions): SourceReader {
  let spool: Promise<Spool> | undefined;
  /** opened once per reader: a fresh extraction empties the folder once, not at every re-read */
  const openSpool = () =>
    (spool ??= Spool.open(options.spoolDir).then(async (s) => {
      if (options.resume === false) await s.clear();
      return s;
    }));
  return {
    describe: () => options.name,
    async *tables() {
      const s = await openSpool();
      for (const object of options.objects) {
        const table = await apiTable(options, s, object);
        if (table) yield table;
      }
    },
  };
}

/** null: the object has no records and the source names no fields (nothing to stage, no header to check) */
async function apiTable(options: PagedReaderOptions, spool: Spool, object: ApiObject): Promise<SourceTable | null> {
  let pages = 0;
  let rows = 0;
  /** page `index`: from the spool, else fetched (from where the page before it said) and spooled */
  const page = async (index: number, cursor: Cursor): Promise<SpooledPage> => {
    const spooled = await spool.page(object.name, index);
    let p: SpooledPage;
    if (spooled) p = spooled;
    else {
      const fetched = await object.fetchPage(options.client, cursor);
      p = { rows: fetched.rows, next: fetched.next };
      await spool.save(object.name, index, p);
    }
    pages += 1;
    rows += p.rows.length;
    options.onProgress?.({ object: object.name, pages, rows, fromSpool: spooled !== null, done: p.next === null });
    return p;
  };
  const first = await page(0, object.first);
  const header = object.columns ?? headerOf(first.rows);
  if (header.length === 0) return null;
  async function* stream(): AsyncGenerator<SourceRow> {
    let row = 0;
    let current: SpooledPage | null = first;
    for (let index = 0; current; index += 1) {
      for (const record of current.rows) {
        row += 1;
        yield { row, cells: cellsOf(record) };
      }
      current = current.next === null ? null : await page(index + 1, current.next);
    }
  }
  return { name: object.name, object: object.object, header, rows: stream() };
}

/** The fields of the first page's records, in the order they first appear. */
function headerOf(records: ApiRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) for (const k of Object.keys(r)) seen.add(k);
  return [...seen];
}

/** JSON values as the text cells the engine reads (null → empty; lists and objects as JSON). */
export function cellsOf(record: ApiRecord): Record<string, string> {
  const cells: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) {
    cells[k] = v === null ? '' : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return cells;
}

/**
 * Offset paging (`start`/`range`, `offset`/`limit`...): page n starts at n × size; a page with
 * fewer than `size` records is the last. `records` takes the list out of the checked answer.
 */
export function offsetPages<S extends z.ZodType>(spec: {
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  startParam: string;
  sizeParam: string;
  size: number;
  schema: S;
  records: (answer: z.output<S>) => ApiRecord[];
}): Pick<ApiObject, 'first' | 'fetchPage'> {
  return {
    first: 0,
    async fetchPage(client, cursor) {
      const start = typeof cursor === 'number' ? cursor : Number(cursor);
      const answer = await client.json({
        path: spec.path,
        query: { ...spec.query, [spec.startParam]: start, [spec.sizeParam]: spec.size },
        schema: spec.schema,
      });
      const rows = spec.records(answer);
      return { rows, next: rows.length < spec.size ? null : start + spec.size };
    },
  };
}

/**
 * Cursor paging: each answer says where the next page starts (a cursor id, a next offset, a
 * `has_more` flag). `request` builds one page's query or body from the cursor (the first page
 * gets `first`); `next` reads the following cursor from the checked answer (null: last page). A
 * POST here is a read (a search endpoint) and is marked idempotent, so it is retried like a GET:
 * never use it for a call that writes.
 */
export function cursorPages<S extends z.ZodType>(spec: {
  method?: 'GET' | 'POST';
  path: string;
  first?: Cursor;
  request: (cursor: Cursor) => { query?: Record<string, string | number | boolean | undefined>; body?: unknown };
  schema: S;
  records: (answer: z.output<S>) => ApiRecord[];
  next: (answer: z.output<S>, cursor: Cursor) => Cursor | null;
}): Pick<ApiObject, 'first' | 'fetchPage'> {
  const method = spec.method ?? 'GET';
  return {
    first: spec.first ?? null,
    async fetchPage(client, cursor) {
      const answer = await client.json({
        method,
        path: spec.path,
        ...spec.request(cursor),
        idempotent: method === 'POST',
        schema: spec.schema,
      });
      return { rows: spec.records(answer), next: spec.next(answer, cursor) };
    },
  };
}
