/**
 * Staging gives exactly the same output as before the speed and memory work (issue #11): the
 * records (every field, issue and hash, in order), profile, inventory and mapping lines of a set
 * of exports are compared with digests taken from the engine before that work
 * (test/fixtures/staging-golden.json; `UPDATE_STAGING_GOLDEN=1` writes them again, only after a
 * change of output that is meant). Since the merge of main's custom models, attach alternatives,
 * completes and structures, the digests are main's engine's (636ddb0, written on a checkout of
 * main with this file copied in). The synthetic export is the bench's (countries in several
 * spellings, dates, phones, tags, duplicates, bad values, a custom field); both the in-memory
 * result and the streamed one (records written as they are finished) are checked.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import { root } from '../helpers/paths.js';
import { writeStagingExport } from '../bench/staging-export.js';
import { findSource } from '../../bridge/src/sources/registry.js';
import { aptoExportEntries } from '../helpers/apto-org.js';
import { writeZip } from '../helpers/zip-writer.js';

const GOLDEN = join(root, 'test', 'fixtures', 'staging-golden.json');
const now = new Date('2024-07-01T00:00:00Z');
const ALL_APPS = { sale: true, account: true, calendar: true, crm: true, contacts: true };

const dirFiles = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((name) => ({ name, path: join(root, dir, name) }));

type Digest = Record<string, string | number>;

/** the temporary folder of a run (unpacked zips' files are named by their path in it) */
let tmp = '\u0000';
const sha = (v: unknown) =>
  createHash('sha256').update(JSON.stringify(v).split(tmp).join('<tmp>').split(root).join('<root>')).digest('hex');

export function digest(s: Staged): Digest {
  return {
    records: s.records.length,
    recordsSha: sha(s.records),
    profileSha: sha(s.profile),
    inventorySha: sha(s.inventory),
    linesSha: sha(s.lines),
    blobsSha: sha(s.blobs),
  };
}

type Options = Parameters<typeof stageExports>[2];

async function cases(dir: string): Promise<[string, (extra: Options) => Promise<Staged>][]> {
  const synthetic = await writeStagingExport(dir, 3000);
  // an Apto Data Export zip: objects named per row (objectFrom), files, a company hierarchy
  const zip = join(dir, 'WE_00D000000000001_1.zip');
  await writeZip(zip, aptoExportEntries());
  const aptoZip = () => {
    // unpacked afresh into the same folder each run (the staged files are named by their path)
    rmSync(join(dir, 'unpacked'), { recursive: true, force: true });
    const reader = findSource('apto_export')?.uploadReader?.(
      [{ name: 'WE_00D000000000001_1.zip', path: zip }],
      join(dir, 'unpacked'),
    );
    if (!reader) throw new Error('apto_export reads no uploaded zip');
    return reader;
  };
  return [
    [
      'kartra samples, all apps',
      (o) => stageExports('kartra', csvReader(dirFiles('samples/kartra')), { installedApps: ALL_APPS, now, ...o }),
    ],
    ['kartra samples, dry run', (o) => stageExports('kartra', csvReader(dirFiles('samples/kartra')), { now, ...o })],
    [
      'ontraport fixtures',
      (o) =>
        stageExports(
          'ontraport',
          csvReader(
            dirFiles('test/fixtures/ontraport').filter(
              (f) => !f.name.includes('api-spelling') && f.name !== 'contacts-sms-only.csv',
            ),
          ),
          { now, ...o },
        ),
    ],
    [
      'crmconnect fixtures',
      (o) =>
        stageExports(
          'crmconnect',
          csvReader(
            dirFiles('test/fixtures/crmconnect').filter(
              (f) => !f.name.includes('one-pipeline') && f.name !== 'contacts-segment.csv',
            ),
          ),
          { now, ...o },
        ),
    ],
    ['generic csv', (o) => stageExports('generic_csv', csvReader(dirFiles('samples/generic')), { now, ...o })],
    ['synthetic kartra contacts, 3000 rows', (o) => stageExports('kartra', csvReader(synthetic), { now, ...o })],
    ['apto data export zip', (o) => stageExports('apto_export', aptoZip(), { now, ...o })],
  ];
}

t.test('staged output is what it was before the speed work', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'staging-equal-'));
  tmp = dir;
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const got: Record<string, Digest> = {};
  const spilled: Record<string, Digest> = {};
  for (const [name, run] of await cases(dir)) {
    got[name] = digest(await run({}));
    // every record through the temporary file (what an export past a few thousand rows does)
    spilled[name] = digest(await run({ store: { memoryLimit: 0 } }));
  }
  if (process.env.UPDATE_STAGING_GOLDEN === '1') {
    await writeFile(GOLDEN, `${JSON.stringify(got, null, 2)}\n`);
    t.pass('golden digests written');
    return;
  }
  const golden = JSON.parse(await readFile(GOLDEN, 'utf8')) as Record<string, Digest>;
  for (const [name, d] of Object.entries(got)) t.same(d, golden[name], name);
  for (const [name, d] of Object.entries(spilled))
    t.same(d, golden[name], `${name}, records kept on disk while staging`);
  t.same(Object.keys(got), Object.keys(golden), 'the same cases');
});
