/**
 * The mapping proposal: for each column of an export, the Odoo model and field it most likely
 * lands in, with a confidence and the reason. Sources of evidence, strongest first: the shipped
 * mapping of a known source; a mapping the admin saved from an earlier migration; the header's
 * similarity to the field's name, label and names people use for it (several languages); and
 * the column's values (emails, phones, dates, numbers, booleans, URLs). A column nothing fits
 * well is proposed as a new custom field. The admin confirms or changes every line before any
 * record moves.
 */
import { headerToken } from '../mapping/columns.js';
import { conceptSimilarity, understood, understoodShare } from '../mapping/header-words.js';
import { fromColumns, type Mapping } from '../mapping/schema.js';
import { CATALOG, type FieldKind, type TargetField } from './field-catalog.js';
import { profileValues, type ValueProfile } from './value-profile.js';
import { selectionFit } from './odoo-fields.js';

export interface Proposal {
  column: string;
  model: string | null;
  field: string | null;
  /** the column is one part of a field built from several (first/last name → name) */
  part?: 'first' | 'last';
  confidence: number;
  reason: string;
}

export interface ProposeOptions {
  shipped?: Mapping;
  /** header → target confirmed in an earlier migration */
  saved?: Record<string, { model: string; field: string }>;
  catalog?: TargetField[];
  /** below this, a column is proposed as a new custom field */
  threshold?: number;
}

function bigrams(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length - 1; i++) out.push(s.slice(i, i + 2));
  return out;
}

/**
 * 1 for the same token. Two headers whose every word the glossary knows compare by meaning only
 * ("Status" and "State" share letters, not meaning: 0). Otherwise the better of their meaning and
 * the Dice coefficient of character bigrams (spelling variants of words the glossary lacks).
 */
export function similarity(a: string, b: string, options: { partial?: boolean } = {}): number {
  const x = headerToken(a);
  const y = headerToken(b);
  if (x === '' || y === '') return 0;
  if (x === y) return 1;
  // the same meaning in other words ranks just below the same word ("Name": name, not "nombre")
  const meaning = conceptSimilarity(a, b) * 0.95;
  if (understood(a) && understood(b)) return meaning;
  // words the glossary does not know may say anything ("Client fidèle" is not the client's name):
  // meaning counts for the share of the header it understands
  return Math.max(meaning * understoodShare(a), spelling(x, y, options.partial ?? true));
}

function spelling(x: string, y: string, partial: boolean): number {
  const bx = bigrams(x);
  const by = bigrams(y);
  const pool = [...by];
  let hits = 0;
  for (const g of bx) {
    const at = pool.indexOf(g);
    if (at >= 0) {
      hits += 1;
      pool.splice(at, 1);
    }
  }
  const dice = (2 * hits) / (bx.length + by.length || 1);
  // a header that contains the whole synonym ("Work Email Address" ⊃ "email") is close; not for
  // a field known only by its Odoo label (partial false): "Renewal Date" is not Odoo 17's "Date"
  const contains = partial && x.length >= 4 && y.length >= 4 && (x.includes(y) || y.includes(x)) ? 0.85 : 0;
  return Math.max(dice, contains);
}

function typeFit(target: TargetField, p: ValueProfile, values: string[]): number {
  const kind: FieldKind = target.kind;
  if (p.filled === 0) return 0.5;
  if (target.unique) {
    // a record id: one value per row, no two alike
    const cells = values.map((v) => v.trim()).filter((v) => v !== '');
    return new Set(cells).size === cells.length ? 1 : 0;
  }
  if (target.transform === 'country') return p.country;
  const textish = 1 - Math.max(p.email, p.date, p.boolean * 0.5);
  switch (kind) {
    case 'email':
      return p.email;
    case 'phone':
      return p.phone;
    case 'date':
    case 'datetime':
      return p.date;
    case 'float':
    case 'integer':
    case 'monetary':
      return p.number;
    case 'boolean':
      return p.boolean;
    case 'url':
      return p.url;
    case 'html':
    case 'text':
      return Math.max(textish, p.multiline);
    default:
      return Math.max(0, textish - p.phone * 0.5 - p.number * 0.5 - p.country * 0.5);
  }
}

