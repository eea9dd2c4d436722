/**
 * Apto through the bridge's HTTP service, the way Odoo's wizard runs it, into a real Odoo 18:
 * `POST /migrations/:id/extract` with the credentials the wizard asks (the local stand-in for the
 * Salesforce REST API as the org) extracts in the background, downloads the files into the
 * migration's spool and stages them with their bytes; `POST /migrations/:id/upload` with a
 * Salesforce Data Export zip unpacks it inside the upload's folder and stages the same org. Both
 * commit with equal bytes and roll back.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';
import { SalesforceStandin } from '../helpers/salesforce-standin.js';
import { aptoExportEntries, aptoOrg, JANE, PDF } from '../helpers/apto-org.js';
import { multipartBody } from '../helpers/multipart.js';
import { writeZip } from '../helpers/zip-writer.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const TOKEN = 'e2e-apto-token-0123456789abc';

async function jobEnd(id: number, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await odoo.one(
      'crm.migration',
      [['id', '=', id]],
      ['state', 'job_state', 'job_phase', 'job_message', 'job_resumable'],
    );
    if (m.job_state !== 'running' && m.job_state !== 'queued') return m;
    if (Date.now() > until) throw new Error(`the job of migration ${id} is still ${String(m.job_state)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function attachmentBytes(): Promise<Buffer | null> {
  const lead = await odoo.read('crm.lead', [['source_key', '=', 'apto:deal:a0P000000000001AAA']], ['id']);
  if (lead.length !== 1) return null;
  const att = await odoo.read(
    'ir.attachment',
    [
      ['res_model', '=', 'crm.lead'],
      ['res_id', '=', Number(lead[0]?.id)],
      ['name', '=', 'Offering Memorandum.pdf'],
    ],
    ['datas'],
  );
  return att.length === 1 ? Buffer.from(String(att[0]?.datas), 'base64') : null;
}

t.test("the wizard's two ways in: extraction from the API, upload of an export zip", async (t) => {
  const existing = await odoo.migrations.userId(JANE);
  const janeId = existing ?? (await odoo.create('res.users', { name: 'Jane Broker', login: JANE, email: JANE }));
  if (existing === null) t.teardown(() => odoo.unlink('res.users', [janeId]).catch(() => undefined));
  const s = await new SalesforceStandin(aptoOrg(), { batchSize: 5 }).start();
  t.teardown(() => s.stop());
  const root = await mkdtemp(join(tmpdir(), 'crm-apto-http-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const app = await buildApp({
    config: serverConfigFromEnv({
      BRIDGE_TOKEN: TOKEN,
      BRIDGE_SPOOL_DIR: join(root, 'spool'),
      BRIDGE_UPLOAD_DIR: root,
    }),
    migrations: odoo.migrations,
  });
  t.teardown(() => app.close());
  const headers = { authorization: `Bearer ${TOKEN}` };

  // 1. the API: a password flow
  const id = await odoo.migrations.create('Apto over HTTP', 'apto');
  const missing = await app.inject({
    method: 'POST',
    url: `/migrations/${id}/extract`,
    headers,
    payload: { source: 'apto', credentials: { login_url: s.url, username: 'broker@apto.example' } },
  });
  t.equal(missing.statusCode, 422, 'neither a token nor the full password flow');
  t.match(missing.json(), { field: 'client_id' });
  const started = await app.inject({
    method: 'POST',
    url: `/migrations/${id}/extract`,
    headers,
    payload: {
      source: 'apto',
      credentials: {
        login_url: s.url,
        client_id: 'cid',
        client_secret: 'csecret',
        username: 'broker@apto.example',
        password: 'pw+token',
      },
    },
  });
  t.equal(started.statusCode, 202);
  const end = await jobEnd(id);
  t.match(end, { job_state: 'done', job_phase: 'done', state: 'uploaded' });
  await odoo.migrations.setFallbackUser(id, janeId);
  await odoo.transport.call('crm.migration', 'action_confirm_mapping', [[id]]).catch(() => undefined);
  const committed = await odoo.migrations.commit(id);
  t.same(committed.failed, []);
  t.same(await attachmentBytes(), PDF, 'the file downloaded by the extraction reached Odoo with equal bytes');
  t.equal((await odoo.migrations.rollback(id, 'undo')).state, 'rolled_back');

  // 2. the export zip through the upload route
  const zip = join(root, 'WE_00D000000000001_1.zip');
  await writeZip(zip, aptoExportEntries());
  const id2 = await odoo.migrations.create('Apto export over HTTP', 'apto_export');
  const body = multipartBody({ source: 'apto_export' }, [{ name: 'WE_00D000000000001_1.zip', path: zip }]);
  const up = await app.inject({
    method: 'POST',
    url: `/migrations/${id2}/upload`,
    payload: body.payload,
    headers: { ...body.headers, ...headers },
  });
  t.equal(up.statusCode, 202);
  t.match(await jobEnd(id2), { job_state: 'done' });
  await odoo.migrations.setFallbackUser(id2, janeId);
  await odoo.transport.call('crm.migration', 'action_confirm_mapping', [[id2]]).catch(() => undefined);
  const c2 = await odoo.migrations.commit(id2);
  t.same(c2.failed, []);
  t.same(await attachmentBytes(), PDF, 'the file from the zip reached Odoo with equal bytes');
  t.equal((await odoo.migrations.rollback(id2, 'undo')).state, 'rolled_back');
});
