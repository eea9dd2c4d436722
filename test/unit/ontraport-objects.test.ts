/**
 * The Ontraport mapping (mappings/ontraport.json) over a small export made from the reference's
 * field names (test/fixtures/ontraport/): contacts with bulk email status, priority, owner and
 * dates; companies deduplicated by name and linked as parents; tags split on `*`/`*`; deals as
 * opportunities with stages, pipelines as teams, won/lost; and the same records from a copy whose
 * headers are the API's field names, in another order, with the API's numbers for the enums and
 * Unix times for the dates.
 */
import t from 'tap';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import { describeSources } from '../../bridge/src/sources/registry.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { root } from '../helpers/paths.js';

const op = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'ontraport', name) });
const UI = ['contacts.csv', 'companies.csv', 'deals.csv'].map(op);
const API_SPELLING = ['deals-api-spelling.csv', 'contacts-api-spelling.csv', 'companies-api-spelling.csv'].map(op);
const now = new Date('2024-07-01T00:00:00Z');

const index = (s: Staged) => new Map<string, StagedRecord>(s.records.map((r) => [r.key, r]));
const ofObject = (s: Staged, object: string) => s.records.filter((r) => r.object === object);

t.test('both Ontraport sources are offered: CSV exports, and the API with its key and App ID', async (t) => {
  const listed = describeSources().filter((s) => s.name.startsWith('ontraport'));
  t.same(listed, [
    { name: 'ontraport', label: 'Ontraport (CSV exports)', input: 'csv-upload', credentials: [] },
    {
      name: 'ontraport_api',
      label: 'Ontraport (API)',
      input: 'api',
      credentials: [
        { name: 'api_key', label: 'API key', secret: true },
        { name: 'app_id', label: 'App ID', secret: true },
      ],
    },
  ]);
});

t.test('contacts: names, address, phones, bulk email status, priority, owner, dates, tags, company', async (t) => {
  const s = await stageExports('ontraport', csvReader(UI), { now });
  const k = index(s);
  t.same(
    s.profile.files.map((f) => [f.file, f.object, f.rows]),
    [
      ['contacts.csv', 'contact', 6],
      ['companies.csv', 'company', 4],
      ['deals.csv', 'deal', 5],
    ],
  );
  const ada = k.get('ontraport:contact:1');
  t.match(ada, {
    model: 'res.partner',
    values: {
      name: 'Ada Lovelace',
      email: 'ada@analytical.example',
      ref: '1',
      function: 'Engineer',
      phone: '+442079460001',
      mobile: '+447911123456',
      street: "12 St James's Square",
      street2: 'Floor 2',
      city: 'London',
      zip: 'SW1Y 4JH',
      website: 'https://analytical.example',
      x_ontraport_bulk_mail: 'single_opt_in',
      x_ontraport_priority: 'high',
      x_ontraport_sales_stage: 'Customer',
      source_create_date: '2023-01-15 09:30:00',
      x_ontraport_last_activity: '2024-05-01 10:00:00',
      x_ontraport_last_modified: '2024-05-02 11:00:00',
      x_ontraport_birthday: '1815-12-10',
      x_ontraport_machine_serial: 'AE-1815',
      is_company: false,
    },
  });
  t.same(
    ada?.refs,
    {
      category_id: [
        'ontraport:tag:vip',
        'ontraport:tag:newsletter',
        'ontraport:campaign:spring licence offer',
        'ontraport:campaign:engine newsletter',
      ],
      parent_id: 'ontraport:company:C1',
    },
    'tags split on */*, campaigns as tags too, company by name',
  );
  t.same(
    ada?.lookups.user_id,
    { model: 'res.users', field: 'login', value: 'jane.sales@example.com', required: true },
    'owner by email; an unknown one waits for reconciliation',
  );
  t.same(ada?.lookups.country_id, { model: 'res.country', field: 'code', value: 'GB' });
  const status = Object.fromEntries(
    ofObject(s, 'contact').map((r) => [
      r.values.ref,
      [r.values.x_ontraport_bulk_mail, r.values.x_ontraport_priority ?? null],
    ]),
  );
  t.same(
    status,
    {
      1: ['single_opt_in', 'high'],
      2: ['double_opt_in', 'medium'],
      3: ['hard_bounce', 'low'],
      4: ['transactional_only', null],
      5: ['pending_review', null],
      6: ['unconfirmed', null],
    },
    "every Bulk Email Status of Ontraport's UI, and its priorities",
  );
  t.same(
    ofObject(s, 'tag')
      .map((r) => r.values.name)
      .sort(),
    ['Codebreakers', 'Newsletter', 'VIP'],
  );
  t.same(s.profile.flags.contact, {
    'hard bounce': 1,
    'stale (no activity for 2 years)': 1,
    'transactional only (no marketing email)': 1,
  });
  const grace = k.get('ontraport:contact:3');
  t.equal(
    grace?.values.company_name,
    'Harvard Computation Lab',
    'a company not in the Companies export keeps its name',
  );
  t.notOk(grace?.refs.parent_id);
  t.ok(
    grace?.issues.some(
      (i) => i.field === 'Company' && /no company with name "Harvard Computation Lab"/.test(i.message),
    ),
  );
  t.match(
    s.profile.customFields.find((f) => f.header === 'Machine Serial'),
    { name: 'x_ontraport_machine_serial', type: 'char', model: 'res.partner' },
    'an unknown column becomes a custom field',
  );
  const selections = s.records.find((r) => r.key === 'ontraport:custom_field:res.partner.x_ontraport_bulk_mail')?.values
    .selection;
  t.match(
    String(selections),
    /'single_opt_in', 'Single Opt-In'.*'hard_bounce', 'Hard Bounce'.*'unconfirmed', 'Unconfirmed'/,
    "the selection shows the UI's words",
  );
});

