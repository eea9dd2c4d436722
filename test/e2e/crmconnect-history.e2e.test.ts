/**
 * crmConnect's history and commerce objects into a real Odoo 18, read back:
 * - with Calendar, Sales and Invoicing (ODOO_DB_FULL): every export of test/fixtures/crmconnect/
 *   (calls, calendar events, meetings, notes on contacts and opportunities, tasks, memberships,
 *   products, invoices) lands where the mapping says, with authors, original dates and links;
 *   every file's rows reconciled in Odoo's report; rollback exact.
 * - without Sales/Invoicing (ODOO_DB: crm + contacts): products are reported as needing their
 *   app (rows in error, never committed), invoices land as log notes on their contact.
 */
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageToOdoo } from '../../bridge/src/stage-exports.js';
import { OdooReader, readerOf, m2oId, m2oName, odooEnvPresent, type Row } from '../helpers/odoo.js';
import { root } from '../helpers/paths.js';

if (!odooEnvPresent() || !process.env.ODOO_DB_FULL) {
  t.fail('ODOO_URL / ODOO_DB_FULL not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const OWNER = 'sam.owner@example.com';
const cc = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'crmconnect', name) });
const ALL = [
  'companies.csv',
  'contacts.csv',
  'contacts-segment.csv',
  'opportunities.csv',
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
].map(cc);

const reader = readerOf;

// Odoo itself logs "IAP Account created" on the first lead a database gets: not the migration's
const NOT_ODOOS_OWN = ['model', '!=', 'iap.account'];

async function counts(odoo: OdooReader, models: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of models) out[m] = await odoo.count(m, m === 'mail.message' ? [NOT_ODOOS_OWN] : []);
  return out;
}

async function sam(t: Test, odoo: OdooReader): Promise<number> {
  const existing = await odoo.migrations.userId(OWNER);
  if (existing !== null) return existing;
  const id = await odoo.create('res.users', { name: 'Sam Owner', login: OWNER, email: OWNER });
  t.teardown(() => odoo.unlink('res.users', [id]).catch(() => undefined));
  return id;
}

const text = (html: unknown) =>
  String(html)
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&');

