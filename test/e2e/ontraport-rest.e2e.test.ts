/**
 * The rest of Ontraport into a real Odoo 18 (issue 9): tasks, invoices with their payments and
 * campaigns (test/fixtures/ontraport/), in two databases:
 * - ODOO_DB_FULL (crm + calendar + sale_management + project, so Invoicing is there too): tasks
 *   become project tasks in the project "Ontraport tasks" (contact, deal, owner, state, priority,
 *   type as a tag), invoices become posted customer invoices with their lines, the amount paid in
 *   Ontraport a payment reconciled with the invoice, a void one cancelled; campaigns become
 *   contact tags under "Ontraport campaigns"; rollback leaves every touched model as it was.
 * - ODOO_DB (crm only, no Invoicing, no Project): the missing-app report (the profile's targets and
 *   the inventory) says invoices need Invoicing and tasks fell back to activities; the invoices
 *   stay staged in error (never committed), nothing fails, the tasks land as activities.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { z } from 'zod';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageToOdoo } from '../../bridge/src/stage-exports.js';
import {
  OdooReader,
  ODOO_SERIES,
  ODOO_SERIES_RE,
  readerOf,
  m2oId,
  m2oName,
  odooEnvPresent,
  type Row,
} from '../helpers/odoo.js';
import { root } from '../helpers/paths.js';

if (!odooEnvPresent() || !process.env.ODOO_DB_FULL) {
  t.fail('ODOO_URL / ODOO_DB_FULL not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const OWNER = 'jane.sales@example.com';
const files = ['contacts.csv', 'companies.csv', 'deals.csv', 'tasks.csv', 'invoices.csv'].map((name) => ({
  name,
  path: join(root, 'test', 'fixtures', 'ontraport', name),
}));

const reader = readerOf;

const counts = (odoo: OdooReader, models: string[]) => odoo.counts(models);

async function jane(t: Test, odoo: OdooReader): Promise<number> {
  const existing = await odoo.migrations.userId(OWNER);
  if (existing !== null) return existing;
  const id = await odoo.create('res.users', { name: 'Jane Sales', login: OWNER, email: OWNER });
  const partner = m2oId((await odoo.one('res.users', [['id', '=', id]], ['partner_id'])).partner_id);
  t.teardown(async () => {
    await odoo.unlink('res.users', [id]).catch(() => undefined);
    await odoo.unlink('res.partner', [Number(partner)]).catch(() => undefined);
  });
  return id;
}

/** a run stopped halfway leaves its migration committed: undo it first */
async function cleanUp(odoo: OdooReader): Promise<void> {
  for (const m of await odoo.read(
    'crm.migration',
    [
      ['name', 'like', 'Ontraport rest e2e'],
      ['state', '!=', 'rolled_back'],
    ],
    ['id'],
  )) {
    await odoo.migrations.rollback(Number(m.id), 'undo');
  }
}

const byKey = (rows: Row[]) => new Map(rows.map((r) => [String(r.source_key ?? r.ref), r]));

