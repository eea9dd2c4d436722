import t from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MappingEngine } from '../../bridge/src/mapping/engine.js';
import { loadMapping } from '../../bridge/src/mapping/load.js';
import { mappingSchema } from '../../bridge/src/mapping/schema.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { InputError } from '../../bridge/src/core/input-error.js';
import { stagedRecordSchema, type StagedRecord } from '../../bridge/src/staging/record.js';
import { fixture, root, samples } from '../helpers/paths.js';

const byKey = (records: StagedRecord[]) => new Map(records.map((r) => [r.key, r]));

t.test('Kartra sample: contacts, companies and tags staged as the mapping says', async (t) => {
  const { records, profile } = await stageExports('kartra', csvReader(samples));
  for (const r of records) stagedRecordSchema.parse(r);
  const k = byKey(records);
  const ada = k.get('kartra:contact:1001');
  t.ok(ada, 'keyed by source id');
  t.equal(ada?.model, 'res.partner');
  t.same(
    {
      name: ada?.values.name,
      email: ada?.values.email,
      phone: ada?.values.phone,
      city: ada?.values.city,
      is_company: ada?.values.is_company,
    },
    {
      name: 'Ada Lovelace',
      email: 'ada.lovelace@example.com',
      phone: '+442079460018',
      city: 'London',
      is_company: false,
    },
  );
  t.notOk('comment' in (ada?.values ?? {}), 'notes go to the chatter, not the internal notes field');
  const note = k.get('kartra:contact_note:1001');
  t.same(
    { model: note?.model, attach_to: note?.attach_to, values: note?.values },
    {
      model: 'mail.message',
      attach_to: 'kartra:contact:1001',
      values: { message_type: 'comment', body: '<p>Prefers email.<br>Met at the London meetup.</p>' },
    },
    'inline notes: multi-line quoted cell kept, attached to the contact as a chatter note',
  );
  t.notOk(k.has('kartra:contact_note:1002'), 'no empty note for a contact without notes');
  t.equal(ada?.refs.parent_id, 'kartra:company:analytical engines ltd', 'company_name becomes a parent company ref');
  t.same(
    ada?.refs.category_id,
    ['kartra:tag:vip', 'kartra:tag:webinar-2024', 'kartra:list:newsletter', 'kartra:tag:poetry'],
    'quoted comma tags split, list added, duplicate row tags added',
  );
  t.same(ada?.lookups.country_id, { model: 'res.country', field: 'code', value: 'GB' });
  t.same(ada?.match, [['email']]);
  t.equal(ada?.source.file, 'contacts_1.csv');
  t.equal(ada?.source.row, 2);
  t.equal(ada?.source.data.Email, 'Ada.Lovelace@Example.com', 'original row kept as exported');

  const company = k.get('kartra:company:analytical engines ltd');
  t.same(company?.values, { is_company: true, name: 'Analytical Engines Ltd' });
  t.same(company?.match, [['name', 'is_company']]);
  const vip = k.get('kartra:tag:vip');
  t.equal(vip?.model, 'res.partner.category');
  t.equal(vip?.values.name, 'vip', 'first spelling wins; "VIP" in chunk 2 is the same tag');
  t.notOk(k.has('kartra:tag:VIP'));

  const hedy = k.get('kartra:contact:1018');
  t.notOk(hedy?.refs.parent_id, 'no company, no parent ref');
  const grace = k.get('kartra:contact:1003');
  t.equal(grace?.values.name, 'Grace Brewster Hopper');
  t.equal(grace?.values.phone, '+12025550143');
  t.equal(grace?.values.website, 'https://navy.example/hopper');
  const noName = k.get('kartra:contact:1010');
  t.equal(noName?.values.name, 'no-name@example.com', 'name falls back to the email');

  t.equal(profile.objects.contact?.records, 17, '18 rows, one duplicate email merged');
  t.equal(profile.duplicatesMerged.length, 1);
  t.match(profile.duplicatesMerged[0], {
    kept: 'kartra:contact:1001',
    merged: { key: 'kartra:contact:1016', file: 'contacts_2.csv', row: 5 },
    by: 'email',
  });
  t.ok(
    ada?.issues.some((i) => i.level === 'warning' && /duplicate of contacts_1\.csv row 2/.test(i.message)),
    'merge noted on the kept record',
  );
});

