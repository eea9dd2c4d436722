/**
 * Security probes of issue #12 (items 1-5) against a real Odoo 18, over XML-RPC as a Migration
 * Manager who is not an administrator (created here: Migration Manager, Sales Administrator and
 * Contact Creation for the business records; no Settings, no rights on ir.model), and against the bridge's HTTP routes. Each probe records one
 * row of the fault table (test/helpers/fault-table.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { main } from '../../bridge/src/cli.js';
import { buildApp } from '../../bridge/src/http/app.js';
import { odooFromEnv, serverConfigFromEnv } from '../../bridge/src/config.js';
import { XmlRpcTransport } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { multipartBody } from '../helpers/multipart.js';
import { samples } from '../helpers/paths.js';
import { ODOO_SERIES, OdooReader, odooEnvPresent } from '../helpers/odoo.js';
import { recordOutcome } from '../helpers/fault-table.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
/** A user's groups: `groups_id` up to 18, `group_ids` from 19 on. */
const GROUPS_FIELD = Number(ODOO_SERIES) >= 19 ? 'group_ids' : 'groups_id';
const TOKEN = 'e2e-security-token-0123456789';
const LOGIN = `sec-manager-${process.pid}`;
const PASSWORD = 'sec-manager-pw-0123456789';
let manager: XmlRpcTransport;

async function xmlid(module: string, name: string): Promise<number> {
  const row = await odoo.one(
    'ir.model.data',
    [
      ['module', '=', module],
      ['name', '=', name],
    ],
    ['res_id'],
  );
  return Number(row.res_id);
}