t.test('companies: parents of their contacts, deduplicated by name with a note in the profile', async (t) => {
  const s = await stageExports('ontraport', csvReader(UI), { now });
  const k = index(s);
  t.equal(ofObject(s, 'company').length, 3, '4 rows, 3 companies');
  t.match(k.get('ontraport:company:C1'), {
    model: 'res.partner',
    values: {
      name: 'Difference Engine Works',
      is_company: true,
      ref: 'C1',
      phone: '+442079460000',
      x_ontraport_industry: 'Computing',
      x_ontraport_annual_revenue: 250000,
      x_ontraport_employee_count: 12,
      source_create_date: '2022-12-01 09:00:00',
    },
    match: [['name', 'is_company']],
  });
  t.same(s.profile.duplicatesMerged, [
    {
      object: 'company',
      kept: 'ontraport:company:C1',
      keptAt: { file: 'companies.csv', row: 2 },
      merged: { key: 'ontraport:company:C4', file: 'companies.csv', row: 5 },
      by: 'name',
    },
  ]);
  t.ok(
    k
      .get('ontraport:company:C1')
      ?.issues.some((i) => /"Entered twice in Ontraport" from this duplicate row was not taken/.test(i.message)),
    'what the duplicate said differently is noted',
  );
  t.same(
    ofObject(s, 'contact')
      .filter((r) => r.refs.parent_id)
      .map((r) => [r.values.ref, r.refs.parent_id]),
    [
      ['1', 'ontraport:company:C1'],
      ['2', 'ontraport:company:C1'],
      ['4', 'ontraport:company:C2'],
      ['5', 'ontraport:company:C3'],
      ['6', 'ontraport:company:C3'],
    ],
  );
});

