/**
 * The crmConnect mapping (mappings/crmconnect.json) over a small export made from the migration
 * spec's field names (test/fixtures/crmconnect/; crmConnect documents no export headers): several
 * UI exports joined, email as the join key across files (a contact in two exports is one
 * partner), companies as the parents of their contacts, opportunities with stage, pipeline,
 * amount, contact by email, owner, close date, won and lost; one pipeline → stages only (Odoo's
 * default pipeline), several → a sales team each; what cannot migrate in the inventory. And the
 * same records from a copy whose headers are renamed, reordered and in German and French
 * (test/fixtures/crmconnect/variant/).
 */
import t from 'tap';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import { describeSources } from '../../bridge/src/sources/registry.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { root } from '../helpers/paths.js';

const cc = (name: string, dir = '') => ({ name, path: join(root, 'test', 'fixtures', 'crmconnect', dir, name) });
const EXPORT = ['companies.csv', 'contacts.csv', 'contacts-segment.csv', 'opportunities.csv'];
const UI = EXPORT.map((n) => cc(n));
const VARIANT = [...EXPORT].reverse().map((n) => cc(n, 'variant'));
const now = new Date('2024-07-01T00:00:00Z');

const index = (s: Staged) => new Map<string, StagedRecord>(s.records.map((r) => [r.key, r]));
const ofObject = (s: Staged, object: string) => s.records.filter((r) => r.object === object);

t.test('crmConnect is offered as a CSV-upload source', async (t) => {
  t.same(
    describeSources().filter((s) => s.name === 'crmconnect'),
    [{ name: 'crmconnect', label: 'crmConnect (CSV exports)', input: 'csv-upload', credentials: [] }],
  );
});

t.test('every file recognised and its rows reconciled against what was staged', async (t) => {
  const s = await stageExports('crmconnect', csvReader(UI), { now });
  t.same(
    s.profile.files.map((f) => [f.file, f.object, f.rows]),
    [
      ['companies.csv', 'company', 3],
      ['contacts.csv', 'contact', 5],
      ['contacts-segment.csv', 'contact', 2],
      ['opportunities.csv', 'opportunity', 4],
    ],
  );
  t.same(
    Object.fromEntries(Object.entries(s.profile.objects).map(([o, c]) => [o, c.records])),
    { custom_field: 8, tag: 3, stage: 4, pipeline: 2, company: 3, contact: 6, opportunity: 4 },
    '7 contact rows in two files, one contact in both: 6 partners',
  );
});

t.test('companies: partners of type company, address, owner, industry and size as fields', async (t) => {
  const s = await stageExports('crmconnect', csvReader(UI), { now });
  const k = index(s);
  t.match(k.get('crmconnect:company:CO1'), {
    model: 'res.partner',
    match: [['name', 'is_company']],
    values: {
      name: 'Northwind Traders',
      is_company: true,
      ref: 'CO1',
      website: 'https://northwind.example',
      phone: '+12065550100',
      street: '1 Harbor Way',
      city: 'Seattle',
      zip: '98101',
      x_crmconnect_industry: 'Wholesale',
      x_crmconnect_employees: 120,
      source_create_date: '2022-03-01 09:00:00',
    },
  });
  t.same(k.get('crmconnect:company:CO1')?.lookups.user_id, {
    model: 'res.users',
    field: 'login',
    value: 'sam.owner@example.com',
    required: true,
  });
  t.same(k.get('crmconnect:company:CO1')?.lookups.state_id?.value, 'WA');
  t.equal(ofObject(s, 'company').length, 3);
});

