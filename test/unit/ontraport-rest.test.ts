/**
 * The rest of Ontraport (issue 9) through its mapping, without Odoo: tasks as project tasks (or
 * activities when Project is missing), invoices with their lines and what Ontraport says about
 * their state and payment (or held back when Invoicing is missing), campaigns as tags under one
 * parent tag, custom objects as one custom model each (schema first, lookups to partners), and
 * the inventory of what cannot migrate.
 */
import t from 'tap';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { root } from '../helpers/paths.js';

const op = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'ontraport', name) });
const now = new Date('2024-07-01T00:00:00Z');
const ALL = [
  'contacts.csv',
  'companies.csv',
  'deals.csv',
  'tasks.csv',
  'invoices.csv',
  'custom-object-pets.csv',
  'custom-object-courses.csv',
].map(op);
const index = (s: Staged) => new Map<string, StagedRecord>(s.records.map((r) => [r.key, r]));
const ofObject = (s: Staged, object: string) => s.records.filter((r) => r.object === object);
const errors = (r: StagedRecord | undefined) =>
  (r?.issues ?? []).filter((i) => i.level === 'error').map((i) => i.message);

t.test('every export is recognised: tasks, invoices and each custom object by their headers', async (t) => {
  const s = await stageExports('ontraport', csvReader(ALL), { now, installedApps: { project: true, account: true } });
  t.same(
    s.profile.files.map((f) => [f.file, f.object, f.rows]),
    [
      ['contacts.csv', 'contact', 6],
      ['companies.csv', 'company', 4],
      ['deals.csv', 'deal', 5],
      ['tasks.csv', 'task', 3],
      ['invoices.csv', 'invoice', 5],
      ['custom-object-pets.csv', 'custom_object', 4],
      ['custom-object-courses.csv', 'custom_object', 2],
    ],
  );
  t.same(
    s.records.filter((r) => r.issues.some((i) => i.level === 'error')).map((r) => r.key),
    [],
    'no record in error',
  );
});

t.test('tasks → project.task with Project: project, contact, deal, state, priority, type tag, owner', async (t) => {
  const s = await stageExports('ontraport', csvReader(ALL), { now, installedApps: { project: true, account: true } });
  const k = index(s);
  t.same(
    ofObject(s, 'task').map((r) => [
      r.key,
      r.model,
      r.values.name,
      r.values.state,
      r.values.priority ?? null,
      r.values.date_deadline,
      r.values.date_end ?? null,
    ]),
    [
      ['ontraport:task:T1', 'project.task', 'Send licence terms', '01_in_progress', '1', '2024-03-15 00:00:00', null],
      [
        'ontraport:task:T2',
        'project.task',
        'Call about the proposal',
        '1_done',
        null,
        '2024-03-24 00:00:00',
        '2024-03-22 00:00:00',
      ],
      [
        'ontraport:task:T3',
        'project.task',
        'Phone instead of email',
        '1_canceled',
        '0',
        '2024-01-12 00:00:00',
        '2024-01-08 00:00:00',
      ],
    ],
    'pending/complete/cancelled → in progress/done/cancelled, High → high priority, due and completion dates',
  );
  t.same(
    k.get('ontraport:task:T1')?.refs,
    {
      tag_ids: ['ontraport:task_category:email'],
      project_id: 'ontraport:task_project:ontraport tasks',
      partner_id: 'ontraport:contact:1',
      x_ontraport_deal_id: 'ontraport:deal:D1',
    },
    'its type as a project tag, the project "Ontraport tasks", its contact and its deal (by their Ontraport ids)',
  );
  t.same(
    k.get('ontraport:task:T1')?.lookups.user_ids,
    { model: 'res.users', field: 'login', value: 'jane.sales@example.com', required: true },
    'the owner waits for reconciliation when unknown',
  );
  t.same(
    k.get('ontraport:task:T1')?.deps,
    ['ontraport:custom_field:project.task.x_ontraport_deal_id'],
    'the deal field is created first',
  );
  t.match(
    k.get('ontraport:custom_field:project.task.x_ontraport_deal_id')?.values,
    { ttype: 'many2one', relation: 'crm.lead', model: 'project.task' },
    'a many2one to the opportunity',
  );
  t.notOk('x_ontraport_deal_id' in (k.get('ontraport:task:T3')?.refs ?? {}), 'a task of a contact only has no deal');
});