t.test('deals: opportunities with stage, pipeline team, tags, contact, owner, won and lost', async (t) => {
  const s = await stageExports('ontraport', csvReader(UI), { now });
  const k = index(s);
  const d1 = k.get('ontraport:deal:D1');
  t.match(d1, {
    model: 'crm.lead',
    values: {
      type: 'opportunity',
      name: 'Engine licence',
      expected_revenue: 12500,
      date_deadline: '2024-09-30',
      probability: 50,
      active: true,
      source_create_date: '2024-03-10 13:00:00',
    },
  });
  t.same(d1?.refs, {
    stage_id: 'ontraport:stage:proposal',
    team_id: 'ontraport:pipeline:new business',
    tag_ids: ['ontraport:deal_tag:enterprise', 'ontraport:deal_tag:hot'],
    partner_id: 'ontraport:contact:1',
  });
  t.same(d1?.lookups.user_id, { model: 'res.users', field: 'login', value: 'jane.sales@example.com', required: true });
  t.match(
    k.get('ontraport:deal:D2')?.values,
    { probability: 100, active: true, date_closed: '2024-04-28 16:00:00' },
    'won',
  );
  t.match(k.get('ontraport:deal:D3')?.values, { probability: 0, active: false }, 'lost: archived with probability 0');
  t.ok(
    k.get('ontraport:deal:D5')?.issues.some((i) => /no contact with ref "99"/.test(i.message)),
    'a contact outside the upload is named, not guessed',
  );
  const stages = ofObject(s, 'stage')
    .map((r) => [r.values.name, r.values.sequence, r.values.is_won])
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  t.same(
    stages,
    [
      ['Closed Lost', 0, false],
      ['Prospect', 10, false],
      ['Proposal', 50, false],
      ['Negotiation', 75, false],
      ['Closed Won', 100, true],
    ],
    'stages in the order of their win percent, the won one marked',
  );
  t.same(
    ofObject(s, 'pipeline')
      .map((r) => [r.model, r.values.name])
      .sort(),
    [
      ['crm.team', 'New Business'],
      ['crm.team', 'Renewals'],
    ],
    'each pipeline a sales team',
  );
  t.same(
    ofObject(s, 'deal_tag')
      .map((r) => [r.model, r.values.name])
      .sort(),
    [
      ['crm.tag', 'Enterprise'],
      ['crm.tag', 'Hot'],
    ],
  );
});

t.test('inventory: automation rules, sequences, campaigns, and what is not migrated yet', async (t) => {
  const s = await stageExports('ontraport', csvReader(UI), { now });
  for (const what of ['Automation rules', 'Sequences', 'Campaigns', 'relationship object (API object 102)']) {
    t.match(s.inventory, new RegExp(what.replace(/[()]/g, '\\$&')), what);
  }
});

t.test(
  'the API spelling of every column, reordered, with numbers and Unix times, stages the same records',
  async (t) => {
    const a = await stageExports('ontraport', csvReader(UI), { now });
    const b = await stageExports('ontraport', csvReader(API_SPELLING), { now });
    const shape = (s: Staged) =>
      s.records
        .filter((r) => r.object !== 'custom_field')
        .map((r) => ({ key: r.key, values: r.values, refs: r.refs, lookups: r.lookups }))
        .sort((x, y) => x.key.localeCompare(y.key));
    const sa = shape(a);
    t.equal(
      sa.length,
      29,
      '3 tags, 2 campaigns and their parent tag, 5 stages, 2 pipelines, 2 deal tags, 6 contacts, 3 companies, 5 deals',
    );
    t.same(shape(b), sa);
    t.same(
      b.profile.files.map((f) => f.unknownColumns),
      [[], ['Machine Serial'], []],
      'every known column recognised under its API name',
    );
    t.same(
      b.profile.duplicatesMerged.map((m) => m.merged.key),
      ['ontraport:company:C4'],
    );
  },
);

t.test(
  'a contacts export with notes repeats the contact per note: one partner per contact id, one log note per note',
  async (t) => {
    const s = await stageExports('ontraport', csvReader([op('contacts-with-notes.csv'), op('companies.csv')]), { now });
    t.same(
      ofObject(s, 'contact').map((r) => r.key),
      ['ontraport:contact:1', 'ontraport:contact:3', 'ontraport:contact:4'],
      '6 rows, 3 contacts',
    );
    t.same(
      s.profile.duplicatesMerged.filter((m) => m.object === 'contact').map((m) => [m.kept, m.merged.row, m.by]),
      [
        ['ontraport:contact:1', 3, 'key'],
        ['ontraport:contact:4', 6, 'key'],
        ['ontraport:contact:4', 7, 'key'],
      ],
    );
    t.same(s.profile.files[0]?.unknownColumns, [], 'the note columns are known: no custom field is made of them');
    t.same(
      s.profile.customFields.filter((f) => /note/i.test(f.header)),
      [],
    );
    t.same(index(s).get('ontraport:contact:4')?.refs.category_id, [
      'ontraport:tag:newsletter',
      'ontraport:tag:codebreakers',
    ]);
    t.equal(ofObject(s, 'contact_note').length, 6, 'the notes: test/unit/ontraport-history.test.ts');
  },
);

