/** Use case: export files of a known source → staged records, profile and inventory, in memory. */
import { InputError } from './core/input-error.js';
import type { CsvFile } from './csv/read-csv.js';
import { MappingEngine, type EngineOptions, type StageResult } from './mapping/engine.js';
import { loadMapping } from './mapping/load.js';
import type { Mapping } from './mapping/schema.js';
import { buildInventory } from './inventory/inventory.js';
import { findSource, mappingPath, sources } from './sources/registry.js';
import type { MigrationClient, MigrationReport } from './odoo/migration-client.js';
import type { FieldsGet } from './proposal/odoo-fields.js';
import { mappingLines, planMapping, type MappingLine, type PlanOptions } from './upload/plan-mapping.js';

export interface Staged extends StageResult {
  inventory: string;
  /** one line per column: what the staged records do with it (for the mapping screen) */
  lines: MappingLine[];
}

export async function loadSourceMapping(sourceName: string): Promise<Mapping> {
  const source = findSource(sourceName);
  if (!source) {
    throw new InputError({ file: '(request)', field: 'source' }, `unknown source "${sourceName}"; known: ${Object.keys(sources).join(', ')}`);
  }
  return loadMapping(mappingPath(source));
}

/** Odoo modules a mapping's objects need, to ask Odoo which are installed before staging. */
export function requiredApps(mapping: Mapping): string[] {
  return [...new Set(Object.values(mapping.objects).flatMap((o) => o.requires))].sort();
}

export async function stageExports(sourceName: string, files: CsvFile[], options: EngineOptions & PlanOptions = {}): Promise<Staged> {
  if (files.length === 0) throw new InputError({ file: '(none)' }, 'no export file given');
  const base = await loadSourceMapping(sourceName);
  const plan = await planMapping(base, Boolean(findSource(sourceName)?.adaptive), files, options);
  const mapping = plan.mapping;
  const known = new Set(Object.entries(mapping.objects).filter(([, o]) => o.file).map(([n]) => n));
  for (const s of options.skip ?? []) {
    if (!known.has(s)) throw new InputError({ file: '(request)', field: 'skip' }, `cannot skip "${s}": the ${mapping.label} objects read from files are ${[...known].join(', ')}`);
  }
  const result = await MappingEngine.stage(mapping, files, options);
  return { ...result, inventory: buildInventory(mapping.label, result.profile, result.records), lines: mappingLines(plan, result.records) };
}

/**
 * Use case: stage export files into a migration that already exists in Odoo (created by the
 * upload wizard there), with the admin's decisions; replaces what an earlier upload staged
 * there and sends the mapping lines for the admin to confirm.
 */
export async function stageIntoMigration(
  client: MigrationClient,
  id: number,
  sourceName: string,
  files: CsvFile[],
  options: PlanOptions & { skip?: string[] | undefined } = {},
): Promise<{ report: MigrationReport; staged: Staged }> {
  const mapping = await loadSourceMapping(sourceName);
  const installedApps = await client.installedApps(requiredApps(mapping));
  const odooFields = await targetFields(client, mapping, findSource(sourceName)?.adaptive ?? false);
  const staged = await stageExports(sourceName, files, { ...options, installedApps, odooFields, skip: options.skip ?? [] });
  const report = await client.stageInto(id, staged.records, { profile: staged.profile, inventory: staged.inventory, lines: staged.lines });
  return { report, staged };
}

/**
 * Use case: stage export files into a new migration in Odoo. Asks Odoo which apps are installed
 * (so each object lands in a model that exists, or is reported with its choices), stages
 * everything in memory first (a bad file sends nothing), then sends records, profile and
 * inventory.
 */
export async function stageToOdoo(
  client: MigrationClient,
  sourceName: string,
  files: CsvFile[],
  options: { name?: string | undefined; skip?: string[] | undefined } = {},
): Promise<{ report: MigrationReport; staged: Staged }> {
  const mapping = await loadSourceMapping(sourceName);
  const installedApps = await client.installedApps(requiredApps(mapping));
  const odooFields = await targetFields(client, mapping, findSource(sourceName)?.adaptive ?? false);
  const staged = await stageExports(sourceName, files, { installedApps, odooFields, skip: options.skip ?? [] });
  const name = options.name ?? `${mapping.label}: ${files.map((f) => f.name).join(', ')}`.slice(0, 200);
  const report = await client.stageAll(name, sourceName, staged.records, { profile: staged.profile, inventory: staged.inventory });
  return { report, staged };
}

/**
 * `fields_get` of the models the mapping's file objects land in (res.partner for the generic
 * source), so the proposal can also target the plain fields of this Odoo. A model whose app is not
 * installed is skipped.
 */
async function targetFields(client: MigrationClient, mapping: Mapping, adaptive: boolean): Promise<Record<string, FieldsGet>> {
  const models = new Set(Object.values(mapping.objects).filter((o) => o.file && !o.schemaFor).map((o) => o.model));
  if (adaptive) models.add('res.partner');
  const out: Record<string, FieldsGet> = {};
  for (const model of models) {
    try {
      out[model] = await client.fieldsGet(model);
    } catch {
      // the model's app is not installed: its objects are reported with their choices
    }
  }
  return out;
}
