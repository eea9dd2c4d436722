/** Reading Odoo back in end-to-end tests, over the same XML-RPC transport the bridge uses. */
import { z } from 'zod';
import { odooFromEnv } from '../../bridge/src/config.js';
import { createTransport } from '../../bridge/src/odoo/auto-transport.js';
import { MigrationClient } from '../../bridge/src/odoo/migration-client.js';

export type Domain = unknown[];
export type Row = Record<string, unknown>;

export function odooEnvPresent(): boolean {
  return Boolean(process.env.ODOO_URL);
}

export class OdooReader {
  readonly transport = createTransport(odooFromEnv());
  readonly migrations = new MigrationClient(this.transport);

  async count(model: string, domain: Domain = []): Promise<number> {
    return z
      .number()
      .parse(await this.transport.call(model, 'search_count', [domain], { context: { active_test: false } }));
  }

  async read(model: string, domain: Domain, fields: string[]): Promise<Row[]> {
    return z
      .array(z.record(z.string(), z.unknown()))
      .parse(await this.transport.call(model, 'search_read', [domain], { fields, context: { active_test: false } }));
  }

  async one(model: string, domain: Domain, fields: string[]): Promise<Row> {
    const rows = await this.read(model, domain, fields);
    if (rows.length !== 1) throw new Error(`expected one ${model} for ${JSON.stringify(domain)}, found ${rows.length}`);
    return rows[0] as Row;
  }

  /** model → number of records (archived ones included), e.g. before and after a rollback */
  async counts(models: string[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const m of models) out[m] = await this.count(m);
    return out;
  }

  async create(model: string, values: Row): Promise<number> {
    return z.number().parse(await this.transport.call(model, 'create', [values]));
  }

  async unlink(model: string, ids: number[]): Promise<void> {
    await this.transport.call(model, 'unlink', [ids]);
  }
}

/** many2one values come back as [id, "name"] or false */
export function m2oName(v: unknown): string | false {
  return Array.isArray(v) ? String(v[1]) : false;
}
export function m2oId(v: unknown): number | false {
  return Array.isArray(v) ? Number(v[0]) : false;
}

/** Polls Odoo until the migration's job has ended (the bridge tells it); its job fields then. */
export async function jobEnd(odoo: OdooReader, id: number, timeoutMs = 60_000): Promise<Row> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await odoo.one(
      'crm.migration',
      [['id', '=', id]],
      ['state', 'job', 'job_state', 'job_phase', 'job_message', 'job_token'],
    );
    if (m.job_state !== 'running' && m.job_state !== 'queued') return m;
    if (Date.now() > until)
      throw new Error(`the job of migration ${id} is still ${String(m.job_state)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A reader of another database of the same server (the e2e runs have a crm-only and a full one). */
export function readerOf(db: string): OdooReader {
  const saved = process.env.ODOO_DB;
  process.env.ODOO_DB = db;
  try {
    return new OdooReader();
  } finally {
    process.env.ODOO_DB = saved;
  }
}

/** The Odoo series the run is against (scripts/test-all.sh sets ODOO_SERIES per version; default 18). */
export const ODOO_SERIES = process.env.ODOO_SERIES ?? '18';
/** Matches the server_version of that series, e.g. "18.0". */
export const ODOO_SERIES_RE = new RegExp(`^${ODOO_SERIES.replace('.', '\\.')}\\.`);
/** A pipeline stage's sales teams: `team_id` (one) up to 18, `team_ids` (several) from 19 on. */
export const STAGE_TEAM_FIELD = Number(ODOO_SERIES) >= 19 ? 'team_ids' : 'team_id';
/** Partners and leads have `mobile` up to 18; on 19 the addon folds it into `phone` or the notes. */
export const HAS_MOBILE = Number(ODOO_SERIES) < 19;
