/**
 * Streams the rows of one CSV export: detects the encoding, decodes strictly, parses with
 * csv-parse, and yields each data row as a header → cell map with its row number (row 1 is the
 * header, as a spreadsheet shows it). Every problem is an InputError naming file and row.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { parse, CsvError } from 'csv-parse';
import iconv from 'iconv-lite';
import { InputError } from '../core/input-error.js';
import { detectEncoding, looksBinary, type TextEncoding } from './detect-encoding.js';
import {
  BinaryCell,
  cleanCells,
  headerProblem,
  MAX_COLUMNS,
  MAX_HEADER_CHARS,
  MAX_RECORD_CHARS,
  utf8Inside,
  type CellFlag,
} from './cell-hygiene.js';

export interface CsvRow {
  row: number;
  cells: Record<string, string>;
  /** what was cleaned out of or noticed in this row's cells (located warnings) */
  flags?: CellFlag[];
}

export interface CsvFile {
  /** the name shown in errors and kept on every staged record */
  name: string;
  path: string;
}

export interface CsvHead {
  encoding: TextEncoding;
  header: string[];
}

const HEAD_BYTES = 64 * 1024;

export interface Sniffed {
  encoding: TextEncoding;
  bomLength: number;
  delimiter: string;
}

export async function sniff(file: CsvFile): Promise<Sniffed> {
  const handle = await open(file.path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    const head = buf.subarray(0, bytesRead);
    if (bytesRead === 0 || head.toString('latin1').trim() === '' || isOnlyBom(head)) {
      throw new InputError({ file: file.name }, 'the file is empty (no header row)');
    }
    const guess = detectEncoding(head);
    if (guess.encoding !== 'utf-16le' && looksBinary(head)) {
      throw new InputError({ file: file.name }, 'not a CSV text file (binary content found)');
    }
    const text = iconv.decode(head.subarray(guess.bomLength), guess.encoding);
    return { ...guess, delimiter: detectDelimiter(text) };
  } finally {
    await handle.close();
  }
}

/** The delimiter is whichever of , ; TAB occurs most in the header line (outside quotes). */
export function detectDelimiter(text: string): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const unquoted = firstLine.replace(/"[^"]*"/g, '');
  let best = ',';
  let bestCount = 0;
  for (const d of [',', ';', '\t']) {
    const count = unquoted.split(d).length - 1;
    if (count > bestCount) {
      best = d;
      bestCount = count;
    }
  }
  return best;
}

function isOnlyBom(head: Buffer): boolean {
  return head.length === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
}

/** Strict UTF-8 decoding as a stream: a byte that is not UTF-8 stops the file with its offset. */
class StrictUtf8Decoder extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private offset = 0;
  constructor(private readonly fileName: string) {
    super({ decodeStrings: true });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.push(this.decoder.decode(chunk, { stream: true }));
      this.offset += chunk.length;
      done();
    } catch {
      done(
        new InputError(
          { file: this.fileName },
          `invalid UTF-8 near byte ${this.offset}; save the export as UTF-8 or Windows-1252`,
        ),
      );
    }
  }
  override _flush(done: TransformCallback): void {
    try {
      this.push(this.decoder.decode());
      done();
    } catch {
      done(new InputError({ file: this.fileName }, 'the file ends inside a UTF-8 character'));
    }
  }
}

