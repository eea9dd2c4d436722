/**
 * The export of the million-record run (issue #11, `scripts/bench-million.sh`): the staging bench's
 * Kartra contacts export (test/bench/staging-export.ts: contacts, companies, tags, lists, inline
 * notes that become chatter notes) plus a deals export (`deals.csv`, Kartra's deal columns) with
 * one deal per `DEALS_EVERY` contact rows, each on that contact's email (a ref by value to the
 * contact), in two pipelines and six stages; one deal in 30 has a description.
 *
 *   node dist/test/bench/million-export.js DIR CONTACT_ROWS [DEALS_EVERY=2]
 *
 * Prints the files as one JSON line. Deals are read back from the written contacts files, so the
 * emails are the contacts' own whatever the contact generator does.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { writeStagingExport } from './staging-export.js';

const STAGES: [string, number][] = [
  ['New', 1],
  ['Qualified', 2],
  ['Proposal', 3],
  ['Negotiation', 4],
  ['Won', 5],
  ['Lost', 6],
];
const PIPELINES = ['Enterprise', 'Events'];

export async function writeMillionExport(
  dir: string,
  rows: number,
  dealsEvery = 2,
): Promise<{ name: string; path: string }[]> {
  const files = await writeStagingExport(dir, rows);
  const deals = { name: 'deals.csv', path: join(dir, 'deals.csv') };
  const out = createWriteStream(deals.path);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  await write(
    'Deal ID,Deal Name,Lead Email,Pipeline,Stage,Stage Position,Value,Expected Close Date,Status,Owner,Created,Notes\n',
  );
  let n = 0;
  let d = 0;
  const seen = new Set<string>();
  for (const f of files) {
    const parser = createReadStream(f.path).pipe(
      parse({ columns: true, relax_column_count: true, skip_empty_lines: true }),
    );
    for await (const r of parser as AsyncIterable<Record<string, string>>) {
      n += 1;
      const email = (r.Email ?? '').toLowerCase();
      if (n % dealsEvery !== 0 || !email.includes('@') || seen.has(email)) continue;
      seen.add(email);
      const [stage, position] = STAGES[d % STAGES.length] as [string, number];
      const status = stage === 'Won' ? 'Won' : stage === 'Lost' ? 'Lost' : 'Open';
      const notes = d % 30 === 0 ? `"Deal ${d}: call back, ""demo"" asked"` : '';
      await write(
        `D-${d},Deal ${d} ${r['Last Name'] ?? ''},${email},${PIPELINES[d % 2]},${stage},${position},${1000 + (d % 50000)},2025-0${1 + (d % 9)}-15,${status},,2024-03-10 09:00:00,${notes}\n`,
      );
      d += 1;
    }
  }
  out.end();
  await once(out, 'finish');
  return [...files, deals];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, rows, every] = [process.argv[2] as string, Number(process.argv[3]), Number(process.argv[4] ?? 2)];
  if (!dir || !Number.isInteger(rows) || rows < 1)
    throw new Error('usage: million-export.js DIR CONTACT_ROWS [DEALS_EVERY]');
  const files = await writeMillionExport(dir, rows, every);
  process.stdout.write(`${JSON.stringify(files)}\n`);
}
