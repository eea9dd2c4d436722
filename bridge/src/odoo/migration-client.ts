/**
 * Typed calls to the addon's RPC API (docs/staging-contract.md); every answer is checked by zod.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { StagedRecord } from '../staging/record.js';
import type { RecordSink } from '../mapping/engine.js';
import { fileChunks, type BlobFile } from '../staging/blob.js';
import { InputError } from '../core/input-error.js';
import { collectGarbage } from '../core/memory.js';
import { OdooError, type OdooTransport } from './transport.js';
import { fieldsGetSchema, type FieldsGet } from '../proposal/odoo-fields.js';

const MODEL = 'crm.migration';
export const STAGE_BATCH = 1000;
/** staging calls at a time (batchSink): two keep two Odoo workers busy (issue #11) */
export const STAGE_IN_FLIGHT = 2;
/** records sent before each further batch is followed by a garbage collection (large exports only) */
const COLLECT_AFTER = 5 * STAGE_BATCH;

/** One object's line of a delta round (docs/staging-contract.md, "Delta") */
export const deltaCountsSchema = z
  .object({
    unchanged: z.number().int(),
    updated: z.number().int(),
    created: z.number().int(),
    gone: z.number().int(),
    conflicts: z.number().int(),
    pending: z.number().int(),
    errors: z.number().int(),
  })
  .loose();
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
    /** an upload into the migration did not finish: it cannot be committed (docs/staging-contract.md, "Uploads") */
    upload_open: z.boolean().optional(),
    /** rolled back: what could not be given back exactly, and why ("What Odoo derived from a commit") */
    rollback_remains: z
      .array(
        z
          .object({
            key: z.string(),
            model: z.string(),
            res_id: z.number(),
            columns: z.array(z.string()),
            reason: z.string(),
          })
          .loose(),
      )
      .optional(),
  })
  .loose();
export type MigrationReport = z.infer<typeof reportSchema>;

export const fileReportRowSchema = z
  .object({
    file: z.string(),
    object: z.string(),
    rows: z.number().int(),
    staged: z.number().int(),
    merged: z.number().int(),
    left_out: z.number().int(),
    errors: z.number().int(),
    in_odoo: z.number().int(),
    reconciled: z.boolean(),
    notes: z.string(),
  })
  .loose();
export type FileReportRow = z.infer<typeof fileReportRowSchema>;
/** A chunk of the commit plan (services/plan.py): staged record ids of one object, committed in one transaction. */
export const commitChunkSchema = z
  .object({
    object: z.string(),
    ids: z.array(z.number().int()),
    seq: z.number().int(),
    skip: z.record(z.string(), z.string()).optional(),
  })
  .loose();
export type CommitChunk = z.infer<typeof commitChunkSchema>;
export const commitPlanSchema = z
  .object({
    migration: z.number().int(),
    since: z.string(),
    edited_before: z.array(z.number().int()),
    schema: z.boolean(),
    total: z.number().int(),
    batch_size: z.number().int(),
    waves: z.array(z.array(commitChunkSchema)),
  })
  .loose();
const chunkAnswerSchema = z.object({ done: z.number().int(), attempts: z.number().int() }).loose();
export interface ParallelCommitResult {
  report: MigrationReport;
  chunks: number;
  waves: number;
  retries: number;
}

const stageAnswer = z.object({ staged: z.number(), errors: z.number() }).loose();

export const ownerSchema = z
  .object({
    value: z.string(),
    user_id: z.union([z.number(), z.literal(false)]),
    state: z.string(),
    record_count: z.number(),
  })
  .loose();
export type OwnerRow = z.infer<typeof ownerSchema>;

const text = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .transform((v) => (v === null || v === false ? '' : String(v)));
export const diffRowSchema = z
  .object({
    key: z.string(),
    model: z.string(),
    res_id: z.number(),
    field: z.string(),
    source: text,
    expected: text,
    actual: text,
    match: z.boolean(),
  })
  .loose();
