/**
 * One contract for both sides (issue #13): the JSON Schemas in docs/schemas/ and the addon's
 * copies (odoo_addon/crm_migration/schemas/, what Odoo validates with) are what the zod schemas
 * generate (`npm run schemas` rewrites them), and what the bridge produces fits them.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  contractSchemaFiles,
  contractSchemas,
  mappingLineSchema,
  profileSchema,
  stagedRecordInputSchema,
} from '../../bridge/src/contract/schemas.js';
import { SCHEMA_DIRS } from '../../bridge/src/contract/write-schemas.js';
import { stagedRecordSchema, type StagedRecord } from '../../bridge/src/staging/record.js';
import { stageExportsTo } from '../../bridge/src/stage-exports.js';
import { canonicalJson } from '../../bridge/src/staging/hash.js';
import { csvReader } from '../../bridge/src/sources/reader.js';
import { root } from '../helpers/paths.js';

const generated = contractSchemaFiles();

t.test('the committed schema files are what the zod schemas generate (run `npm run schemas`)', async (t) => {
  t.same(Object.keys(generated).sort(), ['mapping-line.json', 'profile.json', 'staged-record.json']);
  for (const dir of SCHEMA_DIRS) {
    const files = readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.json'))
      .sort();
    t.same(files, Object.keys(generated).sort(), `${dir} holds exactly the contract's schemas`);
    for (const [name, text] of Object.entries(generated)) {
      t.equal(readFileSync(join(root, dir, name), 'utf8'), text, `${dir}/${name} is up to date`);
    }
  }
});

t.test('the schemas are closed and bounded', async (t) => {
  const record = JSON.parse(generated['staged-record.json'] ?? '{}') as Record<string, unknown>;
  t.equal(record.$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.equal(record.additionalProperties, false, 'no unknown key on a staged record');
  t.same([...(record.required as string[])].sort(), ['key', 'model', 'object', 'values']);
  // every object of every schema is closed, or a map with bounded keys and size
  const open: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}/${i}`));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'object') {
      const closed = o.additionalProperties === false;
      const map =
        typeof o.additionalProperties === 'object' &&
        typeof o.maxProperties === 'number' &&
        (o.propertyNames as { maxLength?: number } | undefined)?.maxLength;
      if (!closed && !map) open.push(path);
    }
    // a const or an enum is bounded by its values
    if (o.type === 'string' && typeof o.maxLength !== 'number' && !o.enum && typeof o.const !== 'string')
      open.push(`${path} (unbounded string)`);
    if (o.type === 'array' && typeof o.maxItems !== 'number') open.push(`${path} (unbounded list)`);
    for (const [k, v] of Object.entries(o)) walk(v, `${path}/${k}`);
  };
  for (const [name, text] of Object.entries(generated)) walk(JSON.parse(text), name);
  t.same(open, [], 'no open object, unbounded string or unbounded list');
});

for (const [source, folder] of [
  ['kartra', 'kartra'],
  ['generic_csv', 'generic'],
  ['ontraport', 'ontraport'],
  ['crmconnect', 'crmconnect'],
] as const) {
  t.test(`the bridge's records, profile and mapping lines fit the contract (${source} samples)`, async (t) => {
    const records: StagedRecord[] = [];
    const dir = join(root, 'samples', folder);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.csv'))
      .map((f) => ({ name: f, path: join(dir, f) }));
    const result = await stageExportsTo(source, csvReader(files), { record: (r) => void records.push(r) });
    t.ok(records.length > 5, `${records.length} records`);
    let same = 0;
    for (const r of records) {
      stagedRecordSchema.parse(r);
      // what the bridge sends is exactly what Odoo accepts: nothing unknown, nothing left to a default
      const parsed = stagedRecordInputSchema.safeParse(r);
      if (!parsed.success) t.fail(`${r.key}: ${parsed.error.message}`);
      else if (canonicalJson(parsed.data) === canonicalJson(r)) same++;
    }
    t.equal(same, records.length, 'every record passes unchanged');
    t.same(profileSchema.parse(result.profile), result.profile, 'the profile');
    for (const line of result.lines) t.same(mappingLineSchema.parse(line), line, `${line.object}.${line.column}`);
  });
}

t.test('what the schemas refuse', async (t) => {
  const good = { key: 'k:1', object: 'contact', model: 'res.partner', values: { name: 'Ann' } };
  const parse = (v: unknown) => stagedRecordInputSchema.safeParse(v);
  t.ok(parse(good).success, 'a minimal record');
  t.same(stagedRecordInputSchema.parse(good).refs, {}, 'refs default to empty');
  for (const [what, bad] of [
    ['an unknown key', { ...good, colour: 'red' }],
    ['a blank key', { ...good, key: '  ' }],
    ['a list as a value', { ...good, values: { name: ['x'] } }],
    ['a key too long', { ...good, key: 'k'.repeat(1001) }],
    [
      'an unknown lookup key',
      { ...good, lookups: { country_id: { model: 'res.country', field: 'code', value: 'US', x: 1 } } },
    ],
    ['an issue without message', { ...good, issues: [{ level: 'error' }] }],
    ['a negative row', { ...good, source: { row: -1 } }],
    ['too many values', { ...good, values: Object.fromEntries(Array.from({ length: 4097 }, (_, i) => [`x_${i}`, 1])) }],
  ] as const)
    t.notOk(parse(bad).success, what);
  t.same(Object.keys(contractSchemas).sort(), ['mapping-line', 'profile', 'staged-record']);
  t.ok(z.toJSONSchema(profileSchema), 'the profile has a JSON Schema');
});