t.test(
  'tasks without Project fall back to activities on their contact (same rows, the deal noted as lossy)',
  async (t) => {
    const s = await stageExports('ontraport', csvReader(ALL), {
      now,
      installedApps: { project: false, account: true },
    });
    t.same(ofObject(s, 'task').length, 0);
    t.same(
      ofObject(s, 'task_activity').map((r) => [r.key, r.model, r.attach_to]),
      [
        ['ontraport:task_activity:T1', 'mail.activity', 'ontraport:contact:1'],
        ['ontraport:task_activity:T2', 'mail.activity', 'ontraport:contact:1'],
        ['ontraport:task_activity:T3', 'mail.activity', 'ontraport:contact:3'],
      ],
    );
    t.same(ofObject(s, 'task_project').length + ofObject(s, 'task_category').length, 0, 'no project nor project tag');
    t.match(
      s.profile.targets.find((x) => x.object === 'task'),
      { decision: 'fallback', chosen: 'task_activity', model: 'mail.activity', missingApps: ['project'] },
    );
    t.match(
      s.profile.lossy.find((l) => l.object === 'task_activity' && l.column === 'deal_id')?.reason,
      /activity on its contact/,
    );
  },
);

t.test(
  'invoices → account.move: one invoice per id (its rows merged), one line per row, status and payment as Ontraport says',
  async (t) => {
    const s = await stageExports('ontraport', csvReader(ALL), { now, installedApps: { project: true, account: true } });
    const k = index(s);
    t.same(
      ofObject(s, 'invoice').map((r) => [
        r.key,
        r.values.move_type,
        r.values.invoice_date,
        r.values.source_state,
        r.values.source_paid_amount ?? null,
        r.values.source_paid_date ?? null,
        r.refs.partner_id,
      ]),
      [
        [
          'ontraport:invoice:INV-1001',
          'out_invoice',
          '2024-03-20',
          'posted',
          12500,
          '2024-03-28',
          'ontraport:contact:1',
        ],
        ['ontraport:invoice:INV-1002', 'out_invoice', '2024-04-02', 'posted', 800, '2024-04-10', 'ontraport:contact:3'],
        ['ontraport:invoice:INV-1003', 'out_invoice', '2024-05-05', 'posted', 0, null, 'ontraport:contact:2'],
        ['ontraport:invoice:INV-1004', 'out_invoice', '2024-05-06', 'cancel', 0, null, 'ontraport:contact:4'],
      ],
      'paid / partially paid / unpaid → posted with what was paid; void → cancelled',
    );
    t.equal(
      k.get('ontraport:invoice:INV-1001')?.values.source_payment_ref,
      'TX-9001 · Stripe',
      'transaction id and gateway as the payment reference',
    );
    const lines = ofObject(s, 'invoice_line');
    t.same(
      lines.map((r) => [r.refs.move_id, r.values.name, r.values.quantity, r.values.price_unit, r.refs.product_id]),
      [
        ['ontraport:invoice:INV-1001', 'Engine licence', 1, 12000, 'ontraport:invoice_product:engine licence'],
        ['ontraport:invoice:INV-1001', 'Setup fee', 2, 250, 'ontraport:invoice_product:setup fee'],
        ['ontraport:invoice:INV-1002', 'Compiler support', 4, 500, 'ontraport:invoice_product:compiler support'],
        ['ontraport:invoice:INV-1003', 'Consulting hour', 3, 150, 'ontraport:invoice_product:consulting hour'],
        ['ontraport:invoice:INV-1004', 'Codebreaking kit', 1, 300, 'ontraport:invoice_product:codebreaking kit'],
      ],
      'the rows of one invoice are its lines; Σ lines = the Ontraport total',
    );
    t.equal(
      new Set(lines.map((r) => r.key)).size,
      5,
      'each line its own key (invoice id + a digest of product, quantity, price)',
    );
  },
);

t.test(
  'invoices without Invoicing: staged in error with the reason, listed in the missing-app report and the inventory',
  async (t) => {
    const s = await stageExports('ontraport', csvReader(ALL), {
      now,
      installedApps: { project: false, account: false },
    });
    const k = index(s);
    t.match(errors(k.get('ontraport:invoice:INV-1001')), [/needs the Odoo app\(s\) account, not installed/]);
    t.match(errors(ofObject(s, 'invoice_line')[0]), [
      /belongs to a record whose Odoo app is not installed \(account\)/,
    ]);
    t.same(ofObject(s, 'invoice_product').length, 0, 'no placeholder product without Invoicing');
    t.match(
      s.profile.targets.find((x) => x.object === 'invoice'),
      { decision: 'app missing', missingApps: ['account'] },
    );
    t.match(s.inventory, /\| invoice \| app missing \| account\.move \| account \|/);
    t.match(s.inventory, /\| task \| fallback \| mail\.activity \| project \|/);
  },
);

