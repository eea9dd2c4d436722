/**
 * Staging keeps memory flat (issue #11): 12,000 rows of the bench's synthetic Kartra export staged
 * into a sink that keeps nothing; live heap (after a full collection) measured at 4,000 rows, at
 * the last row and while the records are finished. Kept in memory as before, 7,600 more rows
 * would hold about 75 MB; here the growth stays under a few MB (the store's per-record numbers
 * and caches).
 */
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvReader, type SourceReader } from '../../bridge/src/sources/reader.js';
import { stageExportsTo } from '../../bridge/src/stage-exports.js';
import { writeStagingExport } from '../bench/staging-export.js';
import { writeMillionExport } from '../bench/million-export.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 1e6;
};

t.test('live memory does not grow with the rows', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'staging-memory-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = await writeStagingExport(dir, 12_000);
  const base = csvReader(files);
  const seen: Record<string, number> = {};
  let rows = 0;
  const reader: SourceReader = {
    describe: base.describe,
    async *tables() {
      for await (const table of base.tables()) {
        yield {
          ...table,
          rows: (async function* () {
            for await (const r of table.rows) {
              rows += 1;
              if (rows === 4_400) seen.early = heapMb(); // past the planner's peek and the store's memory part
              yield r;
            }
          })(),
        };
      }
    },
  };
  let records = 0;
  const result = await stageExportsTo(
    'kartra',
    reader,
    {
      record: () => {
        records += 1;
        if (records === 1) seen.read = heapMb();
        if (records === 12_000) seen.finishing = heapMb();
      },
    },
    { now: new Date('2024-07-01T00:00:00Z') },
  );
  t.equal(result.count, records, 'every record reached the sink');
  t.ok(records > 12_000, `${records} records`);
  const growth = Math.max(seen.read as number, seen.finishing as number) - (seen.early as number);
  t.comment(
    `live heap: ${JSON.stringify(Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, Math.round(v)])))} MB`,
  );
  t.ok(growth < 12, `live heap grew ${growth.toFixed(1)} MB over 7,600 more rows`);
});

/**
 * Refs by value (a deal's contact by email) hold no objects per ref while the export is read and
 * finished: each ref waits inside its record in the store, and the index of what the refs name is
 * hashes and positions in typed arrays. The same contacts staged with and without one deal per
 * contact row: the live heap (after a full collection, when the first record reaches the sink)
 * differs by far less than the ~400 bytes per ref that objects, value strings and a value → key
 * map held before.
 */
t.test('refs by value add no live objects per ref', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'staging-refs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = await writeMillionExport(dir, 16_000, 1);
  const heapAtFirstRecord = async (names: string[]) => {
    let heap = 0;
    let records = 0;
    let refs = 0;
    await stageExportsTo(
      'kartra',
      csvReader(files.filter((f) => names.includes(f.name))),
      {
        record: (r) => {
          if (++records === 1) heap = heapMb();
          if (r.object === 'deal' && Object.keys(r.refs).includes('partner_id')) refs += 1;
        },
      },
      { now: new Date('2024-07-01T00:00:00Z') },
    );
    return { heap, refs };
  };
  const contacts = files.filter((f) => f.name !== 'deals.csv').map((f) => f.name);
  const without = await heapAtFirstRecord(contacts);
  const withDeals = await heapAtFirstRecord([...contacts, 'deals.csv']);
  t.ok(withDeals.refs > 10_000, `${withDeals.refs} deals linked to their contact by email`);
  const perRef = ((withDeals.heap - without.heap) * 1e6) / withDeals.refs;
  t.comment(`live heap ${without.heap.toFixed(1)} MB without deals, ${withDeals.heap.toFixed(1)} MB with them`);
  t.ok(perRef < 150, `${perRef.toFixed(0)} bytes of live heap per ref by value`);
});
