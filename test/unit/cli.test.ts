import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../bridge/src/cli.js';
import { stagedRecordSchema } from '../../bridge/src/staging/record.js';
import { fixture, samples } from '../helpers/paths.js';
import { registerSource } from '../../bridge/src/sources/registry.js';
import { OntraportStandin, standinContacts } from '../helpers/ontraport-standin.js';
import { standinSource } from '../helpers/standin-source.js';

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const code = await main(
      args,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.env = saved;
  }
}

t.test('stage --out writes records and the profile (dry run, no Odoo)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'crm-cli-'));
  const r = await run(['stage', '--source', 'kartra', '--out', dir, '--json', ...samples.map((s) => s.path)]);
  t.equal(r.code, 0, r.err);
  const answer = JSON.parse(r.out);
  t.equal(answer.dryRun, true);
  const lines = (await readFile(join(dir, 'records.jsonl'), 'utf8')).trim().split('\n');
  t.equal(lines.length, 53);
  for (const l of lines) stagedRecordSchema.parse(JSON.parse(l));
  const profile = JSON.parse(await readFile(join(dir, 'profile.json'), 'utf8'));
  t.equal(profile.objects.tag.records, 11);
  t.match(
    await readFile(join(dir, 'inventory.md'), 'utf8'),
    /## Cannot migrate: rebuild in Odoo[\s\S]*Sequences and automations/,
  );
});

t.test('exit codes and one-line reasons', async (t) => {
  const usage = await run([]);
  t.equal(usage.code, 2);
  const noSource = await run(['stage', samples[0]?.path as string]);
  t.equal(noSource.code, 2);
  t.match(noSource.err, /stage needs --source/);
  const bad = await run(['stage', '--source', 'kartra', '--out', '/tmp/never', fixture('unbalanced-quote.csv').path]);
  t.equal(bad.code, 3);
  t.match(bad.err, /^crm-migrate: unbalanced-quote\.csv, row 2: .*unbalanced quote/);
  const badJson = await run([
    'stage',
    '--source',
    'kartra',
    '--json',
    '--out',
    '/tmp/never',
    fixture('missing-email-column.csv').path,
  ]);
  t.equal(badJson.code, 3);
  t.match(JSON.parse(badJson.err), { file: 'missing-email-column.csv', row: 1, field: 'email' });
  const noOdoo = await run(['report', '5'], {
    ODOO_URL: undefined,
    ODOO_DB: undefined,
    ODOO_USER: undefined,
    ODOO_PASSWORD: undefined,
  });
  t.equal(noOdoo.code, 1);
  t.match(noOdoo.err, /Odoo connection not configured: set ODOO_URL/);
  const down = await run(['report', '5'], {
    ODOO_URL: 'http://127.0.0.1:9',
    ODOO_DB: 'x',
    ODOO_USER: 'admin',
    ODOO_PASSWORD: 'admin',
  });
  t.equal(down.code, 4);
  t.match(down.err, /cannot reach Odoo at http:\/\/127\.0\.0\.1:9/);
  const badId = await run(['commit', 'abc']);
  t.equal(badId.code, 2);
});

t.test('final delta: stage --into and delta usage, report text carries the per-object delta line', async (t) => {
  const env = { ODOO_URL: 'http://127.0.0.1:9', ODOO_DB: 'x', ODOO_USER: 'admin', ODOO_PASSWORD: 'admin' };
  const badInto = await run(['stage', '--source', 'kartra', '--into', 'abc', samples[0]?.path as string], env);
  t.equal(badInto.code, 2);
  t.match(badInto.err, /--into takes a migration ID/);
  const badTake = await run(['delta', '5', '--take', 'maybe'], env);
  t.equal(badTake.code, 2);
  t.match(badTake.err, /--take takes source or odoo/);
  const badGone = await run(['delta', '5', '--gone', 'burn'], env);
  t.equal(badGone.code, 2);
  t.match(badGone.err, /--gone takes archive or delete/);
  const down = await run(['stage', '--source', 'kartra', '--into', '5', ...samples.map((s) => s.path)], env);
  t.equal(down.code, 4, 'Odoo unreachable: exit 4');

  const { formatReport } = await import('../../bridge/src/report-text.js');
  const text = formatReport({
    id: 5,
    name: 'm',
    source: 'kartra',
    state: 'partial',
    counts: { committed: 3, conflict: 1 },
    objects: {},
    failed: [],
    links: {},
    delta_round: 2,
    delta: { contact: { unchanged: 10, updated: 1, created: 2, gone: 1, conflicts: 1, pending: 0, errors: 0 } },
  });
  t.match(text, /final delta \(round 2\):\n {4}contact: 10 unchanged, 1 updated, 2 created, 1 gone, 1 conflicts$/m);
  t.notMatch(
    formatReport({ id: 5, name: 'm', source: '', state: 'committed', counts: {}, objects: {}, failed: [], links: {} }),
    /final delta/,
  );
});

t.test(
  'stage from an API source: credentials from flags or the environment, a spool folder that resumes',
  async (t) => {
    const standin = await new OntraportStandin({ contacts: standinContacts(60) }).start();
    t.teardown(() => standin.stop());
    t.teardown(registerSource(standinSource(() => standin.url)));
    const spool = await mkdtemp(join(tmpdir(), 'crm-cli-spool-'));
    const out = await mkdtemp(join(tmpdir(), 'crm-cli-out-'));
    t.teardown(() =>
      Promise.all([rm(spool, { recursive: true, force: true }), rm(out, { recursive: true, force: true })]),
    );
    const noSpool = await run(['stage', '--source', 'standin_ontraport', '--credential', 'api_key=key-123']);
    t.equal(noSpool.code, 2);
    t.match(noSpool.err, /needs --spool DIR/);
    const missing = await run([
      'stage',
      '--source',
      'standin_ontraport',
      '--spool',
      spool,
      '--credential',
      'api_key=key-123',
    ]);
    t.equal(missing.code, 3);
    t.match(missing.err, /field "app_id": App ID is required/);
    const withFile = await run(['stage', '--source', 'kartra', '--spool', spool, samples[0]?.path as string]);
    t.equal(withFile.code, 2, '--spool is for API sources');
    const r = await run(
      [
        'stage',
        '--source',
        'standin_ontraport',
        '--spool',
        spool,
        '--credential',
        'api_key=key-123',
        '--out',
        out,
        '--json',
      ],
      { CRM_CREDENTIAL_APP_ID: 'app-456' },
    );
    t.equal(r.code, 0, r.err);
    t.match(r.err, /Contacts: 2 page\(s\), 60 rows, done/);
    t.equal((await readFile(join(out, 'records.jsonl'), 'utf8')).trim().split('\n').length, 60);
    const again = await run([
      'stage',
      '--source',
      'standin_ontraport',
      '--spool',
      spool,
      '--credential',
      'api_key=key-123',
      '--credential',
      'app_id=app-456',
      '--out',
      out,
      '--json',
    ]);
    t.equal(again.code, 0, again.err);
    t.match(again.err, /60 rows \(from the spool\), done/);
    t.same([...standin.requests.values()], [1, 1], 'the second run asked the API nothing');
  },
);
