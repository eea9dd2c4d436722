/**
 * npm run bench: the bridge and the addon against Odoo's own import, side by side in one run, on
 * the same synthetic Kartra export (BENCH_ROWS contacts, a company per 10 contacts, 30 tags).
 *
 *  1. bridge staging (parse, normalize, map, validate, hash): rows/s and peak RSS growth;
 *  2. our path into Odoo: api_stage + api_commit, records/s;
 *  3. baseline: res.partner.load() / res.partner.category.load() — what Odoo's CSV import does —
 *     on the same partners, companies and tags, with external ids for the links;
 *  then both are removed again (our rollback; unlink for the baseline).
 * Figures are ratios measured in this run; absolute numbers move between machines and runs.
 */
import { csvReader } from '../../bridge/src/sources/reader.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { OdooReader } from '../helpers/odoo.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
const TAGS = Array.from({ length: 30 }, (_, i) => `bench-tag-${i}`);

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function makeExport(dir: string): Promise<string> {
  const header = 'ID,First Name,Last Name,Email,Phone Country Code,Phone,Company,City,Zip,Country,Tags,Date Joined';
  const lines = [header];
  for (let i = 0; i < ROWS; i++) {
    const tags = [TAGS[i % 30], TAGS[(i * 7) % 30]].join(', ');
    lines.push(
      [
        String(900000 + i),
        `First${i}`,
        `Last${i}`,
        `bench.${i}@bench.example`,
        '1',
        `212 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`,
        `Bench Company ${Math.floor(i / 10)}`,
        'New York',
        '10001',
        'United States',
        tags,
        '2023-05-01 10:00:00',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  const path = join(dir, 'bench_contacts.csv');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

function rate(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

async function main(): Promise<void> {
  const odoo = new OdooReader();
  const dir = await mkdtemp(join(tmpdir(), 'crm-bench-'));
  const path = await makeExport(dir);

  // 1. staging in the bridge
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  let t0 = performance.now();
  const staged = await stageExports('kartra', csvReader([{ name: 'bench_contacts.csv', path }]));
  const stageMs = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const records = staged.records.length;

  // 2. our path into Odoo
  const before = await odoo.count('res.partner');
  t0 = performance.now();
  const report = await odoo.migrations.stageAll('bench', 'kartra', staged.records);
  const sendMs = performance.now() - t0;
  t0 = performance.now();
  const committed = await odoo.migrations.commit(report.id, 1000);
  const commitMs = performance.now() - t0;
  const created = (await odoo.count('res.partner')) - before;
  t0 = performance.now();
  await odoo.migrations.rollback(report.id);
  const rollbackMs = performance.now() - t0;

  // 3. Odoo's own load() on the same rows
  const companies = [...new Set(Array.from({ length: ROWS }, (_, i) => Math.floor(i / 10)))];
  t0 = performance.now();
  const loadTags = await odoo.transport.call(
    'res.partner.category',
    'load',
    [['id', 'name'], TAGS.map((n) => [`__bench__.${n}`, n])],
    { context: { tracking_disable: true } },
  );
  const loadCompanies = await odoo.transport.call(
    'res.partner',
    'load',
    [['id', 'name', 'is_company'], companies.map((c) => [`__bench__.company_${c}`, `Bench Company ${c}`, '1'])],
    { context: { tracking_disable: true } },
  );
  const contactRows = staged.records
    .filter((r) => r.object === 'contact')
    .map((r) => {
      const i = Number(r.key.split(':')[2]) - 900000;
      return [
        `__bench__.contact_${i}`,
        String(r.values.name),
        String(r.values.email),
        String(r.values.phone ?? ''),
        'New York',
        '10001',
        'US',
        `__bench__.company_${Math.floor(i / 10)}`,
        [TAGS[i % 30], TAGS[(i * 7) % 30]].map((n) => `__bench__.${n}`).join(','),
      ];
    });
  const loadContacts: { ids: number[]; messages: unknown[] }[] = [];
  for (let i = 0; i < contactRows.length; i += 1000) {
    loadContacts.push(
      z
        .object({ ids: z.array(z.number()).or(z.literal(false)), messages: z.array(z.unknown()) })
        .transform((v) => ({ ids: v.ids || [], messages: v.messages }))
        .parse(
          await odoo.transport.call(
            'res.partner',
            'load',
            [
              ['id', 'name', 'email', 'phone', 'city', 'zip', 'country_id/id', 'parent_id/id', 'category_id/id'],
              contactRows.slice(i, i + 1000).map((r) => r.map((v) => (v === 'US' ? 'base.us' : v))),
            ],
            { context: { tracking_disable: true } },
          ),
        ),
    );
  }
  const loadMs = performance.now() - t0;
  const loaded = z.object({ ids: z.array(z.number()) }).loose();
  const loadedIds = [...loaded.parse(loadCompanies).ids, ...loadContacts.flatMap((l) => l.ids)];
  const loadMessages = loadContacts.flatMap((l) => l.messages);
  await odoo.unlink(
    'res.partner',
    loadContacts.flatMap((l) => l.ids),
  );
  await odoo.unlink('res.partner', loaded.parse(loadCompanies).ids);
  await odoo.unlink('res.partner.category', loaded.parse(loadTags).ids);
  await odoo.transport.call('ir.model.data', 'unlink', [
    await odoo.transport.call('ir.model.data', 'search', [[['module', '=', '__bench__']]]),
  ]);

  const ours = sendMs + commitMs;
  const out = {
    rows: ROWS,
    stagedRecords: records,
    bridgeStaging: {
      ms: Math.round(stageMs),
      rowsPerSecond: rate(ROWS, stageMs),
      rssGrowthMB: Math.round((peak - rss0) / 1e6),
    },
    ours: {
      stageToOdooMs: Math.round(sendMs),
      commitMs: Math.round(commitMs),
      recordsPerSecond: rate(records, ours),
      partnersCreated: created,
      rollbackMs: Math.round(rollbackMs),
      failed: committed.failed.length,
    },
    odooLoad: {
      ms: Math.round(loadMs),
      recordsPerSecond: rate(TAGS.length + companies.length + contactRows.length, loadMs),
      recordsLoaded: loadedIds.length + TAGS.length,
      messages: loadMessages.length,
    },
    ratioOursToLoad: Number((loadMs / ours).toFixed(2)),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(
    `ratio: our stage+commit is ${out.ratioOursToLoad}x the speed of Odoo's load() on the same ${records} records (>1 = faster)\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