t.test(
  'contacts Ontraport keeps without an email (SMS only) migrate, keyed by their id, named by name or number',
  async (t) => {
    const s = await stageExports('ontraport', csvReader([op('contacts-sms-only.csv')]), { now });
    t.same(
      ofObject(s, 'contact').map((r) => [
        r.key,
        r.values.name,
        r.values.email ?? null,
        r.values.mobile,
        r.issues.filter((i) => i.level === 'error').length,
      ]),
      [
        ['ontraport:contact:21', 'Mary Jackson', 'mary@nasa.example', '+17575550121', 0],
        ['ontraport:contact:22', '+1 757 555 0122', null, '+17575550122', 0],
        ['ontraport:contact:23', 'Annie Easley', null, '+17575550123', 0],
      ],
    );
  },
);

t.test(
  'renamed and French headers of the contacts export stage the same contacts (headers resolved by meaning)',
  async (t) => {
    const { mkdtemp, readFile, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'ontraport-variants-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const variants: Record<string, Record<string, string>> = {
      renamed: {
        'Contact ID': 'Contact #',
        Email: 'E-mail (primary)',
        Company: 'Company / Organisation',
        City: 'Town',
        'Zip Code': 'ZIP / Postal Code',
        Country: 'Country Name',
      },
      fr: {
        Email: 'Courriel',
        'First Name': 'Prénom',
        'Last Name': 'Nom de famille',
        Company: 'Société',
        City: 'Ville',
        'Zip Code': 'Code postal',
        Country: 'Pays',
      },
    };
    const text = await readFile(op('contacts.csv').path, 'utf8');
    const [head, ...rest] = text.split('\r\n');
    const base = await stageExports('ontraport', csvReader([op('contacts.csv'), op('companies.csv')]), { now });
    const shape = (s: Staged) =>
      ofObject(s, 'contact').map((r) => ({ key: r.key, values: r.values, refs: r.refs, lookups: r.lookups }));
    for (const [variant, names] of Object.entries(variants)) {
      const header = (head as string)
        .split(',')
        .map((h) => names[h] ?? h)
        .join(',');
      const path = join(dir, `contacts-${variant}.csv`);
      await writeFile(path, [header, ...rest].join('\r\n'));
      const s = await stageExports('ontraport', csvReader([{ name: 'contacts.csv', path }, op('companies.csv')]), {
        now,
      });
      t.same(shape(s), shape(base), `${variant}: the same contacts`);
      t.same(s.profile.files[0]?.unknownColumns, ['Machine Serial'], `${variant}: only the custom column is new`);
    }
  },
);

t.test('the bundled sample (samples/ontraport/) stages as a dry run with the CLI', async (t) => {
  const { mkdtemp, readFile, readdir, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { main } = await import('../../bridge/src/cli.js');
  const out = await mkdtemp(join(tmpdir(), 'ontraport-sample-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const dir = join(root, 'samples', 'ontraport');
  const files = (await readdir(dir))
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => join(dir, f));
  t.same(
    files.map((f) => f.split('/').pop()),
    ['companies.csv', 'contacts.csv', 'deals.csv'],
  );
  const err: string[] = [];
  const code = await main(
    ['stage', '--source', 'ontraport', '--out', out, ...files],
    () => undefined,
    (s) => err.push(s),
  );
  t.equal(code, 0, err.join('\n'));
  const records = (await readFile(join(out, 'records.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { object: string });
  const per: Record<string, number> = {};
  for (const r of records) per[r.object] = (per[r.object] ?? 0) + 1;
  t.same(per, { custom_field: 11, tag: 3, stage: 5, pipeline: 2, deal_tag: 2, company: 3, contact: 6, deal: 5 });
  t.match(await readFile(join(out, 'inventory.md'), 'utf8'), /Automation rules/);
});
