/**
 * What a cell or a header may hold before it travels on (XML-RPC to Odoo, JSON to disk, HTML in
 * the chatter). XML 1.0, and so XML-RPC, cannot carry C0 control characters other than TAB, LF and
 * CR, nor the noncharacters U+FFFE/U+FFFF: such a cell used to crash the staging call. Cells lose
 * them with a located warning (the text around them is kept); a header that has them is refused
 * (a header names a column: guessing what it meant would be silent). NUL means binary content
 * and refuses the file. Limits: a header of more than MAX_COLUMNS columns is refused, a cell of
 * more than LONG_CELL characters is flagged (an unbalanced quote swallowing rows looks like this).
 */
export const MAX_COLUMNS = 2000;
export const LONG_CELL = 65_536;
/** a header cell longer than this is refused (survey questions as column names stay well below) */
export const MAX_HEADER_CHARS = 1000;
/** csv-parse's own limit for one record, in characters: beyond it the file is refused */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0001-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
// eslint-disable-next-line no-control-regex
const NOT_XML_TEST = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

export interface CellFlag {
  field: string;
  level: 'warning' | 'error';
  message: string;
}

export type HeaderProblem = string | undefined;

/** Why a header cell cannot be used, or undefined. */
export function headerProblem(cell: string): HeaderProblem {
  if (!NOT_XML_TEST.test(cell)) return undefined;
  const ch = cell.match(NOT_XML_TEST)?.[0] ?? '';
  return `contains the control character ${codePoint(ch)}; fix the header cell (it names a column) and upload again`;
}

/**
 * Cleans one row's cells in place; returns the flags (undefined when the row is clean, which is
 * nearly always: one regular-expression test per cell). Throws `binary` on a NUL.
 */
export function cleanCells(header: string[], record: string[]): CellFlag[] | undefined {
  let flags: CellFlag[] | undefined;
  for (let i = 0; i < record.length; i++) {
    const cell = record[i] as string;
    if (cell.length > LONG_CELL) {
      (flags ??= []).push({
        field: header[i] ?? `column ${i + 1}`,
        level: 'warning',
        message: `is ${cell.length.toLocaleString('en')} characters long (more than ${LONG_CELL.toLocaleString('en')}): check the export, a quote may be off`,
      });
    }
    if (!NOT_XML_TEST.test(cell)) continue;
    if (cell.includes('\u0000')) throw new BinaryCell(header[i] ?? `column ${i + 1}`);
    const found = new Set(cell.match(NOT_XML) ?? []);
    record[i] = cell.replace(NOT_XML, '');
    (flags ??= []).push({
      field: header[i] ?? `column ${i + 1}`,
      level: 'warning',
      message: `removed ${[...found].map(codePoint).join(', ')} (not text; XML-RPC cannot carry it)`,
    });
  }
  return flags;
}

export class BinaryCell extends Error {
  constructor(readonly field: string) {
    super('contains a NUL byte: this is binary content, not a CSV text export');
  }
}

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A Windows-1252 file whose cell holds bytes that form UTF-8 sequences (`Zoë` written as UTF-8
 * and read as Windows-1252 shows `ZoÃ«`): the export mixes two encodings. Checked only on cells
 * with characters beyond ASCII, by encoding the text back to its bytes.
 */
const CP1252_HIGH: Record<string, number> = {
  '€': 0x80,
  '‚': 0x82,
  ƒ: 0x83,
  '„': 0x84,
  '…': 0x85,
  '†': 0x86,
  '‡': 0x87,
  ˆ: 0x88,
  '‰': 0x89,
  Š: 0x8a,
  '‹': 0x8b,
  Œ: 0x8c,
  Ž: 0x8e,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
  '˜': 0x98,
  '™': 0x99,
  š: 0x9a,
  '›': 0x9b,
  œ: 0x9c,
  ž: 0x9e,
  Ÿ: 0x9f,
};

function cp1252Byte(ch: string): number {
  const code = ch.charCodeAt(0);
  return code < 0x100 ? code : (CP1252_HIGH[ch] ?? 0x3f);
}

/** The UTF-8 text this Windows-1252-decoded cell holds, when its bytes are a UTF-8 multi-byte sequence; else undefined. */
export function utf8Inside(cell: string): string | undefined {
  if (!/[\u00c2-\u00f4]/.test(cell)) return undefined;
  const bytes = Uint8Array.from(cell, cp1252Byte);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (need === 0) continue;
    let j = 1;
    while (j <= need && ((bytes[i + j] ?? 0) & 0xc0) === 0x80) j++;
    if (j > need) {
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(i, i + need + 1));
      } catch {
        /* an overlong or surrogate form: not UTF-8 after all */
      }
    }
  }
  return undefined;
}
