/**
 * Odoo's own fields as proposal targets: `fields_get` of a model (labels, types, selection
 * values) turned into catalog entries, so a column can land in any plain field of the target
 * database — a custom field an earlier migration created, a field another app added — and a
 * picklist column is matched against a selection field's values. Technical and relational fields
 * are left out (the catalog knows the relations the migration can fill).
 */
import { z } from 'zod';
import { headerToken } from '../mapping/columns.js';
import type { FieldKind, TargetField } from './field-catalog.js';

export const odooFieldSchema = z
  .object({
    type: z.string(),
    string: z.string(),
    selection: z.array(z.tuple([z.string(), z.string()])).optional(),
    readonly: z.boolean().optional(),
    store: z.boolean().optional(),
  })
  .loose();
export type OdooField = z.infer<typeof odooFieldSchema>;
export const fieldsGetSchema = z.record(z.string(), odooFieldSchema);
export type FieldsGet = z.infer<typeof fieldsGetSchema>;

const KIND: Record<string, FieldKind> = {
  char: 'char',
  text: 'text',
  html: 'html',
  selection: 'selection',
  boolean: 'boolean',
  date: 'date',
  datetime: 'datetime',
  integer: 'integer',
  float: 'float',
  monetary: 'monetary',
};
const TECHNICAL =
  /^(id|display_name|create_(uid|date)|write_(uid|date)|__last_update|message_.*|activity_.*|website_message_ids|.*_count|color|sequence|active|barcode|signup_.*|password|.*_uuid|image_.*|avatar_.*)$/;

/** The plain, stored, writable fields of `model` that the catalog does not already name. */
export function catalogFromFieldsGet(model: string, fields: FieldsGet, known: TargetField[]): TargetField[] {
  const taken = new Set(known.filter((t) => t.model === model).map((t) => t.field));
  const out: TargetField[] = [];
  for (const [name, f] of Object.entries(fields)) {
    const kind = KIND[f.type];
    if (!kind || taken.has(name) || TECHNICAL.test(name) || f.readonly || f.store === false) continue;
    out.push({
      model,
      field: name,
      label: f.string,
      kind,
      synonyms: [f.string],
      strict: true,
      ...(f.selection ? { selection: f.selection } : {}),
    });
  }
  return out;
}

/** A selection field's source value → key table: each key and each label names its key. */
export function selectionTable(selection: [string, string][]): Record<string, string> {
  return Object.fromEntries(
    selection.flatMap(([key, label]) => [
      [label, key],
      [key, key],
    ]),
  );
}

/**
 * How well a column's values fit a selection field: the share of non-empty cells that are one
 * of its keys or labels (case and punctuation ignored), and the source value → key table.
 */
export function selectionFit(
  values: string[],
  selection: [string, string][],
): { fit: number; table: Record<string, string> } {
  const byToken = new Map<string, string>();
  for (const [key, label] of selection) {
    byToken.set(headerToken(key), key);
    byToken.set(headerToken(label), key);
  }
  const cells = values.map((v) => v.trim()).filter((v) => v !== '');
  const table: Record<string, string> = {};
  let hits = 0;
  for (const cell of cells) {
    const key = byToken.get(headerToken(cell));
    if (key !== undefined) {
      hits += 1;
      table[cell] = key;
    }
  }
  return { fit: cells.length ? hits / cells.length : 0, table };
}