export type DiffRow = z.infer<typeof diffRowSchema>;

export const rollbackChoices = ['stop', 'keep', 'undo'] as const;
export type RollbackChoice = (typeof rollbackChoices)[number];
export const conflictSchema = z
  .object({
    key: z.string(),
    model: z.string(),
    res_id: z.number(),
    name: z.string(),
    kind: z.enum(['edited', 'referenced']),
    detail: z.string(),
  })
  .loose();
export type Conflict = z.infer<typeof conflictSchema>;

/** after each batch sent to Odoo: records sent so far, of how many, the object of the batch's last one */
export type StageProgress = (done: number, total: number, object: string) => Promise<void>;

export const blobAnswerSchema = z.object({
  key: z.string(),
  received: z.number().int(),
  size: z.number().int(),
  complete: z.boolean(),
});
export type BlobAnswer = z.infer<typeof blobAnswerSchema>;

/** the context key that names the upload a staging call belongs to (models/crm_migration_upload.py) */
export const UPLOAD_CONTEXT_KEY = 'crm_migration_upload';

/** Odoo refused to open an upload: another one stages into the migration (HTTP 409). */
export class UploadBusyError extends Error {
  readonly statusCode = 409;
  readonly code = 'upload_running';
  constructor(message: string) {
    super(message);
    this.name = 'UploadBusyError';
  }
}

export const beginUploadAnswer = z
  .object({ token: z.string(), took_over: z.string(), discarded: z.number().int() })
  .loose();

export class MigrationClient {
  /** uploads this bridge left open after a failure (migration id → token): its next upload into
   *  the migration carries on with the same token instead of waiting for it to go stale */
  private readonly leftOpen = new Map<number, string>();

  constructor(private readonly odoo: OdooTransport) {}

  /** A call that belongs to upload `token` (its context names it: Odoo refuses other uploads' calls). */
  private up(token: string | undefined, model: string, method: string, args: unknown[]): Promise<unknown> {
    return token
      ? this.odoo.call(model, method, args, { context: { [UPLOAD_CONTEXT_KEY]: token } })
      : this.odoo.call(model, method, args);
  }

  /**
   * Opens an upload into migration `id` (`api_begin_upload`): until `api_finish_staging` closes it,
   * the migration cannot be committed and no other upload may stage into it. Another live upload
   * → UploadBusyError (409). Returns the token the staging calls carry.
   */
  async beginUpload(id: number, token: string = this.leftOpen.get(id) ?? randomUUID()): Promise<string> {
    this.leftOpen.delete(id);
    try {
      return beginUploadAnswer.parse(await this.odoo.call(MODEL, 'api_begin_upload', [[id], { token }])).token;
    } catch (err) {
      if (err instanceof OdooError && /receiving another upload/.test(err.message))
        throw new UploadBusyError(err.message);
      throw err;
    }
  }

  /**
   * After an upload job failed: closes upload `token` unless stageInto left it open on purpose (a
   * re-upload that failed half-way: the migration must not be committed as it is). An upload that
   * failed before staging anything is simply closed.
   */
  async closeFailedUpload(id: number, token: string): Promise<void> {
    if (this.leftOpen.get(id) === token) return;
    await this.discardUpload(id, token);
  }

  /** Removes what upload `token` staged (only its own records) and closes it (`api_discard_upload`). */
  async discardUpload(id: number, token: string): Promise<void> {
    await this.up(token, MODEL, 'api_discard_upload', [[id]]);
  }

  async create(name: string, source: string): Promise<number> {
    return z
      .number()
      .int()
      .positive()
      .parse(await this.odoo.call(MODEL, 'api_create', [{ name, source }]));
  }

