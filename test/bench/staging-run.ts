/**
 * One staging measurement in its own process (so its peak RSS is its own):
 *   node dist/test/bench/staging-run.js MODE DIR
 * MODE: `parse` (csv-parse alone on the files: bytes → rows, nothing else), `floor` (csv-parse
 * plus the least any staging of these rows must do: each row's phone read and validated with
 * libphonenumber-js as our normalizer does, and one record with the row's cells serialized to
 * JSON and hashed with SHA-256, as the staging contract asks; no dates, emails, countries,
 * mapping, dedupe or output: a ceiling for staging on one core), `stage` (the CLI's dry
 * run: `crm-migrate stage --source kartra --out`), `dump` (the staged output as one JSON, for
 * comparing two builds). DIR holds contacts_1.csv and contacts_2.csv (staging-export.ts).
 * Prints one JSON line: rows, ms, rows/s, peak RSS (MB, from the kernel's high-water mark).
 */
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { hash } from 'node:crypto';
import { normalizePhone } from '../../bridge/src/normalize/phone.js';
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

/** csv-parse plus the floor of staging's work on each row (see MODE `floor` above) */
async function floorOnly(): Promise<number> {
  let rows = 0;
  let bytes = 0;
  for (const f of files) {
    let header: string[] | undefined;
    const at = (name: string) => header?.indexOf(name) ?? -1;
    let phone = -1;
    let code = -1;
    let id = -1;
    for await (const r of createReadStream(f.path).pipe(parse({ relax_column_count: true, skip_empty_lines: true }))) {
      const row = r as string[];
      if (!header) {
        header = row;
        [phone, code, id] = [at('Phone'), at('Phone Country Code'), at('ID')];
        continue;
      }
      rows += 1;
      const cells: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) cells[header[i] as string] = row[i] ?? '';
      const tel = normalizePhone(row[phone] ?? '', { callingCode: row[code] ?? '' });
      const json = JSON.stringify({ key: `kartra:contact:${row[id] ?? rows}`, object: 'contact', phone: tel, cells });
      bytes += hash('sha256', json).length;
    }
  }
  return bytes > 0 ? rows : 0;
}

const started = performance.now();
let rows: number;
if (mode === 'parse') rows = await parseOnly();
else if (mode === 'floor') rows = await floorOnly();
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
} else throw new Error('mode: parse | floor | stage | dump');
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ mode, rows, ms: Math.round(ms), rowsPerSecond: Math.round((rows / ms) * 1000), peakRssMb: await peakRssMb() })}\n`,
);
