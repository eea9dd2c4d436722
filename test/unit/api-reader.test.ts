/**
 * The API toolkit against a local stand-in for Ontraport's documented REST API
 * (test/helpers/ontraport-standin.ts): paging, 429 with Retry-After and with Ontraport's rate
 * headers, a dropped connection, retries only where safe, the bad-answer guard, zod-checked
 * answers, and resuming from the spool (fetching only the missing pages). Cursor paging over a
 * POST search against a stand-in for Ortto's person API (test/helpers/ortto-standin.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { ApiClient, ApiError, ApiStoppedError, retryAfter } from '../../bridge/src/sources/api/http-client.js';
import { readCheckpoint } from '../../bridge/src/sources/api/spool.js';
import { cursorPages, pagedReader, type ExtractionProgress } from '../../bridge/src/sources/api/paged-reader.js';
import type { Json } from '../../bridge/src/sources/api/spool.js';
import { apiReader, registerSource } from '../../bridge/src/sources/registry.js';
import type { SourceReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { OntraportStandin, standinContacts } from '../helpers/ontraport-standin.js';
import { ontraportList, standinSource } from '../helpers/standin-source.js';
import { OrttoStandin, orttoPeople } from '../helpers/ortto-standin.js';

const CREDS = { api_key: 'key-123', app_id: 'app-456' };

async function spoolDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-spool-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function standin(
  t: Test,
  n: number,
  extra: Partial<ConstructorParameters<typeof OntraportStandin>[0]> = {},
): Promise<OntraportStandin> {
  const s = await new OntraportStandin({ contacts: standinContacts(n), ...extra }).start();
  t.teardown(() => s.stop());
  return s;
}

/** a reader of the stand-in source, registered for this test only */
function reader(
  t: Test,
  s: OntraportStandin,
  dir: string,
  client: Parameters<typeof standinSource>[1] = {},
  progress?: ExtractionProgress[],
): SourceReader {
  const unregister = registerSource(standinSource(() => s.url, client));
  t.teardown(unregister);
  const r = apiReader('standin_ontraport', CREDS, { dir: dir, onProgress: (p) => progress?.push(p) });
  unregister();
  return r;
}

async function readAll(r: SourceReader): Promise<
  {
    name: string;
    object?: string | undefined;
    header: string[];
    rows: { row: number; cells: Record<string, string> }[];
  }[]
> {
  const out = [];
  for await (const table of r.tables()) {
    const rows = [];
    for await (const row of table.rows) rows.push(row);
    out.push({ name: table.name, object: table.object, header: table.header, rows });
  }
  return out;
}

t.test('offset paging: every page once, rows numbered, JSON values as text cells, progress per page', async (t) => {
  const s = await standin(t, 120);
  const progress: ExtractionProgress[] = [];
  const [table, ...more] = await readAll(reader(t, s, await spoolDir(t), {}, progress));
  t.equal(more.length, 0);
  t.equal(table?.name, 'Contacts');
  t.equal(table?.object, 'contact', 'the reader names the mapping object');
  t.same(table?.header, ['id', 'firstname', 'lastname', 'email', 'office_phone', 'city', 'date', 'bulk_mail']);
  t.equal(table?.rows.length, 120);
  t.same(table?.rows[0], {
    row: 1,
    cells: {
      id: '1',
      firstname: 'First1',
      lastname: 'Last1',
      email: 'contact1@standin.example',
      office_phone: '+1 415 555 1000',
      city: 'Santa Barbara',
      date: '1700000000',
      bulk_mail: '-2',
    },
  });
  t.equal(table?.rows[1]?.cells.office_phone, '', 'null → empty cell');
  t.equal(table?.rows[119]?.row, 120);
  t.same(
    [...s.requests.entries()],
    [
      [0, 1],
      [50, 1],
      [100, 1],
    ],
    'pages start=0, 50, 100, each asked once',
  );
  t.ok(
    s.log.every((l) => l.includes('range=50')),
    'pages of 50, the documented maximum',
  );
  t.same(
    progress.map((p) => [p.pages, p.rows, p.fromSpool, p.done]),
    [
      [1, 50, false, false],
      [2, 100, false, false],
      [3, 120, false, true],
    ],
  );
});

