/**
 * Typed calls to the addon's RPC API (docs/staging-contract.md); every answer is checked by zod.
 */
import { z } from 'zod';
import type { StagedRecord } from '../staging/record.js';
import type { OdooTransport } from './transport.js';
import { fieldsGetSchema, type FieldsGet } from '../proposal/odoo-fields.js';

const MODEL = 'crm.migration';
export const STAGE_BATCH = 1000;

export const reportSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    source: z.string(),
    state: z.string(),
    counts: z.record(z.string(), z.number()),
    objects: z.record(z.string(), z.record(z.string(), z.number())),
    failed: z.array(z.object({ key: z.string(), error: z.string() }).loose()),
    links: z.record(z.string(), z.number()),
  })
  .loose();
export type MigrationReport = z.infer<typeof reportSchema>;

const stageAnswer = z.object({ staged: z.number(), errors: z.number() }).loose();

export const ownerSchema = z.object({
  value: z.string(),
  user_id: z.union([z.number(), z.literal(false)]),
  state: z.string(),
  record_count: z.number(),
}).loose();
export type OwnerRow = z.infer<typeof ownerSchema>;

const text = z.union([z.string(), z.number(), z.boolean(), z.null()]).transform((v) => (v === null || v === false ? '' : String(v)));
export const diffRowSchema = z.object({
  key: z.string(), model: z.string(), res_id: z.number(), field: z.string(),
  source: text, expected: text, actual: text, match: z.boolean(),
}).loose();
export type DiffRow = z.infer<typeof diffRowSchema>;

export const rollbackChoices = ['stop', 'keep', 'undo'] as const;
export type RollbackChoice = (typeof rollbackChoices)[number];
export const conflictSchema = z.object({
  key: z.string(), model: z.string(), res_id: z.number(), name: z.string(), kind: z.enum(['edited', 'referenced']), detail: z.string(),
}).loose();
export type Conflict = z.infer<typeof conflictSchema>;

/** after each batch sent to Odoo: records sent so far, of how many, the object of the batch's last one */
export type StageProgress = (done: number, total: number, object: string) => Promise<void>;

export class MigrationClient {
  constructor(private readonly odoo: OdooTransport) {}

  async create(name: string, source: string): Promise<number> {
    return z.number().int().positive().parse(await this.odoo.call(MODEL, 'api_create', [{ name, source }]));
  }

  /** The records in batches of STAGE_BATCH, one JSON string per call (a quarter of the XML-RPC
   *  payload of nested structs, and ~50x faster for Odoo to parse). */
  private async stageBatches(id: number, records: StagedRecord[], onBatch?: StageProgress): Promise<void> {
    for (let i = 0; i < records.length; i += STAGE_BATCH) {
      const batch = records.slice(i, i + STAGE_BATCH);
      stageAnswer.parse(await this.odoo.call(MODEL, 'api_stage_json', [[id], JSON.stringify(batch)]));
      await onBatch?.(i + batch.length, records.length, batch[batch.length - 1]?.object ?? '');
    }
  }

  /** Tells Odoo how far a bridge job is (`api_job_progress`); Odoo refuses a job it stopped. */
  async jobProgress(id: number, progress: Record<string, unknown>): Promise<void> {
    await this.odoo.call(MODEL, 'api_job_progress', [[id], progress]);
  }

