/**
 * Ontraport history (issue 9): the notes export (the contact's row repeated per note), the tasks
 * export and the engagement export (opens, clicks, form submissions, visits), staged as records
 * attached to their contact: mail.message log notes with author and original date, and
 * mail.activity records (scheduled or done). Fixtures: test/fixtures/ontraport/.
 */
import t from 'tap';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { root } from '../helpers/paths.js';

const op = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'ontraport', name) });
const now = new Date('2024-07-01T00:00:00Z');
const ofObject = (s: Staged, object: string) => s.records.filter((r) => r.object === object);
const errors = (r: StagedRecord) => r.issues.filter((i) => i.level === 'error');

t.test(
  'a notes export: 6 notes on 3 contacts → 3 partners, 6 log notes on their one partner with date and author',
  async (t) => {
    const s = await stageExports('ontraport', csvReader([op('contacts-with-notes.csv'), op('companies.csv')]), { now });
    t.same(
      ofObject(s, 'contact').map((r) => r.key),
      ['ontraport:contact:1', 'ontraport:contact:3', 'ontraport:contact:4'],
      '6 rows, 3 contacts',
    );
    const notes = ofObject(s, 'contact_note');
    t.equal(notes.length, 6, 'one message per note');
    t.same(new Set(notes.map((n) => n.key)).size, 6, 'each note its own key');
    for (const n of notes) {
      t.equal(n.model, 'mail.message');
      t.same(errors(n), [], `${n.key}: no error`);
      t.match(n.key, /^ontraport:contact_note:[134]:[0-9a-f]{12}$/);
    }
    t.same(
      notes.map((n) => [n.attach_to, n.values.date, n.values.message_type]),
      [
        ['ontraport:contact:1', '2024-03-01 10:00:00', 'comment'],
        ['ontraport:contact:1', '2024-03-10 14:30:00', 'comment'],
        ['ontraport:contact:3', '2024-01-05 09:00:00', 'comment'],
        ['ontraport:contact:4', '2023-03-16 11:00:00', 'comment'],
        ['ontraport:contact:4', '2023-03-02 11:00:00', 'comment'],
        ['ontraport:contact:4', '2023-03-09 11:00:00', 'comment'],
      ],
      'in the order of the export (newest first for Alan): Odoo creates them oldest first',
    );
    t.match(notes[1]?.values.body, /Sent the proposal, follow up in two weeks/);
    t.same(
      notes.map((n) => n.lookups.author_id?.value),
      [
        'jane.sales@example.com',
        'jane.sales@example.com',
        'former.rep@example.com',
        'jane.sales@example.com',
        'jane.sales@example.com',
        'jane.sales@example.com',
      ],
      'author by email (a mapped user\'s partner, else "Imported from" at commit)',
    );
    for (const n of notes) t.match(n.lookups.author_id, { model: 'res.partner', field: 'email' });
    t.notMatch(s.inventory, /Notes \(not yet migrated\)/, 'notes are no longer listed as not migrated');
    t.notMatch(s.inventory, /Tasks \(not yet migrated\)/);
    t.notMatch(s.inventory, /Engagement.*not yet migrated/);
  },
);

