/**
 * The upload plan: one mapping line per column saying what the staged records do with it; the
 * generic CSV source built from the proposal; the admin's decisions (map, create, ignore)
 * applied by re-staging; saved decisions reused; an optional language model for leftovers.
 */
import t from 'tap';
import Fastify from 'fastify';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { join } from 'node:path';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { InputError } from '../../bridge/src/core/input-error.js';
import type { Decision } from '../../bridge/src/mapping/decisions.js';
import { llmSuggest } from '../../bridge/src/proposal/llm-suggest.js';
import { CATALOG } from '../../bridge/src/proposal/field-catalog.js';
import { root, sample } from '../helpers/paths.js';

const generic = { name: 'contacts_fr.csv', path: join(root, 'samples', 'generic', 'contacts_fr.csv') };
const kartraFiles = [sample('contacts_1.csv'), sample('contacts_2.csv'), sample('custom_fields.csv')];
const contacts = <T extends { object: string }>(records: T[]) => records.filter((r) => r.object === 'contact');

t.test('Kartra: a line per column, and the line says what the staged records hold', async (t) => {
  const staged = await stageExports('kartra', csvReader(kartraFiles));
  const lines = staged.lines.filter((l) => l.object === 'contact');
  const header =
    'ID,First Name,Middle Name,Last Name,Email,Phone Country Code,Phone,Company,Address,City,State,Zip,Country,Website,Tags,Lists,GDPR Status,GDPR Status Date,Date Joined,Source,Score,Notes,Owner,Email Status,Last Activity,Favourite Colour,Newsletter Opt-In,Bio,Referral Code'.split(
      ',',
    );
  t.same(
    lines.map((l) => l.column),
    header,
    'every column once, in file order',
  );
  const by = new Map(lines.map((l) => [l.column, l]));
  t.match(by.get('Email'), {
    action: 'map',
    field: 'email',
    kind: 'email',
    confidence: 1,
    reason: 'shipped Kartra mapping',
  });
  t.match(by.get('Favourite Colour'), { action: 'create', field: 'x_kartra_favourite_colour', ttype: 'selection' });
  t.match(by.get('Email Status'), { action: 'ignore', field: null });
  t.ok(by.get('Email')?.samples.includes('Ada.Lovelace@Example.com'), 'samples are the raw cells');
  const ada = contacts(staged.records).find((r) => r.values.email === 'ada.lovelace@example.com');
  t.equal(ada?.values.x_kartra_favourite_colour, 'Blue');
});

t.test('generic CSV with French headers: contacts staged from the proposal alone', async (t) => {
  const staged = await stageExports('generic_csv', csvReader([generic]));
  const by = new Map(staged.lines.map((l) => [l.column, l]));
  t.match(by.get('Courriel'), { action: 'map', field: 'email' });
  t.match(by.get('Prénom'), { action: 'map', field: 'name' });
  t.match(by.get('Nom'), { action: 'map', field: 'name' });
  t.match(by.get('Pays'), { action: 'map', field: 'country_id' });
  t.match(by.get('Couleur préférée'), { action: 'create', field: 'x_csv_couleur_preferee', ttype: 'char' });
  const marie = contacts(staged.records).find((r) => r.values.email === 'marie.curie@sorbonne.example');
  t.match(marie, {
    key: 'generic_csv:contact:marie.curie@sorbonne.example',
    values: {
      name: 'Marie Curie',
      phone: '+33144271000',
      city: 'Paris',
      zip: '75005',
      x_csv_couleur_preferee: 'Bleu',
      is_company: false,
    },
    refs: {
      parent_id: 'generic_csv:company:sorbonne',
      category_id: ['generic_csv:tag:physique', 'generic_csv:tag:vip'],
    },
    lookups: { country_id: { model: 'res.country', value: 'FR' } },
    match: [['email']],
  });
  t.equal(contacts(staged.records).length, 4);
  t.ok(staged.records.some((r) => r.object === 'custom_field' && r.values.name === 'x_csv_couleur_preferee'));
  t.match(staged.inventory, /Generic CSV/);
});

t.test('decisions: change a field, leave a column out, create a typed custom field', async (t) => {
  const decisions: Decision[] = [
    { object: 'contact', column: 'Téléphone', action: 'map', field: 'mobile', ttype: 'char' },
    { object: 'contact', column: 'Ville', action: 'ignore' },
    {
      object: 'contact',
      column: 'Client fidèle',
      action: 'create',
      field: 'x_csv_loyal',
      ttype: 'char',
      label: 'Loyal customer',
    },
  ];
  const staged = await stageExports('generic_csv', csvReader([generic]), { decisions });
  const marie = contacts(staged.records).find((r) => r.values.email === 'marie.curie@sorbonne.example');
  t.equal(marie?.values.mobile, '+33144271000', 'phone column now lands in mobile, still normalized to E.164');
  t.notOk('phone' in (marie?.values ?? {}));
  t.notOk('city' in (marie?.values ?? {}), 'the ignored column is not written');
  t.equal(marie?.values.x_csv_loyal, 'oui');
  const field = staged.records.find((r) => r.object === 'custom_field' && r.values.name === 'x_csv_loyal');
  t.match(field?.values, { field_description: 'Loyal customer', ttype: 'char' });
  const by = new Map(staged.lines.map((l) => [l.column, l]));
  t.match(by.get('Téléphone'), { action: 'map', field: 'mobile', confidence: 1, reason: 'confirmed by you' });
  t.match(by.get('Ville'), { action: 'ignore', field: null, reason: 'confirmed by you' });
  t.match(by.get('Client fidèle'), { action: 'create', field: 'x_csv_loyal', label: 'Loyal customer' });
  t.match(staged.inventory, /Ville/, 'what is left out is in the inventory');
});

