/**
 * The transport the bridge picks, against the real Odoo of the run:
 * - Odoo 19: an API key made through res.users.apikeys (the user's own flow), then the Kartra
 *   sample migrated through the CLI over JSON-2 (`ODOO_API_KEY`): staged, committed, read back
 *   over JSON-2 and over XML-RPC (same values), rolled back; Odoo's own refusals (a UserError,
 *   a wrong key) come back as the same messages XML-RPC gives.
 * - Odoo 17 and 18: no JSON-2 API; the bridge stays on XML-RPC even with an API key set.
 */
import t from 'tap';
import { main } from '../../bridge/src/cli.js';
import { odooFromEnv } from '../../bridge/src/config.js';
import { AutoTransport, majorVersion } from '../../bridge/src/odoo/auto-transport.js';
import { Json2Transport, serverVersion } from '../../bridge/src/odoo/json2-transport.js';
import { XmlRpcTransport } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { OdooError } from '../../bridge/src/odoo/transport.js';
import { samples } from '../helpers/paths.js';
import { ODOO_SERIES_RE, odooEnvPresent } from '../helpers/odoo.js';
import { createApiKey } from '../helpers/odoo-apikey.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

// the connection without an API key (scripts/test-all.sh may give one through ODOO_API_KEYS)
const { apiKey: _givenKey, ...conn } = odooFromEnv();
const version = await serverVersion(conn.url);
const PARTNER_FIELDS = ['name', 'email', 'phone', 'city', 'zip', 'website', 'parent_id', 'category_id', 'is_company'];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('the server version is the one of the run', async (t) => {
  t.match(version, ODOO_SERIES_RE);
});

if (majorVersion(version) >= 19) {
  const apiKey = await createApiKey(conn.url, conn.db, conn.user, conn.password);
  const json2 = new Json2Transport({ ...conn, apiKey });
  const xmlrpc = new XmlRpcTransport(conn);

  t.test('Odoo 19 with an API key: JSON-2 is chosen and answers', async (t) => {
    t.equal(await new AutoTransport({ ...conn, apiKey }).kind(), 'json2');
    t.equal(await new AutoTransport(conn).kind(), 'xmlrpc', 'without an API key: XML-RPC, which 19 still serves');
    t.match(await json2.version(), /^19\./);
    const [me] = (await json2.call('res.users', 'search_read', [[['login', '=', conn.user]]], {
      fields: ['login'],
    })) as { login: string }[];
    t.equal(me?.login, conn.user, 'the key acts as its user');
  });

  t.test(
    'Odoo 19 over JSON-2: the Kartra sample staged, committed, read back, rolled back through the CLI',
    async (t) => {
      const before = await json2.call('res.partner', 'search_count', [[]], { context: { active_test: false } });
      process.env.ODOO_API_KEY = apiKey;
      t.teardown(() => {
        delete process.env.ODOO_API_KEY;
      });
      const staged = await cli(['stage', '--source', 'kartra', ...samples.map((s) => s.path)]);
      t.equal(staged.code, 0, staged.err);
      const id = Number(staged.out.trim());
      t.ok(id > 0, 'stage prints the migration id');
      const committed = await cli(['commit', String(id), '--json']);
      t.equal(committed.code, 0, committed.err);
      const report = JSON.parse(committed.out) as { state: string; counts: Record<string, number> };
      t.equal(report.state, 'committed');
      t.equal(report.counts.error, 1, 'the invalid-email row stays an error, as over XML-RPC');
      const after = await json2.call('res.partner', 'search_count', [[]], { context: { active_test: false } });
      t.equal(
        Number(after) - Number(before),
        16 + 11 + 1,
        '16 new contacts + 11 companies + the "Imported from kartra" author',
      );
      const domain = [['email', '=', 'ada.lovelace@example.com']];
      const overJson2 = await json2.call('res.partner', 'search_read', [domain], { fields: PARTNER_FIELDS });
      const overXmlRpc = await xmlrpc.call('res.partner', 'search_read', [domain], { fields: PARTNER_FIELDS });
      t.same(overJson2, overXmlRpc, 'the same partner read over JSON-2 and over XML-RPC');
      t.match(overJson2, [{ name: 'Ada Lovelace', phone: '+442079460018', city: 'London', zip: 'SW1Y 4JH' }]);
      const rolled = await cli(['rollback', String(id), '--json']);
      t.equal(rolled.code, 0, rolled.err);
      t.equal(JSON.parse(rolled.out).state, 'rolled_back');
      t.equal(
        await json2.call('res.partner', 'search_count', [[]], { context: { active_test: false } }),
        before,
        'every partner of the migration removed',
      );
    },
  );

  t.test("Odoo 19: Odoo's refusals over JSON-2 read as over XML-RPC; a wrong key is refused", async (t) => {
    const viaJson2 = await json2.call('crm.migration', 'api_create', [{ name: '', source: 'kartra' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const viaXmlRpc = await xmlrpc.call('crm.migration', 'api_create', [{ name: '', source: 'kartra' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(viaJson2 instanceof OdooError, String(viaJson2));
    t.match(String((viaJson2 as Error).message), /api_create: key 'name' must be a non-empty string/);
    t.equal((viaJson2 as Error).message, (viaXmlRpc as Error).message, 'the same message on both transports');
    const wrong = new Json2Transport({ ...conn, apiKey: 'not-a-key' });
    const refused = await wrong.call('res.partner', 'search_count', [[]]).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(refused instanceof OdooError);
    t.match(String((refused as Error).message), /refused the API key/);
  });
} else {
  t.test(`Odoo ${version}: no JSON-2 API, the bridge stays on XML-RPC even with an API key`, async (t) => {
    t.equal(await new AutoTransport({ ...conn, apiKey: 'some-key' }).kind(), 'xmlrpc');
    const res = await fetch(new URL('/json/2/res.partner/search_count', conn.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    t.equal(res.status, 404, `Odoo ${version} has no /json/2 route`);
  });
}
