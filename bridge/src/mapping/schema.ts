/**
 * The declarative mapping format (mappings/<source>.json), checked by zod when loaded.
 * A mapping names, per source object, the Odoo model it lands in, how its columns are spelled in
 * exports (aliases; matched by meaning, case and punctuation ignored), and field by field which
 * column goes where with which transform. The engine applying it knows no source by name.
 */
import { z } from 'zod';
import { scalarSchema } from '../staging/record.js';

export const transformNames = [
  'text',
  'multiline',
  'html',
  'email',
  'phone',
  'datetime',
  'date',
  'country',
  'integer',
  'number',
  'boolean',
  'url',
  'enum',
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
    /** with several `from` columns: join their non-empty values with this (html: the texts are
     *  joined first, then made one html text) */
    join: z.string().default(' '),
    /** columns read when `from` gives nothing (e.g. a name from the email) */
    fallback: z.array(ident).default([]),
    required: z.boolean().default(false),
    /** phone: where the row says its country / calling code */
    countryFrom: ident.optional(),
    callingCodeFrom: ident.optional(),
    /** enum: source value (compared ignoring case, spaces and punctuation) → value written */
    values: z.record(z.string(), scalarSchema).optional(),
    /** enum: what an unlisted source value becomes (absent: left empty, with a warning) */
    default: scalarSchema.optional(),
    /** the value finds an existing Odoo record instead of being written as is; `required`: a
     *  record whose lookup finds nothing waits for reconciliation instead of landing empty */
    lookup: z
      .object({
        model: z.string(),
        field: odooField,
        altFields: z.array(odooField).default([]),
        /** narrow the lookup by values of the same row: field path → column (+ transform) */
        where: z.record(z.string(), z.object({ from: ident, transform: transformSchema.default('text') })).default({}),
        required: z.boolean().default(false),
      })
      .optional(),
    /** the value names a record of another file object by one of its values (a deal's contact
     *  by email), or, without `by`, by its key value (its source id); not in the upload →
     *  `lookup` is used instead, if given */
    refTo: z.object({ object: ident, by: odooField.optional(), many: z.boolean().default(false) }).optional(),
    /** the value(s) become records of another object of this mapping; the field refers to them */
    object: ident.optional(),
    /** with `object`: the cell holds several values separated by any of these */
    split: z.array(z.string().min(1)).optional(),
    /** date/datetime: numeric dates are day first (dmy) or month first (mdy, the default) */
    dateOrder: z.enum(['dmy', 'mdy']).optional(),
    /** with several `from` columns: each non-empty value is written after its header
     *  ("Duration (min): 12 · Disposition: Connected"), so a text field keeps what each part is */
    labelled: z.boolean().optional(),
  })
  .strict()
  .refine((r) => !(r.lookup && r.object) && !(r.refTo && r.object), {
    message: 'a field takes one of object, lookup, refTo (refTo may fall back to lookup)',
  })
  .refine((r) => r.transform !== 'enum' || r.values, { message: 'the enum transform needs `values`' })
  .refine((r) => !r.split || r.object || r.refTo?.many, {
    message: 'split goes with object, or with a refTo of many records',
  });

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
    /** derived objects: one record per row of the parent (an order line), keyed by the parent's
     *  key, referring to the parent record through this field */
    perRow: z
      .object({
        parent: ident,
        parentField: odooField.optional(),
        /** several children of one parent across repeated parent rows (an export repeating the
         *  parent's row per child): the child's key adds a digest of these columns' values to the
         *  parent's key value, so each distinct child is one record and a repeated one merges */
        keyFrom: z.array(ident).min(1).optional(),
        /** an attached child of an attached parent (the log note of a done call activity): it
         *  goes where its parent goes (the parent's own `attach_to`), not on the parent itself */
        besideParent: z.boolean().optional(),
      })
      .optional(),
    /** attached records (mail.message, mail.activity, ir.attachment): each record belongs to a
     *  record of `object` (staged `attach_to`). A `perRow` child (inline notes of a contact)
     *  belongs to its parent row and is made only when one of its fields has a value; a file
     *  object (a notes file) names its parent in the column `from`: by the parent's key value, or
     *  by the value of the parent's Odoo field `by` (a contact's email) within the upload */
    attachTo: z
      .object({
        object: ident,
        from: ident.optional(),
        by: odooField.optional(),
        /** a file object whose rows hang on records of several objects (an activity on a contact,
         *  a company or a deal): the column naming the parent's object for each row (one of
         *  `objects`; empty: `object`), its key value in `from` */
        objectFrom: ident.optional(),
        objects: z.array(ident).optional(),
        /** file objects: other parents, tried in order when the row's `from` cell is empty (a note
         *  names its opportunity, else its contact) */
        else: z.array(z.object({ object: ident, from: ident, by: odooField.optional() }).strict()).default([]),
      })
      .strict()
      .optional(),
    /** file objects whose rows add fields to a record of another file object (a membership
     *  export's status on the contact of the same email): each record depends on the record of
     *  `object` whose Odoo field `by` has the same value in this upload, so it commits after it
     *  and its match rule finds it (filling its empty fields) */
    completes: z.object({ object: ident, by: odooField }).strict().optional(),
    /** ir.attachment objects: the column naming the file (a path inside the folder of attached
     *  files given with the upload); its sha1 and size are staged as `blob`, its bytes uploaded */
    blobFrom: ident.optional(),
    /** derived objects: made only when the upload names at least this many distinct values
     *  (one pipeline needs no sales team of its own); fewer → no records, no refs */
    minDistinct: z.number().int().min(1).default(1),
    /** refs every record of this object carries to a fixed record of a derived object */
    constantRefs: z.record(odooField, z.object({ object: ident, value: z.string().min(1) })).default({}),
    /** a structure the export only shows through its rows (membership → course), listed in the
     *  inventory as JSON: distinct values of `path` (outer to inner) with their row counts */
    structure: z
      .object({ title: z.string(), path: z.array(ident).min(1) })
      .strict()
      .optional(),
    /** lookups every record of this object carries to a fixed existing Odoo record (the
     *  activity type "Call" of every call) */
    constantLookups: z
      .record(odooField, z.object({ model: z.string(), field: odooField, value: z.string().min(1) }).strict())
      .optional(),
    /** Odoo apps (module names) the target model needs; when one is not installed, the first
     *  object whose `fallbackFor` names this one and whose apps are installed takes its rows */
    requires: z.array(z.string()).default([]),
    /** this object reads the files of another (its columns, key and detection) into another model */
    fallbackFor: ident.optional(),
    /** a template for the source's custom objects: each distinct value of the column `nameFrom`
     *  (the custom object's name, e.g. "Pets") becomes an object of its own whose model is a
     *  custom model `<prefix><name>` created before its records (an `ir.model` schema record),
     *  with the template's fields and columns (lookups as many2one fields to partners) */
    customModel: z
      .object({ nameFrom: ident, prefix: z.string().regex(/^x_[a-z0-9_]*$/) })
      .strict()
      .optional(),
    /** unknown columns of this object's files become custom fields (x_<prefix>...) */
    customFields: z.object({ prefix: z.string().regex(/^x_[a-z0-9_]*$/) }).optional(),
    /** header → label of the custom field made from that unknown column (the admin's word) */
    customLabels: z.record(z.string(), z.string()).default({}),
    /** custom fields this mapping always creates on the object's model (e.g. GDPR status) */
    schemaFields: z
      .array(
        z
          .object({
            name: z.string().regex(/^x_[a-z0-9_]+$/),
            label: z.string(),
            type: z.enum(['char', 'text', 'boolean', 'selection', 'date', 'datetime', 'integer', 'float', 'many2one']),
            selection: z.array(z.tuple([z.string(), z.string()])).optional(),
            /** many2one: the model it points to (its values come through `refTo`/`lookup` rules) */
            relation: z
              .string()
              .regex(/^[a-z0-9_.]+$/)
              .optional(),
          })
          .strict()
          .refine((f) => (f.type === 'many2one') === (f.relation !== undefined), {
            message: 'a many2one schema field names its `relation`, and only it',
          }),
      )
      .default([]),
    /** a file of this object describes the custom fields of another object: its columns
     *  `identifier`, `type`, `options` (and optional `label`); `typeMap` turns source types
     *  into Odoo field types */
    schemaFor: ident.optional(),
    typeMap: z
      .record(z.string(), z.enum(['char', 'text', 'boolean', 'selection', 'date', 'datetime', 'integer', 'float']))
      .default({}),
    /** with `schemaFor`: the columns this list describes are the source's own custom fields (an
     *  API's typed field list): they become custom fields and are never proposed onto other Odoo fields */
    customOnly: z.boolean().optional(),
    /** data-quality flags counted in the profile and noted on each record (bounced, stale...) */
    flags: z
      .array(
        z.object({
          name: z.string(),
          column: ident,
          /** the cell matches this case-insensitive pattern */
          pattern: z.string().optional(),
          /** the cell is a date older than this many days */
          olderThanDays: z.number().int().positive().optional(),
        }),
      )
      .default([]),
    constants: z.record(odooField, scalarSchema).default({}),
    match: z.array(z.array(odooField).min(1)).default([]),
    /** records of this object with the same value of this Odoo field are merged */
    dedupeBy: odooField.optional(),
    fields: z.array(fieldRuleSchema).default([]),
    /** what the mapping knowingly does not carry, and why (goes to the inventory) */
    lossy: z.array(z.object({ column: z.string(), reason: z.string() })).default([]),
  })
  .strict()
  .refine(
    (o) =>
      o.file
        ? o.key.length > 0 || o.schemaFor !== undefined
        : o.valueField !== undefined || o.perRow !== undefined || o.fallbackFor !== undefined,
    {
      message: 'a file object needs `key`; a derived object needs `valueField` or `perRow`',
    },
  );

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
    const allColumns = new Set(Object.values(m.objects).flatMap((o) => Object.keys(o.columns)));
    for (const [name, obj] of Object.entries(m.objects)) {
      for (const rule of obj.fields) {
        const cols = [...fromColumns(rule), ...rule.fallback];
        for (const c of [...cols, rule.countryFrom, rule.callingCodeFrom]) {
          const own = obj.file ? obj.columns : obj.fallbackFor ? m.objects[obj.fallbackFor]?.columns : undefined;
          if (c && (own ? !(c in own) : !allColumns.has(c))) {
            ctx.addIssue({
              code: 'custom',
              path: ['objects', name, 'fields'],
              message: `field ${rule.field} reads unknown column "${c}"`,
            });
          }
        }
        if (rule.object && !m.objects[rule.object]?.valueField) {
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'fields'],
            message: `field ${rule.field} refers to "${rule.object}", which is not a derived object`,
          });
        }
        if (rule.refTo && !m.objects[rule.refTo.object]?.file) {
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'fields'],
            message: `field ${rule.field}: refTo "${rule.refTo.object}" is not a file object`,
          });
        }
      }
      for (const [field, ref] of Object.entries(obj.constantRefs)) {
        if (!m.objects[ref.object]?.valueField)
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'constantRefs', field],
            message: `"${ref.object}" is not a derived object`,
          });
      }
      if (obj.fallbackFor && !m.objects[obj.fallbackFor]?.file) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'fallbackFor'],
          message: `"${obj.fallbackFor}" is not a file object`,
        });
      }
      if (obj.perRow && !m.objects[obj.perRow.parent]?.file && !m.objects[obj.perRow.parent]?.fallbackFor) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'perRow'],
          message: `"${obj.perRow.parent}" is not a file object`,
        });
      }
      for (const c of obj.perRow?.keyFrom ?? []) {
        const parentColumns = obj.perRow ? (m.objects[obj.perRow.parent]?.columns ?? {}) : {};
        if (!(c in parentColumns))
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'perRow', 'keyFrom'],
            message: `unknown column "${c}" of "${obj.perRow?.parent}"`,
          });
      }
      if (obj.perRow && !obj.perRow.parentField && !obj.attachTo) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'perRow'],
          message: 'a perRow object needs `parentField`, or `attachTo` (an attached record)',
        });
      }
      if (obj.attachTo) {
        const parent = m.objects[obj.attachTo.object];
        if (!parent?.file && !parent?.fallbackFor)
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'attachTo'],
            message: `"${obj.attachTo.object}" is not a file object`,
          });
        if (obj.perRow && obj.perRow.parent !== obj.attachTo.object)
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'attachTo'],
            message: 'a perRow object is attached to its parent',
          });
        if ((obj.file || obj.fallbackFor) && !obj.attachTo.from)
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'attachTo'],
            message: 'a file object names its parent in a column: `from`',
          });
        const ownColumns = obj.fallbackFor ? (m.objects[obj.fallbackFor]?.columns ?? {}) : obj.columns;
        for (const alt of [obj.attachTo, ...obj.attachTo.else]) {
          if (alt.from && !(alt.from in ownColumns))
            ctx.addIssue({
              code: 'custom',
              path: ['objects', name, 'attachTo'],
              message: `unknown column "${alt.from}"`,
            });
          const target = m.objects[alt.object];
          if (!target?.file && !target?.fallbackFor)
            ctx.addIssue({
              code: 'custom',
              path: ['objects', name, 'attachTo'],
              message: `"${alt.object}" is not a file object`,
            });
        }
        if (
          obj.attachTo.objectFrom &&
          (!(obj.attachTo.objectFrom in ownColumns) || obj.attachTo.by || !obj.attachTo.objects?.length)
        )
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'attachTo'],
            message:
              '`objectFrom` is a column of the object, goes with `objects` (the file objects it may name) and parents found by key (no `by`)',
          });
        for (const o of obj.attachTo.objects ?? [])
          if (!m.objects[o]?.file)
            ctx.addIssue({
              code: 'custom',
              path: ['objects', name, 'attachTo'],
              message: `"${o}" is not a file object`,
            });
        if (obj.attachTo.else.length > 0 && !obj.file && !obj.fallbackFor)
          ctx.addIssue({
            code: 'custom',
            path: ['objects', name, 'attachTo'],
            message: '`else` is for objects read from files',
          });
      }
      for (const c of obj.structure?.path ?? []) {
        if (!(c in obj.columns))
          ctx.addIssue({ code: 'custom', path: ['objects', name, 'structure'], message: `unknown column "${c}"` });
      }
      if (obj.completes && (!m.objects[obj.completes.object]?.file || !obj.file)) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'completes'],
          message: `completes: "${obj.completes.object}" and this object must both be read from files`,
        });
      }
      if (obj.blobFrom && (!obj.file || !(obj.blobFrom in obj.columns))) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'blobFrom'],
          message: `blobFrom reads a column of the object's own file ("${obj.blobFrom}")`,
        });
      }
      if (obj.customModel && (!obj.file || !(obj.customModel.nameFrom in obj.columns))) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'customModel'],
          message: `customModel reads the custom object's name from a column of the object's own file ("${obj.customModel.nameFrom}")`,
        });
      }
      if (obj.schemaFor && !m.objects[obj.schemaFor]?.customFields) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', name, 'schemaFor'],
          message: `"${obj.schemaFor}" has no customFields`,
        });
      }
      for (const c of [...obj.key, ...obj.requiredColumns]) {
        if (!(c in obj.columns))
          ctx.addIssue({ code: 'custom', path: ['objects', name], message: `unknown column "${c}"` });
      }
    }
  });

export type FieldRule = z.infer<typeof fieldRuleSchema>;

/** The columns a rule reads (`from` is one column or several). */
export function fromColumns(rule: Pick<FieldRule, 'from'>): string[] {
  return Array.isArray(rule.from) ? rule.from : [rule.from];
}
export type ObjectMapping = z.infer<typeof objectMappingSchema>;
export type Mapping = z.infer<typeof mappingSchema>;