t.test('decisions on a shipped mapping: Kartra phone to mobile; saved decisions rank below the admin', async (t) => {
  const saved: Decision[] = [
    { object: 'contact', column: 'Referral Code', action: 'map', field: 'ref', ttype: 'char' },
  ];
  const staged = await stageExports('kartra', csvReader(kartraFiles), {
    decisions: [{ object: 'contact', column: 'Phone', action: 'map', field: 'mobile' }],
    saved,
  });
  const ada = contacts(staged.records).find((r) => r.values.email === 'ada.lovelace@example.com');
  t.equal(ada?.values.mobile, '+442079460018', 'still normalized with the row country code');
  t.notOk('phone' in (ada?.values ?? {}));
  const dennis = contacts(staged.records).find((r) => r.values.email === 'dennis@bell.example');
  t.equal(dennis?.values.ref, 'DR-1941');
  t.notOk(
    staged.records.some((r) => r.object === 'custom_field' && r.values.name === 'x_kartra_referral_code'),
    'no custom field for a column mapped to a field',
  );
  t.match(
    staged.lines.find((l) => l.column === 'Referral Code'),
    { field: 'ref', confidence: 0.98, reason: 'saved mapping from an earlier migration' },
  );
});

t.test('a relation the migration cannot fill is refused, naming the column', async (t) => {
  const err = await stageExports('generic_csv', csvReader([generic]), {
    decisions: [{ object: 'contact', column: 'Ville', action: 'map', field: 'title', ttype: 'many2one' }],
  }).catch((e: unknown) => e);
  t.ok(err instanceof InputError);
  t.match(err, { field: 'Ville', message: /res\.partner\.title is a relation/ });
});

t.test('a generic file with neither email nor name cannot be keyed: clear error', async (t) => {
  const bytes = Buffer.from('Couleur,Taille\nBleu,M\nVert,L\n');
  const { writeFile, mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'gen-'));
  await writeFile(join(dir, 'things.csv'), bytes);
  await t.rejects(
    stageExports('generic_csv', csvReader([{ name: 'things.csv', path: join(dir, 'things.csv') }])),
    /things\.csv.*Email or Name/,
  );
});

t.test('optional language model: suggestions only for allowed fields; failures give none', async (t) => {
  const stub = Fastify();
  let asked = '';
  stub.post('/v1/chat/completions', async (req) => {
    asked = JSON.stringify(req.body);
    return {
      choices: [
        {
          message: {
            content: JSON.stringify({
              mappings: [
                { column: 'Fav', field: 'function' },
                { column: 'X', field: 'password' },
              ],
            }),
          },
        },
      ],
    };
  });
  await stub.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => stub.close());
  const port = (stub.server.address() as { port: number }).port;
  const partner = CATALOG.filter((c) => c.model === 'res.partner');
  const got = await llmSuggest(
    { url: `http://127.0.0.1:${port}/v1`, key: 'k', model: 'tiny' },
    [
      { column: 'Fav', samples: ['CTO'] },
      { column: 'X', samples: ['y'] },
    ],
    partner,
  );
  t.same(
    [...got.entries()],
    [['Fav', { field: 'function', reason: 'suggested by tiny (language model)' }]],
    'a field outside the candidates is dropped',
  );
  t.match(asked, /Fav/);
  const warned: unknown[] = [];
  const none = await llmSuggest(
    { url: 'http://127.0.0.1:9/v1', model: 'm' },
    [{ column: 'Fav', samples: [] }],
    partner,
    { warn: (o: unknown) => warned.push(o) },
    2000,
  );
  t.equal(none.size, 0);
  t.equal(warned.length, 1, 'an unreachable endpoint is logged, not fatal');
});

t.test(
  'confirming every line as it was staged changes nothing: a picklist custom field stays a selection',
  async (t) => {
    const first = await stageExports('kartra', csvReader(kartraFiles));
    const decisions: Decision[] = first.lines
      .filter((l) => l.object === 'contact')
      .map((l) => ({
        object: l.object,
        column: l.column,
        action: l.action,
        field: l.field,
        ttype: l.ttype,
        label: l.label,
      }));
    const colour = decisions.find((d) => d.column === 'Favourite Colour');
    if (colour) colour.label = 'Colour they like';
    const again = await stageExports('kartra', csvReader(kartraFiles), { decisions });
    const field = (r: typeof again.records) =>
      r.find((x) => x.object === 'custom_field' && x.values.name === 'x_kartra_favourite_colour')?.values;
    t.match(field(again.records), {
      ttype: 'selection',
      selection: field(first.records)?.selection,
      field_description: 'Colour they like',
    });
    const plain = (r: typeof again.records) => r.filter((x) => x.object === 'contact').map((x) => x.values);
    t.same(plain(again.records), plain(first.records), 'the same values staged');
  },
);