/** The outcome of an RPC call: its value, or Odoo's refusal (first line of the fault). */
async function attempt(
  fn: () => Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** One probe = one tap assertion and one fault-table row. */
function probe(t: Test, what: string, expected: string, ok: boolean, observed: string): void {
  t.ok(ok, `${what}: ${observed}`);
  recordOutcome({ kind: 'security', case: what, expected, observed, ok });
}

async function refused(
  t: Test,
  what: string,
  expected: RegExp,
  call: () => Promise<unknown>,
  label: string,
): Promise<void> {
  const got = await attempt(call);
  const observed = got.ok
    ? `accepted (${JSON.stringify(got.value).slice(0, 120)})`
    : `refused: ${got.error.split('\n')[0]?.slice(0, 160)}`;
  probe(t, what, label, !got.ok && expected.test(got.error), observed);
}

async function cli(args: string[], asManager = true): Promise<{ code: number; out: string; err: string }> {
  const saved = { user: process.env.ODOO_USER, password: process.env.ODOO_PASSWORD };
  if (asManager) Object.assign(process.env, { ODOO_USER: LOGIN, ODOO_PASSWORD: PASSWORD });
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(
      args,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    Object.assign(process.env, { ODOO_USER: saved.user, ODOO_PASSWORD: saved.password });
  }
}

const mgr = (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
  manager.call(model, method, args, kwargs);
const customFields = () =>
  odoo.count('ir.model.fields', [
    ['model', '=', 'res.partner'],
    ['state', '=', 'manual'],
  ]);

t.before(async () => {
  const groups = [
    await xmlid('base', 'group_user'),
    await xmlid('crm_migration', 'group_crm_migration_manager'),
    await xmlid('sales_team', 'group_sale_manager'),
    await xmlid('base', 'group_partner_manager'),
  ];
  const uid = await odoo.create('res.users', {
    name: 'Security probe manager',
    login: LOGIN,
    password: PASSWORD,
    [GROUPS_FIELD]: [[6, 0, groups]],
  });
  manager = new XmlRpcTransport({ ...odooFromEnv(), user: LOGIN, password: PASSWORD });
  // has_group: of the records from 18 on; of the calling user on 17
  const admin =
    Number(ODOO_SERIES) >= 18
      ? await mgr('res.users', 'has_group', [[uid], 'base.group_system'])
      : await mgr('res.users', 'has_group', ['base.group_system']);
  if (admin !== false) throw new Error('the probe user must not be an administrator');
});

let migrationId = 0;

t.test('item 5: a Migration Manager alone commits a Kartra migration that creates custom fields', async (t) => {
  const before = await customFields();
  await refused(
    t,
    'manager creates an ir.model.fields record directly',
    /not allowed|access/i,
    () =>
      mgr('ir.model.fields', 'create', [{ name: 'x_probe', model_id: 1, ttype: 'char', field_description: 'probe' }]),
    'refused: the group has no rights on ir.model',
  );
  const staged = await cli(['stage', '--source', 'kartra', ...samples.map((s) => s.path)]);
  t.equal(staged.code, 0, staged.err);
  migrationId = Number(staged.out.trim());
  const committed = await cli(['commit', String(migrationId), '--json']);
  const report =
    committed.code === 0 ? (JSON.parse(committed.out) as { state: string; counts: Record<string, number> }) : null;
  const created = (await customFields()) - before;
  // fields an earlier run of another test kept are reused (matched), the others created
  const schema = await odoo.read(
    'crm.migration.record',
    [
      ['migration_id', '=', migrationId],
      ['model', '=', 'ir.model.fields'],
    ],
    ['state'],
  );
  const landed = schema.filter((r) => r.state === 'committed' || r.state === 'matched').length;
  probe(
    t,
    'Kartra commit with custom fields by a Migration Manager (not admin)',
    'committed; every x_ custom field created (addon code, sudo, checked) or reused',
    committed.code === 0 && report?.state === 'committed' && schema.length > 0 && landed === schema.length,
    report
      ? `${report.state}, ${report.counts.committed} records committed, ${landed} of ${schema.length} custom fields landed (${created} created)`
      : `exit ${committed.code}: ${committed.err}`,
  );

  // a custom field no earlier run can have made: always created through the checked sudo path
  const name = `x_sec_probe_${process.pid}`;
  const own = Number(
    await mgr('crm.migration', 'api_create', [{ name: 'Security probes: own custom field', source: 'generic_csv' }]),
  );
  await mgr('crm.migration', 'api_stage', [
    [own],
    [
      {
        key: `sec:custom_field:${name}`,
        object: 'custom_field',
        model: 'ir.model.fields',
        values: { name, model: 'res.partner', field_description: 'Probe level', ttype: 'char', state: 'manual' },
        refs: {},
        lookups: { model_id: { model: 'ir.model', field: 'model', value: 'res.partner' } },
        match: [['name', 'model']],
      },
      {
        key: 'sec:contact:own',
        object: 'contact',
        model: 'res.partner',
        values: { name: 'Own Field Probe', email: 'own@sec.example', [name]: 'gold' },
        refs: {},
        lookups: {},
        match: [['email']],
        deps: [`sec:custom_field:${name}`],
      },
    ],
  ]);
  const ownCommit = await attempt(() => mgr('crm.migration', 'api_commit', [[own], {}]));
  const field = await odoo.count('ir.model.fields', [
    ['model', '=', 'res.partner'],
    ['name', '=', name],
  ]);
  const value = field
    ? (await odoo.read('res.partner', [['email', '=', 'own@sec.example']], [name]))[0]?.[name]
    : undefined;
  probe(
    t,
    'a Migration Manager commits a new x_ field and a contact using it',
    'committed; the field exists and holds the value',
    ownCommit.ok && field === 1 && value === 'gold',
    ownCommit.ok ? `field ${field ? 'created' : 'missing'}, value ${String(value)}` : `refused: ${ownCommit.error}`,
  );
  const ownRollback = await attempt(() => mgr('crm.migration', 'api_rollback', [[own], { on_conflict: 'undo' }]));
  t.ok(ownRollback.ok, ownRollback.ok ? 'rolled back' : ownRollback.error);
  t.equal(
    await odoo.count('ir.model.fields', [
      ['model', '=', 'res.partner'],
      ['name', '=', name],
    ]),
    0,
    'its rollback removes the field',
  );
});

t.test('item 1: forged links and the rollback conflict check', async (t) => {
  t.ok(migrationId, 'the committed migration of item 5');
  await refused(
    t,
    'manager creates a link on ir.config_parameter (forged link)',
    /not allowed|access/i,
    () =>
      mgr('crm.migration.link', 'create', [
        {
          migration_id: migrationId,
          key: 'forged',
          model: 'ir.config_parameter',
          res_id: 1,
          action: 'updated',
          values_after_json: { value: 'x' },
        },
      ]),
    'refused: links are written by the engines only',
  );
  const [link] = await odoo.read(
    'crm.migration.link',
    [
      ['migration_id', '=', migrationId],
      ['model', '=', 'res.partner'],
      ['action', '=', 'created'],
      ['key', 'like', 'kartra:contact:'],
    ],
    ['id', 'key', 'res_id'],
  );
  if (!link) throw new Error('the migration created no contact');
  await refused(
    t,
    'manager rewrites a committed link onto ir.config_parameter',
    /not allowed|access/i,
    () =>
      mgr('crm.migration.link', 'write', [
        [link.id],
        { model: 'ir.config_parameter', res_id: 1, values_after_json: { value: 'x' } },
      ]),
    'refused: links are read-only for the group',
  );
  // someone edits a migrated contact: the conflict check names the change, with values the manager may read only
  await new Promise((r) => setTimeout(r, 1100)); // write dates have one-second precision
  await odoo.transport.call('res.partner', 'write', [[link.res_id], { city: 'Oxford' }]);
  const secret = String(await odoo.transport.call('ir.config_parameter', 'get_param', ['database.secret']));
  const conflicts = await attempt(() => mgr('crm.migration', 'api_rollback_conflicts', [[migrationId]]));
  const text = conflicts.ok ? JSON.stringify(conflicts.value) : conflicts.error;
  probe(
    t,
    'rollback conflict check as a manager after an edit',
    'the edit is named; no secret (database.secret) in the answer',
    conflicts.ok &&
      text.includes(`${String(link.key)}","model":"res.partner"`) &&
      /edited/.test(text) &&
      !text.includes(secret),
    conflicts.ok ? `${(conflicts.value as unknown[]).length} conflict(s), no secret` : `error: ${text}`,
  );
});

t.test('item 3: the audit trail is append-only; a committed migration cannot be deleted', async (t) => {
  const audit = await odoo.read('crm.migration.audit', [['migration_id', '=', migrationId]], ['id']);
  const auditIds = audit.map((r) => Number(r.id));
  t.ok(auditIds.length > 0);
  await refused(
    t,
    'manager deletes audit rows',
    /not allowed|access|append-only/i,
    () => mgr('crm.migration.audit', 'unlink', [auditIds.slice(0, 3)]),
    'refused',
  );
  await refused(
    t,
    'manager rewrites an audit row',
    /not allowed|access|append-only/i,
    () => mgr('crm.migration.audit', 'write', [[auditIds[0]], { action: 'match' }]),
    'refused',
  );
  const links = (await odoo.read('crm.migration.link', [['migration_id', '=', migrationId]], ['id'])).map((r) =>
    Number(r.id),
  );
  await refused(
    t,
    'manager deletes the links of committed records',
    /not allowed|access/i,
    () => mgr('crm.migration.link', 'unlink', [links]),
    'refused',
  );
  await refused(
    t,
    'manager deletes a committed migration',
    /cannot be deleted|roll it back/i,
    () => mgr('crm.migration', 'unlink', [[migrationId]]),
    'refused: roll it back instead',
  );
  probe(
    t,
    'audit rows after the attempts',
    'all still there',
    (await odoo.count('crm.migration.audit', [['migration_id', '=', migrationId]])) === auditIds.length,
    `${await odoo.count('crm.migration.audit', [['migration_id', '=', migrationId]])} of ${auditIds.length} rows`,
  );

  // the manager rolls back (removing the custom fields through the addon's checked path)
  const before = await customFields();
  const rolled = await cli(['rollback', String(migrationId), '--on-conflict', 'undo', '--json']);
  const removed = before - (await customFields());
  probe(
    t,
    'rollback by the manager of a migration that created custom fields',
    'rolled back; its custom fields removed',
    rolled.code === 0 && JSON.parse(rolled.out).state === 'rolled_back' && removed > 0,
    rolled.code === 0 ? `rolled_back, ${removed} custom fields removed` : `exit ${rolled.code}: ${rolled.err}`,
  );
  const rows = await odoo.count('crm.migration.audit', [['migration_id', '=', migrationId]]);
  await refused(
    t,
    'manager deletes a rolled-back migration (its audit trail)',
    /audit trail/i,
    () => mgr('crm.migration', 'unlink', [[migrationId]]),
    'refused: the audit trail stays',
  );
  t.ok(rows > auditIds.length, 'the rollback added its own audit rows');
});

t.test('item 2: staged records only target what a migration may write, at staging and at commit', async (t) => {
  const id = Number(
    await mgr('crm.migration', 'api_create', [{ name: 'Security probes: staging', source: 'generic_csv' }]),
  );
  const stage = (records: unknown[]) => mgr('crm.migration', 'api_stage', [[id], records]);
  const base = { object: 'x', refs: {}, match: [] };
  await refused(
    t,
    'stage a res.users record with the Settings group',
    /'sec:user:1'.*res\.users.*not a model a migration may write/s,
    () =>
      stage([
        {
          ...base,
          key: 'sec:user:1',
          model: 'res.users',
          values: { name: 'Eve', login: 'eve-probe' },
          lookups: { [GROUPS_FIELD]: { model: 'res.groups', field: 'name', value: 'Settings' } },
        },
      ]),
    "located refusal: record 'sec:user:1', model res.users not allowed",
  );
  await refused(
    t,
    'stage an ir.config_parameter record',
    /'sec:param:1'.*ir\.config_parameter.*not a model/s,
    () =>
      stage([
        {
          ...base,
          key: 'sec:param:1',
          model: 'ir.config_parameter',
          values: { key: 'database.secret', value: 'x' },
          lookups: {},
        },
      ]),
    "located refusal: record 'sec:param:1'",
  );
  await refused(
    t,
    'stage a res.groups record',
    /'sec:group:1'.*res\.groups.*not a model/s,
    () => stage([{ ...base, key: 'sec:group:1', model: 'res.groups', values: { name: 'Probe' }, lookups: {} }]),
    "located refusal: record 'sec:group:1'",
  );
  await refused(
    t,
    "stage a partner that sets Odoo's bookkeeping (create_uid)",
    /'sec:contact:2'.*create_uid.*bookkeeping/s,
    () =>
      stage([
        {
          ...base,
          key: 'sec:contact:2',
          model: 'res.partner',
          values: { name: 'P' },
          lookups: { create_uid: { model: 'res.users', field: 'login', value: 'admin' } },
        },
      ]),
    "located refusal: record 'sec:contact:2', field create_uid",
  );
  await refused(
    t,
    'stage a custom field on res.users',
    /'sec:cf:1'.*res\.users.*not a model a migration may add fields to/s,
    () =>
      stage([
        {
          key: 'sec:cf:1',
          object: 'custom_field',
          model: 'ir.model.fields',
          values: { name: 'x_probe', model: 'res.users', field_description: 'Probe', ttype: 'char', state: 'manual' },
          refs: {},
          lookups: { model_id: { model: 'ir.model', field: 'model', value: 'res.users' } },
          match: [['name', 'model']],
        },
      ]),
    "located refusal: record 'sec:cf:1', model res.users",
  );
  await refused(
    t,
    'stage a custom many2one field to res.groups on res.partner',
    /'sec:cf:2'.*many2one must point to a model a migration writes/s,
    () =>
      stage([
        {
          key: 'sec:cf:2',
          object: 'custom_field',
          model: 'ir.model.fields',
          values: {
            name: 'x_probe_groups',
            model: 'res.partner',
            field_description: 'Probe',
            ttype: 'many2one',
            relation: 'res.groups',
            state: 'manual',
          },
          refs: {},
          lookups: { model_id: { model: 'ir.model', field: 'model', value: 'res.partner' } },
          match: [['name', 'model']],
        },
      ]),
    "located refusal: record 'sec:cf:2', a many2one to res.groups",
  );
  t.equal(await odoo.count('crm.migration.record', [['migration_id', '=', id]]), 0, 'nothing staged');

  // a valid record, then rewritten by the manager into a res.users with Settings; the admin commits
  await stage([
    {
      ...base,
      key: 'sec:contact:1',
      model: 'res.partner',
      values: { name: 'Probe Partner', email: 'probe@sec.example' },
      lookups: {},
    },
  ]);
  const rec = await odoo.one(
    'crm.migration.record',
    [
      ['migration_id', '=', id],
      ['key', '=', 'sec:contact:1'],
    ],
    ['id'],
  );
  const rewrite = await attempt(() =>
    mgr('crm.migration.record', 'write', [
      [rec.id],
      {
        model: 'res.users',
        values_json: { name: 'Eve', login: 'eve-probe' },
        lookups_json: { [GROUPS_FIELD]: { model: 'res.groups', field: 'name', value: 'Settings' } },
      },
    ]),
  );
  t.ok(rewrite.ok || true, 'the group may edit staged records; the commit checks them again');
  const users = await odoo.count('res.users', [['login', '=', 'eve-probe']]);
  const commit = await attempt(() => odoo.transport.call('crm.migration', 'api_commit', [[id], {}]));
  const created = (await odoo.count('res.users', [['login', '=', 'eve-probe']])) - users;
  const partners = await odoo.count('res.partner', [['email', '=', 'probe@sec.example']]);
  probe(
    t,
    "an admin commits a manager's staged record rewritten into a res.users with Settings",
    'commit refused naming the key; no user created, nothing written',
    !commit.ok && /sec:contact:1.*res\.users/s.test(commit.error) && created === 0 && partners === 0,
    commit.ok
      ? `committed (${created} users created)`
      : `refused: ${commit.error.split('\n').slice(0, 2).join(' ').slice(0, 200)}; ${created} users, ${partners} partners`,
  );
  t.equal(await odoo.count('crm.migration.link', [['migration_id', '=', id]]), 0);
  await odoo.transport.call('crm.migration', 'unlink', [[id]]);
});

t.test('item 4: GET /sources needs the token; the LLM URL comes from Odoo only', async (t) => {
  const app = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN }), migrations: odoo.migrations });
  t.teardown(() => app.close());
  const open = await app.inject({ method: 'GET', url: '/sources' });
  probe(t, 'GET /sources without the token', '401', open.statusCode === 401, `HTTP ${open.statusCode}`);
  const withToken = await app.inject({ method: 'GET', url: '/sources', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(withToken.statusCode, 200);

  // two labelled stand-ins of an OpenAI-compatible endpoint: the request's, and Odoo's setting
  const asked = { request: 0, odoo: 0 };
  const standin = (name: 'request' | 'odoo') =>
    new Promise<Server>((resolve) => {
      const server = createServer((req, res) => {
        asked[name] += 1;
        req.resume();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ choices: [{ message: { content: '{"mappings":[]}' } }] }));
      });
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const fromRequest = await standin('request');
  const fromOdoo = await standin('odoo');
  t.teardown(() => {
    fromRequest.close();
    fromOdoo.close();
  });
  const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1`;
  const previous = await odoo.transport.call('ir.config_parameter', 'get_param', ['crm_migration.llm_url']);
  await odoo.transport.call('ir.config_parameter', 'set_param', ['crm_migration.llm_url', url(fromOdoo)]);
  t.teardown(() => odoo.transport.call('ir.config_parameter', 'set_param', ['crm_migration.llm_url', previous || '']));

  const id = await odoo.migrations.create('Security probes: llm', 'generic_csv');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]).catch(() => undefined));
  const body = multipartBody({ source: 'generic_csv', llm: JSON.stringify({ url: url(fromRequest), model: 'evil' }) }, [
    { name: 'people.csv', bytes: Buffer.from('Name,Email,Fav\nAda,ada@llm.example,CTO\n') },
  ]);
  const res = await app.inject({
    method: 'POST',
    url: `/migrations/${id}/upload`,
    payload: body.payload,
    headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
  });
  t.equal(res.statusCode, 202, res.body);
  const until = Date.now() + 60_000;
  for (;;) {
    const m = await odoo.one('crm.migration', [['id', '=', id]], ['job_state']);
    if (m.job_state !== 'running' && m.job_state !== 'queued') break;
    if (Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  probe(
    t,
    "upload naming its own llm.url (a token holder's choice)",
    "the request's URL is never called; Odoo's setting is",
    asked.request === 0 && asked.odoo > 0,
    `request URL called ${asked.request} time(s), Odoo's ${asked.odoo} time(s)`,
  );
});

t.teardown(async () => {
  const users = await odoo.read('res.users', [['login', '=', LOGIN]], ['id']);
  if (users.length)
    await odoo.transport.call('res.users', 'write', [users.map((u) => u.id), { active: false }]).catch(() => undefined);
});
