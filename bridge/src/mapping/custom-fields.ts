/**
 * Custom fields: unknown columns of an object's files become Odoo custom fields (x_...), created
 * before any record that fills them. The type comes from a schema file when the upload has one
 * (the source's own field list: identifier, type, options), else it is inferred from the values:
 * yes/no values → boolean; multi-line or long text → text; whole numbers → integer (a leading
 * zero keeps it text: zip codes, ids); numbers with decimals → float; ISO dates → date (with a
 * time → datetime); a few distinct values that repeat → selection with exactly those values;
 * anything else → char.
 */
import { cleanText, normalizeBoolean, normalizeInteger, normalizeMultiline, normalizeNumber, normalizeText } from '../normalize/text.js';
import type { Normalized } from '../normalize/result.js';
import { normalizeDate, normalizeDatetime } from '../normalize/datetime.js';
import { headerToken } from './columns.js';

export type OdooFieldType = 'char' | 'text' | 'boolean' | 'selection' | 'date' | 'datetime' | 'integer' | 'float' | 'many2one';

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
  const slug = header.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'field';
  const base = `${prefix}${slug}`.slice(0, 60);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

export function inferType(values: string[]): { type: OdooFieldType; options: string[] } {
  const cells = values.map(cleanText).filter((v) => v !== '');
  if (cells.length === 0) return { type: 'char', options: [] };
  if (cells.every((v) => normalizeBoolean(v).value !== null)) return { type: 'boolean', options: [] };
  if (values.some((v) => /\r|\n/.test(v.trim()) || v.length > 255)) return { type: 'text', options: [] };
  if (cells.every((v) => INTEGER.test(v))) return { type: 'integer', options: [] };
  if (cells.every((v) => INTEGER.test(v) || DECIMAL.test(v))) return { type: 'float', options: [] };
  if (cells.every((v) => ISO_DATE.test(v))) return { type: 'date', options: [] };
  if (cells.every((v) => ISO_DATE.test(v) || ISO_DATETIME.test(v))) return { type: 'datetime', options: [] };
  const distinct = [...new Set(cells)];
  if (distinct.length <= SELECTION_MAX_OPTIONS && cells.length >= 2 * distinct.length && distinct.every((d) => d.length <= 64)) {
    return { type: 'selection', options: distinct.sort((a, b) => a.localeCompare(b)) };
  }
  return { type: 'char', options: [] };
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
    case 'boolean': return normalizeBoolean(raw);
    case 'text': return normalizeMultiline(raw);
    case 'integer': return normalizeInteger(raw);
    case 'float': return normalizeNumber(raw);
    case 'date': return normalizeDate(raw, zone);
    case 'datetime': return normalizeDatetime(raw, zone);
    case 'selection':
      if (spec.options.includes(v)) return { value: v };
      return { value: null, issue: { level: 'warning', message: `"${v}" is not one of the field's options (${spec.options.join(', ')}); left empty` } };
    default: return normalizeText(raw);
  }
}
