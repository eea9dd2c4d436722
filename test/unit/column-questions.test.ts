/**
 * Issue 14: a column the mapping needs that no header is sure to be. The CLI stops with one line
 * (file, column, best candidates; exit 3) and takes `--column` or `--decisions`; an upload stages
 * with the best candidate and asks on the Mapping page; a file is refused only when nothing in it
 * can be the column. Unknown columns of every object become custom fields or are listed as left
 * out, counted per object.
 */
import t from 'tap';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../bridge/src/cli.js';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { ColumnQuestion } from '../../bridge/src/mapping/columns.js';
import { root, sample } from '../helpers/paths.js';
import { writeVariant } from '../helpers/header-variants.js';

const now = new Date('2024-07-01T00:00:00Z');
const ALL_APPS = { sale: true, account: true, calendar: true };
const allSamples = readdirSync(join(root, 'samples', 'kartra'))
  .filter((f) => f.endsWith('.csv'))
  .sort()
  .map(sample);
const contacts = [sample('contacts_1.csv'), sample('contacts_2.csv')];

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const dir = mkdtempSync(join(tmpdir(), 'kartra-questions-'));
/** deals.csv with its id column as "Deal Ref": a candidate, below the threshold */
const dealRef = () => writeVariant(sample('deals.csv'), 'renamed', dir, (h) => (h === 'Deal ID' ? 'Deal Ref' : h));