t.test('contacts: email is the key and the join across exports; company as parent; tags; owner by email', async (t) => {
  const s = await stageExports('crmconnect', csvReader(UI), { now });
  const k = index(s);
  const nancy = k.get('crmconnect:contact:nancy.davolio@northwind.example');
  t.match(nancy, {
    model: 'res.partner',
    match: [['email']],
    values: {
      name: 'Nancy Davolio',
      email: 'nancy.davolio@northwind.example',
      ref: '101',
      function: 'Sales Rep',
      phone: '+12065550101',
      mobile: '+12065550199',
      is_company: false,
      type: 'contact',
      x_crmconnect_lead_source: 'Webinar',
      source_create_date: '2023-01-10 10:00:00',
      x_crmconnect_favourite_colour: 'Blue',
    },
  });
  t.same(nancy?.refs, {
    category_id: ['crmconnect:tag:vip', 'crmconnect:tag:newsletter'],
    parent_id: 'crmconnect:company:CO1',
  });
  t.same(
    nancy?.lookups.user_id,
    { model: 'res.users', field: 'login', value: 'sam.owner@example.com', required: true },
    'owner by email; an unknown one waits for reconciliation',
  );
  t.same(
    s.profile.duplicatesMerged,
    [
      {
        object: 'contact',
        kept: 'crmconnect:contact:nancy.davolio@northwind.example',
        keptAt: { file: 'contacts.csv', row: 2 },
        merged: { key: 'crmconnect:contact:nancy.davolio@northwind.example', file: 'contacts-segment.csv', row: 2 },
        by: 'key',
      },
    ],
    'the same email in another export (other case) is the same contact',
  );
  t.match(
    k.get('crmconnect:contact:laura@contoso.example'),
    {
      values: { name: 'Laura Callahan', email: 'laura@contoso.example' },
      refs: { category_id: ['crmconnect:tag:webinar 2024'] },
    },
    'a contact only in the segment export',
  );
  t.same(
    ofObject(s, 'contact')
      .filter((r) => r.refs.parent_id)
      .map((r) => [r.values.ref, r.refs.parent_id]),
    [
      ['101', 'crmconnect:company:CO1'],
      ['102', 'crmconnect:company:CO1'],
      ['103', 'crmconnect:company:CO2'],
      ['104', 'crmconnect:company:CO3'],
    ],
  );
  const steven = k.get('crmconnect:contact:steven@independent.example');
  t.equal(steven?.values.company_name, 'Buchanan Consulting', 'a company not in the Companies export keeps its name');
  t.ok(
    steven?.issues.some((i) => i.field === 'Company' && /no company with name "Buchanan Consulting"/.test(i.message)),
  );
  t.same(
    ofObject(s, 'tag')
      .map((r) => r.values.name)
      .sort(),
    ['Newsletter', 'VIP', 'Webinar 2024'],
  );
  t.match(
    s.profile.customFields.find((f) => f.header === 'Favourite Colour'),
    { name: 'x_crmconnect_favourite_colour', model: 'res.partner', origin: 'inferred from values' },
    'a custom property discovered from the headers',
  );
});

t.test('custom properties discovered from the headers, typed from their values', async (t) => {
  const s = await stageExports('crmconnect', csvReader(UI), { now });
  const found = s.profile.customFields
    .filter((f) => f.origin === 'inferred from values')
    .map((f) => [f.header, f.name, f.type, f.model]);
  t.same(found, [
    ['Favourite Colour', 'x_crmconnect_favourite_colour', 'char', 'res.partner'],
    ['Lifetime Value', 'x_crmconnect_lifetime_value', 'float', 'res.partner'],
    ['Seats', 'x_crmconnect_seats', 'integer', 'res.partner'],
    ['Renewal Date', 'x_crmconnect_renewal_date', 'date', 'res.partner'],
    ['Newsletter Opt-In', 'x_crmconnect_newsletter_opt_in', 'boolean', 'res.partner'],
  ]);
  const k = index(s);
  t.match(
    k.get('crmconnect:contact:janet@contoso.example')?.values,
    {
      x_crmconnect_lifetime_value: 1980.25,
      x_crmconnect_seats: 40,
      x_crmconnect_renewal_date: '2024-11-30',
      x_crmconnect_newsletter_opt_in: true,
    },
    'values written as their type',
  );
  t.match(k.get('crmconnect:contact:steven@independent.example')?.values, {
    x_crmconnect_lifetime_value: 0,
    x_crmconnect_newsletter_opt_in: false,
  });
  t.notOk(
    'x_crmconnect_seats' in (k.get('crmconnect:contact:steven@independent.example')?.values ?? {}),
    'an empty cell stays empty',
  );
  const zipLike = (await import('../../bridge/src/mapping/custom-fields.js')).inferType(['02108', '98101', '73301']);
  t.equal(zipLike.type, 'char', 'numbers with a leading zero (zip codes, ids) stay text');
});