t.test('429 with Retry-After: waits what the API said, then asks once more', async (t) => {
  const s = await standin(t, 60, { retryAfterSeconds: 1 });
  s.trouble.set(50, ['retry-after']);
  const started = Date.now();
  const [table] = await readAll(reader(t, s, await spoolDir(t)));
  const ms = Date.now() - started;
  t.equal(table?.rows.length, 60);
  t.equal(s.requests.get(50), 2, 'the limited page asked twice: no hammering');
  t.ok(ms >= 950, `waited the 1 s Retry-After (${ms} ms)`);
});

t.test(
  'Ontraport-style rate limit: remaining 0 → no request before X-Rate-Limit-Reset; a 429 without Retry-After waits for the reset',
  async (t) => {
    const s = await standin(t, 160, { rateLimit: 2, rateWindowMs: 1000 });
    const started = Date.now();
    const [table] = await readAll(reader(t, s, await spoolDir(t)));
    t.equal(table?.rows.length, 160);
    t.same(
      [...s.requests.values()],
      [1, 1, 1, 1],
      'four pages, none refused: the client paused on Remaining 0 instead',
    );
    t.ok(Date.now() - started >= 900, 'it waited for the window to reset');
  },
);

t.test('a dropped connection (before and in the middle of an answer) and a 502 are retried for a GET', async (t) => {
  const s = await standin(t, 150);
  s.trouble.set(0, ['drop']);
  s.trouble.set(50, ['drop-mid-body', 'server-error']);
  const [table] = await readAll(reader(t, s, await spoolDir(t)));
  t.equal(table?.rows.length, 150);
  t.same(
    table?.rows.map((r) => r.cells.id),
    Array.from({ length: 150 }, (_, i) => String(i + 1)),
    'every record once, in order',
  );
  t.same(
    [...s.requests.entries()],
    [
      [0, 2],
      [50, 3],
      [100, 1],
      [150, 1],
    ],
    'a full last page: one more (empty) page tells the end, as offset paging without a count must',
  );
});

t.test(
  'only safe requests are retried: a POST that fails is asked once; a read marked idempotent is retried',
  async (t) => {
    const s = await standin(t, 1);
    const client = new ApiClient({
      name: 'Ontraport API (stand-in)',
      baseUrl: s.url,
      headers: { 'Api-Key': 'key-123', 'Api-Appid': 'app-456' },
      backoffMs: 10,
    });
    const err = await client
      .json({ method: 'POST', path: 'objects/saveorupdate', body: { email: 'x@y.example' }, schema: z.unknown() })
      .catch((e: unknown) => e);
    t.type(err, ApiError);
    t.match(
      (err as Error).message,
      /POST \/1\/objects\/saveorupdate: HTTP 503: Service temporarily unavailable; not retried \(POST is not safe to repeat\)/,
    );
    t.equal(s.posts, 1, 'sent once');
    const again = await client
      .json({ method: 'POST', path: 'objects/saveorupdate', idempotent: true, schema: z.unknown() })
      .catch((e: unknown) => e);
    t.match((again as Error).message, /gave up after 5 tries/);
    t.equal(s.posts, 6, 'a read marked idempotent: 5 tries');
  },
);

