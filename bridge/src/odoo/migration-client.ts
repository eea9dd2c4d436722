/**
 * Typed calls to the addon's RPC API (docs/staging-contract.md); every answer is checked by zod.
 */
import { z } from 'zod';
import type { StagedRecord } from '../staging/record.js';
import type { OdooTransport } from './transport.js';

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

export class MigrationClient {
  constructor(private readonly odoo: OdooTransport) {}

  async create(name: string, source: string): Promise<number> {
    return z.number().int().positive().parse(await this.odoo.call(MODEL, 'api_create', [{ name, source }]));
  }

  /**
   * Creates a migration and stages all records into it. If any batch fails, the half-staged
   * migration is deleted again, so Odoo never holds a partial upload.
   */
  async stageAll(name: string, source: string, records: StagedRecord[], onProgress?: (done: number) => void): Promise<MigrationReport> {
    const id = await this.create(name, source);
    try {
      for (let i = 0; i < records.length; i += STAGE_BATCH) {
        stageAnswer.parse(await this.odoo.call(MODEL, 'api_stage', [[id], records.slice(i, i + STAGE_BATCH)]));
        onProgress?.(Math.min(i + STAGE_BATCH, records.length));
      }
      return reportSchema.parse(await this.odoo.call(MODEL, 'api_finish_staging', [[id]]));
    } catch (err) {
      await this.odoo.call(MODEL, 'unlink', [[id]]).catch(() => undefined);
      throw err;
    }
  }

  async commit(id: number, batchSize = 500): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_commit', [[id], { batch_size: batchSize }]));
  }

  async rollback(id: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_rollback', [[id]]));
  }

  async report(id: number): Promise<MigrationReport> {
    return reportSchema.parse(await this.odoo.call(MODEL, 'api_report', [[id]]));
  }
}