t.test('opportunities: amount, stage, pipeline team, contact by email, owner, close date, won and lost', async (t) => {
  const s = await stageExports('crmconnect', csvReader(UI), { now });
  const k = index(s);
  const op1 = k.get('crmconnect:opportunity:OP1');
  t.match(op1, {
    model: 'crm.lead',
    values: {
      type: 'opportunity',
      name: 'Northwind renewal',
      expected_revenue: 15000,
      date_deadline: '2024-09-30',
      probability: 60,
      active: true,
      email_from: 'nancy.davolio@northwind.example',
      source_create_date: '2024-03-01 09:00:00',
    },
  });
  t.same(op1?.refs, {
    stage_id: 'crmconnect:stage:proposal',
    team_id: 'crmconnect:pipeline:sales',
    partner_id: 'crmconnect:contact:nancy.davolio@northwind.example',
  });
  t.same(op1?.lookups.user_id, { model: 'res.users', field: 'login', value: 'sam.owner@example.com', required: true });
  t.match(
    k.get('crmconnect:opportunity:OP2')?.values,
    { probability: 100, active: true, expected_revenue: 42000.5 },
    'won',
  );
  t.match(
    k.get('crmconnect:opportunity:OP3')?.values,
    { probability: 0, active: false },
    'lost: archived with probability 0',
  );
  t.same(k.get('crmconnect:opportunity:OP4')?.refs.team_id, 'crmconnect:pipeline:partnerships');
  const stages = ofObject(s, 'stage')
    .map((r) => [r.values.name, r.values.sequence, r.values.is_won])
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  t.same(
    stages,
    [
      ['Qualified', 1, false],
      ['Proposal', 2, false],
      ['Negotiation', 3, false],
      ['Closed Won', 4, true],
    ],
    'stages in order, the won one marked',
  );
  t.same(
    ofObject(s, 'pipeline')
      .map((r) => [r.model, r.values.name])
      .sort(),
    [
      ['crm.team', 'Partnerships'],
      ['crm.team', 'Sales'],
    ],
    'several pipelines: a sales team each',
  );
});

t.test('one pipeline: no sales team, its stages land in the default pipeline under their own names', async (t) => {
  const s = await stageExports('crmconnect', csvReader([cc('contacts.csv'), cc('opportunities-one-pipeline.csv')]), {
    now,
  });
  t.same(ofObject(s, 'pipeline'), []);
  t.same(
    ofObject(s, 'opportunity').map((r) => [r.key, r.refs.team_id ?? null, r.refs.stage_id]),
    [
      ['crmconnect:opportunity:OP1', null, 'crmconnect:stage:proposal'],
      ['crmconnect:opportunity:OP2', null, 'crmconnect:stage:closed won'],
    ],
  );
  t.same(
    ofObject(s, 'stage')
      .map((r) => r.values.name)
      .sort(),
    ['Closed Won', 'Proposal'],
  );
});

t.test(
  'notes and email engagement: chatter messages on the contact named by email, with date, author, subject and body',
  async (t) => {
    const s = await stageExports('crmconnect', csvReader([...UI, cc('notes.csv'), cc('emails.csv')]), { now });
    const k = index(s);
    t.same(
      s.profile.files.slice(4).map((f) => [f.file, f.object, f.rows, f.unknownColumns]),
      [
        ['notes.csv', 'note', 3, []],
        ['emails.csv', 'email_message', 2, []],
      ],
    );
    t.match(
      k.get('crmconnect:note:N2'),
      {
        model: 'mail.message',
        attach_to: 'crmconnect:contact:nancy.davolio@northwind.example',
        values: {
          message_type: 'comment',
          body: '<p>Sent the proposal; follow up in two weeks</p>',
          date: '2024-03-02 09:15:00',
        },
      },
      'the email in another case finds the contact',
    );
    t.match(
      k.get('crmconnect:note:N2')?.lookups.author_id,
      {
        model: 'res.partner',
        field: 'email',
        value: 'sam.owner@example.com',
        where: { 'user_ids.login': 'sam.owner@example.com' },
      },
      'author: the partner of the user with that login',
    );
    t.equal(k.get('crmconnect:note:N3')?.attach_to, 'crmconnect:contact:andrew@northwind.example');
    t.match(k.get('crmconnect:email_message:E1'), {
      model: 'mail.message',
      attach_to: 'crmconnect:contact:nancy.davolio@northwind.example',
      values: {
        message_type: 'email',
        subject: 'Your renewal quote',
        body: '<p>Hi Nancy, please find the quote attached.</p>',
        date: '2024-03-01 10:00:00',
        email_from: 'sam.owner@example.com',
      },
    });
    t.equal(k.get('crmconnect:email_message:E2')?.attach_to, 'crmconnect:contact:margaret@fabrikam.example');
    t.same(
      s.records.filter((r) => r.model === 'mail.message').flatMap((r) => r.issues.filter((i) => i.level === 'error')),
      [],
    );
  },
);