t.test('refused credentials stop at once, naming the problem; nothing retried', async (t) => {
  const s = await standin(t, 10);
  const unregister = registerSource(standinSource(() => s.url));
  t.teardown(unregister);
  const r = apiReader('standin_ontraport', { api_key: 'wrong', app_id: 'app-456' }, { dir: await spoolDir(t) });
  await t.rejects(
    readAll(r),
    /Ontraport API \(stand-in\), GET \/1\/Contacts\?start=0&range=50: HTTP 401: Invalid API key or App ID \(the credentials were refused/,
  );
  t.equal(s.log.length, 1);
  t.throws(
    () => apiReader('standin_ontraport', { api_key: 'k' }, { dir: '/nonexistent' }),
    /\(credentials\), field "app_id": App ID is required/,
  );
  t.throws(() => apiReader('kartra', {}, { dir: '/nonexistent' }), /Kartra is read from uploaded export files/);
});

t.test('the guard: after N bad answers within T seconds nothing more is sent, and the run says why', async (t) => {
  const s = await standin(t, 10);
  s.down.add(0);
  const r = reader(t, s, await spoolDir(t), { maxAttempts: 50, backoffMs: 5, guard: { maxBad: 4, windowMs: 10_000 } });
  const err = await readAll(r).catch((e: unknown) => e);
  t.type(err, ApiStoppedError);
  t.match((err as Error).message, /stopped: 4 bad answers within 10 s/);
  t.equal(s.requests.get(0), 4, 'exactly 4 requests reached the API');
});

t.test('a wait longer than allowed stops (to resume later) instead of blocking for hours', async (t) => {
  const s = await standin(t, 10, { retryAfterSeconds: 3600 });
  s.trouble.set(0, ['retry-after']);
  const err = await readAll(reader(t, s, await spoolDir(t), { maxWaitMs: 60_000 })).catch((e: unknown) => e);
  t.type(err, ApiStoppedError);
  t.match((err as Error).message, /asks to wait 3600 s, longer than the 60 s allowed: resume later/);
  t.equal(retryAfter('120'), 120_000);
  t.ok((retryAfter(new Date(Date.now() + 5000).toUTCString()) ?? 0) > 3000, 'an HTTP date works too');
});

t.test('every answer is checked: a page of the wrong shape stops with what did not fit', async (t) => {
  const s = await standin(t, 60);
  s.trouble.set(50, ['bad-shape']);
  await t.rejects(
    readAll(reader(t, s, await spoolDir(t))),
    /GET \/1\/Contacts\?start=50&range=50: the answer does not have the documented shape \(data: /,
  );
  const client = new ApiClient({
    name: 'x',
    baseUrl: s.url,
    headers: { 'Api-Key': 'key-123', 'Api-Appid': 'app-456' },
  });
  t.equal(
    (await client.json({ path: 'Contacts', query: { start: 0, range: 5 }, schema: ontraportList })).data.length,
    5,
  );
});

t.test(
  'resume: an extraction stopped by a failing page restarts from its spool and fetches only the missing pages',
  async (t) => {
    const s = await standin(t, 230);
    const dir = await spoolDir(t);
    s.down.add(100);
    const first = await readAll(reader(t, s, dir, { maxAttempts: 2, backoffMs: 5 })).catch((e: unknown) => e);
    t.type(first, ApiError, 'the first run stops at page start=100');
    t.same(await readCheckpoint(dir), {
      version: 1,
      objects: { Contacts: { pages: 2, rows: 100, complete: false, next: 100 } },
      updatedAt: String((await readCheckpoint(dir))?.updatedAt),
    });
    t.same(
      (await readdir(join(dir, 'Contacts'))).sort(),
      ['page-000000.json', 'page-000001.json'],
      'two pages spooled',
    );
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [50, 1],
        [100, 2],
      ],
    );

    s.down.delete(100);
    const progress: ExtractionProgress[] = [];
    const [table] = await readAll(reader(t, s, dir, {}, progress));
    t.equal(table?.rows.length, 230);
    t.same(
      table?.rows.map((r) => r.row),
      Array.from({ length: 230 }, (_, i) => i + 1),
      'rows numbered as one run',
    );
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [50, 1],
        [100, 3],
        [150, 1],
        [200, 1],
      ],
      'pages 0 and 50 not asked again',
    );
    t.same(
      progress.map((p) => p.fromSpool),
      [true, true, false, false, false],
    );
    t.same((await readCheckpoint(dir))?.objects.Contacts, { pages: 5, rows: 230, complete: true, next: null });

    const requests = s.total;
    const [again] = await readAll(reader(t, s, dir));
    t.equal(again?.rows.length, 230);
    t.equal(s.total, requests, 'reading a complete spool again asks the API nothing');

    const unregister = registerSource(standinSource(() => s.url));
    const fresh = apiReader('standin_ontraport', CREDS, { dir, resume: false });
    unregister();
    const [anew] = await readAll(fresh);
    t.equal(anew?.rows.length, 230);
    t.equal(s.total, requests + 5, 'resume: false starts over: all 5 pages fetched again');
    const [reread] = await readAll(fresh);
    t.equal(reread?.rows.length, 230);
    t.equal(s.total, requests + 5, 'the same fresh reader read again (plan, then stage) empties the folder only once');
  },
);

t.test(
  'resume after the reader was abandoned mid-way (a bridge restart): the next run continues from the checkpoint',
  async (t) => {
    const s = await standin(t, 175);
    const dir = await spoolDir(t);
    const r = reader(t, s, dir);
    let read = 0;
    for await (const table of r.tables()) {
      for await (const _row of table.rows) {
        read += 1;
        if (read === 60) break;
      }
      break;
    }
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [50, 1],
      ],
      'only the pages needed for 60 rows were fetched',
    );
    const [table] = await readAll(reader(t, s, dir));
    t.equal(table?.rows.length, 175);
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [50, 1],
        [100, 1],
        [150, 1],
      ],
    );
  },
);

