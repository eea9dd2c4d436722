/** The staging store and dedupe index (issue #11): records back as they went in, from memory and
 *  from the temporary file, in order or by position; the index finds every position of a hash. */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DraftStore, HashIndex, hash32 } from '../../bridge/src/staging/draft-store.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { csvReader } from '../../bridge/src/sources/reader.js';

t.test('records come back equal, in memory and on disk', async (t) => {
  for (const memoryLimit of [1000, 10]) {
    const store = new DraftStore<{ n: number; text: string }>({ memoryLimit });
    const want = Array.from({ length: 300 }, (_, n) => ({ n, text: `row ${n} ${'é'.repeat(n % 7)} "quoted"\n` }));
    for (const r of want) store.add(r, n2tag(r.n), hash32(r.text), r.n);
    t.equal(store.onDisk, memoryLimit < 300, `on disk past ${memoryLimit}`);
    t.same(
      [...store.each()].map(([, r]) => r),
      want,
      'in order',
    );
    t.same(
      [...store.each((i) => i % 3 === 0)].map(([i]) => i),
      want.filter((r) => r.n % 3 === 0).map((r) => r.n),
      'skipping some',
    );
    t.same(store.get(123), want[123], 'by position');
    t.equal(store.tags.get(7), n2tag(7));
    t.equal(store.b.get(299), 299);
    store.close();
  }
  function n2tag(n: number): number {
    return n % 5;
  }
});

t.test('the temporary file is removed on close', async (t) => {
  const store = new DraftStore<number>({ memoryLimit: 0 });
  store.add(1, 0, 0, 0);
  const folder = (store as unknown as { folder: string }).folder;
  t.ok(existsSync(folder));
  store.close();
  t.notOk(existsSync(folder));
});

t.test('the index gives every position stored under a hash, through growing', async (t) => {
  const index = new HashIndex(4);
  for (let i = 0; i < 5000; i++) index.add(i % 97, i);
  t.same(
    [...index.candidates(5)].sort((a, b) => a - b),
    Array.from({ length: 5000 }, (_, i) => i).filter((i) => i % 97 === 5),
  );
  t.same([...index.candidates(1234)], []);
  t.ok(hash32('a') !== hash32('b'));
});

t.test("the engine's compact form gives back the same drafts, key order included", async (t) => {
  const { DraftCodec } = await import('../../bridge/src/mapping/engine.js');
  const codec = new DraftCodec();
  const header = ['ID', 'Name', 'Email'];
  const numeric = ['Name', '2024', 'Notes']; // an integer-like header is listed first by JavaScript: kept as an object
  codec.header(header);
  codec.header(numeric);
  const columns = { name: 'Name', email: 'Email' };
  codec.columns(columns);
  const base = {
    object: 'contact',
    model: 'res.partner',
    values: { name: 'Zoë' },
    refs: {},
    lookups: {},
    match: [['email']],
    issues: [],
  };
  const drafts = [
    {
      key: 'a',
      ...base,
      source: { file: 'a.csv', row: 2, data: { ID: '1', Name: 'Zoë "Z"', Email: 'z@example.com' }, columns },
    },
    {
      key: 'b',
      ...base,
      source: {
        file: 'b.csv',
        row: 3,
        data: Object.fromEntries(numeric.map((h) => [h, `${h}!`])),
        columns: { ...columns },
      },
    },
    { key: 'c', ...base, source: { file: 'a.csv', row: 4, data: { name: 'derived' } }, attach_to: 'a' },
    {
      key: 'd',
      ...base,
      source: { file: 'a.csv', row: 5, data: { ID: '2', Email: 'x@example.com', Name: 'other order' }, columns },
    },
  ];
  const store = new DraftStore<(typeof drafts)[number]>({ memoryLimit: 0 }, codec as never);
  for (const d of drafts) store.add(d, 0, 0, 0);
  t.equal(JSON.stringify([...store.each()].map(([, d]) => d)), JSON.stringify(drafts), 'same JSON, in order');
  t.equal(JSON.stringify(store.get(1)), JSON.stringify(drafts[1]));
  t.ok(
    Array.isArray((codec.encode(drafts[0] as never) as { source: { data: unknown } }).source.data),
    'a row of a known header is written without its headers',
  );
  t.notOk(
    Array.isArray((codec.encode(drafts[1] as never) as { source: { data: unknown } }).source.data),
    'not when the keys come in another order',
  );
  store.close();
});

t.test('refs by value: two emails with one 32-bit hash each link their own contact', async (t) => {
  const a = 'p38966@example.com';
  const b = 'p46513@example.com';
  t.equal(hash32(a), hash32(b), 'the two emails share a hash (found by search)');
  const dir = await mkdtemp(join(tmpdir(), 'refs-collide-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const filler = Array.from({ length: 30 }, (_, i) => `${2000 + i},F${i},Filler,f${i}@example.com`);
  await writeFile(
    join(dir, 'contacts.csv'),
    ['ID,First Name,Last Name,Email', ...filler, `1001,Ann,Colliding,${a}`, `1002,Bob,Colliding,${b}`, ''].join('\n'),
  );
  await writeFile(
    join(dir, 'deals.csv'),
    [
      'Deal ID,Deal Name,Lead Email,Pipeline,Stage,Stage Position,Value,Status',
      `D-1,For Bob,${b.toUpperCase()},Sales,New,1,10,Open`,
      `D-2,For Ann,${a},Sales,New,1,10,Open`,
      'D-3,For nobody,p1@example.com,Sales,New,1,10,Open',
      '',
    ].join('\n'),
  );
  const files = ['contacts.csv', 'deals.csv'].map((name) => ({ name, path: join(dir, name) }));
  for (const memoryLimit of [5000, 3]) {
    const { records } = await stageExports('kartra', csvReader(files), { store: { memoryLimit } });
    const deal = (key: string) => records.find((r) => r.key === `kartra:deal:${key}`);
    t.equal(deal('D-1')?.refs.partner_id, 'kartra:contact:1002', `by its own email (store limit ${memoryLimit})`);
    t.equal(deal('D-2')?.refs.partner_id, 'kartra:contact:1001');
    t.notOk(deal('D-3')?.refs.partner_id, 'an email no contact of the export has links none of them');
    t.match(
      deal('D-3')?.lookups.partner_id,
      { model: 'res.partner', value: 'p1@example.com' },
      'it is looked up in Odoo',
    );
    t.notOk(
      records.some((r) => 'waiting' in r),
      'what waited travels with its record only until it is finished',
    );
  }
});
