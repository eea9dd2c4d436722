/**
 * Attached records end to end: a contacts export with inline notes, a notes file naming its
 * contact by email, and a documents file naming local files → mapping engine (blob hashed by
 * streaming) → a real Odoo 18 (records staged, bytes uploaded in chunks) → commit → read back
 * mail.message (date, author, body, order) and ir.attachment (bytes equal) → rollback.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MappingEngine } from '../../bridge/src/mapping/engine.js';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { mappingSchema } from '../../bridge/src/mapping/schema.js';
import { BLOB_CHUNK } from '../../bridge/src/staging/blob.js';
import { OdooReader, ODOO_SERIES, ODOO_SERIES_RE, m2oName, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();

const mapping = mappingSchema.parse({
  source: 'e2eatt',
  label: 'Attached e2e',
  version: 1,
  objects: {
    contact: {
      label: 'Contacts',
      model: 'res.partner',
      file: { detect: ['email', 'name'] },
      columns: { id: ['Id'], name: ['Name'], email: ['Email'], notes: ['Notes'] },
      key: ['id'],
      match: [['email']],
      fields: [
        { field: 'name', from: 'name' },
        { field: 'email', from: 'email', transform: 'email' },
      ],
    },
    contact_note: {
      label: 'Contact notes',
      model: 'mail.message',
      perRow: { parent: 'contact' },
      attachTo: { object: 'contact' },
      constants: { message_type: 'comment' },
      fields: [{ field: 'body', from: 'notes', transform: 'html' }],
    },
    note: {
      label: 'Notes',
      model: 'mail.message',
      file: { detect: ['note_id', 'contact_email'] },
      columns: {
        note_id: ['Note Id'],
        contact_email: ['Contact Email'],
        subject: ['Subject'],
        body: ['Body'],
        created: ['Created'],
        author: ['Author'],
        kind: ['Kind'],
      },
      key: ['note_id'],
      attachTo: { object: 'contact', from: 'contact_email', by: 'email' },
      fields: [
        { field: 'body', from: 'body', transform: 'html' },
        { field: 'subject', from: 'subject' },
        { field: 'date', from: 'created', transform: 'datetime' },
        {
          field: 'message_type',
          from: 'kind',
          transform: 'enum',
          values: { note: 'comment', email: 'email' },
          default: 'comment',
        },
        { field: 'author_id', from: 'author', transform: 'email', lookup: { model: 'res.partner', field: 'email' } },
      ],
    },
    document: {
      label: 'Documents',
      model: 'ir.attachment',
      file: { detect: ['document_id', 'path'] },
      columns: {
        document_id: ['Document Id'],
        contact_id: ['Contact Id'],
        file_name: ['File Name'],
        mimetype: ['Type'],
        path: ['Path'],
      },
      key: ['document_id'],
      attachTo: { object: 'contact', from: 'contact_id' },
      blobFrom: 'path',
      fields: [
        { field: 'name', from: 'file_name', required: true },
        { field: 'mimetype', from: 'mimetype' },
      ],
    },
  },
});

async function counts() {
  const out: Record<string, number> = {};
  for (const model of [
    'res.partner',
    'mail.message',
    'ir.attachment',
    'mail.mail',
    'mail.notification',
    'mail.followers',
    'crm.migration.link',
  ]) {
    out[model] = await odoo.count(model);
  }
  return out;
}

t.test('notes and a file staged through the bridge, read back from Odoo, rolled back exactly', async (t) => {
  t.match(await odoo.transport.version(), ODOO_SERIES_RE, `a real Odoo ${ODOO_SERIES} answers`);
  const initial = await counts();
  const rep = await odoo.create('res.partner', { name: 'E2E Sales Rep', email: 'rep.e2eatt@example.com' });
  const dir = await mkdtemp(join(tmpdir(), 'crm-att-e2e-'));
  const files = join(dir, 'files');
  await mkdir(files);
  // larger than two chunks: the upload takes three api_stage_blob calls
  const bytes = Buffer.from(Array.from({ length: BLOB_CHUNK * 2 + 4321 }, (_, i) => (i * 7919) % 256));
  await writeFile(join(files, 'contract.pdf'), bytes);
  await writeFile(
    join(dir, 'contacts.csv'),
    'Id,Name,Email,Notes\n1,Ada E2E,ada.e2eatt@example.com,"Inline note.\nSecond line."\n2,Bob E2E,bob.e2eatt@example.com,\n',
  );
  // newest first in the file: Odoo must create them oldest first
  await writeFile(
    join(dir, 'notes.csv'),
    [
      'Note Id,Contact Email,Subject,Body,Created,Author,Kind',
      'n3,ada.e2eatt@example.com,,Third,2022-01-05 09:00:03,,note',
      'n1,ADA.E2EATT@example.com,,First <b>bold</b>,2020-06-01 08:30:15,rep.e2eatt@example.com,note',
      'n2,ada.e2eatt@example.com,Re: offer,Second,2021-12-31 23:59:59,rep.e2eatt@example.com,email',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'documents.csv'),
    'Document Id,Contact Id,File Name,Type,Path\nd1,1,Contract.pdf,application/pdf,contract.pdf\n',
  );
  const before = await counts();

  const staged = await MappingEngine.stage(
    mapping,
    csvReader(['notes.csv', 'contacts.csv', 'documents.csv'].map((name) => ({ name, path: join(dir, name) }))),
    { filesDir: files },
  );
  t.equal(staged.records.filter((r) => r.issues.some((i) => i.level === 'error')).length, 0, 'no record in error');
  t.equal(staged.blobs.length, 1);
  const client = odoo.migrations;
  const report = await client.stageAll('attached e2e', 'e2eatt', staged.records, undefined, staged.blobs);
  t.equal(report.counts.staged, 7, '2 contacts + 1 inline note + 3 notes + 1 document');
  const chunks = await odoo.read(
    'crm.migration.blob.chunk',
    [['record_id.migration_id', '=', report.id]],
    ['offset', 'size'],
  );
  t.same(
    chunks.map((c) => c.size).sort((a, b) => Number(b) - Number(a)),
    [BLOB_CHUNK, BLOB_CHUNK, 4321],
    'bytes uploaded in chunks',
  );

  const committed = await client.commit(report.id);
  t.equal(committed.state, 'committed', JSON.stringify([committed.failed, committed.skipped]));
  const ada = await odoo.one('res.partner', [['email', '=', 'ada.e2eatt@example.com']], ['id']);
  const messages = await odoo.read(
    'mail.message',
    [
      ['model', '=', 'res.partner'],
      ['res_id', '=', ada.id],
    ],
    ['id', 'date', 'body', 'author_id', 'subject', 'message_type'],
  );
  messages.sort((a, b) => Number(a.id) - Number(b.id));
  t.same(
    messages.map((m) => [m.date, m.body, m.message_type]),
    [
      ['2020-06-01 08:30:15', '<p>First &lt;b&gt;bold&lt;/b&gt;</p>', 'comment'],
      ['2021-12-31 23:59:59', '<p>Second</p>', 'email'],
      ['2022-01-05 09:00:03', '<p>Third</p>', 'comment'],
      [messages[3]?.date, '<p>Inline note.<br>Second line.</p>', 'comment'],
    ],
    'chatter in original order (by id), dates to the second, bodies as written',
  );
  t.same(
    messages.map((m) => m.author_id && m2oName(m.author_id)),
    ['E2E Sales Rep', 'E2E Sales Rep', 'Imported from e2eatt', 'Imported from e2eatt'],
    'author by email, else the named imported-from author',
  );
  t.equal(messages[1]?.subject, 'Re: offer');
  t.equal((await odoo.count('mail.mail')) - (before['mail.mail'] ?? 0), 0, 'no mail leaves');
  t.equal((await odoo.count('mail.notification')) - (before['mail.notification'] ?? 0), 0, 'nobody notified');
  t.equal((await odoo.count('mail.followers')) - (before['mail.followers'] ?? 0), 0, 'nobody subscribed');

  const [attachment] = await odoo.read(
    'ir.attachment',
    [
      ['res_model', '=', 'res.partner'],
      ['res_id', '=', ada.id],
    ],
    ['name', 'datas', 'checksum', 'mimetype', 'file_size'],
  );
  t.equal(attachment?.name, 'Contract.pdf');
  t.equal(attachment?.mimetype, 'application/pdf');
  t.equal(attachment?.file_size, bytes.length);
  t.ok(Buffer.from(String(attachment?.datas), 'base64').equals(bytes), 'bytes read back equal the file');
  t.equal(attachment?.checksum, createHash('sha1').update(bytes).digest('hex'));

  const rolled = await client.rollback(report.id);
  t.equal(rolled.state, 'rolled_back');
  await odoo.unlink('res.partner', [rep]);
  const after = await counts();
  t.same(after, initial, 'messages, attachment, contacts, author and links gone: counts as before');
});