t.test(
  'Invoicing + Project installed: project tasks, posted invoices with payments, campaigns as tags; exact rollback',
  async (t) => {
    const odoo = reader(process.env.ODOO_DB_FULL as string);
    t.match(await odoo.transport.version(), ODOO_SERIES_RE, `a real Odoo ${ODOO_SERIES} answers`);
    const apps = await odoo.migrations.installedApps(['account', 'project']);
    t.same(apps, { account: true, project: true }, 'the full database has Invoicing and Project');
    await cleanUp(odoo);
    const janeId = await jane(t, odoo);
    const MODELS = [
      'res.partner',
      'res.partner.category',
      'crm.lead',
      'project.task',
      'project.project',
      'project.tags',
      'account.move',
      'account.move.line',
      'account.payment',
      'account.partial.reconcile',
      'product.product',
      'ir.model.fields',
      'mail.activity',
      'mail.mail',
    ];
    const before = await counts(odoo, MODELS);

    const { report: staged } = await stageToOdoo(odoo.migrations, 'ontraport', csvReader(files), {
      name: 'Ontraport rest e2e (full)',
    });
    t.same(await counts(odoo, MODELS), before, 'staging writes nothing outside the migration');
    await odoo.migrations.setFallbackUser(staged.id, janeId); // the owner Odoo does not know
    const committed = await odoo.migrations.commit(staged.id);
    t.same(committed.failed, [], 'nothing failed');
    t.same(committed.skipped, [], 'nothing skipped');
    t.equal(committed.objects.invoice?.committed, 4, 'four invoices');
    t.equal(committed.objects.invoice_line?.committed, 5, 'five invoice lines (the first invoice has two)');
    t.equal(committed.objects.task?.committed, 3, 'three project tasks');

    // tasks → project.task
    const contacts = byKey(
      await odoo.read('res.partner', [['source_key', 'like', 'ontraport:contact:']], ['id', 'source_key']),
    );
    const cid = (n: number) => Number(contacts.get(`ontraport:contact:${n}`)?.id);
    const deal = await odoo.one('crm.lead', [['source_key', '=', 'ontraport:deal:D1']], ['id']);
    const tasks = await odoo.read(
      'project.task',
      [['name', 'in', ['Send licence terms', 'Call about the proposal', 'Phone instead of email']]],
      [
        'name',
        'project_id',
        'partner_id',
        'x_ontraport_deal_id',
        'state',
        'priority',
        'tag_ids',
        'user_ids',
        'date_deadline',
        'date_end',
        'description',
      ],
    );
    const task = (name: string) => tasks.find((x) => x.name === name) as Row;
    t.equal(tasks.length, 3);
    t.same(
      tasks.map((x) => m2oName(x.project_id)),
      ['Ontraport tasks', 'Ontraport tasks', 'Ontraport tasks'],
      'in the project "Ontraport tasks"',
    );
    t.same(
      [
        m2oId(task('Send licence terms').partner_id),
        m2oId(task('Send licence terms').x_ontraport_deal_id),
        task('Send licence terms').state,
        task('Send licence terms').priority,
        task('Send licence terms').user_ids,
        task('Send licence terms').date_deadline,
      ],
      [cid(1), Number(deal.id), '01_in_progress', '1', [janeId], '2024-03-15 00:00:00'],
      'contact, deal (the opportunity), pending → in progress, high priority, owner, due date',
    );
    t.match(task('Send licence terms').description, /Draft the terms for the engine/);
    t.same(
      [
        task('Call about the proposal').state,
        task('Call about the proposal').date_end,
        m2oId(task('Call about the proposal').x_ontraport_deal_id),
      ],
      ['1_done', '2024-03-22 00:00:00', Number(deal.id)],
      'complete → done, with its completion date',
    );
    t.same(
      [
        task('Phone instead of email').state,
        m2oId(task('Phone instead of email').partner_id),
        task('Phone instead of email').x_ontraport_deal_id,
      ],
      ['1_canceled', cid(3), false],
      'cancelled; a task of a contact only',
    );
    const tags = await odoo.read('project.tags', [['id', 'in', tasks.flatMap((x) => x.tag_ids as number[])]], ['name']);
    t.same(tags.map((x) => x.name).sort(), ['Call', 'Email', 'Follow-up'], 'the task type as a project tag');

    // invoices → account.move, posted, paid as Ontraport says
    const moves = byKey(
      await odoo.read(
        'account.move',
        [['source_key', 'like', 'ontraport:invoice:']],
        [
          'source_key',
          'ref',
          'move_type',
          'state',
          'partner_id',
          'commercial_partner_id',
          'invoice_date',
          'invoice_date_due',
          'amount_total',
          'amount_residual',
          'payment_state',
          'invoice_line_ids',
          'source_paid_amount',
        ],
      ),
    );
    const move = (id: string) => moves.get(`ontraport:invoice:${id}`) as Row;
    t.same(
      ['INV-1001', 'INV-1002', 'INV-1003', 'INV-1004'].map((i) => [
        move(i).move_type,
        move(i).state,
        m2oId(move(i).partner_id),
        move(i).amount_total,
      ]),
      [
        ['out_invoice', 'posted', cid(1), 12500],
        ['out_invoice', 'posted', cid(3), 2000],
        ['out_invoice', 'posted', cid(2), 450],
        ['out_invoice', 'cancel', cid(4), 300],
      ],
      'customer invoices; paid, partly paid and unpaid ones posted, the void one cancelled; totals as in Ontraport (no tax added)',
    );
    t.same(
      [move('INV-1001').invoice_date, move('INV-1001').invoice_date_due, move('INV-1001').ref],
      ['2024-03-20', '2024-04-19', 'INV-1001'],
      'dates and the Ontraport invoice number',
    );
    const lines = await odoo.read(
      'account.move.line',
      [
        ['move_id', '=', Number(move('INV-1001').id)],
        ['display_type', '=', 'product'],
      ],
      ['name', 'quantity', 'price_unit', 'product_id', 'tax_ids'],
    );
    t.same(
      lines.map((l) => [l.name, l.quantity, l.price_unit, m2oName(l.product_id), l.tax_ids]).sort(),
      [
        ['Engine licence', 1, 12000, 'Engine licence', []],
        ['Setup fee', 2, 250, 'Setup fee', []],
      ],
      'its two lines, with placeholder products',
    );
    t.ok(
      ['paid', 'in_payment'].includes(String(move('INV-1001').payment_state)),
      `paid in full: ${String(move('INV-1001').payment_state)}`,
    );
    t.equal(move('INV-1001').amount_residual, 0);
    t.equal(move('INV-1002').payment_state, 'partial', '800 of 2000 paid');
    t.equal(move('INV-1002').amount_residual, 1200);
    t.same([move('INV-1003').payment_state, move('INV-1003').amount_residual], ['not_paid', 450]);
    const payments = await odoo.read(
      'account.payment',
      [['memo', 'like', 'TX-900']],
      ['amount', 'date', 'state', 'memo', 'partner_id', 'reconciled_invoice_ids'],
    );
    t.same(
      payments
        .map((p) => [p.amount, p.date, m2oId(p.partner_id), p.reconciled_invoice_ids])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
      [
        [800, '2024-04-10', m2oId(move('INV-1002').commercial_partner_id), [Number(move('INV-1002').id)]],
        [12500, '2024-03-28', m2oId(move('INV-1001').commercial_partner_id), [Number(move('INV-1001').id)]],
      ],
      "one payment per paid invoice, on its payment date, from the invoice's commercial partner, reconciled with it",
    );
    const links = await odoo.read(
      'crm.migration.link',
      [
        ['migration_id', '=', staged.id],
        ['model', '=', 'account.payment'],
      ],
      ['key', 'action'],
    );
    t.same(
      links.map((l) => [l.key, l.action]).sort(),
      [
        ['ontraport:invoice:INV-1001:payment', 'created'],
        ['ontraport:invoice:INV-1002:payment', 'created'],
      ],
      'the payments are linked to the migration',
    );

    // campaigns → tags under "Ontraport campaigns"
    const ada = await odoo.one('res.partner', [['id', '=', cid(1)]], ['category_id']);
    const cats = await odoo.read(
      'res.partner.category',
      [['id', 'in', ada.category_id as number[]]],
      ['name', 'parent_id'],
    );
    t.same(
      cats
        .filter((c) => m2oName(c.parent_id) === 'Ontraport campaigns')
        .map((c) => c.name)
        .sort(),
      ['Engine newsletter', 'Spring licence offer'],
      "Ada's campaigns as tags under Ontraport campaigns",
    );

    t.equal((await odoo.count('mail.mail')) - (before['mail.mail'] ?? 0), 0, 'no mail leaves');

    const rolled = await odoo.migrations.rollback(staged.id);
    t.equal(rolled.state, 'rolled_back');
    t.same(
      await counts(odoo, MODELS),
      before,
      'every touched model back to its count: payments, reconciliations, invoices and lines, tasks, projects, tags, products, partners, custom fields',
    );
  },
);

