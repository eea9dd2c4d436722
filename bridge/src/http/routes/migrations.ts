/**
 * Uploads and the migration lifecycle. POST /migrations takes multipart form data: a `source`
 * field, optional `name` and `dryRun`, and one or more export files. Files are written to a
 * temporary folder (size-limited) and read in full before anything is sent to Odoo (a bad file
 * answers 422 naming file/row/field and nothing reaches Odoo); the records then go to Odoo in
 * batches as they are finished, never all in memory.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../app.js';
import { bearer, tokenGuard } from '../auth.js';
import { stageExportsTo, stageToOdoo } from '../../stage-exports.js';
import { isRefusal, spoolUpload } from '../spool-upload.js';
import type { CsvFile } from '../../csv/read-csv.js';
import { csvReader } from '../../sources/reader.js';
import { rollbackChoices, type MigrationClient } from '../../odoo/migration-client.js';

const uploadFields = z.object({
  source: z.string().min(1, 'the "source" field is required'),
  name: z.string().max(200).optional(),
  dryRun: z.enum(['true', 'false', '1', '0']).optional(),
  /** objects to leave out, comma-separated (the "skip" choice for an object whose app is missing) */
  skip: z.string().optional(),
});
export const idParams = z.object({ id: z.coerce.number().int().positive() });
const commitQuery = z.object({ sample: z.coerce.number().int().positive().optional() });
const rollbackQuery = z.object({ onConflict: z.enum(rollbackChoices).default('stop') });
const ownerBody = z.union([
  z.object({ value: z.string().min(1), userId: z.number().int().positive() }),
  z.object({ fallbackUserId: z.number().int().positive() }),
]);

const multipartBody = ['multipart/form-data'];

export async function migrationRoutes(plain: FastifyInstance, deps: AppDeps): Promise<void> {
  plain.addHook('onRequest', tokenGuard(deps.config.BRIDGE_TOKEN));
  const app = plain.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/migrations',
    {
      schema: {
        description:
          'multipart: `source`, optional `name`, `skip` (comma list), `dryRun=true`, one or more files → 201 `{id, report, profile}` (dry run: 200 `{records, profile, inventory, lines}`)',
        consumes: multipartBody,
        security: bearer,
      },
    },
    async (request, reply) =>
      withUpload(request, reply, deps, async ({ fields, files }) => {
        const parsed = uploadFields.parse(fields);
        const { source, name } = parsed;
        const skip = skipList(parsed.skip);
        const dryRun = parsed.dryRun === 'true' || parsed.dryRun === '1';
        if (dryRun) {
          // records counted as they are finished, not kept
          const result = await stageExportsTo(source, csvReader(files), { record: () => undefined }, { skip });
          return reply.code(200).send({
            dryRun: true,
            records: result.count,
            profile: result.profile,
            inventory: result.inventory,
            lines: result.lines,
          });
        }
        const client = requireOdoo(deps, reply);
        if (!client) return reply;
        const { report, staged } = await stageToOdoo(client, source, csvReader(files), { name, skip });
        return reply.code(201).send({ id: report.id, report, profile: staged.profile });
      }),
  );

  /**
   * A route on one migration: its input is checked first (400 on a bad id, query or body: the
   * route's schema), then the call goes to Odoo (503 when none is configured).
   */
  const onMigration =
    <T>(run: (client: MigrationClient, id: number, request: T) => Promise<unknown>) =>
    async (request: T & { params: { id: number } }, reply: FastifyReply) => {
      const client = requireOdoo(deps, reply);
      return client ? run(client, request.params.id, request) : reply;
    };
  const on = (description: string) => ({ description, params: idParams, security: bearer });

  app.get(
    '/migrations/:id',
    { schema: on("the migration's report") },
    onMigration((client, id) => client.report(id)),
  );

  /** ?sample=N commits a representative slice of N records first */
  app.post(
    '/migrations/:id/commit',
    { schema: { ...on('commit everything, or a sample first; answers the report'), querystring: commitQuery } },
    onMigration((client, id, r: { query: z.infer<typeof commitQuery> }) => client.commit(id, 500, r.query.sample)),
  );

  app.get(
    '/migrations/:id/diff',
    { schema: on("the sample's field-level diff") },
    onMigration((client, id) => client.sampleDiff(id)),
  );

  app.post(
    '/migrations/:id/sample/rollback',
    { schema: on('undo the sample; its records are staged again') },
    onMigration((client, id) => client.sampleRollback(id)),
  );

  app.get(
    '/migrations/:id/conflicts',
    { schema: on("what a rollback would have to undo over someone's work") },
    onMigration((client, id) => client.conflicts(id)),
  );

  /** ?onConflict=stop|keep|undo (default stop: conflicts are listed, nothing is undone) */
  app.post(
    '/migrations/:id/rollback',
    { schema: { ...on('roll back, answer the report'), querystring: rollbackQuery } },
    onMigration((client, id, r: { query: z.infer<typeof rollbackQuery> }) => client.rollback(id, r.query.onConflict)),
  );

  app.get(
    '/migrations/:id/owners',
    { schema: on('the owner reconciliation queue') },
    onMigration((client, id) => client.owners(id)),
  );

  /** body: {"value": "<source owner>", "userId": 7} or {"fallbackUserId": 7} */
  app.post(
    '/migrations/:id/owners',
    {
      schema: {
        ...on('`{"value", "userId"}` assigns a source owner; `{"fallbackUserId"}` sets the fallback'),
        body: ownerBody,
      },
    },
    onMigration(async (client, id, r: { body: z.infer<typeof ownerBody> }) => {
      const body = r.body;
      if ('fallbackUserId' in body) await client.setFallbackUser(id, body.fallbackUserId);
      else await client.resolveOwner(id, body.value, body.userId);
      return client.owners(id);
    }),
  );
}

export function requireOdoo(deps: Pick<AppDeps, 'migrations'>, reply: FastifyReply): MigrationClient | null {
  if (deps.migrations) return deps.migrations;
  void reply.code(503).send({
    error: 'odoo_not_configured',
    message: 'set ODOO_URL, ODOO_DB, ODOO_USER and ODOO_PASSWORD, or upload with dryRun=true',
  });
  return null;
}

/** the `skip` form field: objects to leave out, comma-separated */
export function skipList(field: string | undefined): string[] {
  return (field ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

interface Upload {
  fields: Record<string, string>;
  files: CsvFile[];
}

/** Runs `run` on a spooled upload (spool-upload.ts), removing the files whatever happens. */
async function withUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: AppDeps,
  run: (upload: Upload) => Promise<unknown>,
): Promise<unknown> {
  const upload = await spoolUpload(request, deps.config);
  if (isRefusal(upload)) return reply.code(upload.status).send(upload.body);
  try {
    return await run(upload);
  } finally {
    await upload.remove();
  }
}