  /** The records in batches of STAGE_BATCH, one JSON string per call (a quarter of the XML-RPC
   *  payload of nested structs, and ~50x faster for Odoo to parse). */
  private async stageBatches(
    id: number,
    records: StagedRecord[],
    onBatch?: StageProgress,
    token?: string,
  ): Promise<void> {
    // the same pipelined sink as records finished on the fly: batch N+1 is encoded while Odoo stages N
    const sink = this.batchSink(
      async () => id,
      onBatch,
      undefined,
      () => token,
    );
    try {
      await sink.begin(records.length);
      for (const r of records) await sink.record(r);
      await sink.end();
    } catch (err) {
      await sink.settled();
      throw err;
    }
  }

  /** Tells Odoo how far a bridge job is (`api_job_progress`); Odoo refuses a job it stopped. */
  async jobProgress(id: number, progress: Record<string, unknown>): Promise<void> {
    await this.odoo.call(MODEL, 'api_job_progress', [[id], progress]);
  }

  /**
   * Creates a migration and stages all records into it, as one upload (`beginUpload`). If any
   * batch fails, the half-staged migration is deleted again; if the bridge dies half-way, the
   * upload stays open in Odoo and the migration cannot be committed.
   */
  async stageAll(
    name: string,
    source: string,
    records: StagedRecord[],
    extra?: { profile: unknown; inventory: string },
    blobs: BlobFile[] = [],
  ): Promise<MigrationReport> {
    const id = await this.create(name, source);
    try {
      const token = await this.beginUpload(id);
      await this.stageBatches(id, records, undefined, token);
      await this.uploadBlobs(id, blobs, token);
      if (extra) await this.setProfile(id, extra.profile, extra.inventory, token);
      return reportSchema.parse(await this.up(token, MODEL, 'api_finish_staging', [[id]]));
    } catch (err) {
      await this.odoo.call(MODEL, 'unlink', [[id]]).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Stages records into an existing migration (made by Odoo's upload wizard): records of an
   * earlier upload that this one no longer has (and that are not committed) are removed, then
   * profile, inventory and the mapping lines are sent and staging is finished. It is one upload
   * (`beginUpload`, or the one the caller opened: `uploadToken`): another upload at the same time
   * is refused (UploadBusyError). A first upload that fails half-way (Odoo refuses a batch, the
   * connection drops) removes what it staged, and only that; a later one stays open (the
   * migration cannot be committed until it is uploaded again or the upload is discarded).
   */
  async stageInto(
    id: number,
    records: StagedRecord[],
    extra: { profile: unknown; inventory: string; lines: unknown[] },
    blobs: BlobFile[] = [],
    onBatch?: StageProgress,
    uploadToken?: string,
  ): Promise<MigrationReport> {
    const keep = new Set(records.map((r) => r.key));
    // a committed migration takes the upload as a delta round (a newer export): its committed
    // records stay, compared with the new ones in Odoo (unchanged / update / create / gone)
    const delta = (deltaStates as readonly string[]).includes(await this.state(id));
    if (delta) await this.odoo.call(MODEL, 'api_start_delta', [[id]]);
    const existing = z
      .array(z.object({ id: z.number(), key: z.string(), state: z.string(), delta_before_json: z.unknown() }).loose())
      .parse(
        await this.odoo.call('crm.migration.record', 'search_read', [[['migration_id', '=', id]]], {
          fields: ['key', 'state', 'delta_before_json'],
        }),
      );
    const token = uploadToken ?? (await this.beginUpload(id));
    try {
      // an earlier upload's records that this one no longer has, never those in Odoo already
      // (a delta update staged earlier in the round keeps what Odoo has in delta_before_json)
      const stale = existing
        .filter((r) => !keep.has(r.key) && ['staged', 'error', 'waiting'].includes(r.state) && !r.delta_before_json)
        .map((r) => r.id);
      for (let i = 0; i < stale.length; i += STAGE_BATCH)
        await this.odoo.call('crm.migration.record', 'unlink', [stale.slice(i, i + STAGE_BATCH)]);
      await this.stageBatches(id, records, onBatch, token);
      await this.uploadBlobs(id, blobs, token);
      await this.setProfile(id, extra.profile, extra.inventory, token);
      if (!delta) await this.up(token, MODEL, 'api_set_mapping', [[id], extra.lines]); // a committed mapping stays
      return reportSchema.parse(await this.up(token, MODEL, 'api_finish_staging', [[id]]));
    } catch (err) {
      // only what this upload staged (Odoo tags each record with its upload's token)
      if (existing.length === 0) await this.discardUpload(id, token).catch(() => undefined);
      else this.leftOpen.set(id, token);
      throw err;
    }
  }

  /**
   * A sink that sends records to the migration `target()` names, in batches of STAGE_BATCH as
   * they come; `end()` sends the rest and waits for Odoo's last answers. Pipelined (issue #11):
   * STAGE_IN_FLIGHT batches are staged at a time (each call its own transaction, on Odoo's
   * workers) while the producer goes on finishing the records of the next one. Each call carries
   * its batch's number, and the commit plans in the order of those numbers, so the records keep the
   * order they were finished in whichever call Odoo ends first. The bridge holds at most the
   * batches in flight and the one being filled; once a batch is refused, no other is sent (the
   * error comes out of the next `record()` or `end()`).
   */
  private batchSink(
    target: () => Promise<number>,
    onBatch?: StageProgress,
    onRecord?: (r: StagedRecord) => void,
    token: () => string | undefined = () => undefined,
  ): RecordSink & { begin(total: number): Promise<void>; end(): Promise<void>; settled(): Promise<void> } {
    let batch: StagedRecord[] = [];
    let sent = 0;
    let total = 0;
    let numbered = 0;
    let failure: { error: unknown } | undefined;
    const flying = new Set<Promise<void>>();
    /** until fewer than `room` calls are in flight (or one failed) */
    const drain = async (room: number) => {
      while (flying.size >= room && !failure) await Promise.race(flying).catch(() => undefined);
    };
    const send = async () => {
      if (batch.length === 0) return;
      const count = batch.length;
      const object = batch[count - 1]?.object ?? '';
      const json = JSON.stringify(batch);
      batch = [];
      await drain(STAGE_IN_FLIGHT);
      if (failure) throw failure.error;
      const number = ++numbered;
      const call = (async () => {
        const id = await target();
        stageAnswer.parse(await this.up(token(), MODEL, 'api_stage_json', [[id], json, number]));
        sent += count;
        await onBatch?.(sent, total, object);
      })();
      flying.add(call);
      call.then(
        () => flying.delete(call),
        (error: unknown) => {
          failure ??= { error };
          flying.delete(call);
        },
      );
      // a large export: each batch leaves megabytes of request text behind (JSON, XML, bytes);
      // collected while Odoo stages the batches in flight (issue #11: peak RSS of the CLI staging a
      // 100,000-row export into Odoo 289 MB → 235 MB, its dry run 210 MB)
      if (sent >= COLLECT_AFTER) collectGarbage();
    };
    const settled = async () => {
      while (flying.size > 0) await Promise.race(flying).catch(() => undefined);
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
      end: async () => {
        await send();
        await settled();
        if (failure) throw failure.error;
      },
      /** every batch in flight answered, or failed (cleanup waits for them before removing records) */
      settled,
    };
  }

  /**
   * stageAll for records that are finished while they are sent: `produce` stages into the sink
   * it is given; the migration is created (and its upload opened, `beginUpload`) when the first
   * record is ready (a bad table sends nothing), and deleted again if anything fails after that.
   */
  async stageAllFrom<R>(
    name: string,
    source: string,
    produce: (
      sink: RecordSink,
    ) => Promise<{ extra: { profile: unknown; inventory: string }; blobs: BlobFile[]; result: R }>,
  ): Promise<{ report: MigrationReport; result: R }> {
    let created: Promise<number> | undefined;
    let token: string | undefined;
    const open = async (): Promise<number> => {
      const id = await this.create(name, source);
      try {
        token = await this.beginUpload(id);
      } catch (err) {
        await this.odoo.call(MODEL, 'unlink', [[id]]).catch(() => undefined);
        throw err;
      }
      return id;
    };
    const target = () => (created ??= open());
    const sink = this.batchSink(target, undefined, undefined, () => token);
    try {
      const { extra, blobs, result } = await produce(sink);
      await sink.end();
      const id = await target();
      await this.uploadBlobs(id, blobs, token);
      await this.setProfile(id, extra.profile, extra.inventory, token);
      return { report: reportSchema.parse(await this.up(token, MODEL, 'api_finish_staging', [[id]])), result };
    } catch (err) {
      await sink.settled();
      const id = await created?.catch(() => undefined);
      if (id !== undefined) await this.odoo.call(MODEL, 'unlink', [[id]]).catch(() => undefined);
      throw err;
    }
  }

  /**
   * stageInto for records that are finished while they are sent (see stageInto): the records of
   * an earlier upload that this one did not send are removed after the last batch. One upload
   * (`beginUpload` when the first record is ready, or the caller's `uploadToken`), as stageInto.
   */
  async stageIntoFrom<R>(
    id: number,
    produce: (
      sink: RecordSink,
    ) => Promise<{ extra: { profile: unknown; inventory: string; lines: unknown[] }; blobs: BlobFile[]; result: R }>,
    onBatch?: StageProgress,
    uploadToken?: string,
  ): Promise<{ report: MigrationReport; result: R }> {
    // an earlier upload's records, never those in Odoo already (a delta update staged earlier in
    // the round keeps what Odoo has in delta_before_json): stale unless this upload sends the key
    const stale = new Map<string, number>();
    let delta = false;
    let existing: number | undefined;
    /** when the first record is ready (every table read: a bad one changes nothing in Odoo) */
    const prepare = async (): Promise<number> => {
      delta = (deltaStates as readonly string[]).includes(await this.state(id));
      if (delta) await this.odoo.call(MODEL, 'api_start_delta', [[id]]);
      const rows = z
        .array(z.object({ id: z.number(), key: z.string(), state: z.string(), delta_before_json: z.unknown() }).loose())
        .parse(
          await this.odoo.call('crm.migration.record', 'search_read', [[['migration_id', '=', id]]], {
            fields: ['key', 'state', 'delta_before_json'],
          }),
        );
      for (const r of rows)
        if (['staged', 'error', 'waiting'].includes(r.state) && !r.delta_before_json) stale.set(r.key, r.id);
      token = uploadToken ?? (await this.beginUpload(id));
      existing = rows.length;
      return id;
    };
    let token: string | undefined;
    let prepared: Promise<number> | undefined;
    const target = () => (prepared ??= prepare());
    const sink = this.batchSink(
      target,
      onBatch,
      (r) => void stale.delete(r.key),
      () => token,
    );
    try {
      const { extra, blobs, result } = await produce(sink);
      await target();
      await sink.end();
      const gone = [...stale.values()];
      for (let i = 0; i < gone.length; i += STAGE_BATCH)
        await this.odoo.call('crm.migration.record', 'unlink', [gone.slice(i, i + STAGE_BATCH)]);
      await this.uploadBlobs(id, blobs, token);
      await this.setProfile(id, extra.profile, extra.inventory, token);
      if (!delta) await this.up(token, MODEL, 'api_set_mapping', [[id], extra.lines]); // a committed mapping stays
      return { report: reportSchema.parse(await this.up(token, MODEL, 'api_finish_staging', [[id]])), result };
    } catch (err) {
      // only what this upload staged (Odoo tags each record with its upload's token); nothing
      // when it never opened (a bad table: the caller closes the upload it opened)
      await sink.settled();
      if (token !== undefined) {
        if (existing === 0) await this.discardUpload(id, token).catch(() => undefined);
        else this.leftOpen.set(id, token);
      }
      throw err;
    }
  }

  /** The bytes of staged files, one file after another. */
  async uploadBlobs(id: number, blobs: BlobFile[], token?: string): Promise<void> {
    for (const blob of blobs) await this.uploadBlob(id, blob, token);
  }

  /**
   * One file's bytes in chunks of BLOB_CHUNK streamed from disk (`api_stage_blob(id, key,
   * offset, base64)`): never the whole file in memory. The file must still be the one hashed at
   * staging: a size that differs fails here, other bytes fail Odoo's checksum at commit.
   */
  async uploadBlob(id: number, blob: BlobFile, token?: string): Promise<BlobAnswer> {
    let offset = 0;
    let answer: BlobAnswer = { key: blob.key, received: 0, size: blob.size, complete: blob.size === 0 };
    for await (const chunk of fileChunks(blob.path)) {
      if (offset + chunk.length > blob.size) break;
      answer = blobAnswerSchema.parse(
        await this.up(token, MODEL, 'api_stage_blob', [[id], blob.key, offset, chunk.toString('base64')]),
      );
      offset += chunk.length;
    }
    if (!answer.complete || offset !== blob.size) {
      throw new InputError(
        { file: blob.path, field: blob.key },
        `the file changed since it was read: ${offset} of ${blob.size} bytes sent (stage again)`,
      );
    }
    return answer;
  }

  /** Where Odoo's upload wizard sends files (Settings → CRM Migration). Needs an admin. */
  async setBridgeSettings(url: string, token: string): Promise<void> {
    await this.odoo.call('ir.config_parameter', 'set_param', ['crm_migration.bridge_url', url]);
    await this.odoo.call('ir.config_parameter', 'set_param', ['crm_migration.bridge_token', token]);
  }

  /**
   * The language-model settings of Odoo (Settings → CRM Migration), read by the bridge itself:
   * the only place an LLM URL may come from (never from a request). Needs the bridge's Odoo
   * user to be an administrator; null when none is set.
   */
  async llmSettings(): Promise<{ url: string; key?: string; model?: string } | null> {
    const param = async (name: string) =>
      z
        .union([z.string(), z.literal(false)])
        .parse(await this.odoo.call('ir.config_parameter', 'get_param', [`crm_migration.${name}`])) || '';
    const url = await param('llm_url');
    if (!url) return null;
    const [key, model] = [await param('llm_key'), await param('llm_model')];
    return { url, ...(key ? { key } : {}), ...(model ? { model } : {}) };
  }

  /** `fields_get` of a model: labels, types, selection values, read-only and stored flags. */
  async fieldsGet(model: string): Promise<FieldsGet> {
    return fieldsGetSchema.parse(
      await this.odoo.call(model, 'fields_get', [], {
        attributes: ['type', 'string', 'selection', 'readonly', 'store'],
      }),
    );
  }

  /** Which of these Odoo modules are installed (sale, account, calendar...). */
  async installedApps(names: string[]): Promise<Record<string, boolean>> {
    if (names.length === 0) return {};
    return z.record(z.string(), z.boolean()).parse(await this.odoo.call(MODEL, 'api_installed_apps', [names]));
  }

  /** The profile goes as one JSON string (`profile_json`): as nested XML-RPC structs, the profile
   *  of a million rows (thousands of merged duplicates) cost ~80 MB of peak RSS to marshal. */
  async setProfile(id: number, profile: unknown, inventoryMarkdown: string, token?: string): Promise<void> {
    await this.up(token, MODEL, 'api_set_profile', [
      [id],
      { profile_json: JSON.stringify(profile), inventory_markdown: inventoryMarkdown },
    ]);
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
    const rows = z
      .array(z.object({ id: z.number() }).loose())
      .parse(
        await this.odoo.call(
          'res.users',
          'search_read',
          [['|', ['login', '=ilike', login], ['email', '=ilike', login]]],
          { fields: ['id'], limit: 2 },
        ),
      );
    return rows.length === 1 ? (rows[0] as { id: number }).id : null;
  }

  /** Commit everything staged, or with `sample` a representative slice of that many records. */
  async commit(id: number, batchSize = 500, sample?: number): Promise<MigrationReport> {
    return reportSchema.parse(
      await this.odoo.call(MODEL, 'api_commit', [[id], { batch_size: batchSize, ...(sample ? { sample } : {}) }]),
    );
  }

  /**
   * Commit everything staged with `workers` chunks at a time (issue #11; docs/staging-contract.md,
   * "Parallel and queued commit"): the plan's waves in order, the chunks of a wave side by side,
   * each chunk one call and one transaction on one of Odoo's workers. Same records, links and
   * rollback as `commit`. A chunk that fails for good (after Odoo's own tries) stops the run after
   * its wave: the migration is left `partial`, its records staged, and committing again continues;
   * the error is thrown with the chunk's object and size.
   */
  async commitParallel(
    id: number,
    options: { batchSize?: number; workers?: number; onChunk?: (done: number, total: number) => void } = {},
  ): Promise<ParallelCommitResult> {
    const workers = options.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 1)
      throw new RangeError(`workers must be a positive whole number (got ${workers})`);
    const plan = commitPlanSchema.parse(
      // the plan cuts a wave with fewer chunks than `workers` into smaller ones (none waits idle)
      await this.odoo.call(MODEL, 'api_commit_plan', [[id], { batch_size: options.batchSize ?? 500, workers }]),
    );
    let done = 0;
    let retries = 0;
    let failure: Error | undefined;
    for (const wave of plan.waves) {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < wave.length && !failure) {
          const chunk = wave[next++] as CommitChunk;
          try {
            const answer = chunkAnswerSchema.parse(await this.odoo.call(MODEL, 'api_commit_chunk', [[id], chunk]));
            done += answer.done;
            retries += answer.attempts - 1;
            options.onChunk?.(done, plan.total);
          } catch (e) {
            failure ??= new OdooError(
              `commit of a chunk of ${chunk.ids.length} ${chunk.object} records failed: ${(e as Error).message}`,
            );
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(workers, wave.length) }, lane));
      if (failure) break;
    }
    const { waves, ...rest } = plan;
    const report = reportSchema.parse(await this.odoo.call(MODEL, 'api_commit_finish', [[id], rest]));
    if (failure) throw failure;
    return { report, chunks: waves.reduce((n, w) => n + w.length, 0), waves: waves.length, retries };
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
    const rows = z
      .array(z.object({ state: z.string() }).loose())
      .parse(await this.odoo.call(MODEL, 'search_read', [[['id', '=', id]]], { fields: ['state'] }));
    if (rows.length !== 1) throw new OdooError(`migration ${id} does not exist (or you may not read it)`);
    return (rows[0] as { state: string }).state;
  }

  /** Decide a delta round's conflicts (all, or those of `keys`): take the source value or keep Odoo's. */
  async resolveDelta(id: number, take: DeltaDecision, keys?: string[]): Promise<MigrationReport> {
    return reportSchema.parse(
      await this.odoo.call(MODEL, 'api_delta_resolve', [[id], { take, ...(keys?.length ? { keys } : {}) }]),
    );
  }

  /** Archive, or delete (only records the migration created), the records gone from the newer export. */
  async deltaGone(id: number, action: GoneAction, keys?: string[]): Promise<MigrationReport> {
    return reportSchema.parse(
      await this.odoo.call(MODEL, 'api_delta_gone', [[id], { action, ...(keys?.length ? { keys } : {}) }]),
    );
  }

  async report(id: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_report', [[id]]));
  }

  /** Odoo's reconciliation of every uploaded file: its rows against the records staged from it. */
  async reportFiles(id: number): Promise<FileReportRow[]> {
    return z.array(fileReportRowSchema).parse(await this.odoo.call(MODEL, 'api_report_files', [[id]]));
  }
}
