/**
 * The route Odoo's upload wizard calls, POST /migrations/:id/upload, against a real Odoo 18:
 * bad input answers 422 naming file, row and field, and leaves the migration exactly as it was
 * (empty on a first upload, unchanged on a re-upload); a first upload Odoo refuses half-way is
 * removed again.
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
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const TOKEN = 'e2e-upload-token-0123456789';

async function recordsOf(id: number) {
  return odoo.read('crm.migration.record', [['migration_id', '=', id]], ['key', 'values_json', 'state']);
}

t.test('bad input on the upload route: 422 naming file/row/field, nothing staged or changed', async (t) => {
  const app = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN }), migrations: odoo.migrations });
  t.teardown(() => app.close());
  const id = await odoo.migrations.create('Upload route, bad input', 'kartra');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const post = (fields: Record<string, string>, files: { name: string; path: string }[]) => {
    const body = multipartBody(fields, files);
    return app.inject({ method: 'POST', url: `/migrations/${id}/upload`, payload: body.payload, headers: { ...body.headers, authorization: `Bearer ${TOKEN}` } });
  };

  const broken = await post({ source: 'kartra' }, [...samples, fixture('unbalanced-quote.csv')]);
  t.equal(broken.statusCode, 422, broken.body);
  t.match(broken.json(), { file: 'unbalanced-quote.csv', row: Number, message: /unbalanced-quote\.csv, row \d+/ });
  t.same(await recordsOf(id), [], 'a broken file beside good ones stages nothing');
  t.equal((await odoo.one('crm.migration', [['id', '=', id]], ['state'])).state, 'draft');

  const good = await post({ source: 'kartra' }, samples);
  t.equal(good.statusCode, 200, good.body);
  const staged = await recordsOf(id);
  t.ok(staged.length > 0);
  t.equal((await odoo.one('crm.migration', [['id', '=', id]], ['state'])).state, 'uploaded', 'lines to confirm');
  t.ok(await odoo.count('crm.migration.mapping.line', [['migration_id', '=', id]]) > 0);

  // the admin maps City onto a relation the migration cannot fill: refused, naming the column
  const refused = await post({ source: 'kartra', mapping: JSON.stringify([{ object: 'contact', column: 'City', action: 'map', field: 'title', ttype: 'many2one' }]) }, samples);
  t.equal(refused.statusCode, 422, refused.body);
  t.match(refused.json(), { field: 'City', message: /relation/ });
  t.same(await recordsOf(id), staged, 'the staged records are exactly as before');

  const generic = await odoo.migrations.create('Upload route, generic without email or name', 'generic_csv');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[generic]]));
  const body = multipartBody({ source: 'generic_csv' }, [{ name: 'things.csv', path: join(root, 'test', 'fixtures', 'kartra', 'unrelated.csv') }]);
  const unkeyed = await app.inject({ method: 'POST', url: `/migrations/${generic}/upload`, payload: body.payload, headers: { ...body.headers, authorization: `Bearer ${TOKEN}` } });
  t.equal(unkeyed.statusCode, 422, unkeyed.body);
  t.match(unkeyed.json(), { file: 'things.csv', row: 1, field: 'email', message: /Email or Name/ });
  t.same(await recordsOf(generic), []);
});

t.test('a first upload Odoo refuses half-way is removed again', async (t) => {
  const id = await odoo.migrations.create('Upload refused half-way', 'kartra');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const { records, profile, inventory, lines } = await stageExports('kartra', csvReader(samples));
  const contact = records.find((r) => r.object === 'contact') as StagedRecord;
  // more than one batch of 1000, and a record in the second batch that Odoo refuses
  const values = Object.fromEntries(Object.entries(contact.values).filter(([f]) => !f.startsWith('x_')));
  const many: StagedRecord[] = Array.from({ length: 1200 }, (_, i) => ({ ...contact, values, key: `kartra:contact:halfway-${i}`, deps: [], refs: {} }));
  (many[1100] as unknown as Record<string, unknown>).key = '';
  await t.rejects(odoo.migrations.stageInto(id, many, { profile, inventory, lines }), /non-empty string/);
  t.same(await recordsOf(id), [], 'the first batch, accepted by Odoo, was removed again');
  t.equal((await odoo.one('crm.migration', [['id', '=', id]], ['state'])).state, 'draft');
});
