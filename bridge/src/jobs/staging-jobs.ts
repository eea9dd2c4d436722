/**
 * The two background jobs Odoo starts: staging uploaded export files, and extracting an API
 * source then staging what it read. Both stage through a SourceReader and report their phases to
 * Odoo through the JobRunner; a failure names file (or API object), row and field, and leaves
 * nothing half-staged (a first upload that fails half-way is removed again:
 * MigrationClient.stageInto).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { MigrationClient } from '../odoo/migration-client.js';
import type { PlanOptions } from '../upload/plan-mapping.js';
import { stageIntoMigration } from '../stage-exports.js';
import type { SourceReader } from '../sources/reader.js';
import type { ExtractionProgress } from '../sources/api/paged-reader.js';
import type { JobContext } from './job-runner.js';

export type StageOptions = Omit<PlanOptions, 'log'> & { skip?: string[] | undefined; uploadToken?: string | undefined };

/** Stages what `reader` reads into migration `ctx.id`, reporting each batch sent to Odoo; the "done" message. */
export async function stageJob(
  client: MigrationClient,
  source: string,
  reader: SourceReader,
  options: StageOptions,
  ctx: JobContext,
): Promise<string> {
  const { report } = await stageIntoMigration(client, ctx.id, source, reader, {
    ...options,
    log: ctx.log,
    onBatch: (done, total, object) => ctx.progress({ phase: 'staging', object, done, total }),
  });
  const counts = report.counts;
  const records = Object.values(counts).reduce((a, b) => a + b, 0);
  return `${records} records staged from ${reader.describe()}, ${counts.error ?? 0} with errors`;
}

/** The folder an API extraction of migration `id` spools to (kept after a failure, to resume). */
export function spoolDirOf(root: string | undefined, id: number): string {
  return join(root ?? join(tmpdir(), 'crm-migration-spool'), `migration-${id}`);
}

export function hasSpool(dir: string): boolean {
  return existsSync(dir);
}

/**
 * Forwards the API toolkit's progress (a synchronous callback) to Odoo in order, one report at a
 * time; when Odoo refuses one (the job was stopped there), the next page read throws, which
 * stops the extraction. `settle()` waits for the last report and throws a refusal.
 */
export function extractionProgress(ctx: JobContext): {
  onProgress: (p: ExtractionProgress) => void;
  settle: () => Promise<void>;
} {
  let chain: Promise<void> = Promise.resolve();
  let refused: unknown = null;
  return {
    onProgress: (p) => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- Odoo's own refusal, rethrown as caught
      if (refused) throw refused;
      chain = chain
        .then(() =>
          ctx.progress({
            phase: 'extracting',
            object: p.object,
            done: p.rows,
            ...(p.message ? { message: p.message } : {}),
          }),
        )
        .catch((err: unknown) => {
          refused = err;
        });
    },
    settle: async () => {
      await chain;
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- Odoo's own refusal, rethrown as caught
      if (refused) throw refused;
    },
  };
}

/** Extracts an API source (its reader made with `onProgress` from extractionProgress), then stages it. */
export async function extractJob(
  client: MigrationClient,
  source: string,
  reader: SourceReader,
  settle: () => Promise<void>,
  options: StageOptions,
  ctx: JobContext,
): Promise<string> {
  const message = await stageJob(client, source, reader, options, ctx);
  await settle();
  return message;
}
