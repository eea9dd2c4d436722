/**
 * Attached records in the mapping engine: notes (a notes file naming its contact by email, inline
 * notes of a contact row) become mail.message records with `attach_to`; a file column becomes an
 * ir.attachment record whose `blob` is computed by streaming the file.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MappingEngine } from '../../bridge/src/mapping/engine.js';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { mappingSchema, type Mapping } from '../../bridge/src/mapping/schema.js';
import { contentHash } from '../../bridge/src/staging/hash.js';
import { BLOB_CHUNK, fileChunks, hashFile, resolveLocalFile } from '../../bridge/src/staging/blob.js';
import { stagedRecordSchema, type StagedRecord } from '../../bridge/src/staging/record.js';

const mapping: Mapping = mappingSchema.parse({
  source: 'src',
  label: 'Test CRM',
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
        body: ['Body'],
        created: ['Created'],
        author: ['Author'],
      },
      key: ['note_id'],
      attachTo: { object: 'contact', from: 'contact_email', by: 'email' },
      constants: { message_type: 'comment' },
      fields: [
        { field: 'body', from: 'body', transform: 'html' },
        { field: 'date', from: 'created', transform: 'datetime' },
        { field: 'author_id', from: 'author', transform: 'email', lookup: { model: 'res.partner', field: 'email' } },
      ],
    },
    document: {
      label: 'Documents',
      model: 'ir.attachment',
      file: { detect: ['document_id', 'path'] },
      columns: { document_id: ['Document Id'], contact_id: ['Contact Id'], file_name: ['File Name'], path: ['Path'] },
      key: ['document_id'],
      attachTo: { object: 'contact', from: 'contact_id' },
      blobFrom: 'path',
      fields: [{ field: 'name', from: 'file_name', required: true }],
    },
  },
});

async function setUp() {
  const dir = await mkdtemp(join(tmpdir(), 'crm-attached-'));
  const files = join(dir, 'files');
  await writeFile(
    join(dir, 'contacts.csv'),
    'Id,Name,Email,Notes\n1,Ada,ada@example.com,"Prefers <email>.\n\nMet in London."\n2,Bob,bob@example.com,\n',
  );
  await writeFile(
    join(dir, 'notes.csv'),
    'Note Id,Contact Email,Body,Created,Author\nn1,ADA@example.com,Called back,2021-03-04 10:11:12,rep@example.com\nn2,nobody@example.com,Lost,2021-03-05 10:00:00,\n',
  );
  await (await import('node:fs/promises')).mkdir(files);
  const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  await writeFile(join(files, 'contract.pdf'), bytes);
  await writeFile(join(dir, 'secret.txt'), 'not for upload');
  await writeFile(
    join(dir, 'documents.csv'),
    'Document Id,Contact Id,File Name,Path\nd1,1,Contract.pdf,contract.pdf\nd2,1,Escape,../secret.txt\nd3,2,Missing,gone.pdf\n',
  );
  return { dir, files, bytes };
}

const byKey = (records: StagedRecord[]) => new Map(records.map((r) => [r.key, r]));

t.test('notes: inline and from a notes file, attached to the right contact', async (t) => {
  const { dir, files } = await setUp();
  // the notes file comes first: parents are resolved after the last file
  const result = await MappingEngine.stage(
    mapping,
    csvReader([
      { name: 'notes.csv', path: join(dir, 'notes.csv') },
      { name: 'contacts.csv', path: join(dir, 'contacts.csv') },
    ]),
    { filesDir: files },
  );
  for (const r of result.records) stagedRecordSchema.parse(r);
  const k = byKey(result.records);
  const inline = k.get('src:contact_note:1');
  t.same(
    { model: inline?.model, attach_to: inline?.attach_to, values: inline?.values },
    {
      model: 'mail.message',
      attach_to: 'src:contact:1',
      values: { message_type: 'comment', body: '<p>Prefers &lt;email&gt;.</p><p>Met in London.</p>' },
    },
    'inline notes: escaped html, paragraphs kept',
  );
  t.notOk(k.has('src:contact_note:2'), 'a contact without notes gets no empty note');
  const n1 = k.get('src:note:n1');
  t.equal(n1?.attach_to, 'src:contact:1', 'the note names its contact by email (case-insensitive)');
  t.equal(n1?.values.date, '2021-03-04 10:11:12', 'original date to the second (UTC)');
  t.same(n1?.lookups.author_id, { model: 'res.partner', field: 'email', value: 'rep@example.com' });
  t.equal(n1?.issues.length, 0);
  const n2 = k.get('src:note:n2');
  t.equal(n2?.attach_to, undefined);
  t.match(
    n2?.issues,
    [
      {
        level: 'error',
        file: 'notes.csv',
        row: 3,
        field: 'Contact Email',
        message: /no contact with email "nobody@example\.com"/,
      },
    ],
    'an unknown parent is an error naming file, row and field',
  );
  t.equal(n1?.hash, contentHash(n1 as StagedRecord), 'the hash covers attach_to');
  t.not(contentHash({ ...(n1 as StagedRecord), attach_to: 'src:contact:2' }), n1?.hash, 'another parent, another hash');
});

t.test('files: blob computed by streaming the file; paths outside the folder refused', async (t) => {
  const { dir, files, bytes } = await setUp();
  const result = await MappingEngine.stage(
    mapping,
    csvReader([
      { name: 'contacts.csv', path: join(dir, 'contacts.csv') },
      { name: 'documents.csv', path: join(dir, 'documents.csv') },
    ]),
    { filesDir: files },
  );
  const k = byKey(result.records);
  const d1 = k.get('src:document:d1');
  t.same(
    { model: d1?.model, attach_to: d1?.attach_to, values: d1?.values, blob: d1?.blob },
    {
      model: 'ir.attachment',
      attach_to: 'src:contact:1',
      values: { name: 'Contract.pdf' },
      blob: { sha1: createHash('sha1').update(bytes).digest('hex'), size: 3000 },
    },
  );
  t.match(k.get('src:document:d2')?.issues, [
    {
      level: 'error',
      file: 'documents.csv',
      row: 3,
      field: 'Path',
      message: /not inside the folder of attached files/,
    },
  ]);
  t.equal(k.get('src:document:d2')?.blob, undefined, 'nothing read outside the folder');
  t.match(k.get('src:document:d3')?.issues, [
    { level: 'error', row: 4, field: 'Path', message: /cannot read the file "gone\.pdf" \(ENOENT\)/ },
  ]);
  t.same(
    result.blobs,
    [{ key: 'src:document:d1', path: join(files, 'contract.pdf'), sha1: d1?.blob?.sha1, size: 3000 }],
    'only readable files are uploaded',
  );
  t.not(
    contentHash({ ...(d1 as StagedRecord), blob: { sha1: 'f'.repeat(40), size: 3000 } }),
    d1?.hash,
    'other bytes, another hash',
  );

  const none = await MappingEngine.stage(
    mapping,
    csvReader([
      { name: 'contacts.csv', path: join(dir, 'contacts.csv') },
      { name: 'documents.csv', path: join(dir, 'documents.csv') },
    ]),
  );
  t.match(
    byKey(none.records).get('src:document:d1')?.issues,
    [{ level: 'error', message: /no folder of attached files/ }],
    'no folder given: no file is read',
  );
  t.same(none.blobs, []);
});

t.test('streaming: chunks of BLOB_CHUNK, sha1 equal to the whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'crm-blob-'));
  const path = join(dir, 'big.bin');
  const big = Buffer.alloc(BLOB_CHUNK * 2 + 123, 7);
  await writeFile(path, big);
  const sizes: number[] = [];
  for await (const chunk of fileChunks(path)) sizes.push(chunk.length);
  t.same(sizes, [BLOB_CHUNK, BLOB_CHUNK, 123]);
  t.same(await hashFile(path), { sha1: createHash('sha1').update(big).digest('hex'), size: big.length });
  t.match(resolveLocalFile(dir, '/etc/passwd'), { error: /not inside/ });
  t.match(resolveLocalFile(dir, 'sub/../../x'), { error: /not inside/ });
  t.same(
    resolveLocalFile(dir, 'sub\\a.pdf'),
    { path: join(dir, 'sub', 'a.pdf') },
    'Windows separators read as folders',
  );
});

t.test('content hash equals the addon canonical_hash', async (t) => {
  // values printed by odoo_addon/crm_migration/services/staging.py canonical_hash (json.dumps,
  // sort_keys, no spaces, ensure_ascii=False): attach_to and blob only when present
  t.equal(
    contentHash({ model: 'res.partner', values: { name: 'Ada' }, refs: {}, lookups: {} }),
    '07d8c2be598cba975bacba0c9f8e609c918858b18f6a31675059794519bbd7d2',
  );
  t.equal(
    contentHash({
      model: 'ir.attachment',
      values: { name: 'Contrat été.pdf', mimetype: 'application/pdf' },
      refs: {},
      lookups: {},
      attach_to: 'src:contact:1',
      blob: { sha1: 'a'.repeat(40), size: 12 },
    }),
    '256fea776fd5db5651f3955fb1a3bf91eef216dd85035af405a3832efc8e3c14',
  );
});

t.test('mapping checks for attached objects', async (t) => {
  const bad = structuredClone(mapping) as unknown as { objects: Record<string, Record<string, unknown>> };
  (bad.objects.note as Record<string, unknown>).attachTo = { object: 'contact', by: 'email' };
  t.match(mappingSchema.safeParse(bad).error?.issues, [{ message: /names its parent in a column/ }]);
  const bad2 = structuredClone(mapping) as unknown as { objects: Record<string, Record<string, unknown>> };
  delete (bad2.objects.contact_note as Record<string, unknown>).attachTo;
  t.match(mappingSchema.safeParse(bad2).error?.issues, [{ message: /needs `parentField`, or `attachTo`/ }]);
});

t.test(
  'perRow.keyFrom: an export repeating the parent row per note gives one record per distinct note; html of several columns is one text',
  async (t) => {
    const m = mappingSchema.parse({
      source: 'rep',
      label: 'Repeated rows',
      version: 1,
      objects: {
        contact: {
          label: 'Contacts',
          model: 'res.partner',
          file: { detect: ['email', 'name'] },
          columns: {
            id: ['Id'],
            name: ['Name'],
            email: ['Email'],
            note: ['Note'],
            note_date: ['Note Date'],
            kind: ['Kind'],
          },
          key: ['id'],
          fields: [
            { field: 'name', from: 'name' },
            { field: 'email', from: 'email', transform: 'email' },
          ],
        },
        contact_note: {
          label: 'Notes',
          model: 'mail.message',
          perRow: { parent: 'contact', keyFrom: ['note_date', 'note'] },
          attachTo: { object: 'contact' },
          constants: { message_type: 'comment' },
          fields: [
            { field: 'body', from: ['kind', 'note'], join: ' <&> ', transform: 'html' },
            { field: 'date', from: 'note_date', transform: 'datetime' },
          ],
        },
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'crm-keyfrom-'));
    await writeFile(
      join(dir, 'contacts.csv'),
      'Id,Name,Email,Note,Note Date,Kind\n1,Ada,ada@example.com,One,2021-01-01 10:00:00,Call\n1,Ada,ada@example.com,Two,2021-01-02 10:00:00,\n1,Ada,ada@example.com,One,2021-01-01 10:00:00,Call\n2,Bob,bob@example.com,,,\n',
    );
    const staged = await MappingEngine.stage(m, csvReader([{ name: 'contacts.csv', path: join(dir, 'contacts.csv') }]));
    const notes = staged.records.filter((r) => r.object === 'contact_note');
    t.equal(staged.records.filter((r) => r.object === 'contact').length, 2);
    t.same(
      notes.map((n) => [n.attach_to, n.values.date, n.values.body]),
      [
        ['rep:contact:1', '2021-01-01 10:00:00', '<p>Call &lt;&amp;&gt; One</p>'],
        ['rep:contact:1', '2021-01-02 10:00:00', '<p>Two</p>'],
      ],
      'the repeated identical note is one record; Bob (no note) has none',
    );
    t.ok(
      notes.every((n) => /^rep:contact_note:1:[0-9a-f]{12}$/.test(n.key)),
      'parent key + digest',
    );
    t.throws(
      () =>
        mappingSchema.parse({
          ...m,
          objects: {
            ...m.objects,
            contact_note: { ...m.objects.contact_note, perRow: { parent: 'contact', keyFrom: ['nope'] } },
          },
        }),
      /unknown column \W*nope\W* of \W*contact/,
    );
  },
);
