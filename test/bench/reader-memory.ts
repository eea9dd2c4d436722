/**
 * Memory and speed of the reader path alone (no engine): N records from the Ontraport stand-in
 * through the API toolkit (pages of 50, spooled), then the same read again from the spool, then a
 * CSV file of N rows through csvReader. Prints JSON: time, requests, and the largest heap growth
 * seen while reading, after a collection every 5,000 rows (live memory; needs --expose-gc).
 *   npx tsc -p tsconfig.json && node --expose-gc dist/test/bench/reader-memory.js [N]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiReader, registerSource } from '../../bridge/src/sources/registry.js';
import { csvReader, type SourceReader } from '../../bridge/src/sources/reader.js';
import { OntraportStandin, standinContacts } from '../helpers/ontraport-standin.js';
import { standinSource } from '../helpers/standin-source.js';

const N = Number(process.argv[2] ?? 20_000);

/** heap growth over what was there before reading (the stand-in's own records included there) */
async function drain(reader: SourceReader): Promise<{ rows: number; ms: number; heapGrowthMaxMb: number }> {
  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  let heapMax = base;
  let rows = 0;
  const started = performance.now();
  for await (const table of reader.tables()) {
    for await (const _r of table.rows) {
      rows += 1;
      if (rows % 5000 === 0) {
        global.gc?.(); // live memory, not garbage waiting for a collection
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
      }
    }
  }
  return {
    rows,
    ms: Math.round(performance.now() - started),
    heapGrowthMaxMb: Math.round((heapMax - base) / 1e5) / 10,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'crm-reader-bench-'));
const standin = await new OntraportStandin({ contacts: standinContacts(N), rateLimit: 1e9 }).start();
registerSource(standinSource(() => standin.url, { rate: { limit: 1e6, intervalMs: 1000 } }));
const creds = { api_key: 'key-123', app_id: 'app-456' };
const fetched = await drain(apiReader('standin_ontraport', creds, { dir: join(dir, 'spool') }));
const requests = standin.total;
const spooled = await drain(apiReader('standin_ontraport', creds, { dir: join(dir, 'spool') }));
await standin.stop();
const csvPath = join(dir, 'contacts.csv');
await writeFile(
  csvPath,
  [
    'id,firstname,lastname,email,office_phone,city',
    ...standinContacts(N).map((c) => [c.id, c.firstname, c.lastname, c.email, c.office_phone ?? '', c.city].join(',')),
  ].join('\n'),
);
const csv = await drain(csvReader([{ name: 'contacts.csv', path: csvPath }]));
await rm(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    records: N,
    api: { ...fetched, requests },
    apiFromSpool: { ...spooled, requests: standin.total - requests },
    csv,
  }),
);