t.test(
  'staging through the boundary: API rows take the mapping object the reader names, columns resolved by the mapping',
  async (t) => {
    const s = await standin(t, 75);
    s.trouble.set(50, ['retry-after']);
    const unregister = registerSource(standinSource(() => s.url));
    t.teardown(unregister);
    const dir = await spoolDir(t);
    const staged = await stageExports('standin_ontraport', apiReader('standin_ontraport', CREDS, { dir: dir }));
    const contacts = staged.records.filter((r) => r.object === 'contact');
    t.equal(contacts.length, 75);
    const first = contacts.find((r) => r.values.email === 'contact1@standin.example');
    t.match(first, {
      key: 'standin_ontraport:contact:1',
      model: 'res.partner',
      values: { name: 'First1 Last1', phone: '+14155551000', city: 'Santa Barbara' },
      source: { file: 'Contacts', row: 1 },
    });
    t.same(staged.profile.files, [
      { file: 'Contacts', object: 'contact', encoding: '', rows: 75, unknownColumns: ['bulk_mail'] },
    ]);
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [50, 2],
      ],
      'planning peeked and staging read the same spooled pages: each page fetched once (plus the 429)',
    );
    const lines = staged.lines.filter((l) => l.object === 'contact').map((l) => [l.column, l.field]);
    t.match(
      lines,
      [
        ['id', null],
        ['firstname', 'name'],
        ['lastname', 'name'],
        ['email', 'email'],
        ['office_phone', 'phone'],
        ['city', 'city'],
      ],
      'mapping lines name the API fields',
    );
  },
);

t.test(
  'cursor paging over a POST search (stand-in for Ortto person/get): 429 wait read from the body, a drop retried, resume by cursor',
  async (t) => {
    const s = await new OrttoStandin(orttoPeople(45), 'ortto-key', 1).start();
    t.teardown(() => s.stop());
    const dir = await spoolDir(t);
    const answer = z.object({
      contacts: z.array(z.object({ id: z.string(), fields: z.record(z.string(), z.json()) })),
      cursor_id: z.string(),
      has_more: z.boolean(),
    });
    const fields = ['str::first', 'str::last', 'str::email', 'phn::phone', 'geo::city', 'tags'];
    const make = () =>
      pagedReader({
        name: 'Ortto API (stand-in)',
        client: new ApiClient({
          name: 'Ortto API (stand-in)',
          baseUrl: s.url,
          headers: { 'X-Api-Key': 'ortto-key' },
          backoffMs: 5,
          maxAttempts: 2,
          retryAfterFromBody: (b) => {
            const parsed = z.object({ error: z.object({ 'try-in-seconds': z.number() }) }).safeParse(b);
            return parsed.success ? parsed.data.error['try-in-seconds'] : undefined;
          },
        }),
        objects: [
          {
            name: 'People',
            object: 'contact',
            columns: ['id', ...fields],
            ...cursorPages({
              method: 'POST',
              path: 'person/get',
              schema: answer,
              request: (cursor) => ({ body: { limit: 20, fields, ...(cursor ? { cursor_id: cursor } : {}) } }),
              records: (a) => a.contacts.map((c) => ({ id: c.id, ...(c.fields as Record<string, Json>) })),
              next: (a) => (a.has_more ? a.cursor_id : null),
            }),
          },
        ],
        spoolDir: dir,
      });
    s.trouble.set(1, ['rate-limit']);
    s.down.add(2);
    const started = Date.now();
    await t.rejects(readAll(make()), /POST \/v1\/person\/get: connection failed .*gave up after 2 tries/);
    t.ok(Date.now() - started >= 950, "the 429 waited the body's try-in-seconds");
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [1, 2],
        [2, 2],
      ],
      'the rate-limited page asked twice, the dropped one tried twice (a POST read is idempotent)',
    );
    s.down.delete(2);
    const [people] = await readAll(make());
    t.equal(people?.rows.length, 45);
    t.same(
      [...s.requests.entries()],
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
      'resumed from the spooled cursor: only the last page fetched',
    );
    t.same(people?.rows[0]?.cells, {
      id: '00000001',
      'str::first': 'Ann1',
      'str::last': 'Ortto',
      'str::email': 'person1@ortto-standin.example',
      'phn::phone': '{"c":"61","n":"412345600"}',
      'geo::city': '{"name":"Sydney"}',
      tags: '["vip","batch-0"]',
    });
    t.equal(people?.rows[1]?.cells['phn::phone'], '');
  },
);
