/**
 * POST /migrations/:id/extract against a real Odoo 18, for an API source read from a local
 * stand-in for Ontraport's documented REST API (test/helpers/ontraport-standin.ts) through the API
 * toolkit: the route answers 202 and the extraction runs in the background, telling Odoo how far
 * it is; a page that stays down stops it, reported to Odoo as failed and resumable with nothing
 * staged; the resumed run re-reads the pages it kept, fetches only the rest, and stages every
 * record once. Credentials are checked before anything starts.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { registerSource } from '../../bridge/src/sources/registry.js';
import { spoolDirOf } from '../../bridge/src/jobs/staging-jobs.js';
import { OntraportStandin, standinContacts } from '../helpers/ontraport-standin.js';
import { standinSource } from '../helpers/standin-source.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const TOKEN = 'e2e-extract-token-0123456789';
const N = 130;

async function jobEnd(id: number, timeoutMs = 90_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await odoo.one(
      'crm.migration',
      [['id', '=', id]],
      ['state', 'job', 'job_state', 'job_phase', 'job_object', 'job_message', 'job_resumable'],
    );
    if (m.job_state !== 'running' && m.job_state !== 'queued') return m;
    if (Date.now() > until)
      throw new Error(`the job of migration ${id} is still ${String(m.job_state)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('an API extraction runs in the background, stops, and resumes where it stopped', async (t) => {
  const standin = await new OntraportStandin({ contacts: standinContacts(N), retryAfterSeconds: 1 }).start();
  t.teardown(() => standin.stop());
  t.teardown(registerSource(standinSource(() => standin.url, { maxAttempts: 3 })));
  const spoolRoot = await mkdtemp(join(tmpdir(), 'crm-extract-e2e-'));
  t.teardown(() => rm(spoolRoot, { recursive: true, force: true }));
  const app = await buildApp({
    config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, BRIDGE_SPOOL_DIR: spoolRoot }),
    migrations: odoo.migrations,
  });
  t.teardown(() => app.close());
  const id = await odoo.migrations.create('Extraction, resumed', 'standin_ontraport');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const extract = (payload: Record<string, unknown>) =>
    app.inject({
      method: 'POST',
      url: `/migrations/${id}/extract`,
      payload,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
  const records = () => odoo.count('crm.migration.record', [['migration_id', '=', id]]);
  const credentials = { api_key: 'key-123', app_id: 'app-456' };

  const noKey = await extract({ source: 'standin_ontraport', credentials: { api_key: 'key-123' } });
  t.equal(noKey.statusCode, 422, 'a credential the source declares is missing');
  t.match(noKey.json(), { field: 'app_id' });
  t.equal(standin.total, 0, 'nothing asked of the API');

  // 1. the page at start=100 stays down: the job fails, resumable, nothing staged
  standin.down.add(100);
  const first = await extract({ source: 'standin_ontraport', credentials });
  t.equal(first.statusCode, 202, first.body);
  t.match(first.json(), { id, status: 'started' });
  let m = await jobEnd(id);
  t.match(m, { job: 'upload', job_state: 'failed', job_resumable: true });
  t.match(m.job_message, /start=100.*gave up after 3 tries/);
  t.equal(await records(), 0, 'nothing staged from a stopped extraction');
  t.ok(existsSync(spoolDirOf(spoolRoot, id)), 'what was fetched is kept');
  const asked = new Map(standin.requests);

  // 2. resumed: pages 0 and 50 come from the spool, 100 is fetched once, everything is staged
  standin.down.delete(100);
  const resumed = await extract({ source: 'standin_ontraport', credentials, resume: true });
  t.equal(resumed.statusCode, 202, resumed.body);
  t.match(resumed.json(), { status: 'resumed' });
  m = await jobEnd(id);
  t.equal(m.job_state, 'done', String(m.job_message));
  t.equal(standin.requests.get(0), asked.get(0), 'page start=0 not asked again');
  t.equal(standin.requests.get(50), asked.get(50), 'page start=50 not asked again');
  t.equal((standin.requests.get(100) ?? 0) - (asked.get(100) ?? 0), 1, 'page start=100 fetched once');
  t.equal(
    await odoo.count('crm.migration.record', [
      ['migration_id', '=', id],
      ['object', '=', 'contact'],
    ]),
    N,
    'every contact staged once',
  );
  t.match(m.state, /^(uploaded|mapped)$/, 'staging finished (api_finish_staging)');
  t.notOk(existsSync(spoolDirOf(spoolRoot, id)), 'the spool is removed once done');

  const again = await extract({ source: 'standin_ontraport', credentials, resume: true });
  t.equal(again.statusCode, 422, 'nothing left to resume');
  t.match(again.json(), { field: 'resume' });
});
