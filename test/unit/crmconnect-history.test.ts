/**
 * The rest of crmConnect's objects (mappings/crmconnect.json) over the fixture exports
 * (test/fixtures/crmconnect/, made from the migration spec's field names: crmConnect documents no
 * export headers): calls → done Call activities, calendar events and meetings → calendar.event
 * with attendees by email, notes on contacts and on opportunities, tasks → activities,
 * memberships/courses → fields of the contact + a log note per enrollment + the inventory,
 * products, invoices with their lines (account.move) or log notes when Invoicing is missing;
 * email as the join key across every file, duplicates merged, and every file's row count
 * reconciled against what was staged.
 */
import t from 'tap';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import { formatProfile } from '../../bridge/src/report-text.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { root } from '../helpers/paths.js';

const cc = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'crmconnect', name) });
const BASE = ['companies.csv', 'contacts.csv', 'contacts-segment.csv', 'opportunities.csv'];
const HISTORY = [
  'notes.csv',
  'opportunity-notes.csv',
  'emails.csv',
  'calls.csv',
  'calendar-events.csv',
  'meetings.csv',
  'tasks.csv',
  'memberships.csv',
  'products.csv',
  'invoices.csv',
];
const ALL = [...BASE, ...HISTORY].map(cc);
const now = new Date('2024-07-01T00:00:00Z');
const FULL = { calendar: true, product: true, account: true };

const index = (s: Staged) => new Map<string, StagedRecord>(s.records.map((r) => [r.key, r]));
const ofObject = (s: Staged, object: string) => s.records.filter((r) => r.object === object);
const errors = (r: StagedRecord | undefined) => (r?.issues ?? []).filter((i) => i.level === 'error');

t.test('every file recognised, and its rows reconciled against the records staged from it', async (t) => {
  const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
  t.same(
    s.profile.files.map((f) => [f.file, f.object, f.rows]),
    [
      ['companies.csv', 'company', 3],
      ['contacts.csv', 'contact', 5],
      ['contacts-segment.csv', 'contact', 2],
      ['opportunities.csv', 'opportunity', 4],
      ['notes.csv', 'note', 3],
      ['opportunity-notes.csv', 'note', 2],
      ['emails.csv', 'email_message', 2],
      ['calls.csv', 'call', 3],
      ['calendar-events.csv', 'event', 2],
      ['meetings.csv', 'meeting', 2],
      ['tasks.csv', 'task', 3],
      ['memberships.csv', 'enrollment', 3],
      ['products.csv', 'product', 3],
      ['invoices.csv', 'invoice', 3],
    ],
  );
  t.same(
    s.profile.fileReconciliation.filter((r) => r.merged > 0).map((r) => [r.file, r.rows, r.staged, r.merged]),
    [
      ['contacts-segment.csv', 2, 1, 1],
      ['memberships.csv', 3, 2, 1],
      ['invoices.csv', 3, 2, 1],
    ],
    'a contact in two exports, a member with two courses, an invoice with two lines: merged, and counted',
  );
  t.ok(
    s.profile.fileReconciliation.every((r) => r.reconciled && r.rows === r.staged + r.merged + r.leftOut),
    'every file adds up',
  );
  t.same(s.records.flatMap(errors), [], 'no row in error');
  const text = formatProfile(s.profile);
  t.match(text, /reconciled invoices\.csv: 3 rows = 2 staged \+ 1 merged as duplicates: adds up/);
  t.match(
    s.inventory,
    /\| memberships\.csv \| enrollment \| 3 \| 2 \| 1 \| 0 \| 0 \| yes \|/,
    'the inventory carries the same table',
  );
  t.notMatch(s.inventory, /not yet migrated/);
});