  /**
   * Creates a migration and stages all records into it. If any batch fails, the half-staged
   * migration is deleted again, so Odoo never holds a partial upload.
   */
  async stageAll(name: string, source: string, records: StagedRecord[], extra?: { profile: unknown; inventory: string }): Promise<MigrationReport> {
    const id = await this.create(name, source);
    try {
      await this.stageBatches(id, records);
      if (extra) await this.setProfile(id, extra.profile, extra.inventory);
      return reportSchema.parse(await this.odoo.call(MODEL, 'api_finish_staging', [[id]]));
    } catch (err) {
      await this.odoo.call(MODEL, 'unlink', [[id]]).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Stages records into an existing migration (made by Odoo's upload wizard): records of an
   * earlier upload that this one no longer has (and that are not committed) are removed, then
   * profile, inventory and the mapping lines are sent and staging is finished. A first upload that
   * fails half-way (Odoo refuses a batch, the connection drops) is removed again, so the
   * migration never holds part of an upload.
   */
  async stageInto(id: number, records: StagedRecord[], extra: { profile: unknown; inventory: string; lines: unknown[] }, onBatch?: StageProgress): Promise<MigrationReport> {
    const keep = new Set(records.map((r) => r.key));
    const existing = z.array(z.object({ id: z.number(), key: z.string(), state: z.string() }).loose()).parse(
      await this.odoo.call('crm.migration.record', 'search_read', [[['migration_id', '=', id]]], { fields: ['key', 'state'] }),
    );
    try {
      const stale = existing.filter((r) => !keep.has(r.key) && ['staged', 'error', 'waiting'].includes(r.state)).map((r) => r.id);
      for (let i = 0; i < stale.length; i += STAGE_BATCH) await this.odoo.call('crm.migration.record', 'unlink', [stale.slice(i, i + STAGE_BATCH)]);
      await this.stageBatches(id, records, onBatch);
      await this.setProfile(id, extra.profile, extra.inventory);
      await this.odoo.call(MODEL, 'api_set_mapping', [[id], extra.lines]);
      return reportSchema.parse(await this.odoo.call(MODEL, 'api_finish_staging', [[id]]));
    } catch (err) {
      if (existing.length === 0) {
        const staged = z.array(z.number()).parse(await this.odoo.call('crm.migration.record', 'search', [[['migration_id', '=', id]]]).catch(() => []));
        if (staged.length) await this.odoo.call('crm.migration.record', 'unlink', [staged]).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Where Odoo's upload wizard sends files (Settings → CRM Migration). Needs an admin. */
  async setBridgeSettings(url: string, token: string): Promise<void> {
    await this.odoo.call('ir.config_parameter', 'set_param', ['crm_migration.bridge_url', url]);
    await this.odoo.call('ir.config_parameter', 'set_param', ['crm_migration.bridge_token', token]);
  }

  /** `fields_get` of a model: labels, types, selection values, read-only and stored flags. */
  async fieldsGet(model: string): Promise<FieldsGet> {
    return fieldsGetSchema.parse(await this.odoo.call(model, 'fields_get', [], { attributes: ['type', 'string', 'selection', 'readonly', 'store'] }));
  }

  /** Which of these Odoo modules are installed (sale, account, calendar...). */
  async installedApps(names: string[]): Promise<Record<string, boolean>> {
    if (names.length === 0) return {};
    return z.record(z.string(), z.boolean()).parse(await this.odoo.call(MODEL, 'api_installed_apps', [names]));
  }

  async setProfile(id: number, profile: unknown, inventoryMarkdown: string): Promise<void> {
    await this.odoo.call(MODEL, 'api_set_profile', [[id], { profile, inventory_markdown: inventoryMarkdown }]);
  }

  async owners(id: number): Promise<OwnerRow[]> {
    return z.array(ownerSchema).parse(await this.odoo.call(MODEL, 'api_owners', [[id]]));
  }

  async resolveOwner(id: number, value: string, userId: number): Promise<void> {
    await this.odoo.call(MODEL, 'api_resolve_owner', [[id], value, userId]);
  }

  async setFallbackUser(id: number, userId: number): Promise<void> {
    await this.odoo.call(MODEL, 'api_set_fallback_user', [[id], userId]);
  }

  /** A user's id by login (or email); null when there is none. */
  async userId(login: string): Promise<number | null> {
    const rows = z.array(z.object({ id: z.number() }).loose()).parse(
      await this.odoo.call('res.users', 'search_read', [['|', ['login', '=ilike', login], ['email', '=ilike', login]]], { fields: ['id'], limit: 2 }),
    );
    return rows.length === 1 ? (rows[0] as { id: number }).id : null;
  }

  /** Commit everything staged, or with `sample` a representative slice of that many records. */
  async commit(id: number, batchSize = 500, sample?: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_commit', [[id], { batch_size: batchSize, ...(sample ? { sample } : {}) }]));
  }

  /** Field by field, for each sampled record: source cell, expected value, value read back from Odoo. */
  async sampleDiff(id: number): Promise<DiffRow[]> {
    return z.array(diffRowSchema).parse(await this.odoo.call(MODEL, 'api_sample_diff', [[id]]));
  }

  /** Undo the sample only; its records are staged again. */
  async sampleRollback(id: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_sample_rollback', [[id]]));
  }

  /**
   * Undo a migration. Records edited in Odoo after the migration wrote them, or used by records it
   * did not create, are conflicts: `stop` (default) refuses and lists them, `keep` leaves them and
   * undoes the rest, `undo` undoes everything anyway.
   */
  async rollback(id: number, onConflict: RollbackChoice = 'stop'): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_rollback', [[id], { on_conflict: onConflict }]));
  }

  async conflicts(id: number): Promise<Conflict[]> {
    return z.array(conflictSchema).parse(await this.odoo.call(MODEL, 'api_rollback_conflicts', [[id]]));
  }

  async report(id: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_report', [[id]]));
  }
}
