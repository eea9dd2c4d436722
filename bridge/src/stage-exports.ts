/** Use cases: the tables of a known source (export files, API objects, through a SourceReader) → staged records, profile, inventory and mapping
 *  lines, in memory; and the same staged into Odoo (a new migration, or one Odoo made). */
import { InputError } from './core/input-error.js';
import type { SourceReader } from './sources/reader.js';
import {
  MappingEngine,
  type EngineOptions,
  type Finished,
  type RecordSink,
  type StageResult,
} from './mapping/engine.js';
import type { StagedRecord } from './staging/record.js';
import { loadMapping } from './mapping/load.js';
import type { Mapping } from './mapping/schema.js';
import { buildInventory } from './inventory/inventory.js';
import { findSource, mappingPath, sources, type SourceSystem } from './sources/registry.js';
import type { MigrationClient, MigrationReport, StageProgress } from './odoo/migration-client.js';
import type { FieldsGet } from './proposal/odoo-fields.js';
import { mappingLines, planMapping, type MappingLine, type PlanOptions } from './upload/plan-mapping.js';

export interface Staged extends StageResult {
  inventory: string;
  /** one line per column: what the staged records do with it (for the mapping screen) */
  lines: MappingLine[];
}

/** A staging whose records went to a sink (a file, Odoo) as they were finished. */
export interface StagedSummary extends Omit<Finished, 'tags' | 'customFields'> {
  inventory: string;
  lines: MappingLine[];
}

interface LoadedSource {
  source: SourceSystem;
  mapping: Mapping;
}

async function loadSource(sourceName: string): Promise<LoadedSource> {
  const source = findSource(sourceName);
  if (!source) {
    throw new InputError(
      { file: '(request)', field: 'source' },
      `unknown source "${sourceName}"; known: ${Object.keys(sources).join(', ')}`,
    );
  }
  return { source, mapping: await loadMapping(mappingPath(source)) };
}

export async function loadSourceMapping(sourceName: string): Promise<Mapping> {
  return (await loadSource(sourceName)).mapping;
}

/** Odoo modules a mapping's objects need, to ask Odoo which are installed before staging. */
export function requiredApps(mapping: Mapping): string[] {
  return [...new Set(Object.values(mapping.objects).flatMap((o) => o.requires))].sort();
}

export async function stageExports(
  sourceName: string,
  reader: SourceReader,
  options: EngineOptions & PlanOptions = {},
): Promise<Staged> {
  const records: StagedRecord[] = [];
  const summary = await stageLoaded(
    await loadSource(sourceName),
    reader,
    { record: (r) => void records.push(r) },
    options,
  );
  return {
    source: summary.source,
    records,
    profile: summary.profile,
    blobs: summary.blobs,
    inventory: summary.inventory,
    lines: summary.lines,
  };
}

/** The same, each finished record handed to `sink` (memory stays bounded: no array of records). */
export async function stageExportsTo(
  sourceName: string,
  reader: SourceReader,
  sink: RecordSink,
  options: EngineOptions & PlanOptions = {},
): Promise<StagedSummary> {
  return stageLoaded(await loadSource(sourceName), reader, sink, options);
}

async function stageLoaded(
  { source, mapping: base }: LoadedSource,
  reader: SourceReader,
  sink: RecordSink,
  options: EngineOptions & PlanOptions,
): Promise<StagedSummary> {
  const plan = await planMapping(base, source, reader, options);
  const mapping = plan.mapping;
  const known = new Set(
    Object.entries(mapping.objects)
      .filter(([, o]) => o.file)
      .map(([n]) => n),
  );
  for (const s of options.skip ?? []) {
    if (!known.has(s))
      throw new InputError(
        { file: '(request)', field: 'skip' },
        `cannot skip "${s}": the ${mapping.label} objects read from files are ${[...known].join(', ')}`,
      );
  }
  const { tags, customFields, ...result } = await MappingEngine.stageTo(mapping, reader, sink, {
    ...options,
    filesDir: options.filesDir ?? reader.filesDir,
    takenByFile: plan.taken,
  });
  const found = reader.notMigratable?.() ?? [];
  if (found.length > 0) result.profile.notMigratable = [...result.profile.notMigratable, ...found]; // a copy: the mapping's list stays as loaded
  for (const f of result.profile.files) {
    for (const c of f.columnsTaken ?? [])
      options.log?.info(
        {
          file: f.file,
          object: f.object,
          column: c.column,
          header: c.header,
          confidence: c.confidence,
          evidence: c.evidence,
        },
        'header taken for a column of the mapping',
      );
  }
  // the inventory reads the tag records, the mapping lines the custom field records
  const extra = reader.inventory ? await reader.inventory() : '';
  const inventory =
    buildInventory(mapping.label, result.profile, tags) + (extra === '' ? '' : `\n${extra.trimEnd()}\n`);
  return { ...result, inventory, lines: mappingLines(plan, customFields) };
}

