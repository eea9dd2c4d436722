/**
 * The routes Odoo starts background jobs with (docs/journey.md, "Jobs and progress"):
 * - `POST /migrations/:id/upload` (multipart: `source`, optional `job`, `mapping`, `saved`, `llm`,
 *   `skip`, and the export files): the files are spooled to disk, the job is started and the
 *   answer is 202 `{id, job}` at once; the staging then runs in the background and reports to
 *   Odoo (`api_job_progress`) until it is done or failed (file, row and field named).
 * - `POST /migrations/:id/extract` (JSON: `source`, `credentials`, `resume`, optional `job`,
 *   `mapping`, `saved`, `llm`, `skip`): the same for a source read through its API; the fetched
 *   pages are spooled per migration, so an extraction that stopped resumes with `resume: true`.
 * One job per migration at a time: a second start answers 409.
 * The language model (`llm`) is the one set in Odoo's settings, read by the bridge from Odoo when the
 * job starts: an `llm` field in the request is ignored (older addons send it), so a token holder
 * cannot make the bridge post sample cells to a URL of their choosing.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { bearer, tokenGuard } from '../auth.js';
import { InputError } from '../../core/input-error.js';
import { decisionsSchema } from '../../mapping/decisions.js';
import { llmConfigSchema, type LlmConfig } from '../../proposal/llm-suggest.js';
import type { MigrationClient } from '../../odoo/migration-client.js';
import type { FastifyBaseLogger } from 'fastify';
import { apiReader, findSource, sources, type SourceSystem } from '../../sources/registry.js';
import { csvReader } from '../../sources/reader.js';
import type { JobRunner } from '../../jobs/job-runner.js';
import { extractJob, extractionProgress, hasSpool, spoolDirOf, stageJob } from '../../jobs/staging-jobs.js';
import type { JobContext } from '../../jobs/job-runner.js';
import { isRefusal, spoolUpload } from '../spool-upload.js';
import { idParams, requireOdoo, skipList } from './migrations.js';

/** a form field holding JSON text, checked by `schema` */
const jsonField = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

const jobToken = z.string().regex(/^[\w-]{8,64}$/, 'a job token is 8-64 letters, digits, "-" or "_"');

const uploadFields = z.object({
  source: z.string().min(1, 'the "source" field is required'),
  job: jobToken.optional(),
  mapping: jsonField(decisionsSchema).optional(),
  saved: jsonField(decisionsSchema).optional(),
  llm: z.string().optional(), // ignored: the LLM settings come from Odoo (odooLlm)
  skip: z.string().optional(),
});

const extractBody = z
  .object({
    source: z.string().min(1, 'the "source" field is required'),
    job: jobToken.optional(),
    credentials: z.record(z.string(), z.string()).default({}),
    resume: z.boolean().default(false),
    mapping: decisionsSchema.optional(),
    saved: decisionsSchema.optional(),
    llm: z.unknown().optional(), // ignored: the LLM settings come from Odoo (odooLlm)
    skip: z.array(z.string()).optional(),
  })
  .strict();

/** The LLM settings of Odoo itself (never the request's), or none: any failure is logged, not fatal. */
export async function odooLlm(
  client: MigrationClient,
  log: Pick<FastifyBaseLogger, 'warn'>,
): Promise<LlmConfig | undefined> {
  try {
    const settings = await client.llmSettings();
    return settings ? llmConfigSchema.parse(settings) : undefined;
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      'the language-model settings could not be read from Odoo; continuing without them',
    );
    return undefined;
  }
}

function knownSource(name: string): SourceSystem {
  const source = findSource(name);
  if (!source)
    throw new InputError(
      { file: '(request)', field: 'source' },
      `unknown source "${name}"; known: ${Object.keys(sources).join(', ')}`,
    );
  return source;
}

