/**
 * Generic CSV: any CRM that exports CSV and has no shipped mapping. Every file is read as
 * contacts (res.partner); which column lands in which field is decided per upload, from the
 * mapping proposal (headers in several languages, value profiles), saved maps and the admin's
 * confirmed decisions. mappings/generic_csv.json holds only the derived objects (companies
 * named on a contact, tags) and what cannot migrate.
 */
import { InputError } from '../../core/input-error.js';
import { syntheticColumn } from '../../mapping/columns.js';
import { fromColumns, type Mapping, type ObjectMapping } from '../../mapping/schema.js';
import type { SourceSystem } from '../registry.js';

export const genericCsv: SourceSystem = {
  name: 'generic_csv',
  label: 'Generic CSV (any CRM)',
  mappingFile: 'generic_csv.json',
  input: 'csv-upload',
  credentials: [],
  prepareMapping: (base, headers) => withGenericContact(base, headers),
  finishMapping: (mapping, fileNames) => finishGenericContact(mapping, fileNames),
};

const CONTACT = 'contact';

/** The base mapping with a contact object that knows every header of the upload (no rules yet). */
export function withGenericContact(base: Mapping, headers: string[]): Mapping {
  const columns: Record<string, string[]> = {};
  for (const h of headers) {
    const column = syntheticColumn(h);
    if (column !== 'c_' && !columns[column]) columns[column] = [h];
  }
  const names = Object.keys(columns);
  if (names.length === 0) throw new InputError({ file: '(upload)', row: 1 }, 'no usable column in the header');
  const contact: ObjectMapping = {
    label: 'Contacts (generic CSV)',
    model: 'res.partner',
    file: { detect: names },
    columns,
    requiredColumns: [],
    key: [names[0] as string],
    minDistinct: 1,
    constantRefs: {},
    requires: [],
    customFields: { prefix: 'x_csv_' },
    customLabels: {},
    schemaFields: [],
    typeMap: {},
    flags: [],
    constants: { is_company: false, type: 'contact' },
    match: [],
    fields: [],
    lossy: [],
  };
  return { ...base, objects: { [CONTACT]: contact, ...base.objects } };
}

/**
 * Once the decisions are in: records are told apart by email (else name), matched to existing
 * partners by email, merged on the same email; a contact without a name takes its email.
 */
export function finishGenericContact(mapping: Mapping, fileNames: string[]): Mapping {
  const contact = mapping.objects[CONTACT];
  if (!contact) return mapping;
  const columnOf = (field: string) => {
    const rule = contact.fields.find((r) => r.field === field);
    return rule ? fromColumns(rule) : [];
  };
  const email = columnOf('email')[0];
  const name = columnOf('name');
  // the source's own record id (mapped to ref) is the source key; else email, else name
  const key = [columnOf('ref')[0], email, ...name].filter((c): c is string => Boolean(c));
  if (key.length === 0) {
    throw new InputError(
      { file: fileNames.join(', '), row: 1, field: 'email' },
      'map a column to Email or Name, so that records can be told apart and matched on a re-run',
    );
  }
  const out = structuredClone(mapping);
  const c = out.objects[CONTACT] as ObjectMapping;
  c.key = key;
  if (email) {
    c.match = [['email']];
    c.dedupeBy = 'email';
    const nameRule = c.fields.find((r) => r.field === 'name');
    if (nameRule) nameRule.fallback = [email];
    else c.fields.push({ field: 'name', from: email, transform: 'text', join: ' ', fallback: [], required: false });
  }
  return out;
}
