/**
 * Custom fields: unknown columns of an object's files become Odoo custom fields (x_...), created
 * before any record that fills them. The type comes from a schema file when the upload has one
 * (the source's own field list: identifier, type, options), else it is inferred from the values:
 * yes/no values → boolean; multi-line or long text → text; whole numbers → integer (a leading
 * zero keeps it text: zip codes, ids); numbers with decimals → float; ISO dates → date (with a
 * time → datetime); a few distinct values that repeat → selection with exactly those values;
 * anything else → char.
 */
import {
  cleanText,
  normalizeBoolean,
  normalizeInteger,
  normalizeMultiline,
  normalizeNumber,
  normalizeText,
} from '../normalize/text.js';
import type { Normalized } from '../normalize/result.js';
import { normalizeDate, normalizeDatetime } from '../normalize/datetime.js';
import { headerToken } from './columns.js';

export type OdooFieldType =
  'char' | 'text' | 'boolean' | 'selection' | 'date' | 'datetime' | 'integer' | 'float' | 'many2one';

export interface CustomFieldSpec {
  /** the export's header */
  header: string;
  name: string;
  label: string;
  type: OdooFieldType;
  /** selection: the exact source values */
  options: string[];
  /** many2one (declared by the mapping only): the model it points to */
  relation?: string;
  /** where the type came from */
  origin: 'schema file' | 'inferred from values' | 'mapping';
}

export interface SchemaRow {
  identifier: string;
  label: string;
  type: OdooFieldType;
  options: string[];
}

const SELECTION_MAX_OPTIONS = 12;
/** a whole number Odoo's integer holds, without a leading zero (a zip code or an id stays text) */
const INTEGER = /^[-+]?(0|[1-9]\d{0,8})$/;
/** a decimal written with a point, thousands optionally grouped by commas */
const DECIMAL = /^[-+]?(0|[1-9]\d*|[1-9]\d{0,2}(,\d{3})+)\.\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

export function fieldName(prefix: string, header: string, taken: Set<string>): string {
  const slug =
    header
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'field';
  const base = `${prefix}${slug}`.slice(0, 60);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export function inferType(values: string[]): { type: OdooFieldType; options: string[] } {
  const tally = new TypeTally();
  for (const v of values) tally.add(v);
  return tally.result();
}

/**
 * inferType one value at a time (a column of a million rows in constant memory): yes/no values →
 * boolean; multi-line or long text → text; whole numbers → integer; with decimals → float; ISO
 * dates → date (with a time → datetime); a few distinct values that repeat → selection; else char.
 */
export class TypeTally {
  private filled = 0;
  private allBoolean = true;
  private anyLong = false;
  private allInteger = true;
  private allNumber = true;
  private allDate = true;
  private allDateOrDatetime = true;
  /** distinct values while there are at most SELECTION_MAX_OPTIONS of them */
  private distinct: Set<string> | null = new Set();
  private distinctLong = false;

  add(raw: string): void {
    if (/\r|\n/.test(raw.trim()) || raw.length > 255) this.anyLong = true;
    const v = cleanText(raw);
    if (v === '') return;
    this.filled += 1;
    if (this.allBoolean && normalizeBoolean(v).value === null) this.allBoolean = false;
    if (this.allInteger && !INTEGER.test(v)) this.allInteger = false;
    if (this.allNumber && !INTEGER.test(v) && !DECIMAL.test(v)) this.allNumber = false;
    if (this.allDate && !ISO_DATE.test(v)) this.allDate = false;
    if (this.allDateOrDatetime && !ISO_DATE.test(v) && !ISO_DATETIME.test(v)) this.allDateOrDatetime = false;
    if (this.distinct && !this.distinct.has(v)) {
      if (this.distinct.size >= SELECTION_MAX_OPTIONS) this.distinct = null;
      else {
        this.distinct.add(v);
        if (v.length > 64) this.distinctLong = true;
      }
    }
  }

  result(): { type: OdooFieldType; options: string[] } {
    if (this.filled === 0) return { type: 'char', options: [] };
    if (this.allBoolean) return { type: 'boolean', options: [] };
    if (this.anyLong) return { type: 'text', options: [] };
    if (this.allInteger) return { type: 'integer', options: [] };
    if (this.allNumber) return { type: 'float', options: [] };
    if (this.allDate) return { type: 'date', options: [] };
    if (this.allDateOrDatetime) return { type: 'datetime', options: [] };
    const distinct = this.distinct;
    if (distinct && this.filled >= 2 * distinct.size && !this.distinctLong) {
      return { type: 'selection', options: [...distinct].sort((a, b) => a.localeCompare(b)) };
    }
    return { type: 'char', options: [] };
  }
}

export function findSchemaRow(rows: SchemaRow[], header: string): SchemaRow | undefined {
  const token = headerToken(header);
  return rows.find((r) => headerToken(r.identifier) === token || headerToken(r.label) === token);
}

/** Python literal of a selection list, written exactly as Odoo's `repr` stores it back. */
export function selectionLiteral(options: [string, string][]): string {
  return `[${options.map(([k, l]) => `(${pyRepr(k)}, ${pyRepr(l)})`).join(', ')}]`;
}

/** Python's repr() of a str: single quotes unless the text has one and no double quote. */
export function pyRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** A cell's value for a custom field of this type (`zone`: where times without an offset are). */
export function customValue(spec: Pick<CustomFieldSpec, 'type' | 'options'>, raw: string, zone = 'UTC'): Normalized {
  const v = cleanText(raw);
  if (v === '') return { value: null };
  switch (spec.type) {
    case 'boolean':
      return normalizeBoolean(raw);
    case 'text':
      return normalizeMultiline(raw);
    case 'integer':
      return normalizeInteger(raw);
    case 'float':
      return normalizeNumber(raw);
    case 'date':
      return normalizeDate(raw, zone);
    case 'datetime':
      return normalizeDatetime(raw, zone);
    case 'selection':
      if (spec.options.includes(v)) return { value: v };
      return {
        value: null,
        issue: {
          level: 'warning',
          message: `"${v}" is not one of the field's options (${spec.options.join(', ')}); left empty`,
        },
      };
    default:
      return normalizeText(raw);
  }
}