t.test(
  'rows left out by choice are counted as such; an object whose app is missing is reported with its choices',
  async (t) => {
    const s = await stageExports(
      'crmconnect',
      csvReader([cc('contacts.csv'), cc('calendar-events.csv'), cc('products.csv'), cc('invoices.csv')]),
      { now, installedApps: { calendar: true, product: false, account: false }, skip: ['event'] },
    );
    t.same(
      s.profile.fileReconciliation.map((r) => [
        r.file,
        r.object,
        r.rows,
        r.staged,
        r.merged,
        r.leftOut,
        r.errors,
        r.reconciled,
      ]),
      [
        ['contacts.csv', 'contact', 5, 5, 0, 0, 0, true],
        ['calendar-events.csv', 'event', 2, 0, 0, 2, 0, true],
        ['products.csv', 'product', 3, 3, 0, 0, 3, true],
        ['invoices.csv', 'invoice_note', 3, 2, 1, 0, 0, true],
      ],
    );
    t.same(
      s.profile.targets.map((x) => [x.object, x.decision, x.chosen, x.missingApps]),
      [
        ['event', 'skipped by choice', null, []],
        ['product', 'app missing', 'product', ['product']],
        ['invoice', 'fallback', 'invoice_note', ['account']],
      ],
    );
    t.match(errors(ofObject(s, 'product')[0])[0]?.message, /needs the Odoo app\(s\) product, not installed/);
    t.match(
      s.inventory,
      /\| invoice \| fallback \| mail\.message \| account \| install account → account\.move; skip \(--skip invoice\) \|/,
    );
    const note = index(s).get('crmconnect:invoice_note:INV-1001');
    t.match(
      note,
      {
        model: 'mail.message',
        attach_to: 'crmconnect:contact:nancy.davolio@northwind.example',
        values: { message_type: 'comment', subject: 'INV-1001', date: '2024-03-15 00:00:00' },
      },
      'without Invoicing: a log note on the contact',
    );
    t.equal(
      note?.values.body,
      '<p>Invoice Number: INV-1001 · Invoice Date: 2024-03-15 · Due Date: 2024-04-14 · Invoice Total: 1298.00 · Payment Status: Paid · Paid Date: 2024-03-20 · Text-to-Pay URL: https://pay.crmconnect.example/i/1001</p>',
    );
    t.same(ofObject(s, 'invoice_line'), [], 'no invoice lines without an invoice');
  },
);

t.test(
  'calls: done Call activities on the opportunity or the contact (by email), with duration, disposition, original time and the recording URL',
  async (t) => {
    const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
    const k = index(s);
    const c1 = k.get('crmconnect:call:C1');
    t.match(c1, {
      model: 'mail.activity',
      attach_to: 'crmconnect:contact:nancy.davolio@northwind.example',
      values: { active: false, summary: 'Intro call', date_deadline: '2024-02-12', date_done: '2024-02-12' },
    });
    t.equal(
      c1?.values.note,
      '<p>Call Date: 2024-02-12 14:05:00 · Duration (min): 12 · Disposition: Connected · Direction: Outbound · Call Notes: Walked through the catalogue · Recording URL: https://recordings.crmconnect.example/c1.mp3</p>',
    );
    t.same(c1?.lookups, {
      user_id: { model: 'res.users', field: 'login', value: 'sam.owner@example.com', required: true },
      activity_type_id: { model: 'mail.activity.type', field: 'name', value: 'Call' },
    });
    t.match(
      k.get('crmconnect:call:C2'),
      { attach_to: 'crmconnect:contact:andrew@northwind.example', values: { summary: 'No answer' } },
      'no subject: the disposition is the summary',
    );
    t.equal(
      k.get('crmconnect:call:C3')?.attach_to,
      'crmconnect:opportunity:OP1',
      'a call naming its opportunity goes on it',
    );
    // and the message Odoo posts when an activity is done: a log note beside the activity, at the call's time
    const logs = ofObject(s, 'call_log').map((r) => [r.attach_to, r.values.subject, r.values.date, r.values.body]);
    t.same(
      logs,
      [
        [
          'crmconnect:contact:nancy.davolio@northwind.example',
          'Intro call',
          '2024-02-12 14:05:00',
          '<p>Duration (min): 12 · Disposition: Connected · Direction: Outbound · Call Notes: Walked through the catalogue · Recording URL: https://recordings.crmconnect.example/c1.mp3</p>',
        ],
        [
          'crmconnect:contact:andrew@northwind.example',
          'No answer',
          '2024-02-13 09:40:00',
          '<p>Duration (min): 0 · Disposition: No answer · Direction: Outbound</p>',
        ],
        [
          'crmconnect:opportunity:OP1',
          'Pricing call',
          '2024-03-05 16:20:00',
          '<p>Duration (min): 25 · Disposition: Connected · Direction: Inbound · Call Notes: Agreed on the renewal price · Recording URL: https://recordings.crmconnect.example/c3.mp3</p>',
        ],
      ],
      "the call's log note goes where the call goes, with its original time",
    );
    t.same(ofObject(s, 'call_log')[0]?.lookups.author_id?.value, 'sam.owner@example.com', 'signed by the caller');
  },
);

