/**
 * The reader boundary of the plan (§1, owned by the `readers` work: bridge/src/sources/reader.ts),
 * in the same shape, for the extraction job until that file is on main; then this file only
 * re-exports it.
 */
export interface SourceRow { row: number; cells: Record<string, string> }
export interface SourceTable {
  /** file name, or API object name; named in errors with the row */
  name: string;
  header: string[];
  encoding?: string;
  /** API readers know which mapping object the rows are; CSV tables are recognised from header */
  object?: string;
  rows: AsyncIterable<SourceRow>;
}
export interface SourceReader {
  /** tables one after another; a table's rows are read before the next table is asked for */
  tables(): AsyncIterable<SourceTable>;
  /** names for messages ("contacts.csv, deals.csv", "Ontraport API") */
  describe(): string;
}

/** A credential an API source asks for in Odoo's wizard (GET /sources). */
export interface CredentialSpec {
  name: string;
  label: string;
  /** stored so that only Migration Managers read it, never shown back */
  secret: boolean;
  /** the values allowed (a region), when fixed */
  options?: string[];
}

export interface ReaderOptions {
  /** this migration's spool folder: fetched pages and the checkpoint live there */
  dir: string;
  /** continue from the checkpoint in `dir` instead of starting over */
  resume: boolean;
}