/**
 * Everything the target Odoo tells before staging: which apps are installed (so each object lands
 * in a model that exists, or is reported with its choices) and the fields of the models the
 * objects land in (proposal targets), read in parallel.
 */
async function stageForOdoo(
  client: MigrationClient,
  sourceName: string,
  reader: SourceReader,
  sink: RecordSink,
  options: PlanOptions & Pick<EngineOptions, 'filesDir' | 'store'> & { skip?: string[] | undefined },
): Promise<StagedSummary & { label: string }> {
  const loaded = await loadSource(sourceName);
  const { mapping, source } = loaded;
  const installedApps = await client.installedApps(requiredApps(mapping));
  const models = new Set(
    Object.values(mapping.objects)
      // a custom-object template's model exists only once the commit created it (one per custom object)
      .filter((o) => o.file && !o.schemaFor && !o.customModel && o.requires.every((app) => installedApps[app]))
      .map((o) => o.model),
  );
  if (source.prepareMapping) models.add('res.partner'); // its per-upload contacts
  const odooFields: Record<string, FieldsGet> = Object.fromEntries(
    await Promise.all([...models].map(async (model) => [model, await client.fieldsGet(model)] as const)),
  );
  return {
    ...(await stageLoaded(loaded, reader, sink, { ...options, installedApps, odooFields, skip: options.skip ?? [] })),
    label: mapping.label,
  };
}

/**
 * Use case: stage a source's tables into a new migration in Odoo. Every table is read first (a
 * bad table sends nothing: the migration is made when the first record is ready), then the
 * records go to Odoo in batches as they are finished, then profile and inventory.
 */
export async function stageToOdoo(
  client: MigrationClient,
  sourceName: string,
  reader: SourceReader,
  options: { name?: string | undefined; skip?: string[] | undefined; filesDir?: string | null | undefined } & Pick<
    PlanOptions,
    'columns' | 'decisions'
  > = {},
): Promise<{ report: MigrationReport; staged: StagedSummary }> {
  const name = options.name ?? `${(await loadSource(sourceName)).mapping.label}: ${reader.describe()}`.slice(0, 200);
  const { report, result } = await client.stageAllFrom(name, sourceName, async (sink) => {
    const staged = await stageForOdoo(client, sourceName, reader, sink, {
      skip: options.skip,
      columns: options.columns,
      decisions: options.decisions,
      filesDir: options.filesDir,
    });
    return { extra: { profile: staged.profile, inventory: staged.inventory }, blobs: staged.blobs, result: staged };
  });
  return { report, staged: result };
}

/**
 * Use case: stage a source's tables into a migration that already exists in Odoo (created by the
 * upload wizard there), with the admin's decisions; replaces what an earlier upload staged
 * there and sends the mapping lines for the admin to confirm. Records go to Odoo in batches as
 * they are finished (bounded memory).
 */
export async function stageIntoMigration(
  client: MigrationClient,
  id: number,
  sourceName: string,
  reader: SourceReader,
  options: PlanOptions &
    Pick<EngineOptions, 'filesDir' | 'store'> & {
      skip?: string[] | undefined;
      onBatch?: StageProgress | undefined;
      uploadToken?: string | undefined;
    } = {},
): Promise<{ report: MigrationReport; staged: StagedSummary }> {
  const { report, result } = await client.stageIntoFrom(
    id,
    async (sink) => {
      // a required column no header is sure to be: staged with the best candidate, asked on the Mapping page
      const staged = await stageForOdoo(client, sourceName, reader, sink, { askOnMappingPage: true, ...options });
      return {
        extra: { profile: staged.profile, inventory: staged.inventory, lines: staged.lines },
        blobs: staged.blobs,
        result: staged,
      };
    },
    options.onBatch,
    options.uploadToken,
  );
  return { report, staged: result };
}
