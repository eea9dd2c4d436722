/**
 * The declarative mapping format (mappings/<source>.json), checked by zod when loaded.
 * A mapping names, per source object, the Odoo model it lands in, how its columns are spelled in
 * exports (aliases; matched by meaning, case and punctuation ignored), and field by field which
 * column goes where with which transform. The engine applying it knows no source by name.
 */
import { z } from 'zod';
import { scalarSchema } from '../staging/record.js';

export const transformNames = [
  'text', 'multiline', 'email', 'phone', 'datetime', 'date', 'country', 'integer', 'number', 'boolean', 'url',
] as const;
export const transformSchema = z.enum(transformNames);
export type TransformName = z.infer<typeof transformSchema>;

const ident = z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case identifier');
const odooField = z.string().regex(/^[a-z][a-z0-9_]*$/, 'an Odoo field name');

export const fieldRuleSchema = z
  .object({
    field: odooField,
    from: z.union([ident, z.array(ident).min(1)]),
    transform: transformSchema.default('text'),
    /** with several `from` columns: join their non-empty values with this */
    join: z.string().default(' '),
    /** columns read when `from` gives nothing (e.g. a name from the email) */
    fallback: z.array(ident).default([]),
    required: z.boolean().default(false),
    /** phone: where the row says its country / calling code */
    countryFrom: ident.optional(),
    callingCodeFrom: ident.optional(),
    /** the value finds an existing Odoo record instead of being written as is */
    lookup: z.object({ model: z.string(), field: odooField }).optional(),
    /** the value(s) become records of another object of this mapping; the field refers to them */
    object: ident.optional(),
    /** with `object`: the cell holds several values separated by any of these */
    split: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((r) => !(r.lookup && r.object), { message: 'a field takes either lookup or object, not both' })
  .refine((r) => !r.split || r.object, { message: 'split goes with object' });

export const objectMappingSchema = z
  .object({
    label: z.string(),
    model: z.string().regex(/^[a-z0-9_.]+$/),
    /** objects that come as a file of their own: headers that tell such a file */
    file: z.object({ detect: z.array(ident).min(1) }).optional(),
    /** canonical column → header spellings seen in exports */
    columns: z.record(ident, z.array(z.string().min(1)).min(1)).default({}),
    requiredColumns: z.array(ident).default([]),
    /** file objects: the key is the first non-empty of these (after transform) */
    key: z.array(ident).default([]),
    /** derived objects (made from a cell of another object): the Odoo field the value goes to */
    valueField: odooField.optional(),
    constants: z.record(odooField, scalarSchema).default({}),
    match: z.array(z.array(odooField).min(1)).default([]),
    /** records of this object with the same value of this Odoo field are merged */
    dedupeBy: odooField.optional(),
    fields: z.array(fieldRuleSchema).default([]),
    /** what the mapping knowingly does not carry, and why (goes to the inventory) */
    lossy: z.array(z.object({ column: z.string(), reason: z.string() })).default([]),
  })
  .strict()
  .refine((o) => (o.file ? o.key.length > 0 : o.valueField !== undefined), {
    message: 'a file object needs `key`; a derived object needs `valueField`',
  });

export const mappingSchema = z
  .object({
    source: ident,
    label: z.string(),
    version: z.literal(1),
    /** IANA zone for source date/times written without an offset */
    timezone: z.string().default('UTC'),
    objects: z.record(ident, objectMappingSchema),
    /** what cannot migrate at all, listed in the inventory */
    notMigratable: z.array(z.object({ what: z.string(), why: z.string() })).default([]),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const [name, obj] of Object.entries(m.objects)) {
      for (const rule of obj.fields) {
        const cols = [...(Array.isArray(rule.from) ? rule.from : [rule.from]), ...rule.fallback];
        for (const c of [...cols, rule.countryFrom, rule.callingCodeFrom]) {
          if (c && obj.file && !(c in obj.columns)) {
            ctx.addIssue({ code: 'custom', path: ['objects', name, 'fields'], message: `field ${rule.field} reads unknown column "${c}"` });
          }
        }
        if (rule.object && !m.objects[rule.object]?.valueField) {
          ctx.addIssue({ code: 'custom', path: ['objects', name, 'fields'], message: `field ${rule.field} refers to "${rule.object}", which is not a derived object` });
        }
      }
      for (const c of [...obj.key, ...obj.requiredColumns]) {
        if (!(c in obj.columns)) ctx.addIssue({ code: 'custom', path: ['objects', name], message: `unknown column "${c}"` });
      }
    }
  });

export type FieldRule = z.infer<typeof fieldRuleSchema>;
export type ObjectMapping = z.infer<typeof objectMappingSchema>;
export type Mapping = z.infer<typeof mappingSchema>;
