/**
 * Typed calls to the addon's RPC API (docs/staging-contract.md); every answer is checked by zod.
 */
import { z } from 'zod';
import type { StagedRecord } from '../staging/record.js';
import type { RecordSink } from '../mapping/engine.js';
import { fileChunks, type BlobFile } from '../staging/blob.js';
import { InputError } from '../core/input-error.js';
import { OdooError, type OdooTransport } from './transport.js';
import { fieldsGetSchema, type FieldsGet } from '../proposal/odoo-fields.js';

const MODEL = 'crm.migration';
export const STAGE_BATCH = 1000;

/** One object's line of a delta round (docs/staging-contract.md, "Delta") */
export const deltaCountsSchema = z.object({
  unchanged: z.number().int(), updated: z.number().int(), created: z.number().int(), gone: z.number().int(),
  conflicts: z.number().int(), pending: z.number().int(), errors: z.number().int(),
}).loose();
export type DeltaCounts = z.infer<typeof deltaCountsSchema>;
/** migration states whose next upload is a delta round (a newer export of a committed migration) */
export const deltaStates = ['committed', 'partial', 'delta'] as const;
export const deltaDecisions = ['source', 'odoo'] as const;
export type DeltaDecision = (typeof deltaDecisions)[number];
export const goneActions = ['archive', 'delete'] as const;
export type GoneAction = (typeof goneActions)[number];

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
    /** Final delta: the current delta round (0: none) and per object what its newer export did */
    delta_round: z.number().int().optional(),
    delta: z.record(z.string(), deltaCountsSchema).optional(),
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