t.test('inventory: what cannot migrate (nothing of the seed\'s object table is left "not yet migrated")', async (t) => {
  const s = await stageExports('crmconnect', csvReader(UI), { now });
  for (const what of [
    'Automations, workflows and email sequences',
    'Landing pages, funnels and email templates',
    'Membership portal and course structure',
    'Text-to-pay payment links',
    'Segments as static lists',
  ]) {
    t.ok(s.inventory.includes(what), what);
  }
  t.notMatch(s.inventory, /not yet migrated/);
});

t.test('renamed, reordered, German and French headers (files in another order) stage the same records', async (t) => {
  const a = await stageExports('crmconnect', csvReader(UI), { now });
  const b = await stageExports('crmconnect', csvReader(VARIANT), { now });
  // files come in another order here, so a contact's tags from two exports are joined in another order
  const sorted = (refs: StagedRecord['refs']) =>
    Object.fromEntries(Object.entries(refs).map(([f, v]) => [f, Array.isArray(v) ? [...v].sort() : v]));
  const shape = (s: Staged) =>
    s.records
      .map((r) => ({ key: r.key, object: r.object, values: r.values, refs: sorted(r.refs), lookups: r.lookups }))
      .sort((x, y) => x.key.localeCompare(y.key));
  const sa = shape(a);
  t.equal(sa.length, 30, '8 custom fields, 3 tags, 4 stages, 2 pipelines, 3 companies, 6 contacts, 4 opportunities');
  t.same(shape(b), sa);
  t.same(
    b.profile.files.map((f) => [f.file, f.object, f.rows, f.unknownColumns]),
    [
      ['opportunities.csv', 'opportunity', 4, []],
      ['contacts-segment.csv', 'contact', 2, []],
      [
        'contacts.csv',
        'contact',
        5,
        ['Newsletter Opt-In', 'Renewal Date', 'Seats', 'Lifetime Value', 'Favourite Colour'],
      ],
      ['companies.csv', 'company', 3, []],
    ],
  );
});

t.test('the bundled sample (samples/crmconnect/) stages as a dry run with the CLI', async (t) => {
  const { mkdtemp, readFile, readdir, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { main } = await import('../../bridge/src/cli.js');
  const out = await mkdtemp(join(tmpdir(), 'crmconnect-sample-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const dir = join(root, 'samples', 'crmconnect');
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => join(dir, f));
  t.same(
    files.map((f) => f.split('/').pop()),
    [
      'calendar-events.csv',
      'calls.csv',
      'companies.csv',
      'contacts.csv',
      'emails.csv',
      'invoices.csv',
      'meetings.csv',
      'memberships.csv',
      'notes.csv',
      'opportunities.csv',
      'products.csv',
      'tasks.csv',
    ],
  );
  const err: string[] = [];
  const code = await main(
    ['stage', '--source', 'crmconnect', '--out', out, ...files],
    () => undefined,
    (s) => err.push(s),
  );
  t.equal(code, 0, err.join('\n'));
  const records = (await readFile(join(out, 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { object: string; refs: Record<string, unknown> });
  const per: Record<string, number> = {};
  for (const r of records) per[r.object] = (per[r.object] ?? 0) + 1;
  t.same(
    per,
    {
      custom_field: 11,
      tag: 4,
      stage: 5,
      event: 1,
      call: 2,
      call_log: 2,
      company: 4,
      contact: 6,
      email_message: 2,
      invoice: 1,
      invoice_line: 2,
      meeting: 1,
      enrollment: 2,
      enrollment_course: 3,
      note: 3,
      opportunity: 5,
      product: 2,
      task: 2,
    },
    "every object of the seed's table; one pipeline: no sales team",
  );
  t.ok(records.filter((r) => r.object === 'opportunity').every((r) => !('team_id' in r.refs)));
  const inventory = await readFile(join(out, 'inventory.md'), 'utf8');
  t.match(inventory, /Automations, workflows and email sequences/);
  t.match(inventory, /Membership portal and course structure/);
});