export function shippedTargets(mapping: Mapping): Map<string, { model: string; field: string }> {
  const out = new Map<string, { model: string; field: string }>();
  for (const object of Object.values(mapping.objects)) {
    if (!object.file) continue;
    for (const rule of object.fields) {
      const from = fromColumns(rule);
      for (const column of from) {
        for (const alias of [column, ...(object.columns[column] ?? [])]) {
          const token = headerToken(alias);
          if (!out.has(token)) out.set(token, { model: object.model, field: rule.field });
        }
      }
    }
  }
  return out;
}

export function proposeMapping(
  header: string[],
  rows: Record<string, string>[],
  options: ProposeOptions = {},
): Proposal[] {
  const catalog = options.catalog ?? CATALOG;
  const threshold = options.threshold ?? 0.65;
  const shipped = options.shipped
    ? shippedTargets(options.shipped)
    : new Map<string, { model: string; field: string }>();
  const saved = new Map(Object.entries(options.saved ?? {}).map(([h, t]) => [headerToken(h), t]));
  const proposals = new Map<string, Proposal>();
  const candidates: { column: string; target: TargetField; score: number; reason: string }[] = [];

  for (const column of header) {
    const token = headerToken(column);
    const fixed = saved.get(token) ?? shipped.get(token);
    if (fixed) {
      proposals.set(column, {
        column,
        ...fixed,
        confidence: saved.has(token) ? 0.98 : 1,
        reason: saved.has(token)
          ? 'saved mapping from an earlier migration'
          : `shipped ${options.shipped?.label} mapping`,
      });
      continue;
    }
    const values = rows.map((r) => r[column] ?? '');
    const profile = profileValues(values);
    for (const target of catalog) {
      let best = 0;
      let bestName = '';
      for (const name of [
        ...(target.part ? [] : [target.field.replace(/_id$/, ''), target.label]),
        ...target.synonyms,
      ]) {
        const s = similarity(column, name, { partial: !target.strict });
        if (s > best) {
          best = s;
          bestName = name;
        }
      }
      // a picklist column against a selection field of Odoo: its values are the field's keys or labels
      const fit = target.selection ? selectionFit(values, target.selection).fit : typeFit(target, profile, values);
      // a field known only by its Odoo label: the header must say it (or its values be its options)
      if (target.strict && best < 0.8 && !(target.selection && fit >= 0.9 && best >= 0.4)) continue;
      // a record id: the header must name this record's id ("ID", "Kunden-Nr."), not another's ("Invoice No")
      if (target.unique && best < 0.9) continue;
      let score = best * 0.75 + fit * 0.25;
      let reason = `header like "${bestName}" (${Math.round(best * 100)}%)`;
      // strong value evidence alone (a column of emails is an email column, whatever its name)
      const strongKind = ['email', 'phone', 'url'].includes(target.kind) || target.transform === 'country';
      const valueOnly =
        strongKind && fit >= 0.9
          ? 0.6 + 0.3 * fit
          : target.selection && fit >= 0.9 && best >= 0.4
            ? 0.5 + 0.3 * fit
            : 0;
      if (valueOnly > score) {
        score = valueOnly;
        reason = target.selection
          ? `header like "${bestName}" (${Math.round(best * 100)}%), values: ${Math.round(fit * 100)}% are options of the Odoo field`
          : `values: ${Math.round(fit * 100)}% look like ${target.transform === 'country' ? 'countrie' : target.kind}s`;
      } else if (profile.filled > 0) {
        reason += `, values fit ${target.kind} ${Math.round(fit * 100)}%`;
      }
      candidates.push({ column, target, score, reason });
    }
  }
  // each Odoo field once: the most confident column gets it
  const taken = new Set([...proposals.values()].map((p) => `${p.model}.${p.field}`));
  candidates.sort((a, b) => b.score - a.score);
  for (const c of candidates) {
    if (proposals.has(c.column) || c.score < threshold) continue;
    const id = `${c.target.model}.${c.target.field}${c.target.part ? `:${c.target.part}` : ''}`;
    if (taken.has(id)) continue;
    taken.add(id);
    proposals.set(c.column, {
      column: c.column,
      model: c.target.model,
      field: c.target.field,
      ...(c.target.part ? { part: c.target.part } : {}),
      confidence: Number(c.score.toFixed(2)),
      reason: c.target.part ? `${c.reason}; ${c.target.part} part of the name` : c.reason,
    });
  }
  return header.map(
    (column) =>
      proposals.get(column) ?? {
        column,
        model: null,
        field: null,
        confidence: 0,
        reason: 'no Odoo field fits: propose a new custom field',
      },
  );
}
