/** Every object of the Kartra mapping, staged from the bundled sample export. */
import t from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import { InputError } from '../../bridge/src/core/input-error.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { fixture, root, sample } from '../helpers/paths.js';

const allSamples = readdirSync(join(root, 'samples', 'kartra'))
  .filter((f) => f.endsWith('.csv'))
  .sort()
  .map(sample);
const contactsOnly = [sample('contacts_1.csv'), sample('contacts_2.csv')];
const now = new Date('2024-07-01T00:00:00Z');
const ALL_APPS = { sale: true, account: true, calendar: true };

const index = (s: Staged) => new Map<string, StagedRecord>(s.records.map((r) => [r.key, r]));
const ofObject = (s: Staged, object: string) => s.records.filter((r) => r.object === object);

t.test('deals: opportunities with stages in order, pipelines as teams, contact and owner links', async (t) => {
  const s = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
  const k = index(s);
  const d1 = k.get('kartra:deal:D-1');
  t.match(d1, {
    model: 'crm.lead',
    values: {
      type: 'opportunity',
      name: 'Engine licence',
      expected_revenue: 12500,
      date_deadline: '2024-09-30',
      email_from: 'ada.lovelace@example.com',
      source_create_date: '2024-03-10 13:00:00',
      active: true,
    },
  });
  t.same(
    d1?.refs,
    { partner_id: 'kartra:contact:1001', stage_id: 'kartra:stage:proposal', team_id: 'kartra:pipeline:enterprise' },
    'contact by email, stage and pipeline by key',
  );
  t.same(
    d1?.lookups.user_id,
    { model: 'res.users', field: 'login', value: 'jane.sales@example.com', required: true },
    'owner resolved by email; waits when unknown',
  );
  t.notOk(k.get('kartra:deal:D-2')?.lookups.user_id, 'no owner in the export → no lookup');
  t.match(k.get('kartra:deal:D-3')?.values, { probability: 100, active: true });
  t.match(
    k.get('kartra:deal:D-5')?.values,
    { probability: 0, active: false },
    'lost deals are archived with probability 0',
  );
  t.same(
    k.get('kartra:deal:D-6')?.lookups.partner_id,
    { model: 'res.partner', field: 'email', value: 'nobody@nowhere.example' },
    'contact not in the upload → looked up in Odoo',
  );
  const stages = ofObject(s, 'stage')
    .map((r) => [r.values.name, r.values.sequence, r.values.is_won])
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  t.same(stages, [
    ['Qualified', 1, false],
    ['Proposal', 2, false],
    ['Negotiation', 3, false],
    ['Won', 5, true],
    ['Lost', 6, false],
  ]);
  t.same(
    ofObject(s, 'pipeline')
      .map((r) => r.values.name)
      .sort(),
    ['Enterprise', 'Events'],
    'two pipelines → two sales teams',
  );
});

t.test('one pipeline needs no sales team', async (t) => {
  const s = await stageExports('kartra', csvReader([...contactsOnly, fixture('deals-one-pipeline.csv')]), {
    installedApps: ALL_APPS,
    now,
  });
  t.equal(ofObject(s, 'pipeline').length, 0);
  t.notOk(index(s).get('kartra:deal:X-1')?.refs.team_id);
  t.equal(index(s).get('kartra:deal:X-1')?.refs.stage_id, 'kartra:stage:new');
});

t.test(
  'transactions and subscriptions → sale orders with lines and placeholder products when Sales is installed',
  async (t) => {
    const s = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
    const k = index(s);
    t.match(k.get('kartra:transaction:T-9001'), {
      model: 'sale.order',
      values: {
        state: 'sale',
        date_order: '2024-03-15 15:20:00',
        client_order_ref: 'T-9001',
        x_kartra_transaction_type: 'sale',
        x_kartra_payment_method: 'stripe',
      },
      refs: { partner_id: 'kartra:contact:1001' },
    });
    t.ok(
      k.get('kartra:transaction:T-9001')?.deps?.includes('kartra:custom_field:sale.order.x_kartra_transaction_type'),
      'orders wait for the custom fields they fill',
    );
    t.match(k.get('kartra:transaction_line:T-9001'), {
      model: 'sale.order.line',
      values: { name: 'Analytical Course', product_uom_qty: 1, price_unit: 199 },
      refs: { order_id: 'kartra:transaction:T-9001', product_id: 'kartra:product:analytical course' },
    });
    t.equal(k.get('kartra:transaction_line:T-9004')?.values.price_unit, -199, 'refund amount kept');
    t.match(k.get('kartra:product:analytical course'), {
      model: 'product.product',
      values: { name: 'Analytical Course', type: 'service' },
      match: [['name']],
    });
    t.match(k.get('kartra:subscription:S-502'), {
      model: 'sale.order',
      values: {
        x_kartra_subscription_status: 'cancelled',
        x_kartra_recurring_period: 'monthly',
        x_kartra_subscription_end: '2024-02-01 05:00:00',
      },
    });
    t.notOk(
      'x_kartra_subscription_end' in (k.get('kartra:subscription:S-501')?.values ?? {}),
      '0000-00-00 end date = still active = empty',
    );
    t.same(s.profile.targets.map((x) => [x.object, x.decision]).sort(), [
      ['appointment', 'preferred'],
      ['subscription', 'preferred'],
      ['transaction', 'preferred'],
    ]);
  },
);

