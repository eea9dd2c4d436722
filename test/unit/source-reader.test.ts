/**
 * CSV files through the reader boundary (csvReader): one table per file, header and encoding
 * before the rows, rows streamed lazily (a later file is not opened while an earlier one is read),
 * a peek that stops early, and errors naming file and row as staging shows them.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { csvReader, type SourceReader } from '../../bridge/src/sources/reader.js';
import { MappingEngine } from '../../bridge/src/mapping/engine.js';
import { loadMapping } from '../../bridge/src/mapping/load.js';
import { peekTables } from '../../bridge/src/upload/peek.js';
import { fixture, root, samples } from '../helpers/paths.js';

async function collect(reader: SourceReader) {
  const out: {
    name: string;
    header: string[];
    encoding?: string | undefined;
    object?: string | undefined;
    rows: { row: number; cells: Record<string, string> }[];
  }[] = [];
  for await (const table of reader.tables()) {
    const rows = [];
    for await (const r of table.rows) rows.push(r);
    out.push({ name: table.name, header: table.header, encoding: table.encoding, object: table.object, rows });
  }
  return out;
}

t.test(
  'one table per file, in order: header, encoding, numbered rows; no object (recognised from the header)',
  async (t) => {
    const reader = csvReader([fixture('bom-crlf.csv'), fixture('latin1.csv')]);
    t.equal(reader.describe(), 'bom-crlf.csv, latin1.csv');
    const [bom, latin, ...rest] = await collect(reader);
    t.equal(rest.length, 0);
    t.match(bom, {
      name: 'bom-crlf.csv',
      encoding: 'utf-8',
      header: ['ID', 'First Name', 'Last Name', 'Email', 'Tags'],
      object: undefined,
    });
    t.same(
      bom?.rows.map((r) => [r.row, r.cells.Email]),
      [
        [2, 'ana@example.com'],
        [3, 'ben@example.com'],
      ],
    );
    t.equal(latin?.encoding, 'windows-1252');
    t.equal(latin?.rows[0]?.cells['First Name'], 'Zoë');
    const again = await collect(reader);
    t.same(again, [bom, latin], 'tables() may be read again: the same tables and rows');
  },
);

t.test('a header-only file is a table without rows; an empty file fails naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'crm-reader-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'head.csv'), 'Email,Name\n');
  const [head] = await collect(csvReader([{ name: 'head.csv', path: join(dir, 'head.csv') }]));
  t.same(head?.header, ['Email', 'Name']);
  t.same(head?.rows, []);
  await t.rejects(collect(csvReader([fixture('empty.csv')])), /empty\.csv: the file is empty/);
});

t.test('streaming: the next file is opened only when asked for, after the rows before it', async (t) => {
  const seen: string[] = [];
  const reader = csvReader([fixture('bom-crlf.csv'), fixture('unbalanced-quote.csv')]);
  const err = await (async () => {
    for await (const table of reader.tables()) {
      for await (const r of table.rows) seen.push(`${table.name}:${r.row}`);
    }
  })().catch((e: unknown) => e);
  t.same(seen, ['bom-crlf.csv:2', 'bom-crlf.csv:3'], 'every row of the first file came before the second was read');
  t.match((err as Error).message, /unbalanced-quote\.csv, row 2: .*unbalanced quote/);
});

t.test('a peek reads the first rows of each table and lets go of the rest', async (t) => {
  const peeked = await peekTables(csvReader(samples), 3);
  t.same(
    peeked.map((p) => [p.name, p.rows.length]),
    [
      ['contacts_1.csv', 3],
      ['contacts_2.csv', 3],
    ],
  );
  t.ok(peeked[0]?.header.includes('Email') || peeked[0]?.header.some((h) => /mail/i.test(h)), 'headers kept');
  const full = await collect(csvReader(samples));
  t.ok((full[0]?.rows.length ?? 0) > 3, 'the files were not consumed by the peek');
});

t.test('the engine reads tables: an API-style table names its object and skips header recognition', async (t) => {
  const mapping = await loadMapping(join(root, 'test', 'fixtures', 'api', 'standin-ontraport.json'));
  const table = (object: string | undefined, header: string[], rows: Record<string, string>[]) => ({
    describe: () => 'test reader',
    async *tables() {
      yield {
        name: 'Contacts',
        header,
        ...(object ? { object } : {}),
        rows: (async function* () {
          let row = 0;
          for (const cells of rows) yield { row: ++row, cells };
        })(),
      };
    },
  });
  // a header that detection would not take (too few telling columns) still lands when the reader names the object
  const { records } = await MappingEngine.stage(
    mapping,
    table('contact', ['E-mail', 'First Name'], [{ 'E-mail': 'a@b.example', 'First Name': 'Ann' }]),
  );
  t.match(records, [
    {
      key: 'standin_ontraport:contact:a@b.example',
      object: 'contact',
      values: { email: 'a@b.example', name: 'Ann' },
      source: { file: 'Contacts', row: 1 },
    },
  ]);
  await t.rejects(
    MappingEngine.stage(mapping, table('deal', ['email'], [])),
    /Contacts: the reader names object "deal", which the Ontraport \(stand-in\) mapping does not have/,
  );
  await t.rejects(
    MappingEngine.stage(mapping, table('contact', ['First Name'], [])),
    /Contacts, row 1, field "email": required column missing/,
  );
  await t.rejects(
    MappingEngine.stage(mapping, { describe: () => 'nothing', async *tables() {} }),
    /no export file given/,
  );
});
