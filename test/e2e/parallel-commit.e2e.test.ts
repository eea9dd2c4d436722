/**
 * Parallel commit (issue #11) against a real Odoo 18: the same staged records committed serially
 * (api_commit) and with 3 chunks at a time over RPC (commitParallel: each chunk its own call and
 * transaction, really side by side on the server's threads or workers) give the same records
 * (field values compared, relations by key), links, audit and report, and both roll back to the
 * exact counts before. Also through the CLI (`commit --workers`).
 */
import t from 'tap';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { main } from '../../bridge/src/cli.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';
import { stagedIn } from '../helpers/staged-record.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const P = `par${Date.now().toString(36)}`;

const staged = stagedIn('parallel.csv');

/** 6 tags, 24 companies (a tree), 240 contacts (one email twice), 120 deals: many chunks of 25. */
function records(): StagedRecord[] {
  const out: StagedRecord[] = [];
  for (let i = 0; i < 6; i++)
    out.push(staged(`pc:tag:${i}`, 'tag', 'res.partner.category', { name: `${P} tag ${i}` }, { match: [['name']] }));
  for (let c = 0; c < 24; c++) {
    out.push(
      staged(
        `pc:company:${c}`,
        'company',
        'res.partner',
        { name: `${P} Company ${c}`, is_company: true },
        {
          match: [['name', 'is_company']],
          refs: c >= 4 ? { parent_id: `pc:company:${c % 4}` } : {},
        },
      ),
    );
  }
  for (let i = 0; i < 240; i++) {
    out.push(
      staged(
        `pc:contact:${i}`,
        'contact',
        'res.partner',
        {
          name: `${P} Contact ${i}`,
          email: `${P}.${i === 239 ? 7 : i}@example.com`,
          city: `City ${i}`,
          is_company: false,
        },
        {
          refs: { parent_id: `pc:company:${i % 24}`, category_id: [`pc:tag:${i % 6}`, `pc:tag:${(i * 5) % 6}`] },
          lookups: { country_id: { model: 'res.country', field: 'code', value: i % 2 ? 'FR' : 'US' } },
          match: [['email']],
        },
      ),
    );
  }
  for (let i = 0; i < 120; i++) {
    out.push(
      staged(
        `pc:deal:${i}`,
        'deal',
        'crm.lead',
        { name: `${P} Deal ${i}`, type: 'opportunity', expected_revenue: 10 * i },
        { refs: { partner_id: `pc:contact:${i}` } },
      ),
    );
  }
  return out;
}

async function counts() {
  return {
    partners: await odoo.count('res.partner', [['active', 'in', [true, false]]]),
    tags: await odoo.count('res.partner.category'),
    leads: await odoo.count('crm.lead', [['active', 'in', [true, false]]]),
    links: await odoo.count('crm.migration.link'),
  };
}

type Row = Record<string, unknown>;
const m2o = (v: unknown) => (Array.isArray(v) ? (v[0] as number) : 0);

