/**
 * A first look at a source: each table's header and its first rows, read through the same reader
 * as staging (so a broken file fails here, naming file and row; an API reader fetches, and
 * spools, only the first page or so of each object).
 */
import type { SourceReader } from '../sources/reader.js';

export interface PeekedTable {
  /** file or API object name */
  name: string;
  /** the mapping object an API reader names; CSV tables are recognised from the header */
  object?: string | undefined;
  header: string[];
  rows: Record<string, string>[];
}

export async function peekTables(reader: SourceReader, maxRows = 200): Promise<PeekedTable[]> {
  const out: PeekedTable[] = [];
  for await (const table of reader.tables()) {
    const rows: Record<string, string>[] = [];
    if (maxRows > 0) {
      for await (const { cells } of table.rows) {
        rows.push(cells);
        if (rows.length >= maxRows) break;
      }
    }
    out.push({ name: table.name, object: table.object, header: table.header, rows });
  }
  return out;
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
