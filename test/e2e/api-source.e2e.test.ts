/**
 * An API source end to end: records read from a local stand-in for Ontraport's documented REST
 * API (test/helpers/ontraport-standin.ts) through the API toolkit, staged into a real Odoo 18,
 * committed, read back, rolled back. The extraction meets a 429 with Retry-After and a dropped
 * connection, and first stops at a page that is down: nothing reaches Odoo then, and the resumed
 * extraction fetches only the missing pages before staging.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { apiReader, registerSource } from '../../bridge/src/sources/registry.js';
import { stageToOdoo } from '../../bridge/src/stage-exports.js';
import { readCheckpoint } from '../../bridge/src/sources/api/spool.js';
import { OntraportStandin, standinContacts } from '../helpers/ontraport-standin.js';
import { standinSource } from '../helpers/standin-source.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const N = 130;

t.test(
  'API-read contacts land in Odoo as partners, after a stop and a resume that fetches only what is missing',
  async (t) => {
    const standin = await new OntraportStandin({ contacts: standinContacts(N), retryAfterSeconds: 1 }).start();
    t.teardown(() => standin.stop());
    t.teardown(registerSource(standinSource(() => standin.url, { maxAttempts: 3 })));
    const dir = await mkdtemp(join(tmpdir(), 'crm-extract-e2e-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const credentials = { api_key: 'key-123', app_id: 'app-456' };
    const partnersBefore = await odoo.count('res.partner');
    const migrationsBefore = await odoo.count('crm.migration');

    // 1. page start=100 is down: the extraction stops, and nothing is staged in Odoo
    standin.trouble.set(0, ['drop']);
    standin.trouble.set(50, ['retry-after']);
    standin.down.add(100);
    const stopped = await stageToOdoo(
      odoo.migrations,
      'standin_ontraport',
      apiReader('standin_ontraport', credentials, { dir: dir }),
    ).catch((e: unknown) => e);
    t.match(
      (stopped as Error).message,
      /Ontraport API \(stand-in\), GET \/1\/Contacts\?start=100&range=50: connection failed .*gave up after 3 tries/,
    );
    t.equal(await odoo.count('crm.migration'), migrationsBefore, 'no migration made from a stopped extraction');
    t.equal(await odoo.count('res.partner'), partnersBefore);
    t.same((await readCheckpoint(dir))?.objects.Contacts, { pages: 2, rows: 100, complete: false, next: 100 });

    // 2. resumed: pages 0 and 50 come from the spool, 100 is fetched, then everything is staged
    standin.down.delete(100);
    const asked = new Map(standin.requests);
    const { report: staged, staged: result } = await stageToOdoo(
      odoo.migrations,
      'standin_ontraport',
      apiReader('standin_ontraport', credentials, { dir: dir }),
      { name: 'Stand-in API e2e' },
    );
    t.equal(standin.requests.get(0), asked.get(0), 'page start=0 not asked again');
    t.equal(standin.requests.get(50), asked.get(50), 'page start=50 not asked again');
    t.equal((standin.requests.get(100) ?? 0) - (asked.get(100) ?? 0), 1, 'page start=100 fetched once on resume');
    t.equal(result.profile.files[0]?.rows, N);
    t.equal(staged.source, 'standin_ontraport');

    const committed = await odoo.migrations.commit(staged.id);
    t.equal(committed.state, 'committed');
    t.same(committed.failed, []);
    t.equal(await odoo.count('res.partner'), partnersBefore + N, `${N} partners created`);
    const [c1] = await odoo.read(
      'res.partner',
      [['email', '=', 'contact1@standin.example']],
      ['name', 'phone', 'city', 'is_company'],
    );
    t.match(c1, { name: 'First1 Last1', phone: '+14155551000', city: 'Santa Barbara', is_company: false });
    const [c130] = await odoo.read(
      'res.partner',
      [['email', '=', `contact${N}@standin.example`]],
      ['name', 'phone', 'city'],
    );
    t.match(c130, { name: `First${N} Last${N}`, phone: '+14155551129', city: false });
    const emails = (await odoo.read('res.partner', [['email', '=like', '%@standin.example']], ['email'])).map(
      (r) => r.email,
    );
    t.equal(new Set(emails).size, N, 'every contact once');

    const rolled = await odoo.migrations.rollback(staged.id);
    t.equal(rolled.state, 'rolled_back');
    t.equal(await odoo.count('res.partner'), partnersBefore, 'rollback removes them again');
  },
);
