/**
 * Odoo's own fields as proposal targets (`fields_get`): plain stored fields only, a near-exact
 * header needed, picklist columns matched against selection values and staged as their keys.
 */
import t from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { CATALOG } from '../../bridge/src/proposal/field-catalog.js';
import { catalogFromFieldsGet, selectionFit, type FieldsGet } from '../../bridge/src/proposal/odoo-fields.js';

const partnerFields: FieldsGet = {
  name: { type: 'char', string: 'Name', store: true },
  ref: { type: 'char', string: 'Reference', store: true },
  x_tier: {
    type: 'selection',
    string: 'Customer tier',
    store: true,
    selection: [
      ['gold', 'Gold'],
      ['silver', 'Silver'],
      ['bronze', 'Bronze'],
    ],
  },
  x_shoe_size: { type: 'integer', string: 'Shoe size', store: true },
  commercial_company_name: { type: 'char', string: 'Company Name Entity', store: true, readonly: true },
  contact_address: { type: 'char', string: 'Complete Address', store: false },
  title: { type: 'many2one', string: 'Title', store: true },
  message_ids: { type: 'one2many', string: 'Messages', store: true },
  create_date: { type: 'datetime', string: 'Created on', store: true },
};

async function csv(name: string, text: string) {
  const dir = await mkdtemp(join(tmpdir(), 'odoo-fields-'));
  await writeFile(join(dir, name), text);
  return { name, path: join(dir, name) };
}

t.test('only plain, stored, writable, non-technical fields the catalog does not name', async (t) => {
  const got = catalogFromFieldsGet('res.partner', partnerFields, CATALOG)
    .map((f) => f.field)
    .sort();
  t.same(
    got,
    ['x_shoe_size', 'x_tier'],
    'name and ref (the source id) are in the catalog already; readonly, computed, relational and technical fields are out',
  );
});

t.test('selection fit: keys or labels, case and punctuation ignored', async (t) => {
  const { fit, table } = selectionFit(
    ['Gold', 'silver', ' GOLD ', 'Platinum', ''],
    [
      ['gold', 'Gold'],
      ['silver', 'Silver'],
    ],
  );
  t.equal(fit, 0.75);
  t.same(table, { Gold: 'gold', silver: 'silver', GOLD: 'gold' });
});

t.test('a picklist column lands in the Odoo selection field, as its keys; near-misses are not proposed', async (t) => {
  const file = await csv(
    'people.csv',
    'Email,Name,Customer Tier,Shoe size,Referral Code\nann@x.example,Ann,Gold,38,R-1\nbob@x.example,Bob,Silver,44,R-2\ncy@x.example,Cy,gold,41,\n',
  );
  const staged = await stageExports('generic_csv', csvReader([file]), { odooFields: { 'res.partner': partnerFields } });
  const by = new Map(staged.lines.map((l) => [l.column, l]));
  t.match(by.get('Customer Tier'), { action: 'map', field: 'x_tier', ttype: 'selection' });
  t.match(by.get('Shoe size'), { action: 'map', field: 'x_shoe_size' });
  t.match(
    by.get('Referral Code'),
    { action: 'create' },
    '"Referral Code" is not "Reference": a custom field, not a guess',
  );
  const ann = staged.records.find((r) => r.values.email === 'ann@x.example');
  const cy = staged.records.find((r) => r.values.email === 'cy@x.example');
  t.equal(ann?.values.x_tier, 'gold');
  t.equal(cy?.values.x_tier, 'gold');
  t.equal(ann?.values.x_shoe_size, 38);
});

t.test('the admin maps a column onto a selection field: the values become its keys', async (t) => {
  const file = await csv('people.csv', 'Email,Name,Level\nann@x.example,Ann,Bronze\nbob@x.example,Bob,Silver\n');
  const staged = await stageExports('generic_csv', csvReader([file]), {
    odooFields: { 'res.partner': partnerFields },
    decisions: [{ object: 'contact', column: 'Level', action: 'map', field: 'x_tier' }],
  });
  t.same(
    staged.records.filter((r) => r.object === 'contact').map((r) => r.values.x_tier),
    ['bronze', 'silver'],
  );
  t.match(
    staged.lines.find((l) => l.column === 'Level'),
    { field: 'x_tier', reason: 'confirmed by you' },
  );
});

t.test(
  "a qualified header does not take an Odoo field known by one generic word (Odoo 17's partner 'Date')",
  async (t) => {
    const fields: FieldsGet = { ...partnerFields, date: { type: 'date', string: 'Date', store: true } };
    const file = await csv(
      'people.csv',
      'Email,Name,Renewal Date\nann@x.example,Ann,2025-01-31\nbob@x.example,Bob,2025-03-01\n',
    );
    const staged = await stageExports('generic_csv', csvReader([file]), { odooFields: { 'res.partner': fields } });
    t.match(
      staged.lines.find((l) => l.column === 'Renewal Date'),
      { action: 'create' },
      '"Renewal Date" is not "Date": a custom field of its own',
    );
    const other = await csv('people.csv', 'Email,Name,Date\nann@x.example,Ann,2024-01-01\n');
    const same = await stageExports('generic_csv', csvReader([other]), { odooFields: { 'res.partner': fields } });
    t.match(
      same.lines.find((l) => l.column === 'Date'),
      { action: 'map', field: 'date' },
      'the same word still lands in the field',
    );
  },
);
