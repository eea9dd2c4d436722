/**
 * The two background jobs Odoo starts: staging uploaded export files, and extracting an API
 * source (then staging what it read). Both report their phases to Odoo through the JobRunner;
 * a failure names file (or API object), row and field, and leaves nothing half-staged (a first
 * upload that fails half-way is removed again: MigrationClient.stageInto).
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { CsvFile } from '../csv/read-csv.js';
import { InputError } from '../core/input-error.js';
import type { MigrationClient } from '../odoo/migration-client.js';
import type { PlanOptions } from '../upload/plan-mapping.js';
import { stageIntoMigration } from '../stage-exports.js';
import type { SourceSystem } from '../sources/registry.js';
import type { JobContext } from './job-runner.js';
import type { CredentialSpec, SourceReader } from './source-reader.js';

export type StageOptions = Omit<PlanOptions, 'log'> & { skip?: string[] | undefined };

/** rows between two progress reports while an API source is read */
export const EXTRACT_REPORT_EVERY = 1000;

/** Stages files into migration `ctx.id`, reporting each batch sent to Odoo; the "done" message. */
export async function stageFilesJob(client: MigrationClient, source: string, files: CsvFile[], options: StageOptions, ctx: JobContext): Promise<string> {
  const { report } = await stageIntoMigration(client, ctx.id, source, files, {
    ...options,
    log: ctx.log,
    onBatch: (done, total, object) => ctx.progress({ phase: 'staging', object, done, total }),
  });
  const counts = report.counts;
  const records = Object.values(counts).reduce((a, b) => a + b, 0);
  return `${records} records staged from ${files.map((f) => f.name).join(', ')}, ${counts.error ?? 0} with errors`;
}

/** The folder an API extraction of migration `id` spools to (kept after a failure, to resume). */
export function spoolDirOf(root: string | undefined, id: number): string {
  return join(root ?? join(tmpdir(), 'crm-migration-spool'), `migration-${id}`);
}

export function hasSpool(dir: string): boolean {
  return existsSync(dir);
}

/**
 * The credentials an API source declares, checked: every declared one given (non-empty), none
 * unknown, a value among the options when the source lists them. Errors name the field.
 */
export function checkCredentials(specs: CredentialSpec[], given: Record<string, string>): Record<string, string> {
  const where = (name: string) => ({ file: '(request)', field: `credentials.${name}` });
  const known = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) throw new InputError(where(name), `unknown credential "${name}"; this source takes ${specs.map((s) => s.name).join(', ') || 'none'}`);
  }
  for (const spec of specs) {
    const value = (given[spec.name] ?? '').trim();
    if (!value) throw new InputError(where(spec.name), `${spec.label} is required`);
    if (spec.options && !spec.options.includes(value)) throw new InputError(where(spec.name), `${spec.label} must be one of ${spec.options.join(', ')} (got "${value}")`);
  }
  return Object.fromEntries(specs.map((s) => [s.name, (given[s.name] ?? '').trim()]));
}

const csvCell = (value: string) => `"${value.replace(/"/g, '""')}"`;

/**
 * Writes each table of `reader` as a UTF-8 CSV file under `dir`, row by row (never a whole table
 * in memory), reporting every EXTRACT_REPORT_EVERY rows. The staging of today reads files; once
 * the engine takes a SourceReader (plan §1) the tables go to it directly.
 */
export async function spoolTables(reader: SourceReader, dir: string, ctx: JobContext): Promise<CsvFile[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const files: CsvFile[] = [];
  for await (const table of reader.tables()) {
    const path = join(dir, `${files.length}-${(table.object ?? table.name).replace(/[^\w.-]/g, '_')}.csv`);
    const out = createWriteStream(path, { encoding: 'utf8' });
    const write = async (line: string) => {
      if (!out.write(`${line}\r\n`)) await once(out, 'drain');
    };
    let rows = 0;
    try {
      await write(table.header.map(csvCell).join(','));
      await ctx.progress({ phase: 'extracting', object: table.name, done: 0 });
      for await (const row of table.rows) {
        await write(table.header.map((h) => csvCell(row.cells[h] ?? '')).join(','));
        rows += 1;
        if (rows % EXTRACT_REPORT_EVERY === 0) await ctx.progress({ phase: 'extracting', object: table.name, done: rows });
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    await ctx.progress({ phase: 'extracting', object: table.name, done: rows, total: rows });
    files.push({ name: table.name, path });
  }
  if (files.length === 0) throw new InputError({ file: reader.describe() }, 'the source answered no object to migrate');
  return files;
}

/** Extracts an API source into its spool folder (resuming when asked), then stages it. */
export async function extractJob(client: MigrationClient, source: SourceSystem, credentials: Record<string, string>, spoolDir: string, resume: boolean, options: StageOptions, ctx: JobContext): Promise<string> {
  if (!source.reader) throw new InputError({ file: '(request)', field: 'source' }, `${source.label} is not read through an API`);
  const reader = source.reader(credentials, { dir: join(spoolDir, 'pages'), resume });
  const files = await spoolTables(reader, join(spoolDir, 'tables'), ctx);
  return stageFilesJob(client, source.name, files, options, ctx);
}
