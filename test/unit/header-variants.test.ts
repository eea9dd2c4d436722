/**
 * Issue 14: a known source does not refuse or drop a column for its spelling. Every object file
 * of the Kartra sample export, under renamed (incl. `#` and suffix spellings), reordered,
 * French, German and Spanish headers, stages the same records as the canonical export (records
 * compared without what names the source headers).
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { root, sample } from '../helpers/paths.js';
import { VARIANTS, tableOf, writeVariants } from '../helpers/header-variants.js';

const allSamples = readdirSync(join(root, 'samples', 'kartra'))
  .filter((f) => f.endsWith('.csv'))
  .sort()
  .map(sample);
const now = new Date('2024-07-01T00:00:00Z');
const ALL_APPS = { sale: true, account: true, calendar: true };

/** a record without the headers it came from (file, row and values are compared) */
function comparable(r: StagedRecord): unknown {
  const cells = Object.values(r.source.data).map(String).sort();
  return {
    key: r.key,
    object: r.object,
    model: r.model,
    values: r.values,
    refs: r.refs,
    lookups: r.lookups,
    match: r.match,
    deps: [...(r.deps ?? [])].sort(),
    source: { file: r.source.file, row: r.source.row, cells: r.object === 'custom_field' ? r.source.data : cells },
    issues: r.issues.map((i) => `${i.level} row ${i.row}: ${i.message}`).sort(),
  };
}
const byKey = (s: Staged) => new Map(s.records.map((r) => [r.key, comparable(r)]));

t.test('header variants of every Kartra object file stage the same records as the canonical export', async (t) => {
  const canonical = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
  const expected = byKey(canonical);
  t.ok(canonical.records.length > 40, `canonical: ${canonical.records.length} records`);
  for (const variant of VARIANTS) {
    const files = await writeVariants(allSamples, variant);
    const staged = await stageExports('kartra', csvReader(files), { installedApps: ALL_APPS, now });
    const got = byKey(staged);
    t.same([...got.keys()].sort(), [...expected.keys()].sort(), `${variant}: the same record keys`);
    for (const [key, record] of expected) t.same(got.get(key), record, `${variant}: ${key}`);
    t.same(
      staged.profile.files.map((f) => [f.file, f.object, f.rows]),
      canonical.profile.files.map((f) => [f.file, f.object, f.rows]),
      `${variant}: every file recognised as the same object`,
    );
    t.same(
      staged.profile.files.map((f) => [...f.unknownColumns].sort()),
      canonical.profile.files.map((f) => [...f.unknownColumns].sort()),
      `${variant}: no column left over that the canonical export maps`,
    );
    if (variant !== 'reordered') {
      const taken = staged.profile.files.flatMap((f) =>
        (f.columnsTaken ?? []).map((c) => `${f.file}: ${c.header} → ${c.column}`),
      );
      t.ok(taken.length > 0, `${variant}: the profile says which header it took for which column (${taken.length})`);
      for (const f of staged.profile.files) {
        for (const c of f.columnsTaken ?? [])
          t.ok(
            tableOf(f.file)[
              Object.keys(tableOf(f.file)).find((h) => tableOf(f.file)[h]?.[variant as 'fr'] === c.header) ?? ''
            ] !== undefined,
            `${variant}: ${f.file} "${c.header}" is a variant spelling`,
          );
      }
    }
  }
});
