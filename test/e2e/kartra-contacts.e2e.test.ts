/**
 * Kartra contacts export → bridge → a real Odoo 18 → read back over XML-RPC → rollback.
 * Runs through the CLI first, then through the HTTP upload, in one database.
 */
import t, { type Test } from 'tap';
import { main } from '../../bridge/src/cli.js';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { readCsv } from '../../bridge/src/csv/read-csv.js';
import { multipartBody } from '../helpers/multipart.js';
import { fixture, samples } from '../helpers/paths.js';
import { OdooReader, ODOO_SERIES, ODOO_SERIES_RE, m2oId, m2oName, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const PARTNER_FIELDS = [
  'name',
  'email',
  'phone',
  'street',
  'city',
  'zip',
  'country_id',
  'website',
  'comment',
  'parent_id',
  'category_id',
  'is_company',
  'type',
];
const NOTE = /Prefers email\.<br>Met at the London meetup\./;

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

/** Every partner/tag/link row count we promise to restore. */
async function snapshot() {
  return {
    partners: await odoo.count('res.partner'),
    messages: await odoo.count('mail.message'),
    tags: await odoo.count('res.partner.category'),
    links: await odoo.count('crm.migration.link'),
    customFields: await odoo.count('ir.model.fields', [
      ['model', '=', 'res.partner'],
      ['state', '=', 'manual'],
    ]),
  };
}

/** Pre-existing data the migration must match, fill and then restore exactly. */
async function seedExisting() {
  const charlesId = await odoo.create('res.partner', {
    name: 'Charles Babbage (existing)',
    email: 'Charles@AnalyticalEngines.example',
    city: 'Marylebone',
  });
  const vipId = await odoo.create('res.partner.category', { name: 'vip' });
  const before = await odoo.one('res.partner', [['id', '=', charlesId]], PARTNER_FIELDS);
  return { charlesId, vipId, before };
}

async function assertCommitted(t: Test, existing: Awaited<ReturnType<typeof seedExisting>>) {
  const ada = await odoo.one('res.partner', [['email', '=', 'ada.lovelace@example.com']], PARTNER_FIELDS);
  t.equal(ada.name, 'Ada Lovelace');
  t.equal(ada.phone, '+442079460018');
  t.equal(ada.street, "12 St James's Square");
  t.equal(ada.city, 'London');
  t.equal(ada.zip, 'SW1Y 4JH');
  t.equal(ada.website, 'https://analyticalengines.example');
  const notes = await odoo.read(
    'mail.message',
    [
      ['model', '=', 'res.partner'],
      ['res_id', '=', ada.id],
      ['message_type', '=', 'comment'],
    ],
    ['body', 'author_id'],
  );
  t.equal(notes.length, 1, 'the inline Kartra notes: one chatter note on the contact');
  t.match(String(notes[0]?.body), NOTE, 'line breaks kept');
  t.equal(
    m2oName(notes[0]?.author_id),
    'Imported from kartra',
    'no author in the export: the named imported-from author',
  );
  t.equal(ada.is_company, false);
  t.equal(m2oName(ada.parent_id), 'Analytical Engines Ltd', 'contact linked to its company');
  const gb = await odoo.one('res.country', [['code', '=', 'GB']], ['id']);
  t.equal(m2oId(ada.country_id), gb.id, 'country resolved by ISO code');
  const adaTags = (await odoo.read('res.partner.category', [['id', 'in', ada.category_id as number[]]], ['name']))
    .map((r) => r.name)
    .sort();
  t.same(
    adaTags,
    ['Newsletter', 'poetry', 'vip', 'webinar-2024'],
    'tags split and linked, list added, duplicate row merged',
  );
  t.ok((ada.category_id as number[]).includes(existing.vipId), 'the existing "vip" tag is reused, not duplicated');
  t.equal(await odoo.count('res.partner.category', [['name', '=ilike', 'vip']]), 1);

  const company = await odoo.one('res.partner', [['name', '=', 'Analytical Engines Ltd']], ['is_company', 'child_ids']);
  t.equal(company.is_company, true);
  t.equal((company.child_ids as number[]).length, 2, 'Ada and the matched Charles both under the company');

  const charles = await odoo.one('res.partner', [['id', '=', existing.charlesId]], PARTNER_FIELDS);
  t.equal(charles.name, 'Charles Babbage (existing)', 'matched by email (case-insensitive): name not overwritten');
  t.equal(charles.city, 'Marylebone', 'non-empty value kept');
  t.equal(charles.phone, '+447911123456', 'empty phone filled from the export');
  t.equal(
    await odoo.count('res.partner', [['email', '=ilike', 'charles@analyticalengines.example']]),
    1,
    'no duplicate partner',
  );

  const grace = await odoo.one('res.partner', [['email', '=', 'grace.hopper@navy.example']], PARTNER_FIELDS);
  t.equal(grace.name, 'Grace Brewster Hopper');
  t.equal(grace.phone, '+12025550143');
  t.equal(m2oName(grace.parent_id), 'US Navy Computing');
  const hedy = await odoo.one('res.partner', [['email', '=', 'hedy@spread.example']], PARTNER_FIELDS);
  t.equal(hedy.parent_id, false, 'no company in the export, no parent');
  t.equal(
    await odoo.count('res.partner', [['email', '=', 'not-an-email']]),
    0,
    'the record with an invalid email is not committed',
  );
  t.equal(
    await odoo.count('res.partner', [
      ['is_company', '=', true],
      ['name', 'in', ['Bell Labs', 'TU Eindhoven', 'Acorn Computers']],
    ]),
    3,
  );
}

async function assertRolledBack(
  t: Test,
  before: Awaited<ReturnType<typeof snapshot>>,
  existing: Awaited<ReturnType<typeof seedExisting>>,
) {
  t.same(await snapshot(), before, 'partner, tag and link counts exactly as before');
  t.equal(await odoo.count('res.partner', [['email', '=', 'ada.lovelace@example.com']]), 0);
  t.equal(await odoo.count('res.partner', [['name', '=', 'Analytical Engines Ltd']]), 0);
  t.equal(await odoo.count('res.partner.category', [['name', '=', 'webinar-2024']]), 0);
  t.same(
    await odoo.one('res.partner', [['id', '=', existing.charlesId]], PARTNER_FIELDS),
    existing.before,
    'the matched partner is exactly as before',
  );
  t.equal(
    await odoo.count('res.partner.category', [['id', '=', existing.vipId]]),
    1,
    'the pre-existing tag is untouched',
  );
}

t.test('CLI: stage, commit, commit again, report, rollback, rollback again', async (t) => {
  const version = await odoo.transport.version();
  t.match(version, ODOO_SERIES_RE, `a real Odoo ${ODOO_SERIES} answers`);
  const existing = await seedExisting();
  const before = await snapshot();
  const files = samples.map((s) => s.path);

  const staged = await cli(['stage', '--source', 'kartra', ...files]);
  t.equal(staged.code, 0, staged.err);
  const id = Number(staged.out.trim());
  t.ok(id > 0, 'stage prints the migration id');
  t.same(await snapshot(), before, 'staging writes nothing outside the migration');

  const committed = await cli(['commit', String(id), '--json']);
  t.equal(committed.code, 0, committed.err);
  const report = JSON.parse(committed.out);
  t.equal(report.state, 'committed');
  t.equal(report.counts.error, 1, 'the invalid-email row stays an error');
  t.equal(report.failed.length, 0);
  await assertCommitted(t, existing);
  const rows = await countRows(samples);
  t.equal(rows, 18, 'sample has 18 contact rows');
  t.equal(
    (await odoo.count('res.partner')) - before.partners,
    15 + 11 + 1,
    '15 new contacts (18 rows - 1 merged duplicate - 1 invalid email - 1 matched) + 11 companies + the "Imported from kartra" author of the notes',
  );

  const afterFirst = await snapshot();
  const again = await cli(['commit', String(id), '--json']);
  t.equal(again.code, 0);
  t.same(await snapshot(), afterFirst, 'committing twice creates nothing');

  const shown = await cli(['report', String(id)]);
  t.match(shown.out, new RegExp(`migration ${id} .*committed`));

  const rolled = await cli(['rollback', String(id), '--json']);
  t.equal(rolled.code, 0, rolled.err);
  t.equal(JSON.parse(rolled.out).state, 'rolled_back');
  await assertRolledBack(t, before, existing);
  const twice = await cli(['rollback', String(id)]);
  t.equal(twice.code, 0, 'rollback twice is safe');
  t.same(await snapshot(), before);
  await odoo.unlink('res.partner', [existing.charlesId]);
  await odoo.unlink('res.partner.category', [existing.vipId]);
});

t.test('HTTP: upload, commit, re-run creates nothing, rollback; bad input stages nothing', async (t) => {
  const existing = await seedExisting();
  const before = await snapshot();
  const app = await buildApp({
    config: serverConfigFromEnv({ BRIDGE_TOKEN: 'e2e-token-0123456789' }),
    migrations: odoo.migrations,
    odooVersion: () => odoo.transport.version(),
  });
  t.teardown(() => app.close());
  const headers = { authorization: 'Bearer e2e-token-0123456789' };
  const upload = async (files: { name: string; path: string }[]) => {
    const body = multipartBody({ source: 'kartra', name: 'e2e upload' }, files);
    return app.inject({
      method: 'POST',
      url: '/migrations',
      payload: body.payload,
      headers: { ...body.headers, ...headers },
    });
  };
  const health = await app.inject({ method: 'GET', url: '/health' });
  t.match(health.json(), { odoo: { configured: true, version: ODOO_SERIES_RE } });

  const migrationsBefore = await odoo.count('crm.migration');
  const bad = await upload([samples[0] as { name: string; path: string }, fixture('unbalanced-quote.csv')]);
  t.equal(bad.statusCode, 422);
  t.equal(
    await odoo.count('crm.migration'),
    migrationsBefore,
    'a bad file stages nothing, not even the good one beside it',
  );

  const res = await upload(samples);
  t.equal(res.statusCode, 201, res.body);
  const id = res.json().id as number;
  t.equal(
    (await app.inject({ method: 'GET', url: `/migrations/${id}`, headers })).json().state,
    'mapped',
    'shipped mapping, nothing to confirm',
  );
  const owners = await app.inject({ method: 'GET', url: `/migrations/${id}/owners`, headers });
  t.same(owners.json(), [], 'no owner to reconcile in a contacts export without owners');
  const commit = await app.inject({ method: 'POST', url: `/migrations/${id}/commit`, headers });
  t.equal(commit.statusCode, 200, commit.body);
  await assertCommitted(t, existing);

  const afterFirst = await snapshot();
  const second = await upload(samples);
  const id2 = second.json().id as number;
  const commit2 = await app.inject({ method: 'POST', url: `/migrations/${id2}/commit`, headers });
  t.equal(commit2.statusCode, 200);
  t.same(
    { ...(await snapshot()), links: 0 },
    { ...afterFirst, links: 0 },
    're-running the same export creates no partner, tag or custom field',
  );
  const r2 = await app.inject({ method: 'POST', url: `/migrations/${id2}/rollback`, headers });
  t.equal(r2.statusCode, 200);
  t.equal(
    await odoo.count('res.partner', [['email', '=', 'ada.lovelace@example.com']]),
    1,
    'rolling back the re-run leaves the first migration in place',
  );

  const rollback = await app.inject({ method: 'POST', url: `/migrations/${id}/rollback`, headers });
  t.equal(rollback.statusCode, 200, rollback.body);
  await assertRolledBack(t, before, existing);
});

async function countRows(files: { name: string; path: string }[]): Promise<number> {
  let n = 0;
  for (const f of files) for await (const _ of readCsv(f)) n += 1;
  return n;
}

t.test('rollback is conflict-aware: a contact edited after the migration is named, then kept', async (t) => {
  const staged = await cli(['stage', '--source', 'kartra', ...samples.map((s) => s.path)]);
  const id = Number(staged.out.trim());
  t.equal((await cli(['commit', String(id)])).code, 0);
  const ada = await odoo.one('res.partner', [['email', '=', 'ada.lovelace@example.com']], ['id']);
  await new Promise((r) => setTimeout(r, 1100)); // write_date has one-second resolution
  await odoo.transport.call('res.partner', 'write', [[ada.id], { phone: '+44 20 0000 0000' }]);

  const refused = await cli(['rollback', String(id)]);
  t.equal(refused.code, 4, "the default refuses to undo over someone's edit");
  t.match(refused.err, /Ada Lovelace/);
  t.equal(await odoo.count('res.partner', [['email', '=', 'grace.hopper@navy.example']]), 1, 'nothing undone');

  const kept = await cli(['rollback', String(id), '--on-conflict', 'keep', '--json']);
  t.equal(kept.code, 0, kept.err);
  const report = JSON.parse(kept.out) as {
    state: string;
    kept_conflicts: { model: string; res_id: number; kind: string }[];
  };
  t.equal(report.state, 'rolled_back');
  t.ok(
    report.kept_conflicts.some((c) => c.kind === 'edited' && c.model === 'res.partner' && c.res_id === ada.id),
    'the edited contact is kept',
  );
  t.ok(
    report.kept_conflicts.some((c) => c.kind === 'dependency' && c.model === 'ir.model.fields'),
    'with the custom fields it uses',
  );
  t.equal(
    (await odoo.one('res.partner', [['id', '=', ada.id]], ['phone'])).phone,
    '+44 20 0000 0000',
    "the user's edit survives",
  );
  t.equal(
    await odoo.count('res.partner', [['email', '=', 'grace.hopper@navy.example']]),
    0,
    'everything else is undone',
  );
  const bad = await cli(['rollback', String(id), '--on-conflict', 'maybe']);
  t.equal(bad.code, 2);
});
