/**
 * A first look at uploaded files: each file's header and its first rows, read through the same
 * strict CSV reader as staging (so a broken file fails here, naming file and row).
 */
import { readCsv, type CsvFile } from '../csv/read-csv.js';

export interface PeekedFile {
  file: CsvFile;
  header: string[];
  rows: Record<string, string>[];
}

export async function peekFile(file: CsvFile, maxRows = 200): Promise<PeekedFile> {
  let header: string[] = [];
  const rows: Record<string, string>[] = [];
  for await (const { cells } of readCsv(file, (head) => { header = head.header; })) {
    rows.push(cells);
    if (rows.length >= maxRows) break;
  }
  return { file, header, rows };
}

/** The first `n` non-empty cells of a column. */
export function samples(rows: Record<string, string>[], column: string, n = 3): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const v = (row[column] ?? '').trim();
    if (v !== '' && !out.includes(v)) out.push(v.length > 80 ? `${v.slice(0, 77)}...` : v);
    if (out.length >= n) break;
  }
  return out;
}
