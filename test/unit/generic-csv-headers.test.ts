/**
 * Issue 8, "the generic CSV source tried as a new user would": date order from all values and
 * the headers' language (asked when it stays ambiguous), a stage/status-like column of a
 * contacts file never staged into another field or model than proposed, German "created on"
 * headers, and a source record id column landing in `ref` and the source key.
 */
import t from 'tap';
import { join } from 'node:path';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports, type Staged } from '../../bridge/src/stage-exports.js';
import { inferDateOrder, normalizeDatetime } from '../../bridge/src/normalize/datetime.js';
import { main } from '../../bridge/src/cli.js';
import { root } from '../helpers/paths.js';

const generic = (name: string) => ({ name, path: join(root, 'test', 'fixtures', 'generic', name) });
const contact = (s: Staged, email: string) => s.records.find((r) => r.object === 'contact' && r.values.email === email);
const line = (s: Staged, column: string) => s.lines.find((l) => l.column === column);

t.test("date order: inferred from all values; the headers' language decides what the values leave open", async (t) => {
  t.match(
    inferDateOrder(['04/03/2021 09:00', '25/12/2020 18:30', '01/02/2022']),
    { order: 'dmy' },
    'a day above 12 tells dd/mm',
  );
  t.match(inferDateOrder(['04/03/2021', '12/25/2020']), { order: 'mdy' }, 'a month-second above 12 tells mm/dd');
  t.match(inferDateOrder(['04/03/2021', '05/12/2020']), { order: null }, 'all values fit both: open');
  t.match(inferDateOrder(['04/03/2021', '05/12/2020'], 'fr'), { order: 'dmy' }, 'French headers: day first');
  t.match(
    inferDateOrder(['04/03/2021', '25/12/2020', '12/25/2020']),
    { order: null, conflicting: true },
    'both orders in one column: asked',
  );
  t.equal(normalizeDatetime('04/03/2021 09:00', 'UTC', 'dmy').value, '2021-03-04 09:00:00');
  t.equal(normalizeDatetime('04/03/2021 09:00', 'UTC', 'mdy').value, '2021-04-03 09:00:00');

  const fr = await stageExports('generic_csv', csvReader([generic('contacts_fr_dates.csv')]));
  t.equal(
    contact(fr, 'marie@exemple.fr')?.values.source_create_date,
    '2021-03-04 09:00:00',
    'day first, not month first',
  );
  t.equal(
    contact(fr, 'pierre@exemple.fr')?.values.source_create_date,
    '2020-12-25 18:30:00',
    'a day above 12 is read, not left empty',
  );
  t.equal(contact(fr, 'paul@exemple.fr')?.values.source_create_date, '2019-01-13 10:00:00');
  t.match(line(fr, 'Date de création'), { field: 'source_create_date', reason: /dd\/mm/ });

  const low = await stageExports('generic_csv', csvReader([generic('contacts_fr_dates_low.csv')]));
  t.equal(
    contact(low, 'marie@exemple.fr')?.values.source_create_date,
    '2021-03-04 09:00:00',
    'every day ≤ 12: the French headers decide',
  );

  const en = await stageExports('generic_csv', csvReader([generic('contacts_en_ambiguous.csv')]));
  const ann = contact(en, 'ann@example.com');
  t.notOk(ann && 'source_create_date' in ann.values, 'never guessed silently into a date field');
  const asked = line(en, 'Signup Date');
  t.match(asked, { reason: /^to confirm: day\/month order/ });
  t.ok((asked?.confidence ?? 1) < 0.6, 'a line needing a decision');
  t.ok(
    ann && Object.values(ann.values).includes('04/03/2021'),
    'the values are kept as they are (text) until the admin says',
  );

  const decided = await stageExports('generic_csv', csvReader([generic('contacts_en_ambiguous.csv')]), {
    decisions: [
      {
        object: 'contact',
        column: 'Signup Date',
        action: 'map',
        field: 'source_create_date',
        ttype: 'datetime',
        dateOrder: 'dmy',
      },
    ],
  });
  t.equal(
    contact(decided, 'ann@example.com')?.values.source_create_date,
    '2021-03-04 00:00:00',
    'the admin named the order',
  );
});

