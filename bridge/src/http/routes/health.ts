import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../app.js';
import { describeSources, sources } from '../../sources/registry.js';
import { bearer, tokenGuard } from '../auth.js';

/** `GET /health` and `GET /openapi.json` are public: is the bridge up, which sources it knows, does
 * Odoo answer; and what the routes take. `GET /sources` needs the token, like every other route. */
export async function healthRoutes(plain: FastifyInstance, deps: AppDeps): Promise<void> {
  const app = plain.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/health',
    {
      schema: { description: 'status, known sources, Odoo version (or why it does not answer)' },
    },
    async () => {
      let odoo: { configured: boolean; version?: string; error?: string } = { configured: Boolean(deps.odooVersion) };
      if (deps.odooVersion) {
        try {
          odoo = { configured: true, version: await deps.odooVersion() };
        } catch (err) {
          odoo = { configured: true, error: (err as Error).message };
        }
      }
      return { status: 'ok', sources: Object.keys(sources), odoo };
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        description:
          'this OpenAPI 3.1 document: every route, its parameters, body and auth (the table here is generated from it)',
      },
    },
    async () => app.swagger(),
  );

  /** The source systems a migration may name, and what the wizard asks for each (API credentials). */
  app.get(
    '/sources',
    {
      onRequest: tokenGuard(deps.config.BRIDGE_TOKEN),
      schema: {
        description:
          "the sources a migration may name and what the wizard asks for each: `[{name, label, input: 'csv-upload'|'api', credentials: [{name, label, secret, options?}]}]` (Odoo's wizard offers exactly these)",
        security: bearer,
      },
    },
    async () => describeSources(),
  );
}
