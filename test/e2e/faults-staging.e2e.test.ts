/**
 * Issue #12, "Data" 7 and 8: staging is all or nothing from the admin's point of view, and one
 * upload at a time per migration (models/crm_migration_upload.py). Real processes killed by their
 * pid: the built CLI killed while it stages, the built bridge killed while it stages an upload
 * (its temporary copy of the export is removed at its next start), and a CLI upload racing a
 * bridge upload into one migration. Needs `npm run build` and a real Odoo (ODOO_URL...).
 */
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';
import { cli, kartraContacts, startBridge, type Child } from '../helpers/processes.js';
import { multipartBody } from '../helpers/multipart.js';
import { recordOutcome } from '../helpers/fault-table.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}
const odoo = new OdooReader();
const BRIDGE_PORT = Number(process.env.FAULTS_BRIDGE_PORT ?? 18167);
const TOKEN = 'faults-bridge-token-0123456789';
const bridgeEnv = (uploadDir: string) => ({ BRIDGE_TOKEN: TOKEN, BRIDGE_UPLOAD_DIR: uploadDir });
const run = () => `${Date.now() % 100_000_000}`;
const firstId = () => 10_000_000 + (Date.now() % 80_000_000);

async function recordCount(id: number, domain: unknown[] = []): Promise<number> {
  return odoo.count('crm.migration.record', [['migration_id', '=', id], ...domain]);
}

