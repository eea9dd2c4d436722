/** Settings from the environment, checked once ("fail fast"). */
import { z } from 'zod';
import type { OdooConnection } from './odoo/transport.js';

const odooEnv = z.object({
  ODOO_URL: z.url(),
  ODOO_DB: z.string().min(1),
  ODOO_USER: z.string().min(1),
  ODOO_PASSWORD: z.string().min(1),
  ODOO_TIMEOUT_SECONDS: z.coerce.number().positive().optional(),
  ODOO_LONG_TIMEOUT_SECONDS: z.coerce.number().positive().optional(),
  /** Odoo 19+: an API key for the JSON-2 API (used instead of XML-RPC when set) */
  ODOO_API_KEY: z.string().optional(),
  /** several databases on one server: their API keys as JSON {"db": "key"}, before ODOO_API_KEY */
  ODOO_API_KEYS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const parsed = z.record(z.string(), z.string()).safeParse(
        (() => {
          try {
            return JSON.parse(v) as unknown;
          } catch {
            return null;
          }
        })(),
      );
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: 'ODOO_API_KEYS must be a JSON object {"database": "API key"}' });
        return z.NEVER;
      }
      return parsed.data;
    }),
  ODOO_TRANSPORT: z.enum(['auto', 'xmlrpc', 'json2']).optional(),
});

export function odooFromEnv(env: NodeJS.ProcessEnv = process.env): OdooConnection {
  const parsed = odooEnv.safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`Odoo connection not configured: set ${missing} (an API key works as ODOO_PASSWORD)`);
  }
  const e = parsed.data;
  return {
    url: e.ODOO_URL,
    db: e.ODOO_DB,
    user: e.ODOO_USER,
    password: e.ODOO_PASSWORD,
    ...(e.ODOO_TIMEOUT_SECONDS ? { timeoutSeconds: e.ODOO_TIMEOUT_SECONDS } : {}),
    ...(e.ODOO_LONG_TIMEOUT_SECONDS ? { longTimeoutSeconds: e.ODOO_LONG_TIMEOUT_SECONDS } : {}),
    ...((e.ODOO_API_KEYS?.[e.ODOO_DB] ?? e.ODOO_API_KEY)
      ? { apiKey: e.ODOO_API_KEYS?.[e.ODOO_DB] ?? e.ODOO_API_KEY }
      : {}),
    ...(e.ODOO_TRANSPORT ? { transport: e.ODOO_TRANSPORT } : {}),
  };
}

const serverEnv = z.object({
  BRIDGE_TOKEN: z.string().min(16, 'BRIDGE_TOKEN must be at least 16 characters'),
  BRIDGE_HOST: z.string().default('127.0.0.1'),
  BRIDGE_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  BRIDGE_MAX_FILE_MB: z.coerce.number().positive().default(200),
  BRIDGE_MAX_FILES: z.coerce.number().int().positive().default(20),
  BRIDGE_UPLOAD_DIR: z.string().optional(),
  /** API extractions keep their fetched pages and checkpoint here (per migration) to resume */
  BRIDGE_SPOOL_DIR: z.string().optional(),
});
export type ServerConfig = z.infer<typeof serverEnv>;

export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = serverEnv.safeParse(env);
  if (!parsed.success)
    throw new Error(
      `bridge not configured: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}