t.test('no Invoicing, no Project: the missing-app report, invoices held back, tasks as activities', async (t) => {
  const odoo = reader(process.env.ODOO_DB as string);
  const apps = await odoo.migrations.installedApps(['account', 'project']);
  t.same(apps, { account: false, project: false }, 'the crm-only database');
  await cleanUp(odoo);
  const janeId = await jane(t, odoo);
  const MODELS = ['res.partner', 'res.partner.category', 'crm.lead', 'mail.activity', 'ir.model.fields', 'mail.mail'];
  const before = await counts(odoo, MODELS);

  const { report: staged, staged: result } = await stageToOdoo(odoo.migrations, 'ontraport', csvReader(files), {
    name: 'Ontraport rest e2e (crm only)',
  });
  const targets = result.profile.targets.map((x) => [x.object, x.decision, x.model, x.missingApps]);
  t.same(
    targets,
    [
      ['task', 'fallback', 'mail.activity', ['project']],
      ['invoice', 'app missing', 'account.move', ['account']],
    ],
    'the profile tells what fell back and what waits for an app',
  );
  t.equal(staged.objects.invoice?.error, 4, 'the four invoices are staged in error (never committed)');
  t.equal(staged.objects.invoice_line?.error, 5);
  const mig = await odoo.one('crm.migration', [['id', '=', staged.id]], ['profile_json', 'inventory_attachment_id']);
  const profile = z
    .object({ targets: z.array(z.object({ object: z.string(), decision: z.string() })) })
    .passthrough()
    .parse(mig.profile_json);
  t.same(
    profile.targets.map((x) => [x.object, x.decision]),
    [
      ['task', 'fallback'],
      ['invoice', 'app missing'],
    ],
    'Odoo holds the same report on the migration',
  );
  const inventory = await odoo.one('ir.attachment', [['id', '=', m2oId(mig.inventory_attachment_id)]], ['raw']);
  const text = String(inventory.raw);
  t.match(text, /Objects whose preferred Odoo app is missing/);
  t.match(
    text,
    /\| invoice \| app missing \| account\.move \| account \|/,
    'the inventory lists the invoices as waiting for Invoicing',
  );
  t.match(
    text,
    /\| task \| fallback \| mail\.activity \| project \|/,
    'and the tasks as activities for want of Project',
  );

  await odoo.migrations.setFallbackUser(staged.id, janeId); // the owner Odoo does not know
  const committed = await odoo.migrations.commit(staged.id);
  t.same(committed.failed, [], 'nothing fails');
  t.same(committed.skipped, []);
  t.equal(committed.counts.error, 9, 'the invoices and their lines stay in error, untouched');
  const contacts = byKey(
    await odoo.read('res.partner', [['source_key', 'like', 'ontraport:contact:']], ['id', 'source_key']),
  );
  const acts = await odoo.read(
    'mail.activity',
    [
      ['res_model', '=', 'res.partner'],
      [
        'res_id',
        'in',
        [Number(contacts.get('ontraport:contact:1')?.id), Number(contacts.get('ontraport:contact:3')?.id)],
      ],
    ],
    ['summary', 'res_id', 'active', 'user_id'],
  );
  t.same(
    acts.map((a) => [a.summary, a.res_id, a.active, m2oId(a.user_id)]).sort(),
    [
      ['Call about the proposal', Number(contacts.get('ontraport:contact:1')?.id), false, janeId],
      ['Phone instead of email', Number(contacts.get('ontraport:contact:3')?.id), false, janeId],
      ['Send licence terms', Number(contacts.get('ontraport:contact:1')?.id), true, janeId],
    ],
    'the tasks as activities on their contact (the fallback)',
  );
  const ada = await odoo.one(
    'res.partner',
    [['id', '=', Number(contacts.get('ontraport:contact:1')?.id)]],
    ['category_id'],
  );
  const cats = await odoo.read(
    'res.partner.category',
    [['id', 'in', ada.category_id as number[]]],
    ['name', 'parent_id'],
  );
  t.same(
    cats
      .filter((c) => m2oName(c.parent_id) === 'Ontraport campaigns')
      .map((c) => c.name)
      .sort(),
    ['Engine newsletter', 'Spring licence offer'],
    'campaigns as tags need no app',
  );

  const rolled = await odoo.migrations.rollback(staged.id);
  t.equal(rolled.state, 'rolled_back');
  t.same(await counts(odoo, MODELS), before, 'rolled back exactly');
});