export async function extractionRoutes(
  plain: FastifyInstance,
  deps: Omit<AppDeps, 'jobs'> & { jobs: JobRunner | null },
): Promise<void> {
  plain.addHook('onRequest', tokenGuard(deps.config.BRIDGE_TOKEN));
  const app = plain.withTypeProvider<ZodTypeProvider>();
  const busy = (id: number) => {
    const job = deps.jobs?.current(id);
    return job
      ? {
          error: 'job_running',
          job,
          message: `migration ${id} already has a job running in the bridge; wait for it to finish`,
        }
      : null;
  };

  app.post(
    '/migrations/:id/upload',
    {
      schema: {
        description:
          "Odoo's upload job: multipart `source`, `job`, optional `mapping` and `saved` (decisions, JSON), files (an `llm` field is ignored: see Security) → 202 `{id, job}` at once; stages into migration `id` in the background (one mapping line per column), reporting to Odoo; 409 while a job runs for `id`",
        params: idParams,
        consumes: ['multipart/form-data'],
        security: bearer,
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const running = busy(id);
      if (running) return reply.code(409).send(running);
      const upload = await spoolUpload(request, deps.config);
      if (isRefusal(upload)) return reply.code(upload.status).send(upload.body);
      try {
        const fields = uploadFields.parse(upload.fields);
        const source = knownSource(fields.source);
        if (source.input !== 'csv-upload')
          throw new InputError(
            { file: '(request)', field: 'source' },
            `${source.label} is read through its API: start it with POST /migrations/${id}/extract`,
          );
        const client = requireOdoo(deps, reply);
        if (!client || !deps.jobs) {
          await upload.remove();
          return reply;
        }
        const { files } = upload;
        // one upload at a time per migration, whatever bridge or CLI sends it: Odoo refuses a
        // second one (UploadBusyError → 409) before anything is answered
        const uploadToken = await client.beginUpload(id);
        const options = {
          decisions: fields.mapping,
          saved: fields.saved,
          llm: await odooLlm(client, request.log),
          skip: skipList(fields.skip),
          uploadToken,
        };
        const started = await deps.jobs
          .start(id, {
            token: fields.job,
            first: { phase: 'reading', object: files.map((f) => f.name).join(', '), done: 0, total: files.length },
            // a packed export (a zip) is unpacked inside the upload's folder, removed with it
            run: (ctx) =>
              stageJob(
                client,
                source.name,
                source.uploadReader && files[0]
                  ? source.uploadReader(files, join(dirname(files[0].path), 'unpacked'))
                  : csvReader(files),
                options,
                ctx,
              ),
            cleanup: async (outcome) => {
              await upload.remove();
              if (outcome === 'failed') await client.closeFailedUpload(id, uploadToken);
            },
          })
          .catch(async (err: unknown) => {
            await client.discardUpload(id, uploadToken).catch(() => undefined);
            throw err;
          });
        return reply.code(202).send({ id, job: started.job, status: 'started' });
      } catch (err) {
        await upload.remove();
        throw err;
      }
    },
  );

  app.post(
    '/migrations/:id/extract',
    {
      schema: {
        description:
          'an API source: JSON `{source, job, credentials, resume, mapping?, saved?, skip?}` (`llm?` ignored) → 202 `{id, job}`; extracts (spooled per migration, resumable) and stages in the background; 409 while a job runs',
        params: idParams,
        body: extractBody,
        security: bearer,
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const body = request.body;
      const source = knownSource(body.source);
      if (source.input !== 'api' || !source.reader) {
        throw new InputError(
          { file: '(request)', field: 'source' },
          `${source.label} takes export files: upload them with POST /migrations/${id}/upload`,
        );
      }
      const spoolDir = spoolDirOf(deps.config.BRIDGE_SPOOL_DIR, id);
      if (body.resume && !hasSpool(spoolDir)) {
        throw new InputError(
          { file: '(request)', field: 'resume' },
          `nothing to resume for migration ${id}: no extraction stopped here; start a new one`,
        );
      }
      const running = busy(id);
      if (running) return reply.code(409).send(running);
      // the reader is made here: credentials missing or outside their options answer 422 at once
      let forward: ReturnType<typeof extractionProgress> | null = null;
      const reader = apiReader(source.name, body.credentials, {
        dir: join(spoolDir, 'pages'),
        resume: body.resume,
        onProgress: (p) => forward?.onProgress(p),
        log: request.log,
      });
      const client = requireOdoo(deps, reply);
      if (!client || !deps.jobs) return reply;
      await mkdir(spoolDir, { recursive: true });
      const uploadToken = await client.beginUpload(id);
      const options = {
        decisions: body.mapping,
        saved: body.saved,
        llm: await odooLlm(client, request.log),
        skip: body.skip ?? [],
        uploadToken,
      };
      const started = await deps.jobs
        .start(id, {
          token: body.job,
          first: { phase: 'extracting', object: source.label, done: 0, message: body.resume ? 'resuming' : 'starting' },
          run: (ctx: JobContext) => {
            forward = extractionProgress(ctx);
            return extractJob(client, source.name, reader, forward.settle, options, ctx);
          },
          // what was fetched stays for a resume, unless the source's own data was refused
          resumable: (err) => !(err instanceof InputError),
          cleanup: async (outcome) => {
            if (outcome === 'done') await rm(spoolDir, { recursive: true, force: true });
            else await client.closeFailedUpload(id, uploadToken);
          },
        })
        .catch(async (err: unknown) => {
          await client.discardUpload(id, uploadToken).catch(() => undefined);
          throw err;
        });
      return reply.code(202).send({ id, job: started.job, status: body.resume ? 'resumed' : 'started' });
    },
  );
}
