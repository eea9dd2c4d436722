/**
 * The pipelined staging sink (issue #11) against a real Odoo 18 with 2 workers: two batches are
 * staged at a time while the producer fills the next, each call numbered (`stage_batch`), so the
 * staging order the commit plans by (batch number, then id) is the export's whichever call Odoo
 * ends first; and a batch Odoo refuses stops every later batch and removes what was staged, once
 * the batches in flight have answered.
 */
import t from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import type { RecordSink } from '../../bridge/src/mapping/engine.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { samples } from '../helpers/paths.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';
import { MigrationClient, STAGE_IN_FLIGHT } from '../../bridge/src/odoo/migration-client.js';
import type { OdooTransport } from '../../bridge/src/odoo/transport.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const N = 3500; // four batches of STAGE_BATCH (1000), the last one short

/** the real transport, counting the staging calls Odoo is working on at the same moment */
function counting(): { client: MigrationClient; most: () => number; calls: () => number } {
  let active = 0;
  let most = 0;
  let calls = 0;
  const transport: OdooTransport = {
    version: () => odoo.transport.version(),
    call: async (model, method, args, kwargs) => {
      if (method !== 'api_stage_json') return odoo.transport.call(model, method, args, kwargs);
      active += 1;
      calls += 1;
      most = Math.max(most, active);
      try {
        return await odoo.transport.call(model, method, args, kwargs);
      } finally {
        active -= 1;
      }
    },
  };
  return { client: new MigrationClient(transport), most: () => most, calls: () => calls };
}

/** N contacts made from the sample's first one: plain values, no refs, keys in order */
async function contacts(
  prefix: string,
): Promise<{ records: StagedRecord[]; extra: { profile: unknown; inventory: string; lines: unknown[] } }> {
  const { records, profile, inventory, lines } = await stageExports('kartra', csvReader(samples));
  const contact = records.find((r) => r.object === 'contact') as StagedRecord;
  const values = Object.fromEntries(Object.entries(contact.values).filter(([f]) => !f.startsWith('x_')));
  return {
    records: Array.from({ length: N }, (_, i) => ({
      ...contact,
      values: { ...values, email: `${prefix}.${i}@pipeline.example` },
      key: `kartra:contact:${prefix}-${String(i).padStart(5, '0')}`,
      deps: [],
      refs: {},
    })),
    extra: { profile, inventory, lines },
  };
}

/** a producer that yields to the event loop between records, as the engine's finishing loop does */
function producer(
  records: StagedRecord[],
  produced: string[],
  extra: { profile: unknown; inventory: string; lines: unknown[] },
) {
  return async (sink: RecordSink) => {
    await sink.begin?.(records.length);
    for (const r of records) {
      await sink.record(r);
      produced.push(r.key);
      if (produced.length % 250 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    return { extra, blobs: [], result: produced.length };
  };
}

t.test('pipelined batches reach Odoo whole, two at a time, numbered in the export order', async (t) => {
  const { records, extra } = await contacts('order');
  const produced: string[] = [];
  const progress: number[] = [];
  const { client, most } = counting();
  const { report, result } = await client.stageAllFrom('Pipeline order', 'kartra', async (sink) =>
    producer(records, produced, extra)(sink),
  );
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[report.id]]));
  t.equal(result, N);
  t.equal(most(), STAGE_IN_FLIGHT, `${STAGE_IN_FLIGHT} staging calls were in Odoo at the same moment`);
  const staged = await odoo.read(
    'crm.migration.record',
    [['migration_id', '=', report.id]],
    ['key', 'id', 'state', 'stage_batch'],
  );
  t.equal(staged.length, N, 'every record staged once');
  const inOrder = [...staged]
    .sort((a, b) => Number(a.stage_batch) - Number(b.stage_batch) || Number(a.id) - Number(b.id))
    .map((r) => r.key);
  t.same(
    inOrder,
    records.map((r) => r.key),
    'staging order (batch number, then record id) is the order the records were produced',
  );
  t.same(
    [...new Set(staged.map((r) => Number(r.stage_batch)))].sort((a, b) => a - b),
    [1, 2, 3, 4],
    'each call numbered',
  );
  t.ok(staged.every((r) => r.state === 'staged'));

  // the upload route's path (stageIntoFrom): progress is told after each answer
  const id = await odoo.migrations.create('Pipeline order, into', 'kartra');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const again = await contacts('into');
  const made: string[] = [];
  const madeAtAnswer: number[] = [];
  await odoo.migrations.stageIntoFrom(
    id,
    async (sink) => producer(again.records, made, again.extra)(sink),
    async (sent) => {
      progress.push(sent);
      madeAtAnswer.push(made.length);
    },
  );
  t.equal(progress.length, 4, 'one progress line per batch, after its answer');
  t.equal(progress[progress.length - 1], N, 'the last one tells every record');
  t.same(
    [...progress].sort((a, b) => a - b),
    progress,
    'the count only grows',
  );
  // the overlap itself: when Odoo answered the first batch, the producer had gone on into the
  // second (a sink that waits for each answer would stand at 999 here)
  t.ok((madeAtAnswer[0] ?? 0) >= 1000, `${madeAtAnswer[0]} records produced when the first batch was answered`);
  t.equal(await odoo.count('crm.migration.record', [['migration_id', '=', id]]), N);
});

t.test('a batch Odoo refuses stops the later ones and what was staged is removed', async (t) => {
  const { records, extra } = await contacts('refused');
  (records[1500] as unknown as Record<string, unknown>).key = ''; // the second batch is refused
  const produced: string[] = [];
  const before = await odoo.count('crm.migration', [['name', '=', 'Pipeline refused']]);
  const { client, calls } = counting();
  await t.rejects(
    client.stageAllFrom('Pipeline refused', 'kartra', async (sink) => producer(records, produced, extra)(sink)),
    /non-empty string/,
  );
  t.equal(await odoo.count('crm.migration', [['name', '=', 'Pipeline refused']]), before, 'the migration is gone');
  t.equal(
    await odoo.count('crm.migration.record', [['key', 'like', 'kartra:contact:refused-%']]),
    0,
    'no record of any batch is left in Odoo',
  );
  // the bridge learnt of the refusal at the latest when the last batch waited for room (two in
  // flight): the refused batch and the one after it may have reached Odoo, the last one never
  t.ok(calls() <= 3, `${calls()} staging calls made: the fourth batch was never sent`);
  t.ok(produced.length <= N);

  // the same through the upload route's path: a first upload refused half-way leaves the migration empty
  const id = await odoo.migrations.create('Pipeline refused, into', 'kartra');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const again = await contacts('refinto');
  (again.records[2100] as unknown as Record<string, unknown>).key = '';
  await t.rejects(
    odoo.migrations.stageIntoFrom(id, async (sink) => producer(again.records, [], again.extra)(sink)),
    /non-empty string/,
  );
  t.equal(await odoo.count('crm.migration.record', [['migration_id', '=', id]]), 0, 'nothing staged is left');
  t.equal((await odoo.one('crm.migration', [['id', '=', id]], ['state'])).state, 'draft');
});
