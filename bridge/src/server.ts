/** The bridge service's entry point: settings from the environment, listen on 127.0.0.1. */
import { buildApp } from './http/app.js';
import { odooFromEnv, serverConfigFromEnv } from './config.js';
import { createLogger } from './log.js';
import { removeStaleUploads, uploadRoot } from './http/spool-upload.js';
import { MigrationClient } from './odoo/migration-client.js';
import { createTransport } from './odoo/auto-transport.js';

const log = createLogger('crm-bridge');
const config = serverConfigFromEnv();
let migrations: MigrationClient | null = null;
let odooVersion: (() => Promise<string>) | undefined;
if (process.env.ODOO_URL) {
  const transport = createTransport(odooFromEnv());
  migrations = new MigrationClient(transport);
  odooVersion = () => transport.version();
} else {
  log.warn('ODOO_URL not set: uploads can only be dry runs');
}
// temporary copies of exports a killed bridge left behind (personal data): removed at start
const leftovers = await removeStaleUploads(uploadRoot(config));
if (leftovers.length)
  log.warn({ removed: leftovers }, 'removed temporary export copies left by a bridge that stopped while staging');
const app = await buildApp({ config, migrations, ...(odooVersion ? { odooVersion } : {}), logger: log });
await app.listen({ host: config.BRIDGE_HOST, port: config.BRIDGE_PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