t.test(
  'without Sales: transactions fall back to customer invoices; subscriptions are reported, not dropped',
  async (t) => {
    const s = await stageExports('kartra', csvReader(allSamples), {
      installedApps: { sale: false, account: true, calendar: true },
      now,
    });
    const k = index(s);
    t.match(k.get('kartra:transaction_invoice:T-9002'), {
      model: 'account.move',
      values: {
        move_type: 'out_invoice',
        invoice_date: '2024-03-16',
        ref: 'T-9002',
        x_kartra_affiliate: 'tim@w3.example',
      },
      refs: { partner_id: 'kartra:contact:1003' },
    });
    t.match(k.get('kartra:transaction_invoice_line:T-9002'), {
      model: 'account.move.line',
      values: { display_type: 'product', quantity: 1, price_unit: 199 },
      refs: { move_id: 'kartra:transaction_invoice:T-9002' },
    });
    t.notOk(k.has('kartra:transaction:T-9002'));
    const sub = k.get('kartra:subscription:S-501');
    t.ok(
      sub?.issues.some((i) => i.level === 'error' && /needs the Odoo app\(s\) sale/.test(i.message)),
      'staged as an error, visible before commit',
    );
    t.same(sub?.refs, {}, 'no refs to models that may not exist');
    const target = s.profile.targets.find((x) => x.object === 'subscription');
    t.match(target, { decision: 'app missing', missingApps: ['sale'] });
    t.ok(target?.choices.some((c) => /skip/.test(c)));
    t.match(
      s.profile.targets.find((x) => x.object === 'transaction'),
      { decision: 'fallback', model: 'account.move', missingApps: ['sale'] },
    );
    t.match(s.inventory, /## Objects whose preferred Odoo app is missing[\s\S]*\| subscription \| app missing/);
  },
);

t.test('only CRM: no product records, transactions reported; --skip leaves an object out on purpose', async (t) => {
  const s = await stageExports('kartra', csvReader(allSamples), { installedApps: { calendar: true }, now });
  t.equal(ofObject(s, 'product').length, 0, 'no placeholder products without Sales or Invoicing');
  t.ok(ofObject(s, 'transaction').every((r) => r.issues.some((i) => i.level === 'error')));
  const skipped = await stageExports('kartra', csvReader(allSamples), {
    installedApps: { calendar: true },
    skip: ['transaction', 'subscription'],
    now,
  });
  t.equal(ofObject(skipped, 'transaction').length + ofObject(skipped, 'subscription_line').length, 0);
  t.match(
    skipped.profile.targets.find((x) => x.object === 'transaction'),
    { decision: 'skipped by choice' },
  );
  t.equal(
    skipped.profile.files.find((f) => f.file === 'transactions.csv')?.rows,
    4,
    'skipped rows still counted in the profile',
  );
  await t.rejects(stageExports('kartra', csvReader(allSamples), { skip: ['tag'] }), /cannot skip "tag"/);
});

t.test('custom fields: created before the records, typed from the schema file or inferred', async (t) => {
  const withSchema = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
  const k = index(withSchema);
  const colour = k.get('kartra:custom_field:res.partner.x_kartra_favourite_colour');
  t.match(colour, {
    model: 'ir.model.fields',
    values: {
      name: 'x_kartra_favourite_colour',
      model: 'res.partner',
      ttype: 'selection',
      state: 'manual',
      field_description: 'Favourite colour',
      selection: "[('Blue', 'Blue'), ('Green', 'Green'), ('Red', 'Red'), ('Yellow', 'Yellow')]",
    },
    lookups: { model_id: { model: 'ir.model', field: 'model', value: 'res.partner' } },
    match: [['name', 'model']],
  });
  t.match(k.get('kartra:custom_field:res.partner.x_kartra_bio')?.values, { ttype: 'text' });
  t.match(k.get('kartra:custom_field:res.partner.x_kartra_newsletter_opt_in')?.values, { ttype: 'boolean' });
  t.match(k.get('kartra:custom_field:res.partner.x_kartra_referral_code')?.values, { ttype: 'char' });
  const ada = k.get('kartra:contact:1001');
  t.match(ada?.values, {
    x_kartra_favourite_colour: 'Blue',
    x_kartra_newsletter_opt_in: true,
    x_kartra_bio: 'Mathematician.\nWrote the first program.',
    x_kartra_referral_code: 'ADA-1815',
    x_kartra_lead_source: 'checkout',
    x_kartra_score: 87,
  });
  t.ok(ada?.deps?.includes(colour?.key as string), 'the contact depends on the field it fills');
  t.match(
    ada?.source.columns,
    {
      name: 'First Name + Middle Name + Last Name + Email',
      email: 'Email',
      category_id: 'Tags + Lists + Source',
      x_kartra_favourite_colour: 'Favourite Colour',
    },
    'which source columns fed each field, for the sample diff',
  );

  const inferred = await stageExports('kartra', csvReader(contactsOnly), { now });
  const i = index(inferred);
  t.match(
    i.get('kartra:custom_field:res.partner.x_kartra_favourite_colour')?.values,
    { ttype: 'selection', selection: "[('Blue', 'Blue'), ('Green', 'Green'), ('Red', 'Red')]" },
    'exactly the values found',
  );
  t.match(i.get('kartra:custom_field:res.partner.x_kartra_newsletter_opt_in')?.values, { ttype: 'boolean' });
  t.match(i.get('kartra:custom_field:res.partner.x_kartra_bio')?.values, { ttype: 'text' });
  t.equal(inferred.profile.customFields.find((f) => f.name === 'x_kartra_bio')?.origin, 'inferred from values');

  const err = await stageExports('kartra', csvReader([...contactsOnly, fixture('custom-fields-bad-type.csv')])).catch(
    (e: unknown) => e,
  );
  t.ok(err instanceof InputError);
  t.match(err, {
    file: 'custom-fields-bad-type.csv',
    row: 2,
    field: 'Field Type',
    message: /unknown custom field type "dropdown_menu"/,
  });
});

t.test('GDPR, source creation date, lists, affiliates, state lookups, flags', async (t) => {
  const s = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
  const k = index(s);
  const ada = k.get('kartra:contact:1001');
  t.match(ada?.values, {
    x_gdpr_status: 'accepted',
    x_gdpr_status_date: '2024-03-01 15:15:00',
    source_create_date: '2023-11-05 14:30:00',
  });
  t.equal(k.get('kartra:contact:1003')?.values.x_gdpr_status, 'not_accepted');
  t.match(k.get('kartra:list:newsletter'), {
    model: 'res.partner.category',
    values: { name: 'Newsletter' },
    refs: { parent_id: 'kartra:list_family:kartra lists' },
    match: [['name', 'parent_id']],
  });
  t.match(k.get('kartra:list_family:kartra lists')?.values, { name: 'Kartra lists' });
  t.same(
    k.get('kartra:contact:1011')?.refs.category_id,
    ['kartra:tag:webinar-2024', 'kartra:tag:opensource', 'kartra:affiliate_category:affiliate'],
    'affiliate sign-ups get the Affiliate category beside their tags',
  );
  t.same(k.get('kartra:contact:1002')?.refs.category_id, ['kartra:tag:vip', 'kartra:list:newsletter']);
  t.same(k.get('kartra:contact:1003')?.lookups.state_id, {
    model: 'res.country.state',
    field: 'code',
    value: 'VA',
    alt_fields: ['name'],
    where: { 'country_id.code': 'US' },
  });
  t.same(s.profile.flags.contact, { bounced: 1, unsubscribed: 1, 'stale (no activity for 2 years)': 3 });
  t.ok(
    k.get('kartra:contact:1004')?.issues.some((i) => i.field === 'Email Status' && /flagged bounced/.test(i.message)),
  );
  t.match(s.inventory, /## Behavioural tags found[\s\S]*- webinar-2024/);
  t.match(s.inventory, /Sequences and automations/);
});

t.test("selection literals are written the way Python's repr writes them", async (t) => {
  const { pyRepr, selectionLiteral } = await import('../../bridge/src/mapping/custom-fields.js');
  t.equal(pyRepr('Blue'), "'Blue'");
  t.equal(pyRepr("O'Brien"), '"O\'Brien"');
  t.equal(pyRepr('both \' and "'), "'both \\' and \"'");
  t.equal(pyRepr('a\\b\nc'), "'a\\\\b\\nc'");
  t.equal(pyRepr('Zoë'), "'Zoë'");
  t.equal(selectionLiteral([['a', 'A']]), "[('a', 'A')]");
});

t.test('appointments → calendar events with the contact as attendee and original times', async (t) => {
  const s = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
  const k = index(s);
  t.match(k.get('kartra:appointment:A-71'), {
    model: 'calendar.event',
    values: {
      name: 'Discovery call with Ada',
      start: '2024-03-20 14:00:00',
      stop: '2024-03-20 14:30:00',
      location: 'Zoom',
      active: true,
      x_kartra_calendar: 'Discovery calls',
      source_create_date: '2024-03-11 12:15:00',
    },
    refs: { partner_ids: ['kartra:contact:1001'] },
  });
  t.equal(k.get('kartra:appointment:A-73')?.values.active, false, 'cancelled appointments archived');
  t.same(k.get('kartra:appointment:A-72')?.lookups.user_id?.required, true);
});
