/**
 * The final delta on a synthetic Kartra export (DELTA_ROWS contacts, a company per 10 contacts):
 * stage + commit it, then a newer export with 5% of the contacts changed (city), 1% new and 1%
 * removed, staged into the same migration (`stage --into`) and committed; times of each step, the
 * per-object delta line, then the migration is rolled back. Run against a real Odoo (ODOO_* env):
 *   npx tsx test/bench/delta-bench.ts
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../bridge/src/cli.js';
import { reportSchema } from '../../bridge/src/odoo/migration-client.js';
import { OdooReader } from '../helpers/odoo.js';

const ROWS = Number(process.env.DELTA_ROWS ?? 2000);

async function exportFile(dir: string, name: string, rows: number[], city: (i: number) => string): Promise<string> {
  const lines = ['ID,First Name,Last Name,Email,Phone Country Code,Phone,Company,City,Zip,Country,Tags,Date Joined'];
  for (const i of rows) {
    lines.push(
      [
        String(700000 + i),
        `Delta${i}`,
        `Bench${i}`,
        `delta.${i}@bench.example`,
        '1',
        `212 555 ${String(1000 + (i % 9000)).padStart(4, '0')}`,
        `Delta Company ${Math.floor(i / 10)}`,
        city(i),
        '10001',
        'United States',
        `delta-tag-${i % 20}`,
        '2023-05-01 10:00:00',
      ].join(','),
    );
  }
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

async function cli(args: string[]): Promise<{ out: string; ms: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const start = Date.now();
  const code = await main(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  if (code !== 0) throw new Error(`crm-migrate ${args.slice(0, 3).join(' ')}: exit ${code}: ${err.join('\n')}`);
  return { out: out.join('\n'), ms: Date.now() - start };
}

async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-delta-bench-'));
  const all = Array.from({ length: ROWS }, (_, i) => i);
  const first = await exportFile(dir, 'contacts.csv', all, () => 'New York');
  const changed = new Set(all.filter((i) => i % 20 === 3));
  const removed = new Set(all.filter((i) => i % 100 === 7));
  const newer = await exportFile(
    join(await mkdtemp(join(tmpdir(), 'crm-delta-bench-'))),
    'contacts.csv',
    [...all.filter((i) => !removed.has(i)), ...Array.from({ length: ROWS / 100 }, (_, k) => ROWS + k)],
    (i) => (changed.has(i) ? 'Boston' : 'New York'),
  );
  const odoo = new OdooReader();
  const partnersBefore = await odoo.count('res.partner');
  const staged = await cli(['stage', '--source', 'kartra', '--json', first]);
  const id = String(JSON.parse(staged.out).id);
  const commit = await cli(['commit', id, '--json']);
  const into = await cli(['stage', '--source', 'kartra', '--into', id, '--json', newer]);
  const deltaCommit = await cli(['commit', id, '--json']);
  const report = reportSchema.parse(JSON.parse(deltaCommit.out));
  const rollback = await cli(['rollback', id, '--json']);
  console.log(
    JSON.stringify(
      {
        rows: ROWS,
        firstStageMs: staged.ms,
        firstCommitMs: commit.ms,
        deltaStageMs: into.ms,
        deltaCommitMs: deltaCommit.ms,
        rollbackMs: rollback.ms,
        partnersAsBefore: (await odoo.count('res.partner')) === partnersBefore,
        delta: report.delta,
        state: report.state,
      },
      null,
      1,
    ),
  );
}

run().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
