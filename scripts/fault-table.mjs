#!/usr/bin/env node
// Prints the rows recorded by test/helpers/fault-table.ts as one table:
// kind | fault or input | expected | observed | held. Usage: node scripts/fault-table.mjs FILE
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log('fault table: no rows recorded');
  process.exit(0);
}
const rows = readFileSync(file, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));
const cut = (s, n) => (String(s).length > n ? `${String(s).slice(0, n - 1)}…` : String(s));
const cols = [
  ['kind', 8, (r) => r.kind],
  ['fault or input', 48, (r) => r.case],
  ['expected', 44, (r) => r.expected],
  ['observed', 44, (r) => r.observed],
  ['held', 4, (r) => (r.ok ? 'yes' : 'NO')],
];
const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(`== fault table (${rows.length} cases, ${rows.filter((r) => !r.ok).length} not held)`);
console.log(line(cols.map(([h, w]) => h.padEnd(w))));
console.log(line(cols.map(([, w]) => '-'.repeat(w))));
for (const r of rows) console.log(line(cols.map(([, w, f]) => cut(f(r), w).padEnd(w))));
