/**
 * Apto from a Salesforce Data Export zip (export-zip.ts): the same org as the API stand-in, packed
 * as Salesforce packs it (one CSV per object headed by API names, attachment bodies under
 * Attachments/<Id>, content versions under ContentVersion/<Id>), staged with the same keys and
 * values as through the API and the files' bytes equal; and the archive rules: no entry written
 * outside its folder (`../`, absolute, backslashes), zip bombs refused (ratio, total, entry count,
 * a header that understates the size), a damaged zip named.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { InputError } from '../../bridge/src/core/input-error.js';
import { aptoExportReader, entryPath, unpackZip, ZIP_LIMITS } from '../../bridge/src/sources/apto/export-zip.js';
import { findSource } from '../../bridge/src/sources/registry.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { aptoExportEntries, JANE, PDF, PNG } from '../helpers/apto-org.js';
import { recordOutcome } from '../helpers/fault-table.js';
import { csvOf, writeZip, type ZipEntry } from '../helpers/zip-writer.js';

async function tmp(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-apto-zip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a Data Export zip stages like the API: keys, values, hierarchy, deals, files with equal bytes', async (t) => {
  const dir = await tmp(t);
  const zip = join(dir, 'WE_00D000000000001_1.zip');
  await writeZip(zip, aptoExportEntries());
  const source = findSource('apto_export');
  t.ok(source?.uploadReader, 'apto_export reads an uploaded zip');
  const reader = source?.uploadReader?.([{ name: 'WE_00D000000000001_1.zip', path: zip }], join(dir, 'unpacked'));
  if (!reader) return;
  const staged = await stageExports('apto_export', reader);
  const by = (key: string) => staged.records.find((r) => r.key === key);
  t.match(by('apto:company:001000000000003AAA'), {
    values: { name: 'Harbor West Retail', source_create_date: '2021-03-04 10:11:12' },
    refs: { parent_id: 'apto:company:001000000000002AAA' },
    lookups: { user_id: { value: JANE } },
  });
  t.match(by('apto:company:001000000000004AAA'), { refs: {} }, 'the loop broken');
  t.match(staged.inventory, /Company hierarchy loop: Loop A → Loop B → Loop A/);
  t.match(by('apto:deal:a0P000000000001AAA'), {
    values: { expected_revenue: 2350000, probability: 100 },
    refs: { stage_id: 'apto:pipeline_stage:Comp' },
  });
  t.match(by('apto:task:00T000000000002AAA'), { attach_to: 'apto:deal:a0P000000000001AAA' });
  t.match(
    by('apto:file:00P000000000001AAA'),
    { blob: { sha1: createHash('sha1').update(PDF).digest('hex'), size: PDF.length } },
    'attachment from Attachments/<Id>',
  );
  t.match(
    by('apto:file:068000000000001AAA-003000000000001AAA'),
    { attach_to: 'apto:contact:003000000000001AAA', blob: { sha1: createHash('sha1').update(PNG).digest('hex') } },
    'content version from ContentVersion/<Id>',
  );
  t.equal(staged.records.filter((r) => r.model === 'res.partner').length, 5 + 12, 'companies and contacts');
  const custom = staged.records.filter((r) => r.model === 'ir.model.fields').map((r) => r.values.name);
  t.ok(
    custom.includes('x_apto_company_investor_type') && custom.includes('x_apto_deal_entered_listing'),
    'custom fields without the namespace, stage-entered dates',
  );
  t.notOk(
    custom.some((n) => String(n).includes('jigsaw')),
    'standard fields the mapping does not read stay out',
  );
  t.same(
    staged.records.filter((r) => r.issues.some((i) => i.level === 'error')).map((r) => r.key),
    [],
  );
});

t.test('entries never land outside their folder', async (t) => {
  const dir = await tmp(t);
  const base = join(dir, 'out');
  for (const name of ['../evil.txt', '/tmp/evil-abs.txt', 'a/../../evil2.txt', '..\\evil3.txt', 'C:/evil4.txt']) {
    t.ok('error' in entryPath(base, name), `${name}: refused by the path rule`);
    const zip = join(dir, 'bad.zip');
    await writeZip(zip, [
      { name: 'Account.csv', data: csvOf([{ Id: '1', Name: 'A' }]) },
      { name, data: Buffer.from('owned') },
    ]);
    const err = await unpackZip(zip, base).catch((e: unknown) => e);
    const ok =
      err instanceof InputError &&
      /outside the export's folder|invalid relative path|absolute path/.test(String((err as Error).message));
    t.ok(ok, `${name}: unpacking refused (${String((err as Error).message)})`);
    const left = await readdir(dir);
    t.same(
      left.filter((f) => f.startsWith('evil')),
      [],
      'nothing written next to the folder',
    );
    t.same(left.includes('out'), false, 'the half-unpacked folder removed');
    recordOutcome({
      kind: 'security',
      case: `Apto export zip entry named "${name}"`,
      expected: 'refused, nothing written outside the folder',
      observed: ok ? 'refused, nothing written outside the folder' : String(err),
      ok,
    });
  }
});

t.test('zip bombs are refused', async (t) => {
  const dir = await tmp(t);
  const cases: { name: string; entries: ZipEntry[]; limits?: typeof ZIP_LIMITS; expect: RegExp }[] = [
    {
      name: 'a 64 MiB run of zeros deflated ~1000:1',
      entries: [{ name: 'Account.csv', data: Buffer.alloc(64 * 1024 * 1024), deflate: true }],
      expect: /compressed \d+ to 1 \(more than 200 to 1\)/,
    },
    {
      name: 'more bytes in all than allowed',
      entries: [
        { name: 'a.csv', data: Buffer.alloc(600_000, 65) },
        { name: 'b.csv', data: Buffer.alloc(600_000, 66) },
      ],
      limits: { ...ZIP_LIMITS, maxTotalBytes: 1_000_000 },
      expect: /more than 1000000 bytes unpacked in all/,
    },
    {
      name: 'more entries than allowed',
      entries: Array.from({ length: 12 }, (_, i) => ({ name: `f${i}.csv`, data: Buffer.from('x') })),
      limits: { ...ZIP_LIMITS, maxEntries: 10 },
      expect: /more than 10 entries/,
    },
    {
      name: 'a header that understates the size',
      entries: [{ name: 'Account.csv', data: Buffer.alloc(3_000_000, 66), deflate: true, claimSize: 1000 }],
      limits: { ...ZIP_LIMITS, maxEntryBytes: 1_000_000 },
      expect: /more bytes than allowed|too many bytes|cannot unpack/,
    },
  ];
  for (const c of cases) {
    const zip = join(dir, 'bomb.zip');
    await writeZip(zip, c.entries);
    const err = await unpackZip(zip, join(dir, 'out'), c.limits).catch((e: unknown) => e);
    const ok = err instanceof InputError && c.expect.test(String((err as Error).message));
    t.ok(ok, `${c.name}: ${String((err as Error)?.message)}`);
    t.same((await readdir(dir)).includes('out'), false, 'nothing left unpacked');
    recordOutcome({
      kind: 'security',
      case: `Apto export zip bomb: ${c.name}`,
      expected: 'refused before filling the disk',
      observed: ok ? 'refused before filling the disk' : String(err),
      ok,
    });
  }
});

t.test('not a zip: named', async (t) => {
  const dir = await tmp(t);
  const zip = join(dir, 'export.zip');
  await writeZip(zip, []);
  const notZip = join(dir, 'notes.zip');
  await (await import('node:fs/promises')).writeFile(notZip, 'hello');
  await t.rejects(unpackZip(notZip, join(dir, 'o')), { name: 'InputError', message: /not a zip file we can read/ });
  await t.rejects(async () => {
    for await (const _ of aptoExportReader([zip], join(dir, 'o2')).tables()) void _;
  }, /no CSV file in the export/);
});
