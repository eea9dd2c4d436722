/**
 * The bridge's HTTP service: builds a Fastify app from its settings and its way to Odoo, so tests
 * and the server entry point assemble it the same way. One error handler turns what went wrong
 * into a clear 4xx/5xx JSON answer. Every route declares its params, query and JSON body with zod
 * (fastify-type-provider-zod), and `GET /openapi.json` serves the OpenAPI document made from them
 * (@fastify/swagger); the README's route table is generated from it (readme-routes.ts).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { InputError } from '../core/input-error.js';
import { OdooError } from '../odoo/transport.js';
import type { MigrationClient } from '../odoo/migration-client.js';
import type { ServerConfig } from '../config.js';
import { BEARER } from './auth.js';
import { healthRoutes } from './routes/health.js';
import { migrationRoutes } from './routes/migrations.js';
import { extractionRoutes } from './routes/extractions.js';
import { JobRunner } from '../jobs/job-runner.js';

export interface AppDeps {
  config: ServerConfig;
  /** null when no Odoo is configured: uploads can then only be dry runs */
  migrations: MigrationClient | null;
  odooVersion?: () => Promise<string>;
  /** the background jobs (one per migration); made from `migrations` when not given */
  jobs?: JobRunner;
  /** pino logger for requests; none = silent (tests) */
  logger?: FastifyBaseLogger;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = (deps.logger
    ? Fastify({ loggerInstance: deps.logger, bodyLimit: 1024 * 1024 })
    : Fastify({ logger: false, bodyLimit: 1024 * 1024 })) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CRM → Odoo migration bridge',
        version: BRIDGE_VERSION,
        description: 'Uploads, background jobs and the migration lifecycle (README, "HTTP service")',
      },
      components: { securitySchemes: { [BEARER]: { type: 'http', scheme: 'bearer', description: 'BRIDGE_TOKEN' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(multipart, {
    limits: {
      fileSize: deps.config.BRIDGE_MAX_FILE_MB * 1024 * 1024,
      files: deps.config.BRIDGE_MAX_FILES,
      fields: 20,
      fieldSize: 1024 * 1024,
    },
  });
  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof InputError) return reply.code(422).send(error.toJSON());
    if (error instanceof ZodError)
      return reply
        .code(400)
        .send({ error: 'bad_request', field: error.issues[0]?.path.join('.'), message: error.issues[0]?.message });
    // a route's declared params, query or body (the same answer as a ZodError in a handler)
    if (hasZodFastifySchemaValidationErrors(error)) {
      const first = error.validation[0];
      return reply.code(400).send({
        error: 'bad_request',
        field: first?.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: first?.message,
      });
    }
    if (error instanceof OdooError) {
      request.log.warn({ err: error }, 'odoo call failed');
      return reply.code(502).send({ error: 'odoo', message: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: (error as { code?: string }).code ?? 'bad_request', message: (error as Error).message });
    }
    request.log.error({ err: error }, 'unexpected error');
    return reply.code(500).send({ error: 'internal', message: 'unexpected error; see the bridge log' });
  });
  await app.register(healthRoutes, deps);
  await app.register(migrationRoutes, deps);
  const jobs = deps.jobs ?? (deps.migrations ? new JobRunner(deps.migrations, app.log) : null);
  await app.register(extractionRoutes, { ...deps, jobs });
  return app;
}

const BRIDGE_VERSION = '0.1.0';
