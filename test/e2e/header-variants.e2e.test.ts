/**
 * Issue 14 end to end: a Kartra export under other headers (renamed with `#`/suffix spellings,
 * then German) staged, committed and read back from a real Odoo 18 (crm + sale + calendar)
 * holds exactly the records of the canonical export: same keys, same field values, same links
 * (relations compared by the names of the records they point to). Each run is rolled back.
 */
import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { main } from '../../bridge/src/cli.js';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { OdooReader, type Row } from '../helpers/odoo.js';
import { root, sample } from '../helpers/paths.js';
import { writeVariants, type Variant } from '../helpers/header-variants.js';

if (!process.env.ODOO_URL || !process.env.ODOO_DB_FULL) {
  t.fail('ODOO_URL / ODOO_DB_FULL not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}
process.env.ODOO_DB = process.env.ODOO_DB_FULL;

const samples = readdirSync(join(root, 'samples', 'kartra'))
  .filter((f) => f.endsWith('.csv'))
  .sort()
  .map(sample);

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const fieldsGet = z.record(z.string(), z.object({ type: z.string(), relation: z.string().optional() }).loose());

/**
 * Every migrated record, by staged key: the fields its staged record fills (Odoo computes the
 * others, e.g. a lead's probability, from the database's history). Relations to migrated records
 * are compared by their keys, to other records by their names (sequence numbers differ per run).
 */
async function landed(odoo: OdooReader, id: number, fieldsOf: Map<string, Set<string>>): Promise<Record<string, Row>> {
  const links = await odoo.read('crm.migration.link', [['migration_id', '=', id]], ['key', 'model', 'res_id']);
  const keyOf = new Map(links.map((l) => [`${String(l.model)}:${Number(l.res_id)}`, String(l.key)]));
  const out: Record<string, Row> = {};
  const byModel = new Map<string, Row[]>();
  for (const l of links) byModel.set(String(l.model), [...(byModel.get(String(l.model)) ?? []), l]);
  for (const [model, rows] of byModel) {
    const meta = fieldsGet.parse(
      await odoo.transport.call(model, 'fields_get', [], { attributes: ['type', 'relation'] }),
    );
    const all = new Set(rows.flatMap((r) => [...(fieldsOf.get(String(r.key)) ?? [])]).filter((f) => f in meta));
    const records = await odoo.read(model, [['id', 'in', rows.map((r) => Number(r.res_id))]], [...all]);
    const byId = new Map(records.map((r) => [Number(r.id), r]));
    for (const link of rows) {
      const record = byId.get(Number(link.res_id));
      if (!record) continue;
      const row: Row = {};
      for (const f of [...(fieldsOf.get(String(link.key)) ?? [])].filter((x) => x in meta).sort()) {
        const v = record[f];
        const m = meta[f];
        const name = async (ids: number[]) => {
          const known = ids.map((i) => keyOf.get(`${m?.relation}:${i}`));
          if (known.every((k) => k !== undefined)) return known as string[];
          return (await odoo.read(m?.relation as string, [['id', 'in', ids]], ['display_name'])).map((n) =>
            String(n.display_name),
          );
        };
        if (m?.type === 'many2one') row[f] = Array.isArray(v) ? (await name([Number(v[0])]))[0] : false;
        else if ((m?.type === 'many2many' || m?.type === 'one2many') && m.relation && Array.isArray(v))
          row[f] = (await name(v.map(Number))).sort();
        else row[f] = v;
      }
      out[String(link.key)] = row;
    }
  }
  return out;
}

async function migrate(files: string[], name: string, fieldsOf: Map<string, Set<string>>, t: Test) {
  const odoo = new OdooReader();
  const staged = await cli(['stage', '--source', 'kartra', '--name', name, ...files]);
  t.equal(staged.code, 0, staged.err);
  const id = Number(staged.out);
  await cli(['owners', String(id), '--fallback', 'admin']);
  const committed = JSON.parse((await cli(['commit', String(id), '--json'])).out);
  t.equal(committed.state, 'committed', `${name}: ${JSON.stringify(committed.counts)}`);
  t.same(committed.failed, [], `${name}: nothing failed`);
  const records = await landed(odoo, id, fieldsOf);
  const rolled = await cli(['rollback', String(id), '--on-conflict', 'undo']);
  t.equal(rolled.code, 0, rolled.err);
  return { records, err: staged.err };
}

t.test('a header-variant export lands the same records in Odoo as the canonical export', async (t) => {
  const dry = await stageExports('kartra', csvReader(samples), {
    installedApps: { sale: true, account: true, calendar: true },
  });
  const fieldsOf = new Map(
    dry.records.map((r) => [
      r.key,
      new Set([...Object.keys(r.values), ...Object.keys(r.refs), ...Object.keys(r.lookups)]),
    ]),
  );
  const canonical = await migrate(
    samples.map((s) => s.path),
    'Kartra canonical headers',
    fieldsOf,
    t,
  );
  const keys = Object.keys(canonical.records).sort();
  t.ok(keys.length > 60, `${keys.length} records landed from the canonical export`);
  for (const variant of ['renamed', 'de'] as Variant[]) {
    const files = await writeVariants(samples, variant);
    const got = await migrate(
      files.map((f) => f.path),
      `Kartra ${variant} headers`,
      fieldsOf,
      t,
    );
    t.match(got.err, /header "[^"]+" taken for \w+/, `${variant}: the CLI says which header it took for which column`);
    t.same(Object.keys(got.records).sort(), keys, `${variant}: the same records`);
    let same = 0;
    for (const key of keys) {
      if (t.same(got.records[key], canonical.records[key], `${variant}: ${key}`)) same += 1;
    }
    t.comment(`${variant}: ${same} of ${keys.length} records equal field by field`);
  }
});