t.test(
  'a status/stage-like column of a contacts file: proposed and staged the same way, never a state lookup',
  async (t) => {
    const s = await stageExports('generic_csv', csvReader([generic('contacts_status.csv')]));
    for (const r of s.records.filter((x) => x.object === 'contact')) {
      t.notOk(r.lookups.state_id, `${String(r.values.email)}: no res.country.state lookup`);
      t.notOk(Object.keys(r.values).some((f) => f === 'stage_id' || f === 'state_id'));
    }
    const status = line(s, 'Status');
    t.match(status, { model: 'res.partner', action: 'create' }, 'a custom field on the contact');
    t.equal(contact(s, 'cal@example.com')?.values[String(status?.field)], 'CA', '"CA" stays a status, not California');
    // what `propose` shows is what staging does
    const out: string[] = [];
    const code = await main(
      ['propose', '--json', generic('contacts_status.csv').path],
      (x) => out.push(x),
      () => undefined,
    );
    t.equal(code, 0);
    const proposed = (
      JSON.parse(out.join('')) as { column: string; model: string | null; field: string | null }[]
    ).find((p) => p.column === 'Status');
    t.same(
      [proposed?.model, proposed?.field],
      [status?.model, status?.field],
      'the proposal names the field the records are staged with',
    );
  },
);

t.test(
  'German "created on" headers are the source creation date; a record id column is ref and the source key',
  async (t) => {
    const de = await stageExports('generic_csv', csvReader([generic('contacts_de.csv')]));
    t.match(line(de, 'Erstellt am'), { field: 'source_create_date', action: 'map' });
    t.equal(contact(de, 'hans@beispiel.de')?.values.source_create_date, '2021-03-04 09:00:00');
    t.equal(contact(de, 'eva@beispiel.de')?.values.source_create_date, '2022-11-15 14:30:00');
    t.match(line(de, 'Kunden-Nr.'), { field: 'ref', action: 'map' });
    const hans = contact(de, 'hans@beispiel.de');
    t.equal(hans?.values.ref, 'K-1001');
    t.equal(hans?.key, 'generic_csv:contact:K-1001', 'the source record id is the source key');
    t.notOk(
      de.profile.customFields.some((f) => /kunden|erstellt/.test(f.name)),
      'no custom field for the id or the date',
    );

    const de2 = await stageExports('generic_csv', csvReader([generic('contacts_de2.csv')]));
    t.match(line(de2, 'Erstellungsdatum'), { field: 'source_create_date' });
    t.match(line(de2, 'ID'), { field: 'ref' });
    t.equal(contact(de2, 'uwe@beispiel.de')?.key, 'generic_csv:contact:501');
    for (const h of ['Angelegt am', 'Erfasst am', 'Anlagedatum', 'Datum der Erstellung']) {
      const { proposeMapping } = await import('../../bridge/src/proposal/propose.js');
      const [p] = proposeMapping([h], [{ [h]: '04.03.2021 09:00' }, { [h]: '15.11.2022 14:30' }]);
      t.equal(p?.field, 'source_create_date', `"${h}" → source_create_date`);
    }
  },
);

t.test("an id of something else is not the contact's record id", async (t) => {
  const { proposeMapping } = await import('../../bridge/src/proposal/propose.js');
  const rows = [
    { 'Invoice No': 'A1', 'Customer #': 'C-1' },
    { 'Invoice No': 'A2', 'Customer #': 'C-2' },
  ];
  const [invoice, customer] = proposeMapping(['Invoice No', 'Customer #'], rows);
  t.not(invoice?.field, 'ref', '"Invoice No" is not the contact\'s id');
  t.equal(customer?.field, 'ref', '"Customer #" is');
});

t.test(
  'a word the glossary does not know keeps a header from being taken for a field by one generic word',
  async (t) => {
    const s = await stageExports(
      'generic_csv',
      csvReader([{ name: 'contacts_fr.csv', path: join(root, 'samples', 'generic', 'contacts_fr.csv') }]),
    );
    t.match(
      line(s, 'Client fidèle'),
      { action: 'create', model: 'res.partner' },
      '"Client fidèle" (loyal customer) is not the client\'s name',
    );
    t.match(line(s, 'Prénom'), { action: 'map', field: 'name' });
  },
);