t.test(
  'Calendar, Sales and Invoicing installed: calls, events, meetings, notes, tasks, memberships, products and invoices land; every file reconciled; rollback exact',
  async (t) => {
    const odoo = reader(process.env.ODOO_DB_FULL as string);
    const samId = await sam(t, odoo);
    const samPartner = m2oId((await odoo.one('res.users', [['id', '=', samId]], ['partner_id'])).partner_id);
    const MODELS = [
      'res.partner',
      'crm.lead',
      'mail.message',
      'mail.activity',
      'calendar.event',
      'calendar.attendee',
      'product.product',
      'account.move',
      'account.move.line',
      'ir.model.fields',
      'mail.mail',
    ];
    const before = await counts(odoo, MODELS);
    const lastMessage = Number(
      (await odoo.read('mail.message', [], ['id'])).reduce((m, r) => Math.max(m, Number(r.id)), 0),
    );

    const { report: staged, staged: result } = await stageToOdoo(odoo.migrations, 'crmconnect', csvReader(ALL), {
      name: 'crmConnect history e2e',
    });
    t.same(
      result.profile.targets.map((x) => [x.object, x.decision]),
      [
        ['event', 'preferred'],
        ['meeting', 'preferred'],
        ['product', 'preferred'],
        ['invoice', 'preferred'],
      ],
      'every app there: the preferred models',
    );
    await odoo.migrations.resolveOwner(staged.id, 'unknown.owner@example.com', samId);
    const committed = await odoo.migrations.commit(staged.id);
    t.same(committed.failed, []);
    t.same((committed as { skipped?: unknown[] }).skipped, []);
    t.equal(committed.state, 'committed');

    const partner = async (email: string) =>
      odoo.one(
        'res.partner',
        [['email', '=ilike', email]],
        ['id', 'name', 'x_crmconnect_membership', 'x_crmconnect_membership_status', 'source_key'],
      );
    const nancy = await partner('nancy.davolio@northwind.example');
    const andrew = await partner('andrew@northwind.example');
    const margaret = await partner('margaret@fabrikam.example');
    const op1 = await odoo.one('crm.lead', [['source_key', '=', 'crmconnect:opportunity:OP1']], ['id']);
    const op4 = await odoo.one('crm.lead', [['source_key', '=', 'crmconnect:opportunity:OP4']], ['id']);

    // calls: done Call activities
    const activities = async (model: string, id: unknown) =>
      odoo.read(
        'mail.activity',
        [
          ['res_model', '=', model],
          ['res_id', '=', id],
          ['active', 'in', [true, false]],
        ],
        ['summary', 'note', 'date_deadline', 'date_done', 'active', 'state', 'activity_type_id', 'user_id'],
      );
    const nancyActs = await activities('res.partner', nancy.id);
    const intro = nancyActs.find((a) => a.summary === 'Intro call') as Row;
    t.match(
      intro,
      { active: false, state: 'done', date_deadline: '2024-02-12', date_done: '2024-02-12' },
      'a call is a done activity on its original date',
    );
    t.equal(m2oName(intro.activity_type_id), 'Call');
    t.equal(m2oId(intro.user_id), samId, 'the caller by email');
    t.equal(
      text(intro.note),
      'Call Date: 2024-02-12 14:05:00 · Duration (min): 12 · Disposition: Connected · Direction: Outbound · Call Notes: Walked through the catalogue · Recording URL: https://recordings.crmconnect.example/c1.mp3',
      'time, duration, disposition and the recording URL kept',
    );
    const callLog = await odoo.read(
      'mail.message',
      [
        ['model', '=', 'res.partner'],
        ['res_id', '=', nancy.id],
        ['subject', '=', 'Intro call'],
      ],
      ['date', 'body', 'author_id', 'message_type'],
    );
    t.match(
      callLog,
      [{ message_type: 'comment', date: '2024-02-12 14:05:00' }],
      "and its log note in the chatter at the call's original time",
    );
    t.equal(m2oId(callLog[0]?.author_id), samPartner, 'signed by the caller');
    t.match(
      text(callLog[0]?.body),
      /Duration \(min\): 12 · Disposition: Connected .* Recording URL: https:\/\/recordings\.crmconnect\.example\/c1\.mp3/,
    );
    const opActs = await activities('crm.lead', op1.id);
    t.same(
      opActs.map((a) => [a.summary, a.active, m2oName(a.activity_type_id)]).sort(),
      [
        ['Pricing call', false, 'Call'],
        ['Send the contract', true, 'To-Do'],
      ],
      'a call and a task on the opportunity they name',
    );
    t.match(
      opActs.find((a) => a.summary === 'Send the contract'),
      { date_deadline: '2024-09-15', date_done: false },
    );
    const margaretActs = await activities('res.partner', margaret.id);
    t.match(
      margaretActs,
      [{ summary: 'Call back about the pilot', active: false, date_done: '2024-02-24' }],
      'a completed task is a done activity',
    );
    t.same(
      (await activities('res.partner', andrew.id)).map((a) => [a.summary, a.active]).sort(),
      [
        ['Monthly check-in', true],
        ['No answer', false],
      ],
      'andrew: one call (done), one task (open)',
    );

    // calendar events and meetings: attendees by email
    const event = async (name: string) =>
      odoo.one(
        'calendar.event',
        [['name', '=', name]],
        [
          'start',
          'stop',
          'location',
          'description',
          'partner_ids',
          'attendee_ids',
          'user_id',
          'opportunity_id',
          'x_crmconnect_calendar',
          'source_key',
        ],
      );
    const review = await event('Quarterly review');
    t.match(review, {
      start: '2024-04-10 15:00:00',
      stop: '2024-04-10 16:00:00',
      location: 'Northwind HQ',
      x_crmconnect_calendar: "Sam's calendar",
      source_key: 'crmconnect:event:EV1',
    });
    t.equal(text(review.description), 'Review of Q1 orders');
    t.same(
      [...(review.partner_ids as number[])].sort(),
      [nancy.id, andrew.id].sort(),
      'attendees: the contacts with those emails',
    );
    t.equal((review.attendee_ids as number[]).length, 2, 'one calendar.attendee each');
    t.equal(m2oId(review.user_id), samId, 'organizer by email');
    const fair = await event('Trade fair');
    t.same(fair.partner_ids, [margaret.id], 'an attendee no contact has is left out (reported)');
    const renewal = await event('Renewal negotiation');
    t.equal(m2oId(renewal.opportunity_id), op1.id, 'a meeting on its opportunity');
    t.same([...(renewal.partner_ids as number[])].sort(), [nancy.id, andrew.id].sort());
    t.equal(text(renewal.description), 'Price, term, seats', 'the agenda is the description');

    // notes on opportunities (author, original date)
    const opNotes = await odoo.read(
      'mail.message',
      [
        ['model', '=', 'crm.lead'],
        ['res_id', 'in', [op1.id, op4.id]],
        ['message_type', '=', 'comment'],
        ['body', 'ilike', 'CFO'],
      ],
      ['body', 'date', 'author_id', 'res_id'],
    );
    t.match(opNotes, [{ date: '2024-03-10 12:00:00', res_id: op1.id }]);
    t.equal(m2oId(opNotes[0]?.author_id), samPartner, "the author is the owner's partner");
    t.equal(
      await odoo.count('mail.message', [
        ['model', '=', 'crm.lead'],
        ['res_id', '=', op4.id],
        ['body', 'ilike', '30 days of payment terms'],
      ]),
      1,
    );

    // memberships: fields on the one contact, a log note per course
    t.equal(
      await odoo.count('res.partner', [['email', '=ilike', 'nancy.davolio@northwind.example']]),
      1,
      'the member is the contact, not a second partner',
    );
    t.match(nancy, {
      x_crmconnect_membership: 'Pro Members',
      x_crmconnect_membership_status: 'Active',
      source_key: 'crmconnect:contact:nancy.davolio@northwind.example',
    });
    t.match(andrew, { x_crmconnect_membership: 'Basic Members', x_crmconnect_membership_status: 'Cancelled' });
    const courses = await odoo.read(
      'mail.message',
      [
        ['model', '=', 'res.partner'],
        ['res_id', '=', nancy.id],
        ['subject', 'in', ['Onboarding 101', 'Advanced Reporting']],
      ],
      ['id', 'subject', 'date', 'body'],
    );
    t.same(
      courses.sort((a, b) => Number(a.id) - Number(b.id)).map((m) => [m.subject, m.date]),
      [
        ['Onboarding 101', '2024-01-15 00:00:00'],
        ['Advanced Reporting', '2024-02-10 00:00:00'],
      ],
      'one note per enrollment, oldest first',
    );
    t.match(text(courses.find((m) => m.subject === 'Advanced Reporting')?.body), /Progress: 40%/);

    // products and invoices
    const support = await odoo.one(
      'product.product',
      [['default_code', '=', 'SUP-12']],
      ['id', 'name', 'list_price', 'type', 'sale_ok'],
    );
    t.match(support, { name: 'Annual Support', list_price: 1200, type: 'service', sale_ok: true });
    const kit = await odoo.one('product.product', [['default_code', '=', 'SK-001']], ['id', 'list_price']);
    const inv = await odoo.one(
      'account.move',
      [['ref', '=', 'INV-1001']],
      [
        'id',
        'move_type',
        'state',
        'partner_id',
        'invoice_date',
        'invoice_date_due',
        'narration',
        'invoice_line_ids',
        'x_crmconnect_payment_status',
        'x_crmconnect_paid_date',
        'x_crmconnect_invoice_total',
        'source_key',
      ],
    );
    t.match(inv, {
      move_type: 'out_invoice',
      state: 'draft',
      invoice_date: '2024-03-15',
      invoice_date_due: '2024-04-14',
      x_crmconnect_payment_status: 'paid',
      x_crmconnect_paid_date: '2024-03-20',
      x_crmconnect_invoice_total: 1298,
      source_key: 'crmconnect:invoice:INV-1001',
    });
    t.equal(m2oId(inv.partner_id), nancy.id, 'the customer by email');
    t.match(text(inv.narration), /https:\/\/pay\.crmconnect\.example\/i\/1001/, 'the text-to-pay link kept');
    const lines = await odoo.read(
      'account.move.line',
      [
        ['move_id', '=', inv.id],
        ['display_type', '=', 'product'],
      ],
      ['name', 'quantity', 'price_unit', 'product_id'],
    );
    t.same(
      lines.map((l) => [l.name, l.quantity, l.price_unit, m2oId(l.product_id)]).sort(),
      [
        ['Annual Support', 1, 1200, support.id],
        ['Starter Kit', 2, 49, kit.id],
      ],
      'one line per distinct row of the invoice, products by SKU',
    );
    t.match(await odoo.one('account.move', [['ref', '=', 'INV-1002']], ['x_crmconnect_payment_status', 'partner_id']), {
      x_crmconnect_payment_status: 'unpaid',
    });

    // every file reconciled, in Odoo's report
    const files = await odoo.migrations.reportFiles(staged.id);
    t.same(
      files.map((f) => [f.file, f.rows, f.staged, f.merged, f.reconciled]),
      [
        ['companies.csv', 3, 3, 0, true],
        ['contacts.csv', 5, 5, 0, true],
        ['contacts-segment.csv', 2, 1, 1, true],
        ['opportunities.csv', 4, 4, 0, true],
        ['notes.csv', 3, 3, 0, true],
        ['opportunity-notes.csv', 2, 2, 0, true],
        ['emails.csv', 2, 2, 0, true],
        ['calls.csv', 3, 3, 0, true],
        ['calendar-events.csv', 2, 2, 0, true],
        ['meetings.csv', 2, 2, 0, true],
        ['tasks.csv', 3, 3, 0, true],
        ['memberships.csv', 3, 2, 1, true],
        ['products.csv', 3, 3, 0, true],
        ['invoices.csv', 3, 2, 1, true],
      ],
    );
    t.ok(
      files.every((f) => f.in_odoo === f.staged),
      'every staged record of every file is in Odoo',
    );
    const html = String((await odoo.one('crm.migration', [['id', '=', staged.id]], ['report_html'])).report_html);
    t.match(html, /Source files[\s\S]*invoices\.csv/, 'the Report page shows the files');
    t.equal(
      (await odoo.count('mail.mail')) - (before['mail.mail'] ?? 0),
      0,
      'no mail queued (no invitation, no assignment mail)',
    );

    const rolled = await odoo.migrations.rollback(staged.id, 'undo');
    t.equal(rolled.state, 'rolled_back');
    t.same(await counts(odoo, MODELS), before, 'every touched model has its rows as before');
    t.same(
      await odoo.read(
        'mail.message',
        [['id', '>', lastMessage], NOT_ODOOS_OWN],
        ['model', 'res_id', 'message_type', 'subject', 'body'],
      ),
      [],
      'no message left behind',
    );
  },
);