t.test('a call naming neither contact nor opportunity is an error naming both columns', async (t) => {
  const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'cc-calls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'calls.csv'),
    'Call ID,Contact Email,Opportunity ID,Call Date,Duration (min),Disposition,Recording URL\nC9,,,2024-01-01 10:00:00,3,Busy,\n',
  );
  const s = await stageExports(
    'crmconnect',
    csvReader([cc('contacts.csv'), { name: 'calls.csv', path: join(dir, 'calls.csv') }]),
    { now },
  );
  t.match(errors(index(s).get('crmconnect:call:C9')), [
    {
      file: 'calls.csv',
      row: 2,
      field: 'Opportunity ID / Contact Email',
      message: 'names no opportunity or contact to attach this record to',
    },
  ]);
  t.match(
    errors(ofObject(s, 'call_log')[0]),
    [{ message: 'its call is attached to no record' }],
    'its log note has nowhere to go either',
  );
});

t.test(
  'calendar events and meetings: calendar.event with attendees joined by email across files, organizer by email, opportunity by name',
  async (t) => {
    const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
    const k = index(s);
    const ev1 = k.get('crmconnect:event:EV1');
    t.match(ev1, {
      model: 'calendar.event',
      values: {
        name: 'Quarterly review',
        start: '2024-04-10 15:00:00',
        stop: '2024-04-10 16:00:00',
        location: 'Northwind HQ',
        description: 'Review of Q1 orders',
        x_crmconnect_calendar: "Sam's calendar",
      },
    });
    t.same(
      ev1?.refs,
      {
        partner_ids: [
          'crmconnect:contact:nancy.davolio@northwind.example',
          'crmconnect:contact:andrew@northwind.example',
        ],
      },
      'attendees "a; b" each find their contact',
    );
    t.same(ev1?.lookups.user_id, {
      model: 'res.users',
      field: 'login',
      value: 'sam.owner@example.com',
      required: true,
    });
    const ev2 = k.get('crmconnect:event:EV2');
    t.same(ev2?.refs.partner_ids, ['crmconnect:contact:margaret@fabrikam.example']);
    t.match(
      ev2?.issues,
      [{ level: 'warning', field: 'Attendees', message: /no contact with email "stranger@nowhere\.example"/ }],
      'an attendee no contact has is reported, not invented',
    );
    const m1 = k.get('crmconnect:meeting:M1');
    t.match(m1, { values: { name: 'Renewal negotiation', description: 'Price, term, seats', location: 'Video call' } });
    t.same(
      m1?.refs,
      {
        partner_ids: [
          'crmconnect:contact:nancy.davolio@northwind.example',
          'crmconnect:contact:andrew@northwind.example',
        ],
        opportunity_id: 'crmconnect:opportunity:OP1',
      },
      "the meeting's contact and its attendees; its opportunity",
    );
    t.same(k.get('crmconnect:meeting:M2')?.refs, { partner_ids: ['crmconnect:contact:margaret@fabrikam.example'] });
  },
);

