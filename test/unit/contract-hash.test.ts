/**
 * One content hash on both sides of the staging contract (docs/staging-contract.md). The cases
 * of test/fixtures/contract/hash-cases.json are hashed here with the bridge's contentHash and in
 * Odoo by the addon's canonical_hash (odoo_addon/crm_migration/tests/test_contract_hash.py): the
 * fixture holds the bridge's hash of each case, this test proves it is still the bridge's, the
 * addon test proves Python computes the same. `UPDATE_CONTRACT_HASHES=1` rewrites the fixture
 * (after a deliberate change of the hash, which the addon test then also has to accept).
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { contentHash } from '../../bridge/src/staging/hash.js';
import { blobSchema, lookupSchema, scalarSchema } from '../../bridge/src/staging/record.js';
import { root } from '../helpers/paths.js';

const FILE = join(root, 'test', 'fixtures', 'contract', 'hash-cases.json');

const caseSchema = z.object({
  what: z.string(),
  record: z.object({
    model: z.string(),
    values: z.record(z.string(), scalarSchema),
    refs: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    lookups: z.record(z.string(), lookupSchema),
    attach_to: z.string().optional(),
    blob: blobSchema.optional(),
  }),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

const cases = z.array(caseSchema).parse(JSON.parse(readFileSync(FILE, 'utf8')));

t.test('the fixture covers what makes JSON texts differ between languages', async (t) => {
  t.ok(cases.length >= 10, `${cases.length} cases`);
  const text = JSON.stringify(cases);
  for (const needle of ['\\u0007', 'ë', '😀', '\u2028', '1.5', '-0.001', '1e+21', 'attach_to', 'blob', '"where"']) {
    t.ok(text.includes(needle), `a case holds ${needle}`);
  }
});

t.test("every case's hash is the bridge's contentHash", async (t) => {
  const recomputed = cases.map((c) => ({ ...c, hash: contentHash(c.record) }));
  if (process.env.UPDATE_CONTRACT_HASHES === '1') writeFileSync(FILE, `${JSON.stringify(recomputed, null, 2)}\n`);
  for (const [i, c] of cases.entries()) t.equal(recomputed[i]?.hash, c.hash, c.what);
});
