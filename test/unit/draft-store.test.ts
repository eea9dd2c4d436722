/** The staging store and dedupe index (issue #11): records back as they went in, from memory and
 *  from the temporary file, in order or by position; the index finds every position of a hash. */
import t from 'tap';
import { existsSync } from 'node:fs';
import { DraftStore, HashIndex, hash32 } from '../../bridge/src/staging/draft-store.js';

t.test('records come back equal, in memory and on disk', async (t) => {
  for (const memoryLimit of [1000, 10]) {
    const store = new DraftStore<{ n: number; text: string }>({ memoryLimit });
    const want = Array.from({ length: 300 }, (_, n) => ({ n, text: `row ${n} ${'é'.repeat(n % 7)} "quoted"\n` }));
    for (const r of want) store.add(r, n2tag(r.n), hash32(r.text), r.n);
    t.equal(store.onDisk, memoryLimit < 300, `on disk past ${memoryLimit}`);
    t.same([...store.each()].map(([, r]) => r), want, 'in order');
    t.same([...store.each((i) => i % 3 === 0)].map(([i]) => i), want.filter((r) => r.n % 3 === 0).map((r) => r.n), 'skipping some');
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
  t.same([...index.candidates(5)].sort((a, b) => a - b), Array.from({ length: 5000 }, (_, i) => i).filter((i) => i % 97 === 5));
  t.same([...index.candidates(1234)], []);
  t.ok(hash32('a') !== hash32('b'));
});
