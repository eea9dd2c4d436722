/**
 * Final delta through the CLI against a real Odoo 18: the sample Kartra export is staged and
 * committed, then a newer export made from it (one contact changed, one new, one removed, one
 * changed in the source AND edited in Odoo in between) is staged into the same migration with
 * `stage --into`, committed, reported with `report --json` (per-object delta counts), the conflict
 * decided, the gone record archived, and the whole migration rolled back exactly.
 */
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { main } from '../../bridge/src/cli.js';
import { reportSchema } from '../../bridge/src/odoo/migration-client.js';
import { samples } from '../helpers/paths.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const FIELDS = ['name', 'email', 'phone', 'city', 'active', 'write_date'];

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function snapshot() {
  return {
    partners: await odoo.count('res.partner'),
    tags: await odoo.count('res.partner.category'),
    links: await odoo.count('crm.migration.link'),
    customFields: await odoo.count('ir.model.fields', [
      ['model', '=', 'res.partner'],
      ['state', '=', 'manual'],
    ]),
  };
}

/** The newer export: the sample's rows with Ken's city changed, Sophie's city changed, Hedy gone and Jean new. */
async function newerExport(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const file of samples) {
    let text = await readFile(file.path, 'utf8');
    if (file.name === 'contacts_2.csv') {
      const lines = text.split('\n');
      const edited = lines
        .filter((l) => !l.startsWith('1018,Hedy,'))
        .map((l) => (l.startsWith('1015,Ken,') ? l.replace(',Murray Hill,', ',Berkeley,') : l))
        .map((l) => (l.startsWith('1017,Sophie,') ? l.replace(',Cambridge,', ',Bristol,') : l));
      t.equal(edited.length, lines.length - 1, 'Hedy removed');
      text =
        edited.join('\n').replace(/\n*$/, '\n') +
        '1019,Jean,,Sammet,jean.sammet@ibm.example,,,,,Boston,MA,,United States,,conference,,,,2024-07-01 09:00:00,import,80,,,,,,,,\n';
      t.match(text, /1015,Ken,.*,Berkeley,/);
      t.match(text, /1017,Sophie,.*,Bristol,/);
    }
    const path = join(dir, basename(file.path));
    await writeFile(path, text);
    paths.push(path);
  }
  return paths;
}