t.test('campaigns → contact tags under "Ontraport campaigns"; their configuration in the inventory', async (t) => {
  const s = await stageExports('ontraport', csvReader(ALL), { now });
  const k = index(s);
  t.same(
    ofObject(s, 'campaign').map((r) => [r.values.name, r.refs.parent_id, r.match]),
    [
      ['Spring licence offer', 'ontraport:campaign_group:ontraport campaigns', [['name', 'parent_id']]],
      ['Engine newsletter', 'ontraport:campaign_group:ontraport campaigns', [['name', 'parent_id']]],
    ],
  );
  t.same(
    k.get('ontraport:contact:3')?.refs.category_id,
    ['ontraport:campaign:engine newsletter'],
    'one contact, one enrolment',
  );
  t.match(s.inventory, /Campaigns \(Campaign Builder maps, email templates, send schedules\)/);
  t.match(s.inventory, /Automation rules/);
  t.match(s.inventory, /Sequences/);
});

t.test(
  'custom objects → one custom model per object, created before its fields, its fields before its records',
  async (t) => {
    const s = await stageExports('ontraport', csvReader(ALL), { now });
    const k = index(s);
    t.same(
      ofObject(s, 'custom_model').map((r) => [r.key, r.model, r.values, r.match]),
      [
        [
          'ontraport:custom_model:x_ontraport_pets',
          'ir.model',
          { model: 'x_ontraport_pets', name: 'Pets', state: 'manual' },
          [['model']],
        ],
        [
          'ontraport:custom_model:x_ontraport_courses',
          'ir.model',
          { model: 'x_ontraport_courses', name: 'Courses', state: 'manual' },
          [['model']],
        ],
      ],
    );
    const petFields = ofObject(s, 'custom_field').filter((r) => r.values.model === 'x_ontraport_pets');
    t.same(
      petFields.map((r) => [r.values.name, r.values.ttype, r.values.relation ?? null, r.deps]),
      [
        ['x_ontraport_id', 'char', null, ['ontraport:custom_model:x_ontraport_pets']],
        ['x_ontraport_contact_id', 'many2one', 'res.partner', ['ontraport:custom_model:x_ontraport_pets']],
        ['x_ontraport_company_id', 'many2one', 'res.partner', ['ontraport:custom_model:x_ontraport_pets']],
        ['x_ontraport_date_added', 'datetime', null, ['ontraport:custom_model:x_ontraport_pets']],
        ['x_ontraport_species', 'char', null, ['ontraport:custom_model:x_ontraport_pets']],
        ['x_ontraport_birth_date', 'date', null, ['ontraport:custom_model:x_ontraport_pets']],
        ['x_ontraport_weight_kg', 'float', null, ['ontraport:custom_model:x_ontraport_pets']],
      ],
      'declared fields (the lookups as many2one to partners), then the columns nothing knows, typed from their values',
    );
    const rex = k.get('ontraport:custom_pets:P1');
    t.same(
      [rex?.model, rex?.values.x_name, rex?.values.x_ontraport_weight_kg, rex?.refs],
      [
        'x_ontraport_pets',
        'Rex',
        31.5,
        { x_ontraport_contact_id: 'ontraport:contact:1', x_ontraport_company_id: 'ontraport:company:C1' },
      ],
      'a row: its name, values, contact (by id) and company (by name)',
    );
    t.equal(rex?.deps?.[0], 'ontraport:custom_model:x_ontraport_pets', 'depends on its model first');
    t.ok(
      rex?.deps?.includes('ontraport:custom_field:x_ontraport_pets.x_ontraport_contact_id'),
      'and on the fields it fills, lookups included',
    );
    t.same(
      k.get('ontraport:custom_courses:C1')?.values.x_ontraport_seats,
      20,
      'another object, another model, its own fields',
    );
    t.notOk(
      s.records.some((r) => r.model === 'x_ontraport_custom_object'),
      'the template itself makes nothing',
    );
    const i = s.records.findIndex((r) => r.object === 'custom_model');
    t.ok(i >= 0 && i < s.records.findIndex((r) => r.object === 'custom_field'), 'models are sent before fields');
  },
);