t.test('notes on contacts and on opportunities; tasks → activities, open or done', async (t) => {
  const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
  const k = index(s);
  t.match(
    k.get('crmconnect:note:ON1'),
    {
      model: 'mail.message',
      attach_to: 'crmconnect:opportunity:OP1',
      values: { message_type: 'comment', body: '<p>Budget approved by their CFO</p>', date: '2024-03-10 12:00:00' },
    },
    'a note naming its opportunity goes on the opportunity',
  );
  t.equal(k.get('crmconnect:note:ON2')?.attach_to, 'crmconnect:opportunity:OP4');
  t.equal(
    k.get('crmconnect:note:N1')?.attach_to,
    'crmconnect:contact:nancy.davolio@northwind.example',
    'a note naming only a contact goes on the contact',
  );
  t.match(k.get('crmconnect:task:T1'), {
    model: 'mail.activity',
    attach_to: 'crmconnect:opportunity:OP1',
    values: {
      summary: 'Send the contract',
      date_deadline: '2024-09-15',
      active: true,
      note: '<p>Description: Contract for the renewal · Priority: High</p>',
    },
  });
  t.same(k.get('crmconnect:task:T1')?.lookups.activity_type_id, {
    model: 'mail.activity.type',
    field: 'name',
    value: 'To-Do',
  });
  t.match(
    k.get('crmconnect:task:T2'),
    { attach_to: 'crmconnect:contact:margaret@fabrikam.example', values: { active: false, date_done: '2024-02-24' } },
    'a completed task is a done activity with its completion date',
  );
  t.match(
    k.get('crmconnect:task:T3')?.values,
    { active: true, note: '<p>Description: Ask about usage · Priority: Low · Recurrence: Every month</p>' },
    'the recurrence is written down',
  );
});

