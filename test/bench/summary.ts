/**
 * npm run bench, last step (issue #11): every figure of the run side by side in one table, read
 * from the outputs of test/bench/staging-bench.ts and test/bench/commit-bench.ts (each prints one
 * JSON object first). `node dist/test/bench/summary.js STAGING_OUT COMMIT_OUT` (a missing or
 * failed part shows as "not run").
 */
import { readFile } from 'node:fs/promises';

type Json = Record<string, unknown>;

/** The first JSON object of a bench's output (it is printed with JSON.stringify(…, null, 2)). */
async function firstJson(path: string | undefined): Promise<Json | undefined> {
  if (!path) return undefined;
  const text = await readFile(path, 'utf8').catch(() => '');
  const start = text.indexOf('{\n');
  const end = text.indexOf('\n}\n', start);
  if (start < 0 || end < 0) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 2)) as Json;
  } catch {
    return undefined;
  }
}

const get = (o: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);
const s = (ms: unknown) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : 'not run');
const n = (v: unknown, unit = '') => (typeof v === 'number' ? `${v.toLocaleString('en-US')}${unit}` : 'not run');

async function main(): Promise<void> {
  const [staging, commit] = [await firstJson(process.argv[2]), await firstJson(process.argv[3])];
  const rows: [string, string][] = [];
  rows.push(['contact rows (BENCH_ROWS)', n(get(staging, 'rows') ?? get(commit, 'rows'))]);
  rows.push(['csv-parse alone', n(get(staging, 'csvParseAlone.rowsPerSecond'), ' rows/s')]);
  rows.push([
    'floor: csv-parse + phone + record JSON + SHA-256 (one core)',
    staging
      ? `${n(get(staging, 'floorOneCore.rowsPerSecond'), ' rows/s')} = ${String(get(staging, 'floorOneCore.ratioToCsvParse'))}x csv-parse`
      : 'not run',
  ]);
  rows.push([
    'our staging, CLI dry run',
    staging
      ? `${n(get(staging, 'stagingCliDryRun.rowsPerSecond'), ' rows/s')} = ${String(get(staging, 'ratioStagingToCsvParse'))}x csv-parse`
      : 'not run',
  ]);
  rows.push([
    'peak RSS, CLI dry run / upload route',
    `${n(get(staging, 'stagingCliDryRun.peakRssMb'), ' MB')} / ${n(get(staging, 'uploadRoute.peakRssMb'), ' MB')}`,
  ]);
  const recs = get(commit, 'records') as { partners?: number; leads?: number } | undefined;
  rows.push([
    `Odoo load(), ${n(recs?.partners)} partners / ${n(recs?.leads)} leads`,
    `${s(get(commit, 'odooLoad.partnersMs'))} / ${s(get(commit, 'odooLoad.leadsMs'))}`,
  ]);
  const ours = (get(commit, 'ours') ?? {}) as Record<string, Json>;
  for (const [name, f] of Object.entries(ours)) {
    const w = name.replace('workers', '');
    rows.push([
      `ours, ${w} chunk(s) at a time: partners stage+commit (ratio load()/ours)`,
      `${s(f.partnersMs)} (${String(f.ratioPartnersToLoad)}x, target >= 1.5)`,
    ]);
    rows.push([
      `ours, ${w} chunk(s) at a time: leads stage+commit (ratio)`,
      `${s(f.leadsMs)} (${String(f.ratioLeadsToLoad)}x, target >= 1.2)`,
    ]);
    rows.push([
      `ours, ${w} chunk(s) at a time: rollback of everything`,
      `${s(f.rollbackMs)} = ${s(f.rollbackMsPer100k)} per 100,000 records (target <= 60 s)`,
    ]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(
    `\nissue #11, this run side by side (${new Date().toISOString()}, load average ${(await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ').slice(0, 3).join(' ')}):\n`,
  );
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench summary failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
