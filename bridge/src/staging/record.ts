/**
 * A staged record: one future row in Odoo, as agreed in docs/staging-contract.md. The zod schema
 * is the edge check for records written to disk, read back, or sent to Odoo.
 */
import { z } from 'zod';

/**
 * Bounds of the contract: the addon validates staged records with the JSON Schema generated from
 * these schemas (docs/schemas/, `npm run schemas`), so anything larger is refused there, by name.
 * A text is at most what the CSV reader reads in one record (16 M characters); a row has at most
 * 2,000 columns; a key fits PostgreSQL's index on (migration, key).
 */
export const LIMITS = {
  /** any text value: a cell, a message, a header */
  text: 16 * 1024 * 1024,
  /** a record key, a file name */
  key: 1000,
  /** a model, object or field name (a field path in `where`) */
  name: 256,
  /** fields of one record (values, refs, lookups), columns of one row */
  fields: 4096,
  /** keys in one many2many ref or in `deps` */
  keys: 100_000,
  /** issues of one record; match rules and their fields */
  issues: 10_000,
  rules: 100,
} as const;

const text = () => z.string().max(LIMITS.text);
const name = () => z.string().max(LIMITS.name);
/** a record of `value`s by name, with at most `max` properties (maxProperties in JSON Schema) */
export const boundedRecord = <V extends z.ZodType>(value: V, max: number = LIMITS.fields, key: z.ZodString = name()) =>
  z
    .record(key, value)
    .refine((o) => Object.keys(o).length <= max, { message: `at most ${max} properties` })
    .meta({ maxProperties: max });

export const scalarSchema = z.union([text(), z.number(), z.boolean(), z.null()]);

export const issueSchema = z.object({
  level: z.enum(['error', 'warning']),
  file: z.string().max(LIMITS.key),
  row: z.number().int().nonnegative(),
  field: text(),
  message: text(),
});

export const lookupSchema = z.object({
  model: name(),
  field: name(),
  value: scalarSchema,
  /** tried in order when `field` finds nothing (a state by code, then by name) */
  alt_fields: z.array(name().min(1)).max(LIMITS.rules).optional(),
  /** only records with these values (field path → value; e.g. {"country_id.code": "US"}) */
  where: boundedRecord(scalarSchema, LIMITS.rules).optional(),
  /** nothing found → the record waits for reconciliation instead of landing with an empty field */
  required: z.boolean().optional(),
});

/** The bytes of a file (an `ir.attachment` record): sent to Odoo in chunks after staging. */
export const blobSchema = z
  .object({
    sha1: z
      .string()
      .length(40)
      .regex(/^[0-9a-f]{40}$/),
    size: z.number().int().nonnegative(),
  })
  .strict();

/** the key of a staged record (the staged record it names, in refs, deps, attach_to) */
export const keySchema = z.string().min(1).max(LIMITS.key).regex(/\S/, 'a key is not blank');

export const sourceSchema = z.object({
  file: z.string().max(LIMITS.key),
  row: z.number().int().nonnegative(),
  data: boundedRecord(text(), LIMITS.fields, text()),
  /** Odoo field → the source header(s) that fed it ("First Name + Last Name"), for the diff */
  columns: boundedRecord(text()).optional(),
});

export const stagedRecordSchema = z.object({
  key: keySchema,
  object: z.string().min(1).max(LIMITS.name).regex(/\S/, 'an object name is not blank'),
  model: z
    .string()
    .max(LIMITS.name)
    .regex(/^[a-z0-9_.]+$/),
  values: boundedRecord(scalarSchema),
  refs: boundedRecord(z.union([keySchema, z.array(keySchema).max(LIMITS.keys)])),
  lookups: boundedRecord(lookupSchema),
  match: z.array(z.array(name()).min(1).max(LIMITS.rules)).max(LIMITS.rules),
  /** keys that must be committed first although no field refers to them (custom fields) */
  deps: z.array(keySchema).max(LIMITS.keys).optional(),
  /** attached records (mail.message, mail.activity, ir.attachment): the key of the record they
   *  belong to; Odoo writes its model/res_id pair at commit */
  attach_to: keySchema.optional(),
  blob: blobSchema.optional(),
  source: sourceSchema,
  hash: z
    .string()
    .length(64)
    .regex(/^[0-9a-f]{64}$/),
  issues: z.array(issueSchema).max(LIMITS.issues),
});

export type Scalar = z.infer<typeof scalarSchema>;
export type Issue = z.infer<typeof issueSchema>;
export type Lookup = z.infer<typeof lookupSchema>;
export type StagedRecord = z.infer<typeof stagedRecordSchema>;
export type Blob = z.infer<typeof blobSchema>;

export function hasErrors(record: Pick<StagedRecord, 'issues'>): boolean {
  return record.issues.some((i) => i.level === 'error');
}
