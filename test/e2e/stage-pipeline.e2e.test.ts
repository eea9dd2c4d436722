/**
 * The pipelined staging sink (issue #11) against a real Odoo 18: while Odoo stages one batch the
 * producer fills the next, yet the batches reach Odoo one at a time and in their order (the
 * commit plans by staging order, so record ids must follow the export), and a batch Odoo refuses
 * stops every later batch and removes what was staged, once the batch in flight has answered.
 */
import t from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import type { RecordSink } from '../../bridge/src/mapping/engine.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { samples } from '../helpers/paths.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const N = 3500; // four batches of STAGE_BATCH (1000), the last one short

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

t.test('pipelined batches reach Odoo whole and in the export order', async (t) => {
  const { records, extra } = await contacts('order');
  const produced: string[] = [];
  const progress: number[] = [];
  const { report, result } = await odoo.migrations.stageAllFrom('Pipeline order', 'kartra', async (sink) =>
    producer(records, produced, extra)(sink),
  );
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[report.id]]));
  t.equal(result, N);
  const staged = await odoo.read('crm.migration.record', [['migration_id', '=', report.id]], ['key', 'id', 'state']);
  t.equal(staged.length, N, 'every record staged once');
  const byId = [...staged].sort((a, b) => Number(a.id) - Number(b.id)).map((r) => r.key);
  t.same(
    byId,
    records.map((r) => r.key),
    'staging order (record ids) is the order the records were produced',
  );
  t.ok(staged.every((r) => r.state === 'staged'));

  // the upload route's path (stageIntoFrom): progress is told after each answer, in order
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
  t.same(progress, [1000, 2000, 3000, 3500], 'one progress line per batch, after its answer, in order');
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
  await t.rejects(
    odoo.migrations.stageAllFrom('Pipeline refused', 'kartra', async (sink) =>
      producer(records, produced, extra)(sink),
    ),
    /non-empty string/,
  );
  t.equal(await odoo.count('crm.migration', [['name', '=', 'Pipeline refused']]), before, 'the migration is gone');
  t.equal(
    await odoo.count('crm.migration.record', [['key', 'like', 'kartra:contact:refused-%']]),
    0,
    'no record of any batch is left in Odoo',
  );
  // the producer learnt of the refusal while filling the batch after the refused one: the fourth
  // batch was never filled, let alone sent
  t.ok(produced.length < 3000, `production stopped at ${produced.length} records, before the fourth batch`);

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
