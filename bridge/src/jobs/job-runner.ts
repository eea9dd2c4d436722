/**
 * Background jobs of the bridge: one job per migration at a time (a second start is refused with
 * 409), its progress reported to Odoo as it goes (`api_job_progress`), and its end (done, or
 * failed with the file, row and field of the bad input) reported the same way. The HTTP route
 * answers 202 as soon as the job is started: Odoo's form follows the job through what it is told.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { InputError } from '../core/input-error.js';
import { OdooError } from '../odoo/transport.js';

export const jobPhases = ['reading', 'extracting', 'staging', 'done', 'failed'] as const;
export type JobPhase = (typeof jobPhases)[number];

/** What Odoo is told (docs/staging-contract.md, `api_job_progress`). */
export const jobProgressSchema = z
  .object({
    /** the job's token: Odoo's own when it started the job, else one the bridge made */
    job: z.string().min(1),
    phase: z.enum(jobPhases),
    /** the file or API object being read, or the staged object */
    object: z.string().optional(),
    done: z.number().int().nonnegative().optional(),
    total: z.number().int().nonnegative().optional(),
    message: z.string().optional(),
    file: z.string().optional(),
    row: z.number().int().optional(),
    field: z.string().optional(),
    /** an API extraction that stopped keeps what it fetched: it can be resumed */
    resumable: z.boolean().optional(),
  })
  .strict();
export type JobProgress = z.infer<typeof jobProgressSchema>;
export type ProgressUpdate = Omit<JobProgress, 'job'>;

/** Where a job's progress goes (MigrationClient.jobProgress: Odoo). */
export interface ProgressSink {
  jobProgress(id: number, progress: JobProgress): Promise<void>;
}

export interface JobContext {
  id: number;
  job: string;
  log: FastifyBaseLogger;
  /** tells Odoo how far the job is; throws when Odoo refuses (the job was stopped there) */
  progress(update: ProgressUpdate): Promise<void>;
}

export interface JobSpec {
  /** Odoo's token for the job, if it sent one */
  token?: string | undefined;
  /** the first thing Odoo is told, before the start is answered */
  first: ProgressUpdate;
  /** the work; its answer is the "done" message */
  run: (ctx: JobContext) => Promise<string>;
  /** whether a failure leaves something to resume from */
  resumable?: (err: unknown) => boolean;
  /** always called at the end (spooled files removed, ...) */
  cleanup?: (outcome: 'done' | 'failed') => Promise<void>;
}

export class JobBusyError extends Error {
  readonly statusCode = 409;
  readonly code = 'job_running';
  constructor(
    id: number,
    readonly job: string,
  ) {
    super(`migration ${id} already has a job running in the bridge (${job}); wait for it to finish`);
    this.name = 'JobBusyError';
  }
}

export interface StartedJob {
  job: string;
  /** settles when the background work has ended and Odoo was told (tests wait on it) */
  finished: Promise<'done' | 'failed'>;
}

/** The failure as Odoo is told it: the bad input's place when there is one. */
export function failureOf(err: unknown): ProgressUpdate {
  if (err instanceof InputError) {
    return {
      phase: 'failed',
      message: err.message,
      file: err.file,
      ...(err.row !== undefined ? { row: err.row } : {}),
      ...(err.field !== undefined ? { field: err.field } : {}),
    };
  }
  if (err instanceof OdooError) return { phase: 'failed', message: `Odoo refused: ${err.message}` };
  return {
    phase: 'failed',
    message: `the bridge stopped on an unexpected error: ${(err as Error)?.message ?? String(err)}`,
  };
}

export class JobRunner {
  private readonly running = new Map<number, string>();

  constructor(
    private readonly sink: ProgressSink,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** the job running for migration `id`, if any */
  current(id: number): string | undefined {
    return this.running.get(id);
  }

  /**
   * Claims migration `id` (JobBusyError when a job runs for it), tells Odoo the first phase (an
   * error there releases the claim and is thrown: nothing started), then runs the work in the
   * background.
   */
  async start(id: number, spec: JobSpec): Promise<StartedJob> {
    const busy = this.running.get(id);
    if (busy) throw new JobBusyError(id, busy);
    const job = spec.token ?? randomUUID();
    this.running.set(id, job);
    const log = this.log.child({ migration: id, job });
    const progress = async (update: ProgressUpdate) =>
      this.sink.jobProgress(id, jobProgressSchema.parse({ job, ...update }));
    try {
      await progress(spec.first);
    } catch (err) {
      this.running.delete(id);
      await spec.cleanup?.('failed').catch((e: unknown) => log.warn({ err: e }, 'cleanup failed'));
      throw err;
    }
    const finished = this.work(id, job, spec, { id, job, log, progress });
    return { job, finished };
  }

  private async work(id: number, job: string, spec: JobSpec, ctx: JobContext): Promise<'done' | 'failed'> {
    let outcome: 'done' | 'failed';
    let last: ProgressUpdate;
    try {
      last = { phase: 'done', message: await spec.run(ctx) };
      outcome = 'done';
    } catch (err) {
      outcome = 'failed';
      if (err instanceof InputError) ctx.log.warn({ err: err.message }, 'job failed on bad input');
      else ctx.log.error({ err }, 'job failed');
      last = { ...failureOf(err), ...(spec.resumable?.(err) ? { resumable: true } : {}) };
    }
    await spec.cleanup?.(outcome).catch((err: unknown) => ctx.log.warn({ err }, 'cleanup failed'));
    // the migration is free before Odoo hears of the end: whoever reads it there may start again
    if (this.running.get(id) === job) this.running.delete(id);
    await ctx
      .progress(last)
      .catch((err: unknown) => ctx.log.error({ err }, `Odoo was not told the job ended (${outcome})`));
    if (outcome === 'done') ctx.log.info('job done');
    return outcome;
  }
}