t.test('per-field issues name file, row and field; errors stay on the record', async (t) => {
  const { records } = await stageExports('kartra', csvReader(samples));
  const broken = records.find((r) => r.key === 'kartra:contact:1012');
  t.same(
    broken?.issues.filter((i) => i.level === 'error').map(({ file, row, field }) => ({ file, row, field })),
    [{ file: 'contacts_1.csv', row: 13, field: 'Email' }],
  );
});

t.test('staging keys and hashes are stable across runs', async (t) => {
  const a = await stageExports('kartra', csvReader(samples));
  const b = await stageExports('kartra', csvReader(samples));
  t.same(
    a.records.map((r) => [r.key, r.hash]),
    b.records.map((r) => [r.key, r.hash]),
  );
});

t.test('contacts with no id are keyed by email; other header spellings are understood', async (t) => {
  const { records } = await stageExports('kartra', csvReader([fixture('semicolon.csv')]));
  t.equal(records.find((r) => r.object === 'contact')?.key, 'kartra:contact:7', 'Lead ID is the id');
  const latin = await stageExports('kartra', csvReader([fixture('latin1.csv')]));
  const zoe = latin.records.find((r) => r.object === 'contact');
  t.equal(zoe?.values.name, 'Zoë Müller');
  t.same(zoe?.lookups.country_id?.value, 'DE');
  t.ok(latin.records.some((r) => r.key === 'kartra:company:straße gmbh'));
});

t.test('a header without the email column stops the run naming file, row and field', async (t) => {
  const err = await stageExports('kartra', csvReader([fixture('missing-email-column.csv')])).catch((e: unknown) => e);
  t.ok(err instanceof InputError);
  t.match(err, { file: 'missing-email-column.csv', row: 1, field: 'email', message: /required column missing/ });
  await t.rejects(
    stageExports('kartra', csvReader([...samples, fixture('unrelated.csv')])),
    /unrelated\.csv, row 1: not recognised as a Kartra export/,
  );
  await t.rejects(stageExports('nosuch', csvReader(samples)), /unknown source "nosuch"/);
});

t.test('the mapping engine is generic: a mapping of another shape works the same way', async (t) => {
  const mapping = mappingSchema.parse({
    source: 'acme',
    label: 'Acme CRM',
    version: 1,
    objects: {
      person: {
        label: 'People',
        model: 'res.partner',
        file: { detect: ['mail'] },
        columns: { mail: ['Mail address', 'Courriel'], full: ['Full name'], groups: ['Groups'] },
        requiredColumns: ['mail'],
        key: ['mail'],
        match: [['email']],
        fields: [
          { field: 'email', from: 'mail', transform: 'email' },
          { field: 'name', from: 'full', fallback: ['mail'] },
          { field: 'category_id', from: 'groups', object: 'group', split: ['|'] },
        ],
      },
      group: { label: 'Group', model: 'res.partner.category', valueField: 'name', match: [['name']] },
    },
  });
  const { records } = await MappingEngine.stage(mapping, csvReader([fixture('generic-people.csv')]));
  const k = byKey(records);
  t.same(k.get('acme:person:jean@exemple.fr')?.values, { email: 'jean@exemple.fr', name: 'Jean Dupont' });
  t.same(k.get('acme:person:jean@exemple.fr')?.refs, { category_id: ['acme:group:a', 'acme:group:b'] });
  t.equal(k.get('acme:person:solo@exemple.fr')?.values.name, 'solo@exemple.fr');
  t.equal(records.length, 4);
  await t.rejects(
    MappingEngine.stage(mapping, csvReader(samples)),
    /not recognised as a Acme CRM export/,
    'a Kartra file is not taken for this source',
  );
});

t.test('invalid mappings are refused with the path of the problem', async (t) => {
  const good = JSON.parse(await readFile(join(root, 'mappings', 'kartra.json'), 'utf8'));
  t.ok(mappingSchema.safeParse(good).success, 'the shipped mapping is valid');
  good.objects.contact.fields.push({ field: 'x_thing', from: 'no_such_column' });
  const bad = mappingSchema.safeParse(good);
  t.notOk(bad.success);
  t.match(bad.error?.issues[0]?.message, /unknown column "no_such_column"/);
  await t.rejects(loadMapping(join(root, 'package.json')), /invalid mapping/);
});