t.test(
  'CLI: a required column below the threshold stops with one line naming file, column and candidates (exit 3)',
  async (t) => {
    const deals = await dealRef();
    const out = await mkdtemp(join(tmpdir(), 'crm-cli-'));
    const r = await run(['stage', '--source', 'kartra', '--out', out, ...contacts.map((c) => c.path), deals.path]);
    t.equal(r.code, 3, r.err);
    t.equal(r.err.split('\n').length, 1, 'one line');
    t.match(
      r.err,
      /^crm-migrate: deals\.csv, row 1, field "deal_id": which column is "deal_id" .*best candidates: "Deal Ref" \(\d+%\).*--column deal_id=/,
    );
    const json = await run(['stage', '--source', 'kartra', '--json', '--out', out, deals.path]);
    t.equal(json.code, 3);
    t.match(JSON.parse(json.err), { file: 'deals.csv', row: 1, field: 'deal_id' });

    const named = await run([
      'stage',
      '--source',
      'kartra',
      '--out',
      out,
      '--json',
      '--column',
      'deal_id=Deal Ref',
      ...contacts.map((c) => c.path),
      deals.path,
    ]);
    t.equal(named.code, 0, named.err);
    const records = (await readFile(join(out, 'records.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string });
    t.ok(
      records.some((r) => r.key === 'kartra:deal:D-1'),
      'deals keyed by the named column',
    );
    const profile = JSON.parse(await readFile(join(out, 'profile.json'), 'utf8'));
    t.match(profile.files.find((f: { file: string }) => f.file === 'deals.csv').columnsTaken, [
      { column: 'deal_id', header: 'Deal Ref' },
    ]);

    const decisions = join(out, 'decisions.json');
    await writeFile(decisions, JSON.stringify({ columns: { 'deal.deal_id': 'Deal Ref' } }));
    const viaFile = await run(['stage', '--source', 'kartra', '--out', out, '--decisions', decisions, deals.path]);
    t.equal(viaFile.code, 0, viaFile.err);
    t.match(viaFile.out, /header "Deal Ref" taken for deal_id/, 'the CLI says which header it took');
    await writeFile(decisions, '{"columns": {"deal_id": 3}}');
    const bad = await run(['stage', '--source', 'kartra', '--out', out, '--decisions', decisions, deals.path]);
    t.equal(bad.code, 3);
    t.match(bad.err, /decisions\.json/);
    const badOption = await run(['stage', '--source', 'kartra', '--out', out, '--column', 'deal id', deals.path]);
    t.equal(badOption.code, 2);
  },
);

t.test('a file is refused only when nothing in it can be the required column', async (t) => {
  const deals = await writeVariant(sample('deals.csv'), 'renamed', dir, (h) => (h === 'Deal ID' ? 'Colour' : h));
  const err = await stageExports('kartra', csvReader([deals])).catch((e: unknown) => e);
  t.ok(err instanceof ColumnQuestion);
  t.match(err, { file: 'deals.csv', field: 'deal_id', message: /no column of the file can be it/ });
  t.same((err as ColumnQuestion).open.candidates, []);
});

t.test(
  'upload: the best candidate is staged and its mapping line asks the admin to confirm; a confirmed header is taken',
  async (t) => {
    const deals = await dealRef();
    const staged = await stageExports('kartra', csvReader([...contacts, deals]), {
      installedApps: ALL_APPS,
      now,
      askOnMappingPage: true,
    });
    t.ok(staged.records.some((r) => r.key === 'kartra:deal:D-1'));
    const line = staged.lines.find((l) => l.object === 'deal' && l.column === 'Deal Ref');
    t.match(line, { reason: /^to confirm: is this the "deal_id" column/ });
    t.ok((line?.confidence ?? 1) < 0.6, 'a low-confidence line (the Mapping page shows it to check)');
    const confirmed = await stageExports('kartra', csvReader([...contacts, deals]), {
      installedApps: ALL_APPS,
      now,
      decisions: [{ object: 'deal', column: 'Deal Ref', action: 'ignore' }],
    });
    t.match(confirmed.profile.files.find((f) => f.file === 'deals.csv')?.columnsTaken, [
      { column: 'deal_id', header: 'Deal Ref', confidence: 1, evidence: 'confirmed by you' },
    ]);
    t.notOk(
      confirmed.lines.some((l) => /^to confirm/.test(l.reason)),
      'nothing left to confirm',
    );
  },
);

t.test(
  'no column of any object is dropped: custom fields on every object, left out (and counted) only when its app is missing',
  async (t) => {
    const extra = (h: string) => (h === 'Notes' ? 'Coupon Code' : undefined);
    const deals = await writeVariant(sample('deals.csv'), 'renamed', dir, (h) =>
      h === 'Notes' ? 'Lead Temperature' : h,
    );
    const transactions = await writeVariant(sample('transactions.csv'), 'renamed', dir, (h) =>
      h === 'Affiliate' ? 'Coupon Code' : h,
    );
    const appointments = await writeVariant(sample('appointments.csv'), 'renamed', dir, (h) => extra(h) ?? h);
    const files = [...contacts, deals, transactions, appointments];
    const s = await stageExports('kartra', csvReader(files), { installedApps: ALL_APPS, now });
    const custom = (object: string) =>
      s.profile.customFields
        .filter((f) => f.object === object && f.origin !== 'mapping')
        .map((f) => `${f.model}.${f.name}`);
    t.same(custom('deal'), ['crm.lead.x_kartra_lead_temperature']);
    t.same(custom('transaction'), ['sale.order.x_kartra_coupon_code']);
    t.same(custom('appointment'), ['calendar.event.x_kartra_coupon_code']);
    const t1 = s.records.find((r) => r.key === 'kartra:transaction:T-9002');
    t.equal(t1?.values.x_kartra_coupon_code, 'tim@w3.example', 'the values land in the custom field');

    const noSales = await stageExports('kartra', csvReader(files), {
      installedApps: { sale: false, account: true, calendar: true },
      now,
    });
    t.ok(
      noSales.profile.customFields.some((f) => f.model === 'account.move' && f.name === 'x_kartra_coupon_code'),
      'the invoice fallback takes the custom field',
    );
    const noCalendar = await stageExports('kartra', csvReader(files), {
      installedApps: { sale: true, account: true, calendar: false },
      now,
    });
    t.same(noCalendar.profile.columnsLeftOut.appointment, ['Coupon Code'], 'app missing: left out, counted per object');
    t.match(noCalendar.inventory, /## Columns left out[\s\S]*- appointment \(1\): Coupon Code/);
    t.notOk(noCalendar.profile.customFields.some((f) => f.model === 'calendar.event' && f.origin !== 'mapping'));
  },
);

t.test('every sample file still resolves exactly: nothing taken by meaning in the canonical export', async (t) => {
  const s = await stageExports('kartra', csvReader(allSamples), { installedApps: ALL_APPS, now });
  t.same(
    s.profile.files.flatMap((f) => f.columnsTaken ?? []),
    [],
  );
});

t.test(
  "the other files of the export are evidence: a column holding the contacts' emails is the deal's contact",
  async (t) => {
    const deals = await writeVariant(sample('deals.csv'), 'renamed', dir, (h) => (h === 'Lead Email' ? 'Who' : h));
    const withContacts = await stageExports('kartra', csvReader([...contacts, deals]), {
      installedApps: ALL_APPS,
      now,
    });
    t.match(withContacts.profile.files.find((f) => f.file === 'deals.csv')?.columnsTaken, [
      { column: 'contact_email', header: 'Who', evidence: /found in the other files/ },
    ]);
    t.same(
      withContacts.records.find((r) => r.key === 'kartra:deal:D-1')?.refs.partner_id,
      'kartra:contact:1001',
      'linked to its contact',
    );
    const alone = await stageExports('kartra', csvReader([deals]), { installedApps: ALL_APPS, now });
    t.notOk(
      alone.profile.files[0]?.columnsTaken?.some((c) => c.header === 'Who'),
      'without the contacts file, a column of emails named "Who" is not sure enough',
    );
    t.ok(
      alone.profile.customFields.some((f) => f.header === 'Who'),
      'and is kept as a custom field, not dropped',
    );
  },
);
