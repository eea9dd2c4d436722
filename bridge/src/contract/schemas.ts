/**
 * One contract for both sides (issue #13): what crosses from the bridge to the addon, as zod
 * schemas. `npm run schemas` writes them as JSON Schema (draft 2020-12) into docs/schemas/ and
 * into the addon (odoo_addon/crm_migration/schemas/), where Odoo validates every staged record,
 * profile and mapping line with them (services/contract.py); test/unit/contract-schemas.test.ts
 * fails when a committed file differs from what these schemas generate.
 *
 * The JSON Schemas describe the input Odoo accepts (zod's `io: 'input'`): what has a default may
 * be left out by a caller of the RPC API (the bridge always sends it), and every object is closed
 * (`additionalProperties: false`), every text, list and map bounded (record.ts, LIMITS).
 */
import { z } from 'zod';
import {
  blobSchema,
  boundedRecord,
  issueSchema,
  keySchema,
  LIMITS,
  lookupSchema,
  sourceSchema,
  stagedRecordSchema,
} from '../staging/record.js';
import type { Profile } from '../mapping/profile.js';

const shape = stagedRecordSchema.shape;

/** An issue as Odoo takes it: `level` and `message`; where it was found when known. */
export const issueInputSchema = z.strictObject({
  level: issueSchema.shape.level,
  message: issueSchema.shape.message,
  file: issueSchema.shape.file.optional(),
  row: issueSchema.shape.row.optional(),
  field: issueSchema.shape.field.optional(),
});

/**
 * A staged record as Odoo's `api_stage` / `api_stage_json` accept it (docs/staging-contract.md):
 * the bridge's record (stagedRecordSchema) with every object closed; `refs`, `lookups`, `match`,
 * `issues` and `source` default to empty, and `hash` is computed by Odoo when absent or empty (the
 * same hash: test/unit/contract-hash.test.ts).
 */
export const stagedRecordInputSchema = z
  .strictObject({
    key: shape.key,
    object: shape.object,
    model: shape.model,
    values: shape.values,
    refs: shape.refs.default({}),
    lookups: boundedRecord(z.strictObject(lookupSchema.shape)).default({}),
    match: shape.match.default([]),
    deps: shape.deps,
    attach_to: shape.attach_to,
    blob: blobSchema.optional(),
    source: z.strictObject(sourceSchema.partial().shape).default({}),
    /** absent or '' (a record made by hand, e.g. test/bench/attached-blob.ts): Odoo computes it */
    hash: z.union([z.literal(''), shape.hash]).optional(),
    issues: z.array(issueInputSchema).max(LIMITS.issues).default([]),
  })
  .meta({
    title: 'Staged record',
    description: 'One future row in Odoo, staged by the bridge (docs/staging-contract.md)',
  });

// ------------------------------------------------------------------ profile (api_set_profile)

const count = () => z.number().int().nonnegative();
const text = () => z.string().max(LIMITS.text);
const nameText = () => z.string().max(LIMITS.name);
const list = <T extends z.ZodType>(item: T, max: number = LIMITS.fields) => z.array(item).max(max);

export const odooFieldTypes = [
  'char',
  'text',
  'boolean',
  'selection',
  'date',
  'datetime',
  'integer',
  'float',
  'many2one',
] as const;

const fileProfileSchema = z.strictObject({
  file: z.string().max(LIMITS.key),
  object: nameText(),
  encoding: nameText(),
  rows: count(),
  unknownColumns: list(text()),
  columnsTaken: list(
    z.strictObject({ column: nameText(), header: text(), confidence: z.number().min(0).max(1), evidence: text() }),
  ).optional(),
  describes: nameText().optional(),
});

const located = z.strictObject({ file: z.string().max(LIMITS.key), row: count() });

const duplicateMergeSchema = z.strictObject({
  object: nameText(),
  kept: keySchema,
  keptAt: located,
  merged: z.strictObject({ key: keySchema, ...located.shape }),
  by: text(),
});

const targetChoiceSchema = z.strictObject({
  object: nameText(),
  chosen: nameText().nullable(),
  model: nameText().nullable(),
  requires: list(nameText()),
  missingApps: list(nameText()),
  decision: z.enum(['preferred', 'fallback', 'app missing', 'skipped by choice', 'apps not checked']),
  choices: list(text()),
});

const fileReconciliationSchema = z.strictObject({
  file: z.string().max(LIMITS.key),
  object: nameText(),
  rows: count(),
  staged: count(),
  merged: count(),
  leftOut: count(),
  errors: count(),
  reconciled: z.boolean(),
});

const customFieldSchema = z.strictObject({
  object: nameText(),
  model: nameText(),
  header: text(),
  name: nameText(),
  label: text(),
  type: z.enum(odooFieldTypes),
  options: list(text()),
  relation: nameText().optional(),
  origin: z.enum(['schema file', 'inferred from values', 'mapping']),
});

/** value → {rows, children} at each level of a structure's path (mapping/profile.ts) */
interface StructureNodeOut {
  [value: string]: { rows: number; children: StructureNodeOut };
}
const structureNodeSchema: z.ZodType<StructureNodeOut> = z.lazy(() =>
  boundedRecord(z.strictObject({ rows: count(), children: structureNodeSchema }), LIMITS.keys, text()),
);

const countsOf = () => boundedRecord(boundedRecord(count()));

