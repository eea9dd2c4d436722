import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { describeSources, sources } from '../../sources/registry.js';
import { tokenGuard } from '../auth.js';

/** `GET /health` is public: is the bridge up, which sources it knows, and does Odoo answer.
 * `GET /sources` needs the token, like every other route (README, "HTTP service"). */
export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/health', async () => {
    let odoo: { configured: boolean; version?: string; error?: string } = { configured: Boolean(deps.odooVersion) };
    if (deps.odooVersion) {
      try {
        odoo = { configured: true, version: await deps.odooVersion() };
      } catch (err) {
        odoo = { configured: true, error: (err as Error).message };
      }
    }
    return { status: 'ok', sources: Object.keys(sources), odoo };
  });

  /** The source systems a migration may name, and what the wizard asks for each (API credentials). */
  app.get('/sources', { onRequest: tokenGuard(deps.config.BRIDGE_TOKEN) }, async () => describeSources());
}