t.test(
  "memberships: the member's fields on the contact of the same email (committed after it), one log note per course, the structure in the inventory",
  async (t) => {
    const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
    const k = index(s);
    const nancy = k.get('crmconnect:enrollment:nancy.davolio@northwind.example');
    t.match(nancy, {
      model: 'res.partner',
      match: [['email']],
      values: {
        name: 'Nancy Davolio',
        email: 'nancy.davolio@northwind.example',
        x_crmconnect_membership: 'Pro Members',
        x_crmconnect_membership_status: 'Active',
      },
    });
    t.ok(
      nancy?.deps?.includes('crmconnect:contact:nancy.davolio@northwind.example'),
      'depends on the contact: matched onto it, never a second partner',
    );
    t.same(
      s.profile.duplicatesMerged.filter((m) => m.object === 'enrollment').map((m) => [m.kept, m.merged.row]),
      [['crmconnect:enrollment:nancy.davolio@northwind.example', 3]],
      'two enrollment rows of one member: one member',
    );
    const courses = ofObject(s, 'enrollment_course')
      .filter((r) => r.attach_to === nancy?.key)
      .map((r) => [r.values.subject, r.values.date, r.values.body]);
    t.same(
      courses,
      [
        [
          'Onboarding 101',
          '2024-01-15 00:00:00',
          '<p>Course: Onboarding 101 · Membership: Pro Members · Enrolled On: 2024-01-15 · Progress: 100% · Completed On: 2024-02-01</p>',
        ],
        [
          'Advanced Reporting',
          '2024-02-10 00:00:00',
          '<p>Course: Advanced Reporting · Membership: Pro Members · Enrolled On: 2024-02-10 · Progress: 40%</p>',
        ],
      ],
      'one note per enrollment (1:many), dated at the enrollment',
    );
    t.same(s.profile.structures?.[0]?.tree, {
      'Pro Members': {
        rows: 2,
        children: { 'Onboarding 101': { rows: 1, children: {} }, 'Advanced Reporting': { rows: 1, children: {} } },
      },
      'Basic Members': { rows: 1, children: { 'Onboarding 101': { rows: 1, children: {} } } },
    });
    t.match(s.inventory, /## Membership portals and courses \(for Odoo eLearning\)[\s\S]*"Advanced Reporting"/);
    const members = await stageExports('crmconnect', csvReader([cc('memberships.csv')]), { now });
    t.notOk(
      index(members)
        .get('crmconnect:enrollment:andrew@northwind.example')
        ?.deps?.some((d) => d.includes(':contact:')),
      'without the contacts export a member is a partner of its own',
    );
  },
);

t.test(
  'products and invoices: product.product by SKU, draft customer invoices with one line per distinct row, payment status and link kept',
  async (t) => {
    const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
    const k = index(s);
    t.match(k.get('crmconnect:product:P2'), {
      model: 'product.product',
      match: [['default_code'], ['name']],
      values: { name: 'Annual Support', default_code: 'SUP-12', list_price: 1200, type: 'service', sale_ok: true },
    });
    t.equal(k.get('crmconnect:product:P1')?.values.type, 'consu');
    const inv = k.get('crmconnect:invoice:INV-1001');
    t.match(inv, {
      model: 'account.move',
      values: {
        move_type: 'out_invoice',
        ref: 'INV-1001',
        invoice_date: '2024-03-15',
        invoice_date_due: '2024-04-14',
        x_crmconnect_payment_status: 'paid',
        x_crmconnect_paid_date: '2024-03-20',
        x_crmconnect_invoice_total: 1298,
        narration: '<p>Text-to-Pay URL: https://pay.crmconnect.example/i/1001</p>',
      },
    });
    t.same(inv?.refs, { partner_id: 'crmconnect:contact:nancy.davolio@northwind.example' }, 'customer by email');
    const lines = ofObject(s, 'invoice_line')
      .filter((r) => r.refs.move_id === inv?.key)
      .map((r) => [r.values.name, r.values.quantity, r.values.price_unit, r.refs.product_id]);
    t.same(
      lines,
      [
        ['Annual Support', 1, 1200, 'crmconnect:product:P2'],
        ['Starter Kit', 2, 49, 'crmconnect:product:P1'],
      ],
      'the repeated invoice row gives its second line; products by SKU',
    );
    t.match(k.get('crmconnect:invoice:INV-1002')?.values, { x_crmconnect_payment_status: 'unpaid' });
    t.same(
      s.profile.customFields.filter((f) => f.model === 'account.move').map((f) => [f.name, f.type]),
      [
        ['x_crmconnect_payment_status', 'selection'],
        ['x_crmconnect_paid_date', 'date'],
        ['x_crmconnect_invoice_total', 'float'],
      ],
    );
  },
);

t.test(
  'joins: every history file finds its contact by email whatever its case, and the same email in two exports is one contact',
  async (t) => {
    const s = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
    const contacts = new Set(ofObject(s, 'contact').map((r) => r.key));
    t.equal(contacts.size, 6);
    const parents = s.records.filter((r) => r.attach_to).map((r) => r.attach_to as string);
    t.ok(
      parents.every(
        (p) => contacts.has(p) || p.startsWith('crmconnect:opportunity:') || p.startsWith('crmconnect:enrollment:'),
      ),
      'every attached record found its parent in the upload',
    );
    const refs = s.records
      .flatMap((r) => Object.values(r.refs).flat())
      .filter((k) => k.startsWith('crmconnect:contact:'));
    t.ok(
      refs.every((k) => contacts.has(k)),
      'every ref to a contact is a staged contact',
    );
  },
);

t.test(
  'other spellings and orders of the history exports stage the same records (the note labels follow the headers)',
  async (t) => {
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'cc-variants-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const variants: Record<string, string> = {
      'calls.csv':
        'Caller,Recording,Outcome,Call Duration,Call Time,Title,Deal ID,Contact,Call ID,Call Direction,Notes\n' +
        'sam.owner@example.com,https://recordings.crmconnect.example/c1.mp3,Connected,12,2024-02-12 14:05:00,Intro call,,nancy.davolio@northwind.example,C1,Outbound,Walked through the catalogue\n' +
        'sam.owner@example.com,https://recordings.crmconnect.example/c3.mp3,Connected,25,2024-03-05 16:20:00,Pricing call,OP1,nancy.davolio@northwind.example,C3,Inbound,Agreed on the renewal price\n',
      'tasks.csv':
        'Task ID,Assignee,Task Name,Date Due,Task Status,Priority,Contact,Deal ID,Date Completed,Details\n' +
        'T2,sam.owner@example.com,Call back about the pilot,2024-02-25,Done,Normal,margaret@fabrikam.example,,2024-02-24,\n',
      'memberships.csv':
        'Member Email,Member Name,Enrolment ID,Membership Level,Member Status,Course Name,Enrollment Date,Completion,Completion Date\n' +
        'andrew@northwind.example,Andrew Fuller,EN3,Basic Members,Cancelled,Onboarding 101,2023-12-01,10%,\n',
      'invoices.csv':
        'Invoice #,Issued,Payment Due,Customer Email,Line Item,Product Code,Qty,Unit Price,Total,Payment Status,Date Paid,Payment Link\n' +
        'INV-1002,2024-04-01,2024-05-01,margaret@fabrikam.example,Onboarding Session,ONB-1,1,250.00,250.00,Unpaid,,https://pay.crmconnect.example/i/1002\n',
    };
    for (const [name, text] of Object.entries(variants)) await writeFile(join(dir, name), text);
    const base = await stageExports('crmconnect', csvReader(ALL), { now, installedApps: FULL });
    const other = await stageExports(
      'crmconnect',
      csvReader(
        [...BASE, 'products.csv'].map(cc).concat(Object.keys(variants).map((n) => ({ name: n, path: join(dir, n) }))),
      ),
      { now, installedApps: FULL },
    );
    const a = index(base);
    const b = index(other);
    const keys = [
      'crmconnect:call:C1',
      'crmconnect:call:C3',
      'crmconnect:task:T2',
      'crmconnect:enrollment:andrew@northwind.example',
      'crmconnect:invoice:INV-1002',
    ];
    // labelled texts (a call's note, an invoice's payment link) name the export's own headers
    const labelled = ['note', 'narration'];
    const without = (r: StagedRecord | undefined) => ({
      attach_to: r?.attach_to,
      refs: r?.refs,
      lookups: r?.lookups,
      values: Object.fromEntries(Object.entries(r?.values ?? {}).filter(([f]) => !labelled.includes(f))),
    });
    for (const key of keys) {
      t.ok(b.get(key), `${key} staged from the variant`);
      t.same(without(b.get(key)), without(a.get(key)), key);
      t.same(errors(b.get(key)), [], `${key}: no error`);
    }
    t.equal(
      b.get('crmconnect:call:C1')?.values.note,
      '<p>Call Time: 2024-02-12 14:05:00 · Call Duration: 12 · Outcome: Connected · Call Direction: Outbound · Notes: Walked through the catalogue · Recording: https://recordings.crmconnect.example/c1.mp3</p>',
      "the note names the export's own headers",
    );
    t.equal(
      b.get('crmconnect:invoice:INV-1002')?.values.narration,
      '<p>Payment Link: https://pay.crmconnect.example/i/1002</p>',
    );
    t.same(
      other.profile.files.filter((f) => f.file in variants).map((f) => [f.file, f.object, f.unknownColumns]),
      [
        ['calls.csv', 'call', []],
        ['tasks.csv', 'task', []],
        ['memberships.csv', 'enrollment', []],
        ['invoices.csv', 'invoice', []],
      ],
      'every column known under its other spelling',
    );
  },
);