/** Per key: state, link action, the target's values with relations given by key. */
async function snapshot(id: number) {
  const links = await odoo.read(
    'crm.migration.link',
    [['migration_id', '=', id]],
    ['key', 'model', 'res_id', 'action', 'sequence', 'values_before_json'],
  );
  const keyOf = new Map(links.map((l) => [`${String(l.model)}:${Number(l.res_id)}`, String(l.key)]));
  const ref = (model: string, ids: number[]) => ids.map((i) => keyOf.get(`${model}:${i}`) ?? `existing:${i}`).sort();
  const byModel = new Map<string, Row[]>();
  for (const l of links) byModel.set(String(l.model), [...(byModel.get(String(l.model)) ?? []), l]);
  const out: Record<string, Row> = {};
  for (const r of await odoo.read(
    'crm.migration.record',
    [['migration_id', '=', id]],
    ['key', 'state', 'error_message'],
  )) {
    out[String(r.key)] = { state: r.state, error: Boolean(r.error_message) };
  }
  const fields: Record<string, string[]> = {
    'res.partner': ['name', 'email', 'city', 'is_company', 'parent_id', 'category_id', 'country_id'],
    'res.partner.category': ['name'],
    'crm.lead': ['name', 'expected_revenue', 'partner_id', 'stage_id', 'team_id', 'type', 'email_from'],
  };
  for (const [model, modelLinks] of byModel) {
    const rows = new Map(
      (
        await odoo.read(
          model,
          [['id', 'in', modelLinks.map((l) => Number(l.res_id))]],
          fields[model] ?? ['display_name'],
        )
      ).map((r) => [Number(r.id), r]),
    );
    for (const l of modelLinks) {
      const row = { ...(rows.get(Number(l.res_id)) ?? {}) } as Row;
      delete row.id;
      if ('parent_id' in row) row.parent_id = ref('res.partner', m2o(row.parent_id) ? [m2o(row.parent_id)] : []);
      if ('partner_id' in row) row.partner_id = ref('res.partner', m2o(row.partner_id) ? [m2o(row.partner_id)] : []);
      if ('category_id' in row) row.category_id = ref('res.partner.category', row.category_id as number[]);
      out[String(l.key)] = { ...out[String(l.key)], ...row, action: l.action, before: l.values_before_json };
    }
  }
  // the order a rollback walks: keys by link sequence
  const order = [...links].sort((a, b) => Number(a.sequence) - Number(b.sequence)).map((l) => String(l.key));
  const audit = (await odoo.read('crm.migration.audit', [['migration_id', '=', id]], ['key', 'action']))
    .map((a) => `${String(a.key)} ${String(a.action)}`)
    .sort();
  return { records: out, order, audit };
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await main(
    args,
    (s) => out.push(s),
    (s) => out.push(s),
  );
  return { code, out: out.join('\n') };
}

t.test('parallel commit over RPC = serial commit, and both roll back exactly', async (t) => {
  const before = await counts();
  const serial = await odoo.migrations.stageAll(`${P} serial`, 'pc', records());
  const serialReport = await odoo.migrations.commit(serial.id, 25);
  const expected = await snapshot(serial.id);
  const afterSerial = await counts();
  t.equal(
    expected.records['pc:contact:239']?.action,
    'matched',
    'the contact with a taken email matched the first one (nothing empty to fill)',
  );
  t.equal(afterSerial.partners - before.partners, 24 + 239);
  await odoo.migrations.rollback(serial.id, 'undo');
  t.same(await counts(), before, 'serial rollback: counts as before');

  const parallel = await odoo.migrations.stageAll(`${P} parallel`, 'pc', records());
  let calls = 0;
  const result = await odoo.migrations.commitParallel(parallel.id, {
    batchSize: 25,
    workers: 3,
    onChunk: () => calls++,
  });
  t.ok(result.chunks > result.waves, `several chunks per wave (${result.chunks} chunks in ${result.waves} waves)`);
  t.equal(calls, result.chunks);
  t.same(result.report.counts, serialReport.counts);
  t.same(result.report.links, serialReport.links);
  t.equal(result.report.state, serialReport.state);
  t.same(await counts(), afterSerial, 'same counts as the serial commit');
  const got = await snapshot(parallel.id);
  t.same(got.records, expected.records, 'same records and field values, relations by key');
  t.same(got.order, expected.order, 'same rollback order');
  t.same(got.audit, expected.audit, 'same audit rows');
  await odoo.migrations.rollback(parallel.id, 'undo');
  t.same(await counts(), before, 'parallel rollback: counts as before');

  // the CLI, two chunks at a time
  const viaCli = await odoo.migrations.stageAll(`${P} cli`, 'pc', records());
  const run = await cli(['commit', String(viaCli.id), '--batch-size', '40', '--workers', '2', '--json']);
  t.equal(run.code, 0, run.out);
  t.same(await counts(), afterSerial, 'CLI --workers: same counts');
  t.same((await snapshot(viaCli.id)).records, expected.records, 'CLI --workers: same records');
  t.equal((await cli(['commit', '1', '--workers', '0'])).code, 2, '--workers 0 is refused');
  await odoo.migrations.rollback(viaCli.id, 'undo');
  t.same(await counts(), before);
});
