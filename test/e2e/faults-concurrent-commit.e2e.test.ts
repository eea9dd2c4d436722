/**
 * Issue #12, "Data" 6: the same export committed from two migrations at once must never create
 * the same key twice (a database-level claim of each key before it is created,
 * services/key_claim.py). Two CLI processes stage the same Kartra export into two migrations,
 * then two CLI processes commit them at the same moment: every contact, tag and custom field
 * exists once; the second migration links the first one's records (matched), it creates none.
 * Needs the built bridge (`npm run build`) and a real Odoo (ODOO_URL...).
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';
import { cli, kartraContacts } from '../helpers/processes.js';
import { recordOutcome } from '../helpers/fault-table.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}
const odoo = new OdooReader();

t.test('two migrations of one export committed at once create each key once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'faults-concurrent-'));
  const prefix = `cc${Date.now() % 100_000_000}`;
  const first = 10_000_000 + (Date.now() % 80_000_000);
  const n = 1500;
  const tags = 30;
  const file = kartraContacts(join(dir, 'contacts.csv'), n, { first, tags, prefix });

  const staged = await Promise.all(
    [1, 2].map(async (i) => {
      const run = await cli(['stage', '--source', 'kartra', '--name', `${prefix} run ${i}`, '--json', file]).finished;
      t.equal(run.code, 0, `stage ${i}: ${run.stderr.slice(-500)}`);
      return (JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { id: number }).id;
    }),
  );
  const [a, b] = staged as [number, number];
  // leave the database as found for the next test files: the later migration first (it links the first one's records)
  t.teardown(async () => {
    for (const id of [b, a]) await odoo.migrations.rollback(id, 'undo').catch(() => undefined);
  });

  const commits = await Promise.all([a, b].map((id) => cli(['commit', String(id), '--json']).finished));
  commits.forEach((c, i) => t.equal(c.code, 0, `commit ${i + 1}: ${c.stderr.slice(-500)}`));

  const partners = await odoo.count('res.partner', [['email', '=like', `${prefix}.%@faults.example`]]);
  const tagCount = await odoo.count('res.partner.category', [['name', '=like', `${prefix}-tag-%`]]);
  const links = await odoo.read(
    'crm.migration.link',
    [['migration_id', 'in', [a, b]]],
    ['migration_id', 'key', 'res_id', 'action'],
  );
  const byKey = new Map<string, Set<number>>();
  for (const l of links) {
    const set = byKey.get(String(l.key)) ?? new Set<number>();
    set.add(Number(l.res_id));
    byKey.set(String(l.key), set);
  }
  const split = [...byKey.entries()].filter(([, ids]) => ids.size > 1).map(([k]) => k);
  const created = (id: number) =>
    links.filter((l) => Array.isArray(l.migration_id) && l.migration_id[0] === id && l.action === 'created').length;
  const createdTwice = [...byKey.keys()].filter(
    (k) => links.filter((l) => l.key === k && l.action === 'created').length > 1,
  );

  t.equal(partners, n, `${n} contacts exist once (found ${partners})`);
  t.equal(tagCount, tags, `${tags} tags exist once (found ${tagCount})`);
  t.same(split, [], 'all links of a key point to one record');
  t.same(createdTwice, [], 'no key was created by both migrations');
  t.ok(
    created(a) === 0 || created(b) === 0,
    `one migration created, the other linked (created: ${created(a)} / ${created(b)})`,
  );

  const ok = partners === n && tagCount === tags && split.length === 0 && createdTwice.length === 0;
  recordOutcome({
    kind: 'fault',
    case: `same Kartra export (${n} contacts, ${tags} tags) committed from two migrations at once (two CLI processes)`,
    expected: "each key created once; the second migration links (matched) the first one's records",
    observed: ok
      ? `each key created once (${partners} partners, ${tagCount} tags); created by the migrations: ${created(a)} / ${created(b)}`
      : `${partners} partners, ${tagCount} tags, ${createdTwice.length} keys created twice, ${split.length} keys split`,
    ok,
  });
});