export const blobAnswerSchema = z.object({ key: z.string(), received: z.number().int(), size: z.number().int(), complete: z.boolean() });
export type BlobAnswer = z.infer<typeof blobAnswerSchema>;

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
  async stageAll(name: string, source: string, records: StagedRecord[], extra?: { profile: unknown; inventory: string }, blobs: BlobFile[] = []): Promise<MigrationReport> {
    const id = await this.create(name, source);
    try {
      await this.stageBatches(id, records);
      await this.uploadBlobs(id, blobs);
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
  async stageInto(id: number, records: StagedRecord[], extra: { profile: unknown; inventory: string; lines: unknown[] }, blobs: BlobFile[] = [], onBatch?: StageProgress): Promise<MigrationReport> {
    const keep = new Set(records.map((r) => r.key));
    // a committed migration takes the upload as a delta round (a newer export): its committed
    // records stay, compared with the new ones in Odoo (unchanged / update / create / gone)
    const delta = (deltaStates as readonly string[]).includes(await this.state(id));
    if (delta) await this.odoo.call(MODEL, 'api_start_delta', [[id]]);
    const existing = z.array(z.object({ id: z.number(), key: z.string(), state: z.string(), delta_before_json: z.unknown() }).loose()).parse(
      await this.odoo.call('crm.migration.record', 'search_read', [[['migration_id', '=', id]]], { fields: ['key', 'state', 'delta_before_json'] }),
    );
    try {
      // an earlier upload's records that this one no longer has, never those in Odoo already
      // (a delta update staged earlier in the round keeps what Odoo has in delta_before_json)
      const stale = existing.filter((r) => !keep.has(r.key) && ['staged', 'error', 'waiting'].includes(r.state) && !r.delta_before_json).map((r) => r.id);
      for (let i = 0; i < stale.length; i += STAGE_BATCH) await this.odoo.call('crm.migration.record', 'unlink', [stale.slice(i, i + STAGE_BATCH)]);
      await this.stageBatches(id, records, onBatch);
      await this.uploadBlobs(id, blobs);
      await this.setProfile(id, extra.profile, extra.inventory);
      if (!delta) await this.odoo.call(MODEL, 'api_set_mapping', [[id], extra.lines]); // a committed mapping stays
      return reportSchema.parse(await this.odoo.call(MODEL, 'api_finish_staging', [[id]]));
    } catch (err) {
      if (existing.length === 0) {
        const staged = z.array(z.number()).parse(await this.odoo.call('crm.migration.record', 'search', [[['migration_id', '=', id]]]).catch(() => []));
        if (staged.length) await this.odoo.call('crm.migration.record', 'unlink', [staged]).catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * A sink that sends records to the migration `target()` names, in batches of STAGE_BATCH as
   * they come (the bridge holds one batch, never the whole upload); `end()` sends the rest.
   */
  private batchSink(target: () => Promise<number>, onBatch?: StageProgress, onRecord?: (r: StagedRecord) => void): RecordSink & { end(): Promise<void> } {
    let batch: StagedRecord[] = [];
    let sent = 0;
    let total = 0;
    const send = async () => {
      if (batch.length === 0) return;
      const id = await target();
      const object = batch[batch.length - 1]?.object ?? '';
      const json = JSON.stringify(batch);
      sent += batch.length;
      batch = [];
      stageAnswer.parse(await this.odoo.call(MODEL, 'api_stage_json', [[id], json]));
      await onBatch?.(sent, total, object);
    };
    return {
      begin: async (n) => {
        total = n;
        await target();
      },
      record: async (r) => {
        onRecord?.(r);
        batch.push(r);
        if (batch.length >= STAGE_BATCH) await send();
      },
      end: send,
    };
  }

  /**
   * stageAll for records that are finished while they are sent: `produce` stages into the sink
   * it is given; the migration is created when the first record is ready (a bad table sends
   * nothing), and deleted again if anything fails after that.
   */
  async stageAllFrom<R>(name: string, source: string, produce: (sink: RecordSink) => Promise<{ extra: { profile: unknown; inventory: string }; blobs: BlobFile[]; result: R }>): Promise<{ report: MigrationReport; result: R }> {
    let created: Promise<number> | undefined;
    const target = () => (created ??= this.create(name, source));
    const sink = this.batchSink(target);
    try {
      const { extra, blobs, result } = await produce(sink);
      await sink.end();
      const id = await target();
      await this.uploadBlobs(id, blobs);
      await this.setProfile(id, extra.profile, extra.inventory);
      return { report: reportSchema.parse(await this.odoo.call(MODEL, 'api_finish_staging', [[id]])), result };
    } catch (err) {
      const id = await created?.catch(() => undefined);
      if (id !== undefined) await this.odoo.call(MODEL, 'unlink', [[id]]).catch(() => undefined);
      throw err;
    }
  }

  /**
   * stageInto for records that are finished while they are sent (see stageInto): the records of
   * an earlier upload that this one did not send are removed after the last batch.
   */
  async stageIntoFrom<R>(id: number, produce: (sink: RecordSink) => Promise<{ extra: { profile: unknown; inventory: string; lines: unknown[] }; blobs: BlobFile[]; result: R }>, onBatch?: StageProgress): Promise<{ report: MigrationReport; result: R }> {
    // an earlier upload's records, never those in Odoo already (a delta update staged earlier in
    // the round keeps what Odoo has in delta_before_json): stale unless this upload sends the key
    const stale = new Map<string, number>();
    let delta = false;
    let existing: number | undefined;
    /** when the first record is ready (every table read: a bad one changes nothing in Odoo) */
    const prepare = async (): Promise<number> => {
      delta = (deltaStates as readonly string[]).includes(await this.state(id));
      if (delta) await this.odoo.call(MODEL, 'api_start_delta', [[id]]);
      const rows = z.array(z.object({ id: z.number(), key: z.string(), state: z.string(), delta_before_json: z.unknown() }).loose()).parse(
        await this.odoo.call('crm.migration.record', 'search_read', [[['migration_id', '=', id]]], { fields: ['key', 'state', 'delta_before_json'] }),
      );
      existing = rows.length;
      for (const r of rows) if (['staged', 'error', 'waiting'].includes(r.state) && !r.delta_before_json) stale.set(r.key, r.id);
      return id;
    };
    let prepared: Promise<number> | undefined;
    const target = () => (prepared ??= prepare());
    try {
      const sink = this.batchSink(target, onBatch, (r) => void stale.delete(r.key));
      const { extra, blobs, result } = await produce(sink);
      await target();
      await sink.end();
      const gone = [...stale.values()];
      for (let i = 0; i < gone.length; i += STAGE_BATCH) await this.odoo.call('crm.migration.record', 'unlink', [gone.slice(i, i + STAGE_BATCH)]);
      await this.uploadBlobs(id, blobs);
      await this.setProfile(id, extra.profile, extra.inventory);
      if (!delta) await this.odoo.call(MODEL, 'api_set_mapping', [[id], extra.lines]); // a committed mapping stays
      return { report: reportSchema.parse(await this.odoo.call(MODEL, 'api_finish_staging', [[id]])), result };
    } catch (err) {
      if (existing === 0) {
        const staged = z.array(z.number()).parse(await this.odoo.call('crm.migration.record', 'search', [[['migration_id', '=', id]]]).catch(() => []));
        if (staged.length) await this.odoo.call('crm.migration.record', 'unlink', [staged]).catch(() => undefined);
      }
      throw err;
    }
  }

  /** The bytes of staged files, one file after another. */
  async uploadBlobs(id: number, blobs: BlobFile[]): Promise<void> {
    for (const blob of blobs) await this.uploadBlob(id, blob);
  }

  /**
   * One file's bytes in chunks of BLOB_CHUNK streamed from disk (`api_stage_blob(id, key,
   * offset, base64)`): never the whole file in memory. The file must still be the one hashed at
   * staging: a size that differs fails here, other bytes fail Odoo's checksum at commit.
   */
  async uploadBlob(id: number, blob: BlobFile): Promise<BlobAnswer> {
    let offset = 0;
    let answer: BlobAnswer = { key: blob.key, received: 0, size: blob.size, complete: blob.size === 0 };
    for await (const chunk of fileChunks(blob.path)) {
      if (offset + chunk.length > blob.size) break;
      answer = blobAnswerSchema.parse(await this.odoo.call(MODEL, 'api_stage_blob', [[id], blob.key, offset, chunk.toString('base64')]));
      offset += chunk.length;
    }
    if (!answer.complete || offset !== blob.size) {
      throw new InputError({ file: blob.path, field: blob.key }, `the file changed since it was read: ${offset} of ${blob.size} bytes sent (stage again)`);
    }
    return answer;
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

  /** The migration's state (draft, uploaded, mapped, ..., committed, partial, delta, rolled_back). */
  async state(id: number): Promise<string> {
    const rows = z.array(z.object({ state: z.string() }).loose()).parse(
      await this.odoo.call(MODEL, 'search_read', [[['id', '=', id]]], { fields: ['state'] }),
    );
    if (rows.length !== 1) throw new OdooError(`migration ${id} does not exist (or you may not read it)`);
    return (rows[0] as { state: string }).state;
  }

  /** Decide a delta round's conflicts (all, or those of `keys`): take the source value or keep Odoo's. */
  async resolveDelta(id: number, take: DeltaDecision, keys?: string[]): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_delta_resolve', [[id], { take, ...(keys?.length ? { keys } : {}) }]));
  }

  /** Archive, or delete (only records the migration created), the records gone from the newer export. */
  async deltaGone(id: number, action: GoneAction, keys?: string[]): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_delta_gone', [[id], { action, ...(keys?.length ? { keys } : {}) }]));
  }

  async report(id: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_report', [[id]]));
  }
}
