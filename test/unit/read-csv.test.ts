import t from 'tap';
import { readCsv, type CsvRow } from '../../bridge/src/csv/read-csv.js';
import { InputError } from '../../bridge/src/core/input-error.js';
import { fixture } from '../helpers/paths.js';

async function rows(name: string): Promise<{ rows: CsvRow[]; encoding: string; header: string[] }> {
  const out: CsvRow[] = [];
  let encoding = '';
  let header: string[] = [];
  for await (const r of readCsv(fixture(name), (h) => ({ encoding, header } = h))) out.push(r);
  return { rows: out, encoding, header };
}

async function inputError(name: string): Promise<InputError> {
  try {
    await rows(name);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error(`${name} did not fail`);
}

t.test('UTF-8 with BOM and CRLF: BOM stripped, empty lines skipped, quoted commas kept', async (t) => {
  const r = await rows('bom-crlf.csv');
  t.equal(r.encoding, 'utf-8');
  t.equal(r.header[0], 'ID', 'no BOM glued to the first header');
  t.equal(r.rows.length, 2);
  t.equal(r.rows[0]?.cells.Tags, 'a, b, c');
  t.equal(r.rows[1]?.row, 3, 'row numbers count data records after the header');
});

t.test('Windows-1252 / Latin-1 detected and decoded', async (t) => {
  const r = await rows('latin1.csv');
  t.equal(r.encoding, 'windows-1252');
  t.equal(r.rows[0]?.cells['First Name'], 'Zoë');
  t.equal(r.rows[0]?.cells.Company, 'Straße GmbH');
});

t.test('semicolon-delimited exports are read', async (t) => {
  const r = await rows('semicolon.csv');
  t.same(r.header, ['Lead ID', 'FirstName', 'Surname', 'E-mail', 'Tag']);
  t.equal(r.rows[0]?.cells['E-mail'], 'semi@example.com');
});

t.test('bad files give an InputError naming file and row', async (t) => {
  const quote = await inputError('unbalanced-quote.csv');
  t.equal(quote.file, 'unbalanced-quote.csv');
  t.equal(quote.row, 2);
  t.match(quote.message, /unbalanced quote/);

  const binary = await inputError('not-csv.csv');
  t.match(binary.message, /not-csv\.csv: not a CSV text file/);

  const empty = await inputError('empty.csv');
  t.match(empty.message, /empty\.csv: the file is empty/);

  const extra = await inputError('extra-cells.csv');
  t.equal(extra.row, 2);
  t.match(extra.message, /6 cells but the header has 5/);
});
