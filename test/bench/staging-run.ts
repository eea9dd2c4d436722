/**
 * One staging measurement in its own process (so its peak RSS is its own):
 *   node dist/test/bench/staging-run.js MODE DIR
 * MODE: `parse` (csv-parse alone on the files: bytes → rows, nothing else), `stage` (the CLI's dry
 * run: `crm-migrate stage --source kartra --out`), `dump` (the staged output as one JSON, for
 * comparing two builds). DIR holds contacts_1.csv and contacts_2.csv (staging-export.ts).
 * Prints one JSON line: rows, ms, rows/s, peak RSS (MB, from the kernel's high-water mark).
 */
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { main as cli } from '../../bridge/src/cli.js';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';

const [mode, dir] = [process.argv[2], process.argv[3] as string];
const files = ['contacts_1.csv', 'contacts_2.csv'].map((name) => ({ name, path: join(dir, name) }));

/** VmHWM: the process's peak resident set, as the kernel counted it */
async function peakRssMb(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return kb ? Math.round(Number(kb) / 1024) : Math.round(process.memoryUsage().rss / 1e6);
}

async function parseOnly(): Promise<number> {
  let rows = 0;
  for (const f of files) {
    const parser = createReadStream(f.path).pipe(parse({ relax_column_count: true, skip_empty_lines: true }));
    for await (const _r of parser) rows += 1;
    rows -= 1; // the header
  }
  return rows;
}

const started = performance.now();
let rows: number;
if (mode === 'parse') rows = await parseOnly();
else if (mode === 'stage') {
  const out: string[] = [];
  const code = await cli(
    ['stage', '--source', 'kartra', '--json', '--out', join(dir, 'out'), ...files.map((f) => f.path)],
    (s) => out.push(s),
    (s) => process.stderr.write(`${s}\n`),
  );
  if (code !== 0) throw new Error(`crm-migrate stage exited ${code}`);
  const profile = (JSON.parse(out.join('')) as { profile: { files: { rows: number }[] } }).profile;
  rows = profile.files.reduce((a, f) => a + f.rows, 0);
} else if (mode === 'dump') {
  const s = await stageExports('kartra', csvReader(files), { now: new Date('2024-07-01T00:00:00Z') });
  await writeFile(
    join(dir, `dump-${process.argv[4] ?? 'x'}.json`),
    JSON.stringify({ records: s.records, profile: s.profile, inventory: s.inventory, lines: s.lines }, null, 1),
  );
  rows = s.profile.files.reduce((a, f) => a + f.rows, 0);
} else throw new Error('mode: parse | stage | dump');
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ mode, rows, ms: Math.round(ms), rowsPerSecond: Math.round((rows / ms) * 1000), peakRssMb: await peakRssMb() })}\n`,
);