/** Resolves once migration `id` holds at least one staged record (its upload is under way). */
async function stagingStarted(id: () => Promise<number | null>, timeoutMs = 120_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const mid = await id();
    if (mid && (await recordCount(mid)) > 0) return mid;
    if (Date.now() > until) throw new Error('staging did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function migrationNamed(name: string): Promise<number | null> {
  const rows = await odoo.read('crm.migration', [['name', '=', name]], ['id']);
  return rows.length ? Number(rows[0]?.id) : null;
}

async function tryCommit(id: number): Promise<string> {
  try {
    await odoo.migrations.commit(id);
    return 'committed';
  } catch (err) {
    return (err as Error).message;
  }
}

function upload(id: number, file: string): Promise<Response> {
  const body = multipartBody({ source: 'kartra' }, [{ name: 'contacts.csv', path: file }]);
  return fetch(`http://127.0.0.1:${BRIDGE_PORT}/migrations/${id}/upload`, {
    method: 'POST',
    body: new Uint8Array(body.payload),
    headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
  });
}

async function jobEnd(id: number, timeoutMs = 180_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await odoo.one('crm.migration', [['id', '=', id]], ['state', 'job_state', 'job_message']);
    if (m.job_state !== 'running' && m.job_state !== 'queued') return m;
    if (Date.now() > until) throw new Error(`job of migration ${id} still ${String(m.job_state)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

t.test('CLI killed (kill -9) while staging: the half-staged migration cannot be committed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-staging-'));
  const prefix = `kc${run()}`;
  const n = 6000;
  const file = kartraContacts(join(dir, 'contacts.csv'), n, { first: firstId(), prefix });
  const name = `${prefix} killed CLI`;
  const stage = cli(['stage', '--source', 'kartra', '--name', name, file]);
  const id = await stagingStarted(() => migrationNamed(name));
  const killed = await stage.kill();
  t.equal(killed.signal, 'SIGKILL', 'the CLI was killed while staging');
  const staged = await recordCount(id);
  t.ok(staged > 0 && staged < n, `half staged: ${staged} records`);

  const commit = await cli(['commit', String(id)]).finished;
  const report = await odoo.migrations.report(id);
  const partners = await odoo.count('res.partner', [['email', '=like', `${prefix}.%@faults.example`]]);
  t.not(commit.code, 0, 'crm-migrate commit refuses');
  t.match(commit.stderr, /did not finish/, 'and says the upload did not finish');
  t.not(report.state, 'committed');
  t.equal(report.upload_open, true, 'the report shows the open upload');
  t.equal(partners, 0, 'nothing was committed');

  const ok = commit.code !== 0 && /did not finish/.test(commit.stderr) && partners === 0;
  recordOutcome({
    kind: 'fault',
    case: `CLI stage (${n} contacts) killed by pid while staging, then crm-migrate commit`,
    expected: 'commit refused: the upload did not finish (resume by uploading again, or discard)',
    observed: ok
      ? `commit refused (exit ${commit.code}): the upload did not finish; ${staged} half-staged records discarded`
      : `commit exit ${commit.code}, state ${report.state}, ${partners} partners created from ${staged} of ${n} records`,
    ok,
  });
  await odoo.transport.call('crm.migration', 'api_discard_upload', [[id]]);
  t.equal(await recordCount(id), 0, 'discarding the unfinished upload removes what it staged');
  await odoo.transport.call('crm.migration', 'unlink', [[id]]);
});

t.test(
  'bridge killed (kill -9) while staging an upload: no commit, temp copy removed at restart, upload again resumes',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'faults-staging-'));
    const uploadDir = mkdtempSync(join(tmpdir(), 'faults-upload-dir-'));
    const prefix = `kb${run()}`;
    const n = 6000;
    const file = kartraContacts(join(dir, 'contacts.csv'), n, { first: firstId(), prefix });
    const id = await odoo.migrations.create(`${prefix} killed bridge`, 'kartra');
    t.teardown(() => odoo.migrations.rollback(id, 'undo').catch(() => undefined));
    let bridge: Child = await startBridge(BRIDGE_PORT, bridgeEnv(uploadDir));
    t.teardown(() => bridge.kill());
    t.teardown(() =>
      odoo.transport.call('ir.config_parameter', 'set_param', ['crm_migration.upload_stale_seconds', '120']),
    );

    const first = await upload(id, file);
    t.equal(first.status, 202, await first.clone().text());
    await stagingStarted(async () => id);
    await bridge.kill();
    const staged = await recordCount(id);
    const leftBehind = readdirSync(uploadDir).filter((d) => d.startsWith('crm-upload-'));
    t.ok(staged > 0 && staged < n + 40, `half staged: ${staged} records`);
    t.equal(leftBehind.length, 1, 'the killed bridge left its temporary copy of the export');

    const refused = await tryCommit(id);
    t.match(refused, /did not finish/, 'the half-staged migration cannot be committed');
    let removed = false;
    let contacts = 0;
    let partners = 0;
    try {
      bridge = await startBridge(BRIDGE_PORT, bridgeEnv(uploadDir));
      removed = leftBehind.every((d) => !existsSync(join(uploadDir, d)));
      t.ok(removed, 'the restarted bridge removed the temporary copy');

      // the admin stops the dead job (Stop button); the dead upload is stale after
      // crm_migration.upload_stale_seconds: a new upload takes over
      await odoo.transport.call('crm.migration', 'action_reset_job', [[id]]);
      await odoo.transport.call('ir.config_parameter', 'set_param', ['crm_migration.upload_stale_seconds', '2']);
      await new Promise((r) => setTimeout(r, 3000));
      const again = await upload(id, file);
      t.equal(again.status, 202, await again.clone().text());
      const end = await jobEnd(id);
      t.equal(end.job_state, 'done', String(end.job_message));
      contacts = await recordCount(id, [['object', '=', 'contact']]);
      t.equal(contacts, n, 'the new upload staged the whole export');
      await odoo.transport.call('crm.migration', 'action_confirm_mapping', [[id]]);
      const report = await odoo.migrations.commit(id);
      partners = await odoo.count('res.partner', [['email', '=like', `${prefix}.%@faults.example`]]);
      t.equal(partners, n, `all ${n} contacts committed once`);
      t.equal(report.state, 'committed');
    } finally {
      const ok = /did not finish/.test(refused) && removed && partners === n;
      recordOutcome({
        kind: 'fault',
        case: `bridge killed by pid while staging an upload (${n} contacts), restarted, file uploaded again`,
        expected:
          'commit refused while unfinished; temp copy removed at restart; the new upload takes over; all committed once',
        observed: ok
          ? `commit refused; temp copy removed at restart; re-upload staged ${contacts}, committed ${partners} once`
          : `commit: ${refused.slice(0, 80)}; temp copy removed: ${removed}; partners ${partners} of ${n}`,
        ok,
      });
    }
  },
);

t.test('two uploads into one migration at once: the second is refused (409), the first stays whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-staging-'));
  const uploadDir = mkdtempSync(join(tmpdir(), 'faults-upload-dir-'));
  const prefix = `ku${run()}`;
  // long enough that the CLI's upload is still open when the bridge's arrives: staged two
  // batches at a time (issue #11), 4,000 contacts were in Odoo before it did
  const n = 12000;
  const start = firstId();
  const fileA = kartraContacts(join(dir, 'a.csv'), n, { first: start, prefix: `${prefix}a` });
  const fileB = kartraContacts(join(dir, 'b.csv'), 200, { first: start + n, prefix: `${prefix}b` });
  const id = await odoo.migrations.create(`${prefix} two uploads`, 'kartra');
  t.teardown(() => odoo.migrations.rollback(id, 'undo').catch(() => undefined));
  const bridge = await startBridge(BRIDGE_PORT, bridgeEnv(uploadDir));
  t.teardown(() => bridge.kill());

  const cliUpload = cli(['stage', '--source', 'kartra', '--into', String(id), fileA]);
  await stagingStarted(async () => id);
  const second = await upload(id, fileB);
  const body = z
    .object({ message: z.string() })
    .loose()
    .safeParse(await second.json());
  const message = body.success ? body.data.message : '';
  t.equal(second.status, 409, 'the bridge upload is refused with 409');
  t.match(message, /receiving another upload/, 'naming the upload under way');
  const a = await cliUpload.finished;
  t.equal(a.code, 0, `the CLI upload finished: ${a.stderr.slice(-300)}`);
  if (second.status === 202) await jobEnd(id);
  const keysB = await recordCount(id, [
    ['key', '=like', `kartra:contact:%`],
    ['values_json', 'ilike', `${prefix}b.`],
  ]);
  const contacts = await recordCount(id, [['object', '=', 'contact']]);
  t.equal(contacts, n, `the migration holds exactly the first upload's ${n} contacts`);
  t.equal(keysB, 0, 'nothing of the refused upload');
  await odoo.transport.call('crm.migration', 'action_confirm_mapping', [[id]]);
  const report = await odoo.migrations.commit(id);
  const partners = await odoo.count('res.partner', [['email', '=like', `${prefix}a.%@faults.example`]]);
  t.equal(partners, n, 'and commits them all');
  t.equal(report.state, 'committed');
  const ok = second.status === 409 && contacts === n && keysB === 0 && partners === n;
  recordOutcome({
    kind: 'fault',
    case: 'CLI stage --into and a bridge upload into one migration at the same time',
    expected: 'the second refused (409 + message); the first upload whole; its records all committed',
    observed: ok
      ? `second answered 409 "${message.slice(0, 60)}…"; first upload whole (${contacts}); committed ${partners}`
      : `second answered ${second.status}; migration holds ${contacts} contacts of the first, ${keysB} of the second; ${partners} committed`,
    ok,
  });
});
