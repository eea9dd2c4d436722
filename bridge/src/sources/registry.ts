/**
 * The source systems the bridge knows. Each has a folder of its own under sources/ when it needs
 * code (an API reader); a CSV-export source needs only its mapping in mappings/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mapping } from '../mapping/schema.js';
import { kartra } from './kartra/source.js';
import { genericCsv } from './generic-csv/source.js';
import type { CredentialSpec, ReaderOptions, SourceReader } from '../jobs/source-reader.js';

export interface SourceSystem {
  name: string;
  label: string;
  /** file name under mappings/ */
  mappingFile: string;
  /** how data comes out of it: export files uploaded, or read by the bridge from the source's API */
  input: 'csv-upload' | 'api';
  /** what Odoo's wizard asks for an API source (keys, region) */
  credentials?: CredentialSpec[];
  /** an API source's reader; resumes from the checkpoint in `options.dir` when asked */
  reader?: (credentials: Record<string, string>, options: ReaderOptions) => SourceReader;
  /** a source without fixed columns builds its mapping per upload from the headers (every column
   *  is then proposed), and finishes it once the decisions are applied (keys, matching) */
  prepareMapping?: (base: Mapping, headers: string[]) => Mapping;
  finishMapping?: (mapping: Mapping, fileNames: string[]) => Mapping;
}

export const sources: Record<string, SourceSystem> = { [kartra.name]: kartra, [genericCsv.name]: genericCsv };

export function findSource(name: string): SourceSystem | undefined {
  return sources[name];
}

/** mappings/ at the project root, found upward from this file (works from src and dist). */
export function mappingsDir(): string {
  if (process.env.CRM_MIGRATION_MAPPINGS) return process.env.CRM_MIGRATION_MAPPINGS;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'mappings')) && existsSync(join(dir, 'package.json'))) return join(dir, 'mappings');
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the mappings/ folder; set CRM_MIGRATION_MAPPINGS');
    dir = up;
  }
}

export function mappingPath(source: SourceSystem): string {
  return join(mappingsDir(), source.mappingFile);
}