t.test(
  'CLI: stage + commit, newer export with stage --into, commit, report --json delta counts, rollback exact',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'crm-delta-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const charlesId = await odoo.create('res.partner', {
      name: 'Charles Babbage (delta)',
      email: 'Charles@AnalyticalEngines.example',
      city: 'Marylebone',
    });
    t.teardown(() => odoo.unlink('res.partner', [charlesId]));
    const charlesBefore = await odoo.one('res.partner', [['id', '=', charlesId]], FIELDS);
    const before = await snapshot();

    const staged = await cli(['stage', '--source', 'kartra', '--json', ...samples.map((s) => s.path)]);
    t.equal(staged.code, 0, staged.err);
    const id = Number(JSON.parse(staged.out).id);
    t.ok(id > 0);
    // a failed run leaves nothing behind for the next one
    t.teardown(async () => {
      if ((await odoo.one('crm.migration', [['id', '=', id]], ['state'])).state !== 'rolled_back')
        await cli(['rollback', String(id), '--on-conflict', 'undo']);
    });
    const first = reportSchema.parse(JSON.parse((await cli(['commit', String(id), '--json'])).out));
    t.equal(first.state, 'committed', JSON.stringify(first.failed));
    const contacts = (first.objects.contact?.committed ?? 0) + (first.objects.contact?.matched ?? 0);
    t.ok(contacts > 10, `${contacts} contacts in Odoo`);
    t.equal(first.objects.contact?.error, 1, 'the sample has one contact row with an error (an invalid email)');
    const partner = (email: string) => odoo.one('res.partner', [['email', '=ilike', email]], FIELDS);
    t.equal(
      (await odoo.one('res.partner', [['id', '=', charlesId]], FIELDS)).phone,
      '+447911123456',
      'matched and filled',
    );

    // between the commit and the final delta, someone edits Sophie's city in Odoo
    const sophie = await partner('sophie@acorn.example');
    await odoo.transport.call('res.partner', 'write', [[sophie.id], { city: 'Cambridge (office)' }]);

    const files = await newerExport(dir);
    const into = await cli(['stage', '--source', 'kartra', '--into', String(id), '--json', ...files]);
    t.equal(into.code, 0, into.err);
    const stagedDelta = reportSchema.parse(JSON.parse(into.out).report);
    t.equal(stagedDelta.state, 'delta');
    t.equal(stagedDelta.delta_round, 1);
    t.same(stagedDelta.delta?.contact, {
      unchanged: contacts - 3,
      updated: 0,
      created: 0,
      gone: 1,
      conflicts: 0,
      pending: 3,
      errors: 1,
    });
    t.equal(
      await odoo.count('res.partner', [['email', '=', 'jean.sammet@ibm.example']]),
      0,
      'staging writes nothing in Odoo',
    );

    const committed = await cli(['commit', String(id), '--json']);
    t.equal(committed.code, 0, committed.err);
    t.equal(
      reportSchema.parse(JSON.parse(committed.out)).state,
      'partial',
      'an open conflict keeps the migration partial',
    );
    const reported = await cli(['report', String(id), '--json']);
    t.equal(reported.code, 0, reported.err);
    const report = reportSchema.parse(JSON.parse(reported.out));
    t.same(report.delta?.contact, {
      unchanged: contacts - 3,
      updated: 1,
      created: 1,
      gone: 1,
      conflicts: 1,
      pending: 0,
      errors: 1,
    });
    for (const [object, line] of Object.entries(report.delta ?? {})) {
      if (object === 'contact') continue;
      t.same([line.updated, line.created, line.conflicts, line.pending], [0, 0, 0, 0], `${object}: nothing changed`);
    }
    t.equal((await partner('ken@bell.example')).city, 'Berkeley', 'changed in the source: updated');
    t.equal((await partner('jean.sammet@ibm.example')).name, 'Jean Sammet', 'new in the source: created');
    const hedy = await partner('hedy@spread.example');
    t.equal(hedy.active, true, 'gone from the source: listed, not archived or deleted');
    t.equal(
      (await partner('sophie@acorn.example')).city,
      'Cambridge (office)',
      'edited in Odoo: never silently overwritten',
    );
    const conflict = await odoo.one(
      'crm.migration.record',
      [
        ['migration_id', '=', id],
        ['key', '=', 'kartra:contact:1017'],
      ],
      ['state', 'error_message'],
    );
    t.equal(conflict.state, 'conflict');
    t.match(String(conflict.error_message), /city/);
    const kenLinks = await odoo.read(
      'crm.migration.link',
      [
        ['migration_id', '=', id],
        ['key', '=', 'kartra:contact:1015'],
      ],
      ['values_after_json'],
    );
    t.equal(kenLinks.length, 1, 'one link per migration and key');
    t.match(kenLinks[0], { values_after_json: { city: 'Berkeley' } });
    const audit = await odoo.read(
      'crm.migration.audit',
      [
        ['migration_id', '=', id],
        ['key', '=', 'kartra:contact:1015'],
        ['action', '=', 'update'],
      ],
      ['values_before_json', 'values_after_json'],
    );
    t.match(
      audit,
      [{ values_before_json: { city: 'Murray Hill' }, values_after_json: { city: 'Berkeley' } }],
      'the delta write is audited',
    );

    // the admin takes the source value for Sophie and archives what is gone
    const decided = reportSchema.parse(
      JSON.parse((await cli(['delta', String(id), '--take', 'source', '--key', 'kartra:contact:1017', '--json'])).out),
    );
    t.equal(decided.state, 'committed');
    t.same(decided.delta?.contact, {
      unchanged: contacts - 3,
      updated: 2,
      created: 1,
      gone: 1,
      conflicts: 0,
      pending: 0,
      errors: 1,
    });
    t.equal((await partner('sophie@acorn.example')).city, 'Bristol');
    const archived = await cli(['delta', String(id), '--gone', 'archive']);
    t.equal(archived.code, 0, archived.err);
    t.match(
      archived.out,
      /final delta \(round 1\):[\s\S]*contact: \d+ unchanged, 2 updated, 1 created, 1 gone, 0 conflicts/,
    );
    t.equal((await partner('hedy@spread.example')).active, false, 'archived once the admin says so');

    // rollback: Odoo exactly as before the first commit (Sophie was edited by a person: undo anyway)
    const rolled = await cli(['rollback', String(id), '--on-conflict', 'undo', '--json']);
    t.equal(rolled.code, 0, rolled.err);
    t.same(await snapshot(), before, 'partner, tag, link and custom field counts as before');
    const charles = await odoo.one('res.partner', [['id', '=', charlesId]], FIELDS);
    t.same(
      { ...charles, write_date: null },
      { ...charlesBefore, write_date: null },
      'the matched partner is back to its original values',
    );
    t.equal(
      await odoo.count('res.partner', [
        ['email', 'in', ['jean.sammet@ibm.example', 'hedy@spread.example', 'sophie@acorn.example']],
      ]),
      0,
    );
  },
);
