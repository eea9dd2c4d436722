/**
 * The reader boundary: everything that stages, plans or peeks reads a source through this, never
 * files or HTTP directly. A CSV upload is one reader (csvReader below), an API extraction another
 * (sources/api/). Rows stream: a reader holds at most a page or a parse buffer, never a whole export.
 */
import { readCsv, type CsvFile, type CsvRow } from '../csv/read-csv.js';

export interface SourceRow {
  /** row number shown in errors: a CSV line as a spreadsheet counts it (header = 1), or the record's position in an API object (first = 1) */
  row: number;
  cells: Record<string, string>;
  /** located warnings about this row's cells found while reading (control characters removed, very long cells) */
  flags?: { field: string; level: 'warning' | 'error'; message: string }[];
}

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
  /**
   * Tables one after another; a table's rows are read before the next table is asked for.
   * May be called more than once (the planner peeks at the first rows, then the engine reads
   * everything); each call starts from the first table. A reader keeps that cheap: CSV files are
   * opened again, an API reader re-reads the pages it spooled to disk.
   */
  tables(): AsyncIterable<SourceTable>;
  /** names for messages ("contacts.csv, deals.csv", "Ontraport API") */
  describe(): string;
  /**
   * Optional: Markdown sections the reader adds to the migration's inventory, for what the source
   * lists but no staged record carries (segment definitions, campaign metrics, automation flows,
   * forms). Asked after the tables were read.
   */
  inventory?(): Promise<string>;
  /** a reader that brings its own files (an API reader downloading attachments, an unpacked
   *  export zip): the folder its file columns (`blobFrom`) name files in, used when the upload
   *  gives none (the CLI's `--files DIR`) */
  filesDir?: string | undefined;
  /** what the source holds that does not migrate (workflow rules...), found while reading: listed
   *  in the inventory with the mapping's `notMigratable`; asked after the tables were read */
  notMigratable?: (() => { what: string; why: string }[]) | undefined;
}

/** Export files read through the strict streaming CSV reader, one table per file, in the given order. */
export function csvReader(files: CsvFile[]): SourceReader {
  return {
    describe: () => files.map((f) => f.name).join(', '),
    async *tables() {
      for (const file of files) {
        const { table, close } = await csvTable(file);
        try {
          yield table;
        } finally {
          await close(); // a table whose rows were not read to the end (a peek) lets go of its file
        }
      }
    },
  };
}

/** Reads the header (and the first row) so the table can be named with its header before its rows. */
async function csvTable(file: CsvFile): Promise<{ table: SourceTable; close: () => Promise<unknown> }> {
  let head: { encoding: string; header: string[] } | undefined;
  const rows = readCsv(file, (h) => {
    head = h;
  });
  const first = await rows.next();
  if (!head) throw new Error(`${file.name}: no header read`); // readCsv throws first for an empty file
  const table: SourceTable = {
    name: file.name,
    header: head.header,
    encoding: head.encoding,
    rows: (async function* (): AsyncGenerator<CsvRow> {
      if (first.done) return;
      yield first.value;
      yield* rows;
    })(),
  };
  return { table, close: () => rows.return(undefined) };
}
