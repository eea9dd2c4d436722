/**
 * The route Odoo's upload wizard calls, POST /migrations/:id/upload, against a real Odoo 18: it
 * answers 202 at once and stages in the background, telling Odoo how far it is; bad input fails
 * the job naming file, row and field, and leaves the migration exactly as it was (empty on a first
 * upload, unchanged on a re-upload); a second job on the same migration answers 409; a first
 * upload Odoo refuses half-way is removed again.
 */
import t from 'tap';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { join } from 'node:path';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { multipartBody } from '../helpers/multipart.js';
import { fixture, root, samples } from '../helpers/paths.js';
import { jobEnd as jobEndOf, OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const TOKEN = 'e2e-upload-token-0123456789';

const jobEnd = (id: number, timeoutMs?: number) => jobEndOf(odoo, id, timeoutMs);

async function recordsOf(id: number) {
  return odoo.read('crm.migration.record', [['migration_id', '=', id]], ['key', 'values_json', 'state']);
}

t.test(
  'the upload route answers 202; bad input fails the job naming file/row/field, nothing staged or changed',
  async (t) => {
    const app = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN }), migrations: odoo.migrations });
    t.teardown(() => app.close());
    const id = await odoo.migrations.create('Upload route, bad input', 'kartra');
    t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
    const post = (fields: Record<string, string>, files: { name: string; path: string }[]) => {
      const body = multipartBody(fields, files);
      return app.inject({
        method: 'POST',
        url: `/migrations/${id}/upload`,
        payload: body.payload,
        headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
      });
    };

    const broken = await post({ source: 'kartra' }, [...samples, fixture('unbalanced-quote.csv')]);
    t.equal(broken.statusCode, 202, broken.body);
    t.match(broken.json(), { id, job: String, status: 'started' });
    let m = await jobEnd(id);
    t.match(m, { job: 'upload', job_state: 'failed', job_phase: 'failed', job_token: broken.json().job });
    t.match(m.job_message, /^unbalanced-quote\.csv, row \d+/, 'the job names file and row');
    t.same(await recordsOf(id), [], 'a broken file beside good ones stages nothing');
    t.equal(m.state, 'draft');

    const good = await post({ source: 'kartra' }, samples);
    t.equal(good.statusCode, 202, good.body);
    t.not(good.json().job, broken.json().job, 'a new job');
    const second = await post({ source: 'kartra' }, samples);
    t.equal(second.statusCode, 409, 'one job per migration at a time');
    t.match(second.json(), { error: 'job_running', job: good.json().job });
    m = await jobEnd(id);
    t.equal(m.job_state, 'done', String(m.job_message));
    const staged = await recordsOf(id);
    t.ok(staged.length > 0);
    t.match(
      m.job_message,
      new RegExp(`^Staging done: ${staged.length} records staged`),
      'the job message counts what Odoo holds',
    );
    t.equal(m.state, 'uploaded', 'lines to confirm');
    t.ok((await odoo.count('crm.migration.mapping.line', [['migration_id', '=', id]])) > 0);

    // the admin maps City onto a relation the migration cannot fill: refused, naming the column
    const refused = await post(
      {
        source: 'kartra',
        mapping: JSON.stringify([
          { object: 'contact', column: 'City', action: 'map', field: 'title', ttype: 'many2one' },
        ]),
      },
      samples,
    );
    t.equal(refused.statusCode, 202, refused.body);
    m = await jobEnd(id);
    t.equal(m.job_state, 'failed');
    t.match(m.job_message, /field "City".*relation/);
    t.same(await recordsOf(id), staged, 'the staged records are exactly as before');

    // checked before anything starts: fields and the source
    const unknown = await post({ source: 'zoho' }, samples);
    t.equal(unknown.statusCode, 422);
    t.match(unknown.json(), { field: 'source', message: /unknown source "zoho"/ });

    const generic = await odoo.migrations.create('Upload route, generic without email or name', 'generic_csv');
    t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[generic]]));
    const body = multipartBody({ source: 'generic_csv' }, [
      { name: 'things.csv', path: join(root, 'test', 'fixtures', 'kartra', 'unrelated.csv') },
    ]);
    const unkeyed = await app.inject({
      method: 'POST',
      url: `/migrations/${generic}/upload`,
      payload: body.payload,
      headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
    });
    t.equal(unkeyed.statusCode, 202, unkeyed.body);
    m = await jobEnd(generic);
    t.equal(m.job_state, 'failed');
    t.match(m.job_message, /^things\.csv, row 1, field "email": .*Email or Name/);
    t.same(await recordsOf(generic), []);
  },
);

