/**
 * A staged record: one future row in Odoo, as agreed in docs/staging-contract.md. The zod schema
 * is the edge check for records written to disk, read back, or sent to Odoo.
 */
import { z } from 'zod';

export const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const issueSchema = z.object({
  level: z.enum(['error', 'warning']),
  file: z.string(),
  row: z.number().int().nonnegative(),
  field: z.string(),
  message: z.string(),
});

export const lookupSchema = z.object({
  model: z.string(),
  field: z.string(),
  value: scalarSchema,
  /** tried in order when `field` finds nothing (a state by code, then by name) */
  alt_fields: z.array(z.string()).optional(),
  /** only records with these values (field path → value; e.g. {"country_id.code": "US"}) */
  where: z.record(z.string(), scalarSchema).optional(),
  /** nothing found → the record waits for reconciliation instead of landing with an empty field */
  required: z.boolean().optional(),
});

/** The bytes of a file (an `ir.attachment` record): sent to Odoo in chunks after staging. */
export const blobSchema = z.object({
  sha1: z.string().regex(/^[0-9a-f]{40}$/),
  size: z.number().int().nonnegative(),
}).strict();

export const stagedRecordSchema = z.object({
  key: z.string().min(1),
  object: z.string().min(1),
  model: z.string().regex(/^[a-z0-9_.]+$/),
  values: z.record(z.string(), scalarSchema),
  refs: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  lookups: z.record(z.string(), lookupSchema),
  match: z.array(z.array(z.string()).min(1)),
  /** keys that must be committed first although no field refers to them (custom fields) */
  deps: z.array(z.string()).optional(),
  /** attached records (mail.message, mail.activity, ir.attachment): the key of the record they
   *  belong to; Odoo writes its model/res_id pair at commit */
  attach_to: z.string().min(1).optional(),
  blob: blobSchema.optional(),
  source: z.object({
    file: z.string(),
    row: z.number().int().nonnegative(),
    data: z.record(z.string(), z.string()),
    /** Odoo field → the source header(s) that fed it ("First Name + Last Name"), for the diff */
    columns: z.record(z.string(), z.string()).optional(),
  }),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  issues: z.array(issueSchema),
});

export type Scalar = z.infer<typeof scalarSchema>;
export type Issue = z.infer<typeof issueSchema>;
export type Lookup = z.infer<typeof lookupSchema>;
export type StagedRecord = z.infer<typeof stagedRecordSchema>;
export type Blob = z.infer<typeof blobSchema>;

export function hasErrors(record: Pick<StagedRecord, 'issues'>): boolean {
  return record.issues.some((i) => i.level === 'error');
}