export async function* readCsv(file: CsvFile, onHead?: (head: CsvHead) => void): AsyncGenerator<CsvRow> {
  const { encoding, bomLength, delimiter } = await sniff(file);
  const bytes = createReadStream(file.path, { start: bomLength });
  const text = encoding === 'utf-8' ? new StrictUtf8Decoder(file.name) : iconv.decodeStream(encoding);
  const parser = parse({
    delimiter,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    trim: false,
    max_record_size: MAX_RECORD_CHARS,
  });
  bytes.on('error', (e) => parser.destroy(e));
  text.on('error', (e: Error) => parser.destroy(e));
  bytes.pipe(text).pipe(parser);

  let header: string[] | undefined;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row += 1;
      if (!header) {
        header = checkHeader(file.name, record);
        onHead?.({ encoding, header });
        continue;
      }
      if (record.length > header.length && record.slice(header.length).some((c) => c.trim() !== '')) {
        throw new InputError(
          { file: file.name, row },
          `row has ${record.length} cells but the header has ${header.length}; a quote or delimiter is probably off`,
        );
      }
      let flags: CellFlag[] | undefined;
      try {
        flags = cleanCells(header, record);
      } catch (e) {
        if (e instanceof BinaryCell) throw new InputError({ file: file.name, row, field: e.field }, e.message);
        throw e;
      }
      if (encoding === 'windows-1252') checkOneEncoding(file.name, row, header, record);
      const cells: Record<string, string> = {};
      header.forEach((name, i) => {
        cells[name] = record[i] ?? '';
      });
      yield flags ? { row, cells, flags } : { row, cells };
    }
  } catch (err) {
    throw toInputError(file.name, err, row);
  } finally {
    bytes.destroy();
  }
  if (!header) throw new InputError({ file: file.name }, 'the file is empty (no header row)');
}

function checkHeader(fileName: string, record: string[]): string[] {
  if (record.length > MAX_COLUMNS) {
    throw new InputError(
      { file: fileName, row: 1 },
      `the header has ${record.length.toLocaleString('en')} columns; at most ${MAX_COLUMNS.toLocaleString('en')} are accepted (no CRM export has more: is this the right file?)`,
    );
  }
  const header = record.map((h) => h.trim());
  const seen = new Set<string>();
  header.forEach((name, i) => {
    const problem = headerProblem(name);
    if (problem) throw new InputError({ file: fileName, row: 1, field: `column ${i + 1}` }, `header cell ${problem}`);
    if (name === '') throw new InputError({ file: fileName, row: 1 }, `header cell ${i + 1} is empty`);
    if (name.length > MAX_HEADER_CHARS)
      throw new InputError(
        { file: fileName, row: 1, field: `column ${i + 1}` },
        `header cell ${i + 1} is ${name.length.toLocaleString('en')} characters long, longer than ${MAX_HEADER_CHARS.toLocaleString('en')}: a header names a column (is a data row where the header should be?)`,
      );
    if (seen.has(name))
      throw new InputError({ file: fileName, row: 1, field: name }, 'column appears twice in the header');
    seen.add(name);
  });
  return header;
}

/** A Windows-1252 file must not hold UTF-8 rows: refused, naming the row and the field, with both readings. */
function checkOneEncoding(fileName: string, row: number, header: string[], record: string[]): void {
  for (let i = 0; i < record.length; i++) {
    const cell = record[i] as string;
    // eslint-disable-next-line no-control-regex -- the ASCII range, NUL included, on purpose
    if (cell.length === 0 || !/[^\x00-\x7f]/.test(cell)) continue;
    const inner = utf8Inside(cell);
    if (inner !== undefined) {
      throw new InputError(
        { file: fileName, row, field: header[i] ?? `column ${i + 1}` },
        `the file mixes encodings: it reads as Windows-1252, but this cell holds UTF-8 text (read as Windows-1252 it shows "${[...cell].slice(0, 40).join('')}", where UTF-8 means "${inner}"); save the whole export in one encoding (UTF-8) and upload again`,
      );
    }
  }
}

function toInputError(fileName: string, err: unknown, lastRow: number): Error {
  if (err instanceof InputError) return err;
  if (err instanceof CsvError) {
    const detail = err as CsvError & { records?: number; lines?: number };
    const row = typeof detail.records === 'number' ? detail.records + 1 : lastRow + 1;
    const why =
      err.code === 'CSV_MAX_RECORD_SIZE'
        ? `one record is larger than ${MAX_RECORD_CHARS / 1024 / 1024} M characters (a quote is probably never closed)`
        : err.code === 'CSV_QUOTE_NOT_CLOSED'
          ? 'a quoted cell is never closed (unbalanced quote)'
          : err.code === 'CSV_INVALID_CLOSING_QUOTE'
            ? 'a quote closes a cell in the middle of its text (unbalanced quote)'
            : err.message;
    return new InputError({ file: fileName, row }, `${why} [${err.code}, line ${detail.lines ?? '?'}]`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
