/**
 * Header resolution: which header of a file is which canonical column of a mapping object.
 * Headers are compared by meaning, not by exact spelling: case, accents, spaces and punctuation
 * are ignored ("E-mail", "e_mail", "EMAIL" are one); "#" is a word ("Deal #" is not "Deal").
 *
 * The mapping's spellings are the first evidence, not the only one: a column no header spells
 * the mapping's way is looked for among the other headers by what they say (their words in
 * several languages, see header-words.ts) and by what their values look like (emails, dates,
 * numbers, unique ids), with a confidence. At or above `ACCEPT` the header is taken (and said
 * so); below it, a column the object requires is a question for the admin (`ColumnQuestion`),
 * with the best candidates; it is refused only when no header can be it.
 */
import { InputError } from '../core/input-error.js';
import { profileValues, type ValueProfile } from '../proposal/value-profile.js';
import { conceptSimilarity } from './header-words.js';
import { fromColumns, type ObjectMapping } from './schema.js';

const tokens = new Map<string, string>();

/** A header's comparable form; remembered, since every rule compares itself with every header. */
export function headerToken(header: string): string {
  let token = tokens.get(header);
  if (token === undefined) {
    token = header
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/#/g, 'number')
      .replace(/[^a-z0-9]/g, '');
    if (tokens.size > 50_000) tokens.clear();
    tokens.set(header, token);
  }
  return token;
}

/** The canonical column a header gets when a mapping has none for it (`c_` + its token). */
export function syntheticColumn(header: string): string {
  return `c_${headerToken(header)}`.slice(0, 60);
}

/** A header taken for a column the file does not spell the mapping's way. */
export interface TakenColumn {
  column: string;
  header: string;
  confidence: number;
  /** why: the words or values that matched */
  evidence: string;
}

/** A column the object needs that no header is sure to be: the admin names it. */
export interface OpenColumn {
  column: string;
  /** the mapping's own spellings, for messages */
  expected: string[];
  candidates: TakenColumn[];
}

export interface ResolvedColumns {
  /** canonical column → the header that holds it in this file */
  byColumn: Map<string, string>;
  /** headers no column of the mapping claims (kept in the raw row, listed in the profile) */
  unknown: string[];
  /** headers taken by their meaning or values (not one of the mapping's spellings) */
  taken: TakenColumn[];
  /** required columns no header is sure to be */
  open: OpenColumn[];
}

