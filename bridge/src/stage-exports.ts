/** Use case: export files of a known source → staged records + profile, all in memory. */
import { InputError } from './core/input-error.js';
import type { CsvFile } from './csv/read-csv.js';
import { MappingEngine, type StageResult } from './mapping/engine.js';
import { loadMapping } from './mapping/load.js';
import { findSource, mappingPath, sources } from './sources/registry.js';

export async function stageExports(sourceName: string, files: CsvFile[]): Promise<StageResult> {
  const source = findSource(sourceName);
  if (!source) {
    throw new InputError({ file: '(request)', field: 'source' }, `unknown source "${sourceName}"; known: ${Object.keys(sources).join(', ')}`);
  }
  const mapping = await loadMapping(mappingPath(source));
  return MappingEngine.stage(mapping, files);
}
