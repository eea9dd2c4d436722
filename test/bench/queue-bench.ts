/**
 * The commit as OCA queue_job jobs (issue #11, addon crm_migration_queue): what the Commit button
 * does, timed from the job's start to its end (the migration's job_started / job_finished, stamped
 * by Odoo), on an Odoo started with queue_job's job runner. Run it once per channel capacity:
 *
 *   ODOO_QUEUE_JOB_CHANNELS=root:1,root.crm_migration:1 CRM_MIGRATION_SERVER_WIDE=web,queue_job \
 *     CRM_MIGRATION_WORKERS=3 ODOO_QUEUE_JOB_PORT=PORT scripts/odoo.sh serve DB PORT
 *   ODOO_URL=... BENCH_ROWS=5000 node dist/test/bench/queue-bench.js
 *
 * (and again with root:2,root.crm_migration:2). The database needs crm_migration and queue_job
 * (crm_migration_queue installs itself). Prints one JSON line; the records are rolled back after.
 */
import { z } from 'zod';
import { OdooReader } from '../helpers/odoo.js';
import { records } from './bench-records.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT ?? 3600);

const jobRow = z
  .object({
    job_state: z.string(),
    job_message: z.string().or(z.literal(false)),
    job_started: z.string().or(z.literal(false)),
    job_finished: z.string().or(z.literal(false)),
    state: z.string(),
  })
  .loose();

async function main(): Promise<void> {
  const odoo = new OdooReader();
  const p = `qb${Date.now().toString(36)}`;
  const recs = records(p, ROWS);
  const all = [...recs.partners, ...recs.deals];
  const staged = await odoo.migrations.stageAll(`queue bench ${p}`, 'bench', all);
  const t0 = performance.now();
  await odoo.transport.call('crm.migration', 'action_commit', [[staged.id]]);
  let row = jobRow.parse(
    (
      await odoo.read(
        'crm.migration',
        [['id', '=', staged.id]],
        ['job_state', 'job_message', 'job_started', 'job_finished', 'state'],
      )
    )[0],
  );
  while (['queued', 'running'].includes(row.job_state)) {
    if ((performance.now() - t0) / 1000 > TIMEOUT_S) throw new Error(`the commit job did not end in ${TIMEOUT_S} s`);
    await new Promise((r) => setTimeout(r, 1000));
    row = jobRow.parse(
      (
        await odoo.read(
          'crm.migration',
          [['id', '=', staged.id]],
          ['job_state', 'job_message', 'job_started', 'job_finished', 'state'],
        )
      )[0],
    );
  }
  const wallMs = performance.now() - t0;
  const jobMs =
    row.job_started && row.job_finished ? Date.parse(`${row.job_finished}Z`) - Date.parse(`${row.job_started}Z`) : NaN;
  const jobs = await odoo.count('queue.job', [['func_string', 'like', `crm.migration(${staged.id},)`]]);
  const failedJobs = await odoo.count('queue.job', [
    ['func_string', 'like', `crm.migration(${staged.id},)`],
    ['state', '=', 'failed'],
  ]);
  const report = await odoo.migrations.report(staged.id);
  const t1 = performance.now();
  await odoo.migrations.rollback(staged.id, 'undo');
  const rollbackMs = performance.now() - t1;
  process.stdout.write(
    `${JSON.stringify({
      rows: ROWS,
      records: all.length,
      channels: process.env.ODOO_QUEUE_JOB_CHANNELS ?? '(server setting)',
      jobState: row.job_state,
      message: row.job_message,
      jobMs,
      wallMs: Math.round(wallMs),
      recordsPerSecond: Math.round(all.length / (jobMs / 1000)),
      jobs,
      failedJobs,
      committed: report.counts.committed,
      matched: report.counts.matched,
      failed: report.counts.failed,
      rollbackMs: Math.round(rollbackMs),
    })}\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`queue bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