t.test('the same notes export staged twice gives the same keys; a repeated identical row is one note', async (t) => {
  const { mkdtemp, readFile, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'ontraport-notes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const text = await readFile(op('contacts-with-notes.csv').path, 'utf8');
  const lines = text.trimEnd().split(/\r?\n/);
  const path = join(dir, 'contacts.csv');
  await writeFile(path, [...lines, lines[1]].join('\n') + '\n');
  const a = await stageExports('ontraport', csvReader([op('contacts-with-notes.csv')]), { now });
  const b = await stageExports('ontraport', csvReader([{ name: 'contacts.csv', path }]), { now });
  t.same(
    ofObject(b, 'contact_note')
      .map((r) => r.key)
      .sort(),
    ofObject(a, 'contact_note')
      .map((r) => r.key)
      .sort(),
  );
  t.same(
    ofObject(b, 'contact_note')
      .map((r) => r.hash)
      .sort(),
    ofObject(a, 'contact_note')
      .map((r) => r.hash)
      .sort(),
  );
});

t.test('a contacts export without notes makes no messages', async (t) => {
  const s = await stageExports('ontraport', csvReader([op('contacts.csv'), op('companies.csv'), op('deals.csv')]), {
    now,
  });
  t.equal(ofObject(s, 'contact_note').length, 0);
});

t.test('tasks → activities on their contact: scheduled or done, type, due date, owner', async (t) => {
  // an Odoo without Project: the tasks fall back to activities on their contact
  const s = await stageExports('ontraport', csvReader([op('contacts.csv'), op('tasks.csv')]), {
    now,
    installedApps: { project: false },
  });
  t.same(
    s.profile.files.map((f) => [f.file, f.object, f.rows]),
    [
      ['contacts.csv', 'contact', 6],
      ['tasks.csv', 'task_activity', 3],
    ],
  );
  const tasks = ofObject(s, 'task_activity');
  t.same(
    tasks.map((r) => [
      r.key,
      r.model,
      r.attach_to,
      r.values.summary,
      r.values.date_deadline,
      r.values.active,
      r.values.date_done ?? null,
      r.lookups.activity_type_id?.value,
      r.lookups.user_id?.value,
    ]),
    [
      [
        'ontraport:task_activity:T1',
        'mail.activity',
        'ontraport:contact:1',
        'Send licence terms',
        '2024-03-15',
        true,
        null,
        'Email',
        'jane.sales@example.com',
      ],
      [
        'ontraport:task_activity:T2',
        'mail.activity',
        'ontraport:contact:1',
        'Call about the proposal',
        '2024-03-24',
        false,
        '2024-03-22',
        'Call',
        'jane.sales@example.com',
      ],
      [
        'ontraport:task_activity:T3',
        'mail.activity',
        'ontraport:contact:3',
        'Phone instead of email',
        '2024-01-12',
        false,
        '2024-01-08',
        'To-Do',
        'jane.sales@example.com',
      ],
    ],
  );
  t.match(tasks[0]?.values.note, /Draft the terms for the engine/);
  for (const r of tasks) t.same(errors(r), [], `${r.key}: no error`);
});

t.test('engagement → log notes with type, subject and original time on their contact', async (t) => {
  const s = await stageExports('ontraport', csvReader([op('contacts.csv'), op('engagement.csv')]), { now });
  t.same(
    s.profile.files.map((f) => [f.file, f.object, f.rows]),
    [
      ['contacts.csv', 'contact', 6],
      ['engagement.csv', 'engagement', 4],
    ],
  );
  const events = ofObject(s, 'engagement');
  t.same(
    events.map((r) => [r.key, r.model, r.attach_to, r.values.subject, r.values.date, r.values.message_type]),
    [
      [
        'ontraport:engagement:E1',
        'mail.message',
        'ontraport:contact:1',
        'Email Open: Spring licence offer',
        '2024-03-02 08:15:30',
        'comment',
      ],
      [
        'ontraport:engagement:E2',
        'mail.message',
        'ontraport:contact:1',
        'Click: Spring licence offer',
        '2024-03-02 08:16:05',
        'comment',
      ],
      [
        'ontraport:engagement:E3',
        'mail.message',
        'ontraport:contact:4',
        'Form Submission: Contact us',
        '2023-03-01 17:45:00',
        'comment',
      ],
      [
        'ontraport:engagement:E4',
        'mail.message',
        'ontraport:contact:2',
        'Visit: Pricing page',
        '2024-04-01 07:59:59',
        'comment',
      ],
    ],
  );
  t.match(events[1]?.values.body, /Click.*Spring licence offer.*https:\/\/analytical\.example\/offer/s);
  for (const r of events) {
    t.same(errors(r), [], `${r.key}: no error`);
    t.same(r.lookups.author_id, undefined, 'signed by the "Imported from" author');
  }
});

t.test('an engagement row naming no contact is an error naming file, row and field', async (t) => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'ontraport-eng-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'engagement.csv');
  await writeFile(
    path,
    'Engagement ID,Contact ID,Engagement Type,Subject,Details,Date\nE9,,Click,Offer,,2024-03-02 08:16:05\n',
  );
  const s = await stageExports('ontraport', csvReader([op('contacts.csv'), { name: 'engagement.csv', path }]), { now });
  const e9 = s.records.find((r) => r.key === 'ontraport:engagement:E9');
  t.match(errors(e9 as StagedRecord), [
    { file: 'engagement.csv', row: 2, field: 'Contact ID', message: /names no contact/ },
  ]);
});
