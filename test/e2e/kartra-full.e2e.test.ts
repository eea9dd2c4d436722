/**
 * Every Kartra object into a real Odoo 18: a database with crm + sale + calendar (preferred
 * targets), and the crm-only database (missing apps reported, nothing dropped). Owners unknown to
 * Odoo wait for reconciliation; rollback leaves every touched model's rows and values as before.
 */
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../bridge/src/cli.js';
import { OdooReader, readerOf, m2oId, m2oName, odooEnvPresent } from '../helpers/odoo.js';
import { root } from '../helpers/paths.js';

if (!odooEnvPresent() || !process.env.ODOO_DB_FULL) {
  t.fail('ODOO_URL / ODOO_DB_FULL not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const samples = readdirSync(join(root, 'samples', 'kartra'))
  .filter((f) => f.endsWith('.csv'))
  .sort()
  .map((f) => join(root, 'samples', 'kartra', f));
const fullEnv = { ODOO_DB: process.env.ODOO_DB_FULL as string };
const OWNER = 'jane.sales@example.com';

async function cli(args: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
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
    process.env = saved;
  }
}

const reader = readerOf;

const MODELS = [
  'res.partner',
  'res.partner.category',
  'crm.lead',
  'crm.stage',
  'crm.team',
  'calendar.event',
  'calendar.attendee',
  'sale.order',
  'sale.order.line',
  'product.product',
  'ir.model.fields',
  'ir.ui.view',
  'mail.mail',
  'mail.message',
];

const counts = (odoo: OdooReader, models: string[]) => odoo.counts(models);

t.test('crm + sale + calendar: every object lands, owners reconcile, rollback is exact', async (t) => {
  const odoo = reader(fullEnv.ODOO_DB);
  const before = await counts(odoo, MODELS);
  const stagesBefore = await odoo.read('crm.stage', [], ['name', 'sequence', 'is_won']);

  const staged = await cli(['stage', '--source', 'kartra', '--name', 'Kartra full', ...samples], fullEnv);
  t.equal(staged.code, 0, staged.err);
  const id = Number(staged.out);
  t.same(await counts(odoo, MODELS), before, 'staging writes nothing outside the migration');

  const first = await cli(['commit', String(id), '--json'], fullEnv);
  t.equal(first.code, 0, first.err);
  const report = JSON.parse(first.out);
  t.equal(report.state, 'partial', 'records wait for an owner');
  t.equal(report.counts.waiting, 3, 'two deals and one appointment owned by an unknown user');
  t.equal(report.failed.length, 0, JSON.stringify(report.failed));

  // custom fields: created, typed, shown in the form, filled
  const colour = await odoo.one(
    'ir.model.fields',
    [
      ['model', '=', 'res.partner'],
      ['name', '=', 'x_kartra_favourite_colour'],
    ],
    ['ttype', 'state', 'field_description', 'selection_ids'],
  );
  t.match(colour, { ttype: 'selection', state: 'manual', field_description: 'Favourite colour' });
  const options = await odoo.read('ir.model.fields.selection', [['field_id', '=', colour.id]], ['value']);
  t.same(options.map((o) => o.value).sort(), ['Blue', 'Green', 'Red', 'Yellow'], 'exactly the source options');
  t.ok(
    (await odoo.count('ir.ui.view', [
      ['model', '=', 'res.partner'],
      ['arch_db', 'ilike', 'x_kartra_favourite_colour'],
    ])) >= 1,
    'custom fields shown in the partner form',
  );

  const ada = await odoo.one(
    'res.partner',
    [['email', '=', 'ada.lovelace@example.com']],
    [
      'x_kartra_favourite_colour',
      'x_kartra_newsletter_opt_in',
      'x_kartra_bio',
      'x_kartra_score',
      'x_gdpr_status',
      'x_gdpr_status_date',
      'source_create_date',
      'source_key',
      'category_id',
    ],
  );
  t.match(ada, {
    x_kartra_favourite_colour: 'Blue',
    x_kartra_newsletter_opt_in: true,
    x_kartra_score: 87,
    x_gdpr_status: 'accepted',
    x_gdpr_status_date: '2024-03-01 15:15:00',
    source_create_date: '2023-11-05 14:30:00',
    source_key: 'kartra:contact:1001',
  });
  t.match(String(ada.x_kartra_bio), /Mathematician\.\nWrote the first program\./);
  const adaCats = await odoo.read(
    'res.partner.category',
    [['id', 'in', ada.category_id as number[]]],
    ['name', 'parent_id'],
  );
  t.ok(
    adaCats.some((c) => c.name === 'Newsletter' && m2oName(c.parent_id) === 'Kartra lists'),
    'lists land under their parent category',
  );
  const tim = await odoo.one('res.partner', [['email', '=', 'tim@w3.example']], ['category_id']);
  t.ok(
    (await odoo.read('res.partner.category', [['id', 'in', tim.category_id as number[]]], ['name'])).some(
      (c) => c.name === 'Affiliate',
    ),
  );
  const grace = await odoo.one('res.partner', [['email', '=', 'grace.hopper@navy.example']], ['state_id']);
  t.equal(m2oName(grace.state_id), 'Virginia (US)', 'state found by code within the country');

  // deals, stages, pipelines
  const d2 = await odoo.one(
    'crm.lead',
    [['name', '=', 'Navy compiler support']],
    ['type', 'partner_id', 'stage_id', 'team_id', 'expected_revenue', 'date_deadline', 'source_create_date', 'active'],
  );
  t.match(d2, {
    type: 'opportunity',
    expected_revenue: 48000,
    date_deadline: '2024-08-15',
    source_create_date: '2024-02-01 15:30:00',
    active: true,
  });
  const graceId = (await odoo.one('res.partner', [['email', '=', 'grace.hopper@navy.example']], ['id'])).id;
  t.equal(m2oId(d2.partner_id), graceId, 'the deal is linked to its contact');
  t.equal(m2oName(d2.stage_id), 'Negotiation');
  t.equal(m2oName(d2.team_id), 'Enterprise', 'pipelines become sales teams when there are several');
  const d5 = await odoo.one('crm.lead', [['name', '=', 'Typewriter lease']], ['active', 'probability']);
  t.match(d5, { active: false, probability: 0 });
  t.equal(
    await odoo.count('crm.lead', [['name', 'in', ['Engine licence', 'Guidance software audit']]]),
    0,
    'deals of an unknown owner wait: no lead lands without its owner',
  );
  t.equal(await odoo.count('crm.stage', [['name', '=', 'Won']]), 1, 'the existing Won stage is reused');
  t.equal(await odoo.count('crm.stage', [['name', '=', 'Negotiation']]), 1);

  // sales
  const order = await odoo.one(
    'sale.order',
    [['client_order_ref', '=', 'T-9001']],
    ['partner_id', 'date_order', 'state', 'order_line', 'x_kartra_transaction_type', 'source_create_date'],
  );
  t.match(order, { date_order: '2024-03-15 15:20:00', state: 'sale', x_kartra_transaction_type: 'sale' });
  t.equal(m2oId(order.partner_id), ada.id, 'the order is linked to its contact');
  const line = await odoo.one(
    'sale.order.line',
    [['order_id', '=', order.id]],
    ['product_id', 'price_unit', 'product_uom_qty'],
  );
  t.match(line, { price_unit: 199, product_uom_qty: 1 });
  t.match(m2oName(line.product_id), /Analytical Course/);
  t.equal(
    (await odoo.one('sale.order', [['client_order_ref', '=', 'S-502']], ['x_kartra_subscription_status']))
      .x_kartra_subscription_status,
    'cancelled',
  );

  // calendar
  const ev = await odoo.one(
    'calendar.event',
    [['name', '=', 'Discovery call with Ada']],
    ['start', 'stop', 'partner_ids', 'source_create_date'],
  );
  t.match(ev, { start: '2024-03-20 14:00:00', stop: '2024-03-20 14:30:00', source_create_date: '2024-03-11 12:15:00' });
  t.ok((ev.partner_ids as number[]).includes(ada.id as number), 'the contact is an attendee');
  t.equal((await odoo.count('mail.mail')) - (before['mail.mail'] ?? 0), 0, 'no invitation or notification mail queued');

  // owners: reconcile, commit the rest
  const owners = JSON.parse((await cli(['owners', String(id), '--json'], fullEnv)).out);
  t.match(owners, [{ value: OWNER, state: 'pending', record_count: 3 }]);
  const janeId = await odoo.create('res.users', { name: 'Jane Sales', login: OWNER, email: OWNER });
  t.teardown(() => odoo.unlink('res.users', [janeId]).catch(() => undefined));
  const assigned = await cli(['owners', String(id), '--assign', `${OWNER}=${OWNER}`, '--json'], fullEnv);
  t.equal(assigned.code, 0, assigned.err);
  t.match(JSON.parse(assigned.out), [{ value: OWNER, state: 'resolved', user_id: janeId }]);
  const second = JSON.parse((await cli(['commit', String(id), '--json'], fullEnv)).out);
  t.equal(second.state, 'committed');
  const d1 = await odoo.one('crm.lead', [['name', '=', 'Engine licence']], ['user_id', 'partner_id']);
  t.equal(m2oId(d1.user_id), janeId, 'owner assigned as reconciled');
  t.equal(m2oId(d1.partner_id), ada.id);

  // rollback: every touched model as before
  const rolled = await cli(['rollback', String(id), '--json'], fullEnv);
  t.equal(rolled.code, 0, rolled.err);
  const after = await counts(
    odoo,
    MODELS.filter((m) => m !== 'mail.message'),
  );
  const { 'mail.message': _m, ...beforeNoMsg } = before;
  t.same(
    { ...after, 'res.partner': after['res.partner'] },
    { ...beforeNoMsg, 'res.partner': (before['res.partner'] ?? 0) + 1 },
    'row counts as before (plus the partner of the user the test created)',
  );
  t.same(await odoo.read('crm.stage', [], ['name', 'sequence', 'is_won']), stagesBefore, 'existing stages untouched');
  t.equal(
    await odoo.count('ir.model.fields', [['name', '=like', 'x\\_kartra\\_%']]),
    0,
    'custom fields removed once unused',
  );
});

t.test('crm only: objects whose app is missing are reported with the choice, never dropped', async (t) => {
  const odoo = reader(process.env.ODOO_DB as string);
  const before = await counts(odoo, ['res.partner', 'crm.lead', 'ir.model.fields']);
  const staged = await cli(['stage', '--source', 'kartra', '--json', ...samples]);
  t.equal(staged.code, 0, staged.err);
  const { id, profile } = JSON.parse(staged.out);
  t.match(
    profile.targets.find((x: { object: string }) => x.object === 'transaction'),
    { decision: 'app missing', missingApps: ['sale', 'account'] },
  );
  const migration = await odoo.one('crm.migration', [['id', '=', id]], ['inventory_attachment_id']);
  const attachment = await odoo.one(
    'ir.attachment',
    [['id', '=', m2oId(migration.inventory_attachment_id)]],
    ['name', 'mimetype', 'raw'],
  );
  t.match(attachment, { mimetype: /markdown|text/ });
  const records = await odoo.read(
    'crm.migration.record',
    [
      ['migration_id', '=', id],
      ['object', '=', 'transaction'],
    ],
    ['state'],
  );
  t.equal(records.length, 4, 'transactions are staged, visible to the admin');
  t.ok(records.every((r) => r.state === 'error'));
  const committed = JSON.parse((await cli(['commit', String(id), '--json', '--batch-size', '50'])).out);
  t.equal(
    committed.counts.error,
    1 + 4 + 4 + 3 + 3,
    'invalid email + 4 transactions + 4 lines + 3 subscriptions + 3 lines stay errors',
  );
  t.ok((await odoo.count('crm.lead')) > (before['crm.lead'] ?? 0), 'CRM objects still migrate');
  await cli(['owners', String(id), '--fallback', 'admin']);
  t.equal(
    JSON.parse((await cli(['commit', String(id), '--json'])).out).counts.waiting,
    0,
    'a fallback user clears the owner queue',
  );
  t.equal((await cli(['rollback', String(id)])).code, 0);
  t.same(await counts(odoo, ['res.partner', 'crm.lead', 'ir.model.fields']), before);
});

t.test(
  'sample with a field-level diff: clean sample matches, an edit shows, sample rolls back, approve commits the rest',
  async (t) => {
    const odoo = reader(fullEnv.ODOO_DB);
    const watched = [
      'res.partner',
      'res.partner.category',
      'crm.lead',
      'sale.order',
      'calendar.event',
      'ir.model.fields',
    ];
    const before = await counts(odoo, watched);
    const id = Number((await cli(['stage', '--source', 'kartra', ...samples], fullEnv)).out);

    const sampled = await cli(['commit', String(id), '--sample', '6', '--json'], fullEnv);
    t.equal(sampled.code, 0, sampled.err);
    const s1 = JSON.parse(sampled.out);
    t.ok(
      s1.counts.committed > 0 && s1.counts.staged > 0,
      `a slice is committed, the rest still staged (${JSON.stringify(s1.counts)})`,
    );

    const diff = JSON.parse((await cli(['diff', String(id), '--json'], fullEnv)).out) as {
      key: string;
      model: string;
      res_id: number;
      field: string;
      source: string;
      expected: string;
      actual: string;
      match: boolean;
    }[];
    t.ok(diff.length > 0, `${diff.length} diff rows`);
    t.same(
      diff.filter((r) => !r.match),
      [],
      'a clean sample matches field by field',
    );
    const email = diff.find((r) => r.model === 'res.partner' && r.field === 'email' && r.source !== '');
    t.ok(email, 'the source cell is shown beside the expected and actual values');
    t.equal(email?.expected, email?.source.trim().toLowerCase(), 'expected = the normalized source value');

    await odoo.transport.call('res.partner', 'write', [[email?.res_id], { email: 'changed@example.com' }]);
    const mismatches = JSON.parse((await cli(['diff', String(id), '--mismatches', '--json'], fullEnv)).out);
    t.match(
      mismatches,
      [{ key: email?.key, field: 'email', actual: 'changed@example.com', match: false }],
      'an edit made in Odoo after the sample shows as a mismatch',
    );

    const back = await cli(['rollback', String(id), '--sample-only', '--json'], fullEnv);
    t.equal(back.code, 0, back.err);
    t.equal(JSON.parse(back.out).state, 'mapped', 'the records are staged again, the migration back to mapped');
    t.same(await counts(odoo, watched), before, 'rolling the sample back leaves Odoo as it was');

    t.equal((await cli(['commit', String(id), '--sample', '3'], fullEnv)).code, 0);
    await cli(['owners', String(id), '--fallback', 'admin'], fullEnv);
    const all = JSON.parse((await cli(['commit', String(id), '--json'], fullEnv)).out);
    t.equal(all.state, 'committed', 'approving commits the rest');
    t.equal(all.counts.staged, 0);
    t.equal(
      await odoo.count('res.partner', [['email', '=ilike', 'ada.lovelace@example.com']]),
      1,
      'nothing committed twice',
    );
    t.equal((await cli(['rollback', String(id), '--on-conflict', 'undo'], fullEnv)).code, 0);
    t.same(await counts(odoo, watched), before);
  },
);
