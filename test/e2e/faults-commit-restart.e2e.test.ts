/**
 * Issue #12, "Data" 10: a commit job interrupted by an Odoo restart is found dead and resumed,
 * without losing or doubling records (models/crm_migration_job.py, _requeue_dead_commit_jobs).
 * The test runs its own Odoo (a child process on FAULTS_ODOO_PORT, database FAULTS_ODOO_DB, which
 * nothing else serves: its cron is the only job runner), queues the commit job as the Commit
 * button does, kills Odoo by its pid (kill -9) while the job runs, starts it again and waits for
 * the job cron to find the dead job and finish it. Needs `npm run build` (the CLI stages).
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { XmlRpcTransport } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { cli, kartraContacts, startOdoo, type Child } from '../helpers/processes.js';
import { recordOutcome } from '../helpers/fault-table.js';

const PORT = Number(process.env.FAULTS_ODOO_PORT ?? 18163);
const DB = process.env.FAULTS_ODOO_DB ?? '';
if (!DB) {
  t.fail('FAULTS_ODOO_DB is not set: a database with crm_migration installed that no other Odoo serves');
  process.exit(1);
}
const conn = {
  url: `http://127.0.0.1:${PORT}`,
  db: DB,
  user: process.env.ODOO_USER ?? 'admin',
  password: process.env.ODOO_PASSWORD ?? 'admin',
};
const cliEnv = { ODOO_URL: conn.url, ODOO_DB: DB };

t.test(
  'Odoo killed (kill -9) while a commit job runs: the job is found dead, resumed, nothing lost or doubled',
  async (t) => {
    let odoo: Child = await startOdoo(DB, PORT);
    t.teardown(() => odoo.kill());
    let rpc = new XmlRpcTransport(conn);
    const count = async (model: string, domain: unknown[]) =>
      z.number().parse(await rpc.call(model, 'search_count', [domain], { context: { active_test: false } }));

    const dir = mkdtempSync(join(tmpdir(), 'faults-restart-'));
    const prefix = `kr${Date.now() % 100_000_000}`;
    const n = 4000;
    const file = kartraContacts(join(dir, 'contacts.csv'), n, {
      first: 10_000_000 + (Date.now() % 80_000_000),
      prefix,
    });
    const stage = await cli(['stage', '--source', 'kartra', '--name', `${prefix} restart`, '--json', file], cliEnv)
      .finished;
    t.equal(stage.code, 0, stage.stderr.slice(-300));
    const id = (JSON.parse(stage.stdout.trim().split('\n').pop() ?? '{}') as { id: number }).id;
    const total = await count('crm.migration.record', [
      ['migration_id', '=', id],
      ['state', '!=', 'error'],
    ]);

    await rpc.call('crm.migration', 'action_commit', [[id]]);
    const until = Date.now() + 180_000;
    let done: number;
    for (;;) {
      done = await count('crm.migration.record', [
        ['migration_id', '=', id],
        ['state', 'in', ['committed', 'matched']],
      ]);
      if (done > 500) break; // tags, custom fields and a first batch of contacts
      if (Date.now() > until) throw new Error('the commit job did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const killed = await odoo.kill();
    t.equal(killed.signal, 'SIGKILL', `Odoo killed while the job ran (${done} of ${total} records committed)`);
    t.ok(done < total, 'the job was not finished');

    let job: Record<string, unknown> = {};
    let committed = 0;
    let partners = 0;
    let links = 0;
    try {
      odoo = await startOdoo(DB, PORT);
      rpc = new XmlRpcTransport(conn);
      const readJob = async () =>
        z.array(z.record(z.string(), z.unknown())).parse(
          await rpc.call('crm.migration', 'search_read', [[['id', '=', id]]], {
            fields: ['state', 'job_state', 'job_message'],
          }),
        )[0] ?? {};
      job = await readJob();
      // the job cron wakes up at least once a minute
      const deadline = Date.now() + 150_000;
      while ((job.job_state === 'running' || job.job_state === 'queued') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
        job = await readJob();
      }
      committed = await count('crm.migration.record', [
        ['migration_id', '=', id],
        ['state', 'in', ['committed', 'matched']],
      ]);
      partners = await count('res.partner', [['email', '=like', `${prefix}.%@faults.example`]]);
      links = await count('crm.migration.link', [['migration_id', '=', id]]);
      t.equal(job.job_state, 'done', `the job finished after the restart: ${String(job.job_message)}`);
      t.equal(committed, total, `all ${total} records committed`);
      t.equal(partners, n, `${n} contacts, none twice`);
      t.equal(links, total, 'one link per record');
      t.equal(job.state, 'committed');
      t.match(job.job_message, /interrupted .* and resumed/, 'the job says it was interrupted and resumed');
    } finally {
      const ok = job.job_state === 'done' && committed === total && partners === n && links === total;
      recordOutcome({
        kind: 'fault',
        case: `Odoo killed by pid while the commit job ran (${done} of ${total} committed), then started again`,
        expected: 'the dead job is found and resumed; every record committed once',
        observed: ok
          ? `job found dead and resumed, done: ${committed} of ${total} committed, ${partners} contacts, ${links} links`
          : `job ${String(job.job_state)} after the restart; ${committed} of ${total} committed, ${partners} contacts, ${links} links`,
        ok,
      });
    }
  },
);