t.test(
  'without Sales and Invoicing: products reported as needing their app, invoices as log notes on their contact; every file reconciled',
  async (t) => {
    const odoo = reader(process.env.ODOO_DB as string);
    const samId = await sam(t, odoo);
    const apps = await odoo.migrations.installedApps(['product', 'account', 'calendar']);
    t.same(apps, { product: false, account: false, calendar: true }, 'CRM alone (calendar comes with it)');
    const MODELS = ['res.partner', 'mail.message', 'ir.model.fields', 'mail.mail'];
    const before = await counts(odoo, MODELS);
    const { report: staged, staged: result } = await stageToOdoo(
      odoo.migrations,
      'crmconnect',
      csvReader(['contacts.csv', 'products.csv', 'invoices.csv'].map(cc)),
      { name: 'crmConnect without Invoicing e2e' },
    );
    t.same(
      result.profile.targets.map((x) => [x.object, x.decision, x.model, x.missingApps]),
      [
        ['product', 'app missing', 'product.product', ['product']],
        ['invoice', 'fallback', 'mail.message', ['account']],
      ],
    );
    t.match(result.inventory, /## Objects whose preferred Odoo app is missing/);
    await odoo.migrations.resolveOwner(staged.id, 'unknown.owner@example.com', samId);
    const committed = await odoo.migrations.commit(staged.id);
    t.equal(committed.state, 'committed');
    t.match(
      committed.objects.product,
      { error: 3, committed: 0 },
      'products stay in error: never sent to a model that is not there',
    );
    const nancy = await odoo.one('res.partner', [['email', '=ilike', 'nancy.davolio@northwind.example']], ['id']);
    const notes = await odoo.read(
      'mail.message',
      [
        ['model', '=', 'res.partner'],
        ['res_id', '=', nancy.id],
        ['subject', '=', 'INV-1001'],
      ],
      ['body', 'date', 'message_type'],
    );
    t.match(
      notes,
      [{ message_type: 'comment', date: '2024-03-15 00:00:00' }],
      'the invoice as a log note on its contact',
    );
    t.match(
      text(notes[0]?.body),
      /Invoice Total: 1298\.00 · Payment Status: Paid · Paid Date: 2024-03-20 · Text-to-Pay URL: https:\/\/pay\.crmconnect\.example\/i\/1001/,
    );
    const files = await odoo.migrations.reportFiles(staged.id);
    t.same(
      files.map((f) => [f.file, f.object, f.rows, f.staged, f.merged, f.errors, f.in_odoo, f.reconciled]),
      [
        ['contacts.csv', 'contact', 5, 5, 0, 0, 5, true],
        ['products.csv', 'product', 3, 3, 0, 3, 0, true],
        ['invoices.csv', 'invoice_note', 3, 2, 1, 0, 2, true],
      ],
      'every row accounted for: staged (in error when the app is missing) or merged',
    );
    const rolled = await odoo.migrations.rollback(staged.id, 'undo');
    t.equal(rolled.state, 'rolled_back');
    t.same(await counts(odoo, MODELS), before, 'rollback exact');
  },
);