t.test('progress reaches Odoo while a large upload is staged', async (t) => {
  const app = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN }), migrations: odoo.migrations });
  t.teardown(() => app.close());
  const id = await odoo.migrations.create('Upload route, progress', 'generic_csv');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const rows = Array.from(
    { length: 2500 },
    (_, i) => `Person ${i},person${i}@progress.example,+4420794600${String(i).padStart(2, '0').slice(-2)}`,
  );
  const bytes = Buffer.from(['Name,Email,Phone', ...rows].join('\n') + '\n');
  const body = multipartBody({ source: 'generic_csv' }, [{ name: 'people.csv', bytes }]);
  const started = Date.now();
  const res = await app.inject({
    method: 'POST',
    url: `/migrations/${id}/upload`,
    payload: body.payload,
    headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
  });
  const answered = Date.now() - started;
  t.equal(res.statusCode, 202, res.body);
  const seen = new Set<string>();
  const until = Date.now() + 60_000;
  for (;;) {
    const m = await odoo.one(
      'crm.migration',
      [['id', '=', id]],
      ['job_state', 'job_phase', 'job_object', 'job_done_count', 'job_total_count'],
    );
    if (m.job_phase === 'staging') seen.add(`${String(m.job_done_count)}/${String(m.job_total_count)}`);
    if (m.job_state !== 'running' || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const end = await jobEnd(id);
  const finished = Date.now() - started;
  t.equal(end.job_state, 'done', String(end.job_message));
  t.equal(
    await odoo.count('crm.migration.record', [
      ['migration_id', '=', id],
      ['object', '=', 'contact'],
    ]),
    2500,
  );
  t.ok(answered < finished, `answered in ${answered} ms, staged in ${finished} ms`);
  t.comment(
    `2,500-row upload: 202 after ${answered} ms, job done after ${finished} ms; staging phases seen: ${seen.size}`,
  );
  t.ok(seen.size > 0, 'the form saw the staging phase');
  t.ok(
    [...seen].every((s) => /^\d+\/2500$/.test(s)),
    `staging progress counts the contacts out of 2500 (${[...seen].join(', ')})`,
  );
});

t.test('a first upload Odoo refuses half-way is removed again', async (t) => {
  const id = await odoo.migrations.create('Upload refused half-way', 'kartra');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const { records, profile, inventory, lines } = await stageExports('kartra', csvReader(samples));
  const contact = records.find((r) => r.object === 'contact') as StagedRecord;
  // more than one batch of 1000, and a record in the second batch that Odoo refuses
  const values = Object.fromEntries(Object.entries(contact.values).filter(([f]) => !f.startsWith('x_')));
  const many: StagedRecord[] = Array.from({ length: 1200 }, (_, i) => ({
    ...contact,
    values,
    key: `kartra:contact:halfway-${i}`,
    deps: [],
    refs: {},
  }));
  (many[1100] as unknown as Record<string, unknown>).key = '';
  await t.rejects(odoo.migrations.stageInto(id, many, { profile, inventory, lines }), /non-empty string/);
  t.same(await recordsOf(id), [], 'the first batch, accepted by Odoo, was removed again');
  t.equal((await odoo.one('crm.migration', [['id', '=', id]], ['state'])).state, 'draft');
});
