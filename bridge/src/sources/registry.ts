/**
 * The source systems the bridge knows. Each has a folder of its own under sources/ when it needs
 * code (an API reader, a per-upload mapping); a CSV-export source needs only its mapping in
 * mappings/. See docs/adding-a-source.md.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { z } from 'zod';
import { InputError } from '../core/input-error.js';
import type { Mapping } from '../mapping/schema.js';
import type { SourceReader } from './reader.js';
import type { CsvFile } from '../csv/read-csv.js';
import type { ExtractionProgress } from './api/paged-reader.js';
import { kartra } from './kartra/source.js';
import { genericCsv } from './generic-csv/source.js';
import { ontraport, ontraportApi } from './ontraport/source.js';
import { crmconnect } from './crmconnect/source.js';
import { ortto } from './ortto/source.js';
import { apto, aptoExport } from './apto/source.js';

/** One thing the wizard asks for an API source (a key, an account id, a region). */
/** the plan's name for it */
export type CredentialSpec = CredentialField;

export interface CredentialField {
  name: string;
  label: string;
  /** shown as a password field, stored readable by Migration managers only, never shown back */
  secret: boolean;
  /** a choice among these values (a region) rather than free text */
  options?: string[];
  /** may be left empty (one of two ways to sign in); the source checks what it needs */
  optional?: boolean;
}

export interface ApiReaderOptions {
  /** the extraction's spool folder (one per migration): fetched pages and the checkpoint live there */
  dir: string;
  /** true (default): pages spooled there by an earlier run are read, not fetched again; false: start over (the folder is emptied first) */
  resume?: boolean | undefined;
  onProgress?: ((p: ExtractionProgress) => void) | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
}

export interface SourceSystem {
  name: string;
  label: string;
  /** file name under mappings/ (or an absolute path) */
  mappingFile: string;
  /** how data comes out of it: export files uploaded, or read from its API */
  input: 'csv-upload' | 'api';
  /** what the wizard asks before reading (none for a CSV upload) */
  credentials: CredentialField[];
  /** API sources: the reader of one extraction, from the credentials the wizard took */
  reader?: (credentials: Record<string, string>, options: ApiReaderOptions) => SourceReader;
  /** a source without fixed columns builds its mapping per upload from the headers (every column
   *  is then proposed), and finishes it once the decisions are applied (keys, matching) */
  prepareMapping?: (base: Mapping, headers: string[]) => Mapping;
  finishMapping?: (mapping: Mapping, fileNames: string[]) => Mapping;
  /** a source whose uploaded files are not its CSV tables as they are (a zip of them): its reader
   *  over the uploaded files, unpacked into `dir` (the reader names its files folder) */
  uploadReader?: (files: CsvFile[], dir: string) => SourceReader;
}

export const sources: Record<string, SourceSystem> = {
  [kartra.name]: kartra,
  [genericCsv.name]: genericCsv,
  [ontraport.name]: ontraport,
  [ontraportApi.name]: ontraportApi,
  [crmconnect.name]: crmconnect,
  [ortto.name]: ortto,
  [apto.name]: apto,
  [aptoExport.name]: aptoExport,
};

export function findSource(name: string): SourceSystem | undefined {
  // own properties only: a name such as "constructor" or "__proto__" is not a source
  return Object.hasOwn(sources, name) ? sources[name] : undefined;
}

/** Adds a source at run time (a plug-in, or a test's source served by a stand-in); returns its removal. */
export function registerSource(source: SourceSystem): () => void {
  if (Object.hasOwn(sources, source.name)) throw new Error(`a source named "${source.name}" is already registered`);
  sources[source.name] = source;
  return () => {
    delete sources[source.name];
  };
}

/** What GET /sources answers: enough for Odoo's wizard to offer a source and ask its credentials. */
export function describeSources(): {
  name: string;
  label: string;
  input: SourceSystem['input'];
  credentials: CredentialField[];
}[] {
  return Object.values(sources).map(({ name, label, input, credentials }) => ({ name, label, input, credentials }));
}

/**
 * The reader of one extraction of API source `name`, with the credentials checked against what
 * the source declares (a missing one, or a value outside its options, names the field).
 */
export function apiReader(name: string, credentials: Record<string, string>, options: ApiReaderOptions): SourceReader {
  const source = findSource(name);
  if (!source)
    throw new InputError(
      { file: '(request)', field: 'source' },
      `unknown source "${name}"; known: ${Object.keys(sources).join(', ')}`,
    );
  if (source.input !== 'api' || !source.reader)
    throw new InputError(
      { file: '(request)', field: 'source' },
      `${source.label} is read from uploaded export files, not from an API`,
    );
  const checked = credentialsSchema(source.credentials).safeParse(credentials);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    throw new InputError(
      { file: '(credentials)', field: String(issue?.path[0] ?? '') },
      issue?.message ?? 'invalid credentials',
    );
  }
  return source.reader(checked.data, options);
}

function credentialsSchema(fields: CredentialField[]) {
  return z
    .object(
      Object.fromEntries(
        fields.map((f) => [
          f.name,
          f.options
            ? z
                .string({ error: `${f.label} is required` })
                .refine((v) => f.options?.includes(v), { message: `${f.label} must be one of ${f.options.join(', ')}` })
            : f.optional
              ? z.string().trim().optional()
              : z
                  .string({ error: `${f.label} is required` })
                  .trim()
                  .min(1, `${f.label} is required`),
        ]),
      ),
    )
    .strip() as z.ZodType<Record<string, string>>;
}

/** mappings/ at the project root, found upward from this file (works from src and dist). */
export function mappingsDir(): string {
  if (process.env.CRM_MIGRATION_MAPPINGS) return process.env.CRM_MIGRATION_MAPPINGS;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(resolve(dir, 'mappings')) && existsSync(resolve(dir, 'package.json')))
      return resolve(dir, 'mappings');
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the mappings/ folder; set CRM_MIGRATION_MAPPINGS');
    dir = up;
  }
}

export function mappingPath(source: SourceSystem): string {
  return resolve(mappingsDir(), source.mappingFile);
}