t.test(
  'custom objects: one custom model per object (x_ fields, lookups to partners), committed, read back, rolled back exactly; only declared custom models',
  async (t) => {
    const odoo = reader(process.env.ODOO_DB as string);
    await cleanUp(odoo);
    const janeId = await jane(t, odoo);
    const MODELS = [
      'res.partner',
      'ir.model',
      'ir.model.fields',
      'ir.model.access',
      'ir.ui.view',
      'crm.migration.link',
    ];
    const before = await counts(odoo, MODELS);
    t.equal(
      await odoo.count('ir.model', [['model', 'in', ['x_ontraport_pets', 'x_ontraport_courses']]]),
      0,
      'no such model before',
    );
    const objectFiles = ['contacts.csv', 'companies.csv', 'custom-object-pets.csv', 'custom-object-courses.csv'].map(
      (name) => ({ name, path: join(root, 'test', 'fixtures', 'ontraport', name) }),
    );
    const { report: staged } = await stageToOdoo(odoo.migrations, 'ontraport', csvReader(objectFiles), {
      name: 'Ontraport rest e2e (custom objects)',
    });
    t.same(
      { ...(await counts(odoo, MODELS)), 'crm.migration.link': 0 },
      { ...before, 'crm.migration.link': 0 },
      'staging creates no model, field or row',
    );
    t.same(
      [staged.objects.custom_model?.staged, staged.objects.custom_pets?.staged, staged.objects.custom_courses?.staged],
      [2, 4, 2],
    );

    await odoo.migrations.setFallbackUser(staged.id, janeId); // the owner Odoo does not know
    const committed = await odoo.migrations.commit(staged.id);
    t.same(committed.failed, []);
    t.same(committed.skipped, []);
    t.same(
      [
        committed.objects.custom_model?.committed,
        committed.objects.custom_pets?.committed,
        committed.objects.custom_courses?.committed,
      ],
      [2, 4, 2],
      'two custom models, their records',
    );

    const models = await odoo.read(
      'ir.model',
      [['model', 'in', ['x_ontraport_pets', 'x_ontraport_courses']]],
      ['model', 'name', 'state'],
    );
    t.same(
      models.map((m) => [m.model, m.name, m.state]).sort(),
      [
        ['x_ontraport_courses', 'Courses', 'manual'],
        ['x_ontraport_pets', 'Pets', 'manual'],
      ],
      'one custom model per Ontraport custom object',
    );
    const fieldsOf = async (model: string) =>
      (
        await odoo.read(
          'ir.model.fields',
          [
            ['model', '=', model],
            ['name', '=like', 'x_%'],
          ],
          ['name', 'ttype', 'relation'],
        )
      )
        .map((f) => [f.name, f.ttype, f.relation || ''])
        .sort();
    t.same(
      await fieldsOf('x_ontraport_pets'),
      [
        ['x_name', 'char', ''],
        ['x_ontraport_birth_date', 'date', ''],
        ['x_ontraport_company_id', 'many2one', 'res.partner'],
        ['x_ontraport_contact_id', 'many2one', 'res.partner'],
        ['x_ontraport_date_added', 'datetime', ''],
        ['x_ontraport_id', 'char', ''],
        ['x_ontraport_species', 'char', ''],
        ['x_ontraport_weight_kg', 'float', ''],
      ],
      'x_ fields typed from the values, the lookups as many2one relations to partners',
    );
    t.equal(
      await odoo.count('ir.model.access', [
        ['model_id.model', '=', 'x_ontraport_pets'],
        ['group_id.name', '=', 'Internal User'],
      ]),
      1,
      'internal users may use it',
    );

    const contacts = byKey(
      await odoo.read('res.partner', [['source_key', 'like', 'ontraport:contact:']], ['id', 'source_key']),
    );
    const company = await odoo.one('res.partner', [['source_key', '=', 'ontraport:company:C1']], ['id']);
    const pets = await odoo.read(
      'x_ontraport_pets',
      [],
      [
        'x_name',
        'x_ontraport_id',
        'x_ontraport_contact_id',
        'x_ontraport_company_id',
        'x_ontraport_species',
        'x_ontraport_birth_date',
        'x_ontraport_weight_kg',
        'x_ontraport_date_added',
      ],
    );
    t.same(
      pets
        .map((p) => [
          p.x_name,
          p.x_ontraport_id,
          m2oId(p.x_ontraport_contact_id),
          m2oId(p.x_ontraport_company_id),
          p.x_ontraport_species,
          p.x_ontraport_birth_date,
          p.x_ontraport_weight_kg,
          p.x_ontraport_date_added,
        ])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      [
        [
          'Rex',
          'P1',
          Number(contacts.get('ontraport:contact:1')?.id),
          Number(company.id),
          'Dog',
          '2019-05-01',
          31.5,
          '2024-01-10 09:00:00',
        ],
        [
          'Tibbles',
          'P2',
          Number(contacts.get('ontraport:contact:3')?.id),
          false,
          'Cat',
          '2020-07-15',
          4.2,
          '2024-02-11 10:30:00',
        ],
        [
          'Nemo',
          'P3',
          Number(contacts.get('ontraport:contact:4')?.id),
          false,
          'Fish',
          false,
          0.1,
          '2024-03-12 11:00:00',
        ],
        ['Stray', 'P4', false, false, 'Dog', false, 12, '2024-03-13 11:00:00'],
      ],
      'each record a row of its model, linked to its contact and company',
    );
    const courses = await odoo.read(
      'x_ontraport_courses',
      [],
      ['x_name', 'x_ontraport_seats', 'x_ontraport_level', 'x_ontraport_contact_id'],
    );
    t.same(
      courses.map((c) => [c.x_name, c.x_ontraport_seats, c.x_ontraport_level, m2oId(c.x_ontraport_contact_id)]).sort(),
      [
        ['Analytical Engines 101', 20, 'Beginner', Number(contacts.get('ontraport:contact:2')?.id)],
        ['Compilers in Practice', 12, 'Advanced', Number(contacts.get('ontraport:contact:3')?.id)],
      ],
    );

    // restricted: a migration may only write into the custom models its own mapping declared
    const other = await odoo.migrations.create('Ontraport rest e2e (undeclared model)', 'ontraport');
    t.teardown(async () => {
      await odoo.migrations.rollback(other, 'undo').catch(() => undefined);
    });
    await t.rejects(
      () =>
        odoo.transport.call('crm.migration', 'api_stage', [
          [other],
          [{ key: 'x:pets:1', object: 'pets', model: 'x_ontraport_pets', values: { x_name: 'Intruder' } }],
        ]),
      /custom model this migration does not declare/,
      'a row into a custom model another migration made is refused',
    );
    await t.rejects(
      () =>
        odoo.transport.call('crm.migration', 'api_stage', [
          [other],
          [
            {
              key: 'x:model:1',
              object: 'custom_model',
              model: 'ir.model',
              values: { model: 'res.partner.x', name: 'Not custom', state: 'manual' },
              match: [['model']],
            },
          ],
        ]),
      /creates a custom model/,
      'a schema record may only create an x_ model',
    );
    await t.rejects(
      () =>
        odoo.transport.call('crm.migration', 'api_stage', [
          [other],
          [
            {
              key: 'x:field:1',
              object: 'custom_field',
              model: 'ir.model.fields',
              values: {
                name: 'x_extra',
                model: 'x_ontraport_pets',
                field_description: 'Extra',
                ttype: 'char',
                state: 'manual',
              },
              lookups: { model_id: { model: 'ir.model', field: 'model', value: 'x_ontraport_pets' } },
              match: [['name', 'model']],
            },
          ],
        ]),
      /custom model this migration does not declare/,
      'nor add fields to a custom model it did not declare',
    );

    const rolled = await odoo.migrations.rollback(staged.id);
    t.equal(rolled.state, 'rolled_back');
    t.same(rolled.kept_fields, [], 'no field kept');
    t.equal(
      await odoo.count('ir.model', [['model', 'in', ['x_ontraport_pets', 'x_ontraport_courses']]]),
      0,
      'the custom models are gone',
    );
    t.same(
      { ...(await counts(odoo, MODELS)), 'crm.migration.link': 0 },
      { ...before, 'crm.migration.link': 0 },
      'models, fields, access rules, partners: exactly as before',
    );
  },
);