export interface ResolveOptions {
  /** the first rows of the file: their values are evidence too */
  rows?: Record<string, string>[] | undefined;
  /** canonical column → header, named by the admin (`--column`, a decision): taken as said */
  given?: ReadonlyMap<string, string> | undefined;
  /** no guessing: the mapping's spellings only */
  exactOnly?: boolean;
  /** canonical column → values it refers to in the other files of the export (a deal's contact
   *  email → the contacts' emails), lower-cased: a header holding them is that column */
  refersTo?: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

/** At or above: a header is taken for a column without asking. */
export const ACCEPT = 0.75;
/** Below: a header is no candidate at all. */
export const CANDIDATE = 0.3;

type Kind = 'email' | 'date' | 'number' | 'phone';

function expectedKind(object: ObjectMapping, column: string): Kind | undefined {
  for (const rule of object.fields) {
    if (!fromColumns(rule).includes(column)) continue;
    switch (rule.transform) {
      case 'email':
        return 'email';
      case 'date':
      case 'datetime':
        return 'date';
      case 'number':
      case 'integer':
        return 'number';
      case 'phone':
        return 'phone';
      default:
    }
  }
  return undefined;
}

function scoreHeader(
  object: ObjectMapping,
  column: string,
  header: string,
  values: string[] | undefined,
  profile: ValueProfile | undefined,
  refersTo?: ReadonlySet<string>,
): TakenColumn | undefined {
  let words = 0;
  let like = column;
  for (const spelling of [column.replace(/_/g, ' '), ...(object.columns[column] ?? [])]) {
    const s = conceptSimilarity(header, spelling);
    if (s > words) [words, like] = [s, spelling];
  }
  const kind = expectedKind(object, column);
  const evidence = words > 0 ? [`header says "${like}" (${Math.round(words * 100)}%)`] : [];
  let score = words * 0.9;
  if (profile && profile.filled > 0 && values) {
    if (kind) {
      const fit = profile[kind];
      score = words * 0.8 + fit * 0.2;
      if (fit < 0.5) score *= 0.75;
      // a column of emails is an email column, whatever its header says (asked, not taken)
      if (words === 0 && kind === 'email' && fit >= 0.9) score = 0.5;
      evidence.push(`values ${Math.round(fit * 100)}% ${kind}`);
    } else if (object.key[0] === column) {
      const cells = values.map((v) => v.trim()).filter((v) => v !== '');
      const unique = new Set(cells).size === cells.length;
      score = words * 0.8 + (unique ? 0.2 : 0.05);
      evidence.push(unique ? 'values unique' : 'values repeat');
    }
  }
  if (refersTo && refersTo.size > 0 && values) {
    // the other files of the export: its values are the values this column refers to
    const cells = values.map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
    const share = cells.length ? cells.filter((v) => refersTo.has(v)).length / cells.length : 0;
    if (share >= 0.5) {
      score = Math.max(score, Math.min(1, score + 0.3 * share), 0.45 + 0.4 * share);
      evidence.push(`${Math.round(share * 100)}% of values found in the other files`);
    }
  }
  if (score < CANDIDATE) return undefined;
  return { column, header, confidence: Number(Math.min(1, score).toFixed(2)), evidence: evidence.join(', ') };
}

export function resolveColumns(object: ObjectMapping, header: string[], options: ResolveOptions = {}): ResolvedColumns {
  const tokenToColumn = new Map<string, string>();
  for (const [column, aliases] of Object.entries(object.columns)) {
    for (const alias of [column, ...aliases])
      if (!tokenToColumn.has(headerToken(alias))) tokenToColumn.set(headerToken(alias), column);
  }
  const byColumn = new Map<string, string>();
  const claimed = new Set<string>();
  const taken: TakenColumn[] = [];
  for (const [column, h] of options.given ?? []) {
    if (column in object.columns && header.includes(h) && !claimed.has(h)) {
      byColumn.set(column, h);
      claimed.add(h);
      if (
        !(object.columns[column] ?? []).some((a) => headerToken(a) === headerToken(h)) &&
        headerToken(column) !== headerToken(h)
      ) {
        taken.push({ column, header: h, confidence: 1, evidence: 'named by you' });
      }
    }
  }
  for (const h of header) {
    if (claimed.has(h)) continue;
    const column = tokenToColumn.get(headerToken(h));
    if (column && !byColumn.has(column)) {
      byColumn.set(column, h);
      claimed.add(h);
    }
  }
  const open: OpenColumn[] = [];
  if (!options.exactOnly) {
    const rows = options.rows;
    const free = header.filter((h) => !claimed.has(h));
    const profiles = new Map(
      rows && rows.length > 0
        ? free.map((h) => {
            const values = rows.map((r) => r[h] ?? '');
            return [h, { values, profile: profileValues(values) }] as const;
          })
        : [],
    );
    const candidates: TakenColumn[] = [];
    for (const column of Object.keys(object.columns)) {
      if (byColumn.has(column)) continue;
      for (const h of free) {
        const p = profiles.get(h);
        const c = scoreHeader(object, column, h, p?.values, p?.profile, options.refersTo?.get(column));
        if (c) candidates.push(c);
      }
    }
    // most confident first; each header and each column once; a tie goes to the mapping's order
    candidates.sort((a, b) => b.confidence - a.confidence);
    for (const c of candidates) {
      if (c.confidence < ACCEPT || byColumn.has(c.column) || claimed.has(c.header)) continue;
      byColumn.set(c.column, c.header);
      claimed.add(c.header);
      taken.push(c);
    }
    for (const column of object.requiredColumns) {
      if (byColumn.has(column)) continue;
      open.push({
        column,
        expected: [column, ...(object.columns[column] ?? [])],
        candidates: candidates.filter((c) => c.column === column && !claimed.has(c.header)).slice(0, 3),
      });
    }
  }
  return { byColumn, unknown: header.filter((h) => !claimed.has(h)), taken, open };
}

/**
 * How many of an object's detect columns a header has; 0 = not this object's file. A column
 * spelled the mapping's way counts 1, one meant by another spelling its confidence; meaning alone
 * recognises a file only when it finds two detect columns or more (one lookalike header, an
 * "Invoice No" for an identifier, says nothing).
 */
export function detectScore(object: ObjectMapping, header: string[]): number {
  if (!object.file) return 0;
  const { byColumn, taken } = resolveColumns(object, header);
  const guessed = new Map(taken.map((t) => [t.column, t.confidence]));
  const exact = object.file.detect.filter((c) => byColumn.has(c) && !guessed.has(c)).length;
  const meant = object.file.detect.filter((c) => guessed.has(c));
  if (exact === 0 && meant.length < 2) return 0;
  return exact + meant.reduce((n, c) => n + (guessed.get(c) ?? 0), 0);
}

/**
 * A file lacks a column its object needs and no header is sure to be it. `candidates` empty:
 * nothing in the file can be that column (refused). Otherwise the admin names the header
 * (`--column COLUMN="Header"`, a decisions file, or the Mapping page).
 */
export class ColumnQuestion extends InputError {
  constructor(
    readonly fileName: string,
    readonly object: string,
    readonly open: OpenColumn,
  ) {
    const expected = `expected one of "${open.expected.join('", "')}"`;
    super(
      { file: fileName, row: 1, field: open.column },
      open.candidates.length === 0
        ? `required column missing from the header (${expected}); no column of the file can be it`
        : `which column is "${open.column}" (${expected})? best candidates: ${open.candidates.map((c) => `"${c.header}" (${Math.round(c.confidence * 100)}%)`).join(', ')}; name it with --column ${open.column}="<header>" or in a --decisions file`,
    );
    this.name = 'ColumnQuestion';
  }
}