/** The pre-migration profile (bridge/src/mapping/profile.ts `Profile`, the same type: checked below). */
export const profileSchema = z.strictObject({
  source: nameText(),
  files: list(fileProfileSchema),
  fileReconciliation: list(fileReconciliationSchema),
  objects: boundedRecord(
    z.strictObject({ model: nameText(), records: count(), withErrors: count(), withWarnings: count() }),
  ),
  duplicatesMerged: list(duplicateMergeSchema, LIMITS.keys * 10),
  missingValues: countsOf(),
  flags: countsOf(),
  customFields: list(customFieldSchema),
  targets: list(targetChoiceSchema),
  issues: z.strictObject({ errors: count(), warnings: count() }),
  columnsLeftOut: boundedRecord(list(text())),
  notMigratable: list(z.strictObject({ what: text(), why: text() })),
  structures: list(
    z.strictObject({ object: nameText(), title: text(), path: list(text(), LIMITS.rules), tree: structureNodeSchema }),
  ).optional(),
  lossy: list(z.strictObject({ object: nameText(), column: text(), reason: text() })),
});

/** What Odoo's `api_set_profile` takes as `profile`: the profile, any section of which may be
 *  missing (Odoo renders what is there), never a section it does not know. */
export const profileInputSchema = profileSchema
  .partial()
  .meta({ title: 'Profile', description: 'The pre-migration profile of an upload (api_set_profile)' });

// ------------------------------------------------------------------ mapping lines (api_set_mapping)

/** What a column's values look like, in one word (the Odoo side limits the field picker by it). */
export const valueKinds = ['email', 'phone', 'date', 'datetime', 'number', 'boolean', 'url', 'text', 'empty'] as const;
export type ValueKind = (typeof valueKinds)[number];

/** One mapping line: what the staged records do with one column (docs/journey.md, "api_set_mapping"). */
export const mappingLineSchema = z.strictObject({
  object: z.string().min(1).max(LIMITS.name),
  model: z.string().min(1).max(LIMITS.name),
  column: z.string().min(1).max(LIMITS.text),
  field: nameText().nullable(),
  action: z.enum(['map', 'create', 'ignore']),
  ttype: nameText().nullable(),
  label: text().nullable(),
  kind: z.enum(valueKinds),
  confidence: z.number().min(0).max(1),
  reason: text(),
  samples: list(text(), LIMITS.rules),
});
export type MappingLine = z.infer<typeof mappingLineSchema>;

/** As Odoo's `api_set_mapping` takes a line: `field`, `ttype`, `label` and `reason` may be left
 *  out (none), `kind` (empty), `confidence` (0) and `samples` (none) too. */
export const mappingLineInputSchema = z
  .strictObject({
    ...mappingLineSchema.shape,
    field: mappingLineSchema.shape.field.optional(),
    ttype: mappingLineSchema.shape.ttype.optional(),
    label: mappingLineSchema.shape.label.optional(),
    reason: mappingLineSchema.shape.reason.nullable().optional(),
    kind: mappingLineSchema.shape.kind.default('empty'),
    confidence: mappingLineSchema.shape.confidence.nullable().default(0),
    samples: mappingLineSchema.shape.samples.default([]),
  })
  .meta({
    title: 'Mapping line',
    description: 'What the staged records do with one column of an export (api_set_mapping)',
  });

// ------------------------------------------------------------------ the files

/** docs/schemas/<name>.json: the schemas the addon validates with */
export const contractSchemas = {
  'staged-record': stagedRecordInputSchema,
  profile: profileInputSchema,
  'mapping-line': mappingLineInputSchema,
} as const;
export type ContractName = keyof typeof contractSchemas;

/** The JSON Schema of one contract schema, as written to docs/schemas/<name>.json. */
export function contractJsonSchema(name: ContractName): Record<string, unknown> {
  const generated = z.toJSONSchema(contractSchemas[name], {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'throw',
  });
  return { ...generated, $id: `https://crm-migration.invalid/schemas/${name}.json` };
}

/** The file text of every contract schema: name → JSON text (2-space indent, final newline). */
export function contractSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(contractSchemas) as ContractName[]).map((name) => [
      `${name}.json`,
      `${JSON.stringify(contractJsonSchema(name), null, 2)}\n`,
    ]),
  );
}

// ------------------------------------------------------------------ one type, not two
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** an intersection (`A & B`) as one object type, as zod infers it */
type Flat<T> = { [K in keyof T]: T[K] };
type ProfileOut = z.infer<typeof profileSchema>;
/** the profile the engine builds is exactly what the schema describes, key by key (a compile
 *  error otherwise: add the new section to profileSchema, then `npm run schemas`) */
export const profileTypeMatches: { [K in keyof Profile]-?: true } & { [K in keyof ProfileOut]-?: true } = {
  source: true satisfies Same<ProfileOut['source'], Profile['source']>,
  files: true satisfies Same<ProfileOut['files'], Profile['files']>,
  fileReconciliation: true satisfies Same<ProfileOut['fileReconciliation'], Profile['fileReconciliation']>,
  objects: true satisfies Same<ProfileOut['objects'], Profile['objects']>,
  duplicatesMerged: true satisfies Same<ProfileOut['duplicatesMerged'], Profile['duplicatesMerged']>,
  missingValues: true satisfies Same<ProfileOut['missingValues'], Profile['missingValues']>,
  flags: true satisfies Same<ProfileOut['flags'], Profile['flags']>,
  customFields: true satisfies Same<ProfileOut['customFields'][number], Flat<Profile['customFields'][number]>>,
  targets: true satisfies Same<ProfileOut['targets'], Profile['targets']>,
  issues: true satisfies Same<ProfileOut['issues'], Profile['issues']>,
  columnsLeftOut: true satisfies Same<ProfileOut['columnsLeftOut'], Profile['columnsLeftOut']>,
  notMigratable: true satisfies Same<ProfileOut['notMigratable'], Profile['notMigratable']>,
  structures: true satisfies Same<ProfileOut['structures'], Profile['structures']>,
  lossy: true satisfies Same<ProfileOut['lossy'], Profile['lossy']>,
};
