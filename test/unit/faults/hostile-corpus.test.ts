/**
 * Every case of the hostile-input corpus through the CLI (the built `crm-migrate`, a real process:
 * its exit code and its answer) and through the dry-run upload route (POST /migrations, dryRun).
 * No Odoo needed; the route Odoo's wizard calls is run into a real Odoo by
 * test/e2e/faults-hostile-upload.e2e.test.ts. Each case writes one row of the fault table.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../../bridge/src/config.js';
import { cases, type HostileCase, type StagedLike } from '../../fixtures/hostile/corpus.js';
import { judge, writeCase, type Observed } from '../../helpers/hostile-run.js';
import { multipartBody } from '../../helpers/multipart.js';
import { recordOutcome } from '../../helpers/fault-table.js';
import { root } from '../../helpers/paths.js';

const CLI = join(root, 'dist', 'bridge', 'src', 'cli.js');
const TOKEN = 'hostile-corpus-token-0123456789';

t.test('the corpus is large enough to mean something', async (t) => {
  t.ok(cases.length >= 40, `${cases.length} cases`);
  t.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'ids are unique');
});

function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, out: stdout, err: stderr });
      },
    );
  });
}

async function viaCli(c: HostileCase, dir: string): Promise<Observed> {
  const files = await writeCase(join(dir, 'in'), c);
  const out = join(dir, 'out');
  const r = await runCli([
    'stage',
    '--source',
    c.source ?? 'generic_csv',
    '--json',
    '--out',
    out,
    ...files.map((f) => f.path),
  ]);
  // the CLI names files by their base name on disk: map back to the name the case gives
  const rename = (s: string) => files.reduce((acc, f) => acc.split(`${f.path.split('/').pop()}`).join(f.name), s);
  if (r.code === 0) {
    const lines = (await readFile(join(out, 'records.jsonl'), 'utf8')).split('\n').filter(Boolean);
    const records = lines.map((l) => JSON.parse(rename(l)) as StagedLike);
    return { records: records.filter((rec) => !rec.key.includes(':custom_field:')) };
  }
  const text = (r.out.trim() || r.err.trim()).split('\n').pop() ?? '';
  if (r.code === 3 || r.code === 2) {
    try {
      const answer = JSON.parse(rename(text)) as Record<string, unknown>;
      return { refusal: answer };
    } catch {
      return { refusal: { message: rename(text) } };
    }
  }
  return { crash: `exit ${r.code}: ${r.err.trim().split('\n').slice(-3).join(' | ')}` };
}

t.test('hostile inputs through the CLI', { timeout: 600_000 }, async (t) => {
  t.ok(existsSync(CLI), `the built CLI is at ${CLI} (npm run build)`);
  const selected = cases.filter((c) => !c.routes || c.routes.includes('cli'));
  const queue = [...selected];
  const workers = Array.from({ length: 3 }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const dir = await mkdtemp(join(tmpdir(), `hostile-${c.id}-`));
      try {
        const v = judge(c, await viaCli(c, dir), { recordsVisible: true });
        recordOutcome({ kind: 'input', case: `${c.what} (CLI)`, expected: v.expected, observed: v.observed, ok: v.ok });
        t.ok(v.ok, `${c.id} (CLI): expected ${v.expected}; observed ${v.observed}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
  await Promise.all(workers);
});

t.test('hostile inputs through the dry-run upload route', { timeout: 600_000 }, async (t) => {
  const app = await buildApp({
    config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, BRIDGE_MAX_FILE_MB: '64' }),
    migrations: null,
  });
  t.teardown(() => app.close());
  for (const c of cases.filter((x) => !x.routes || x.routes.includes('dry-upload'))) {
    const dir = await mkdtemp(join(tmpdir(), `hostile-${c.id}-`));
    try {
      const files = await writeCase(dir, c);
      const body = multipartBody(
        { source: c.source ?? 'generic_csv', dryRun: 'true' },
        files.map((f) => ({ name: f.name, bytes: f.bytes })),
      );
      const res = await app.inject({
        method: 'POST',
        url: '/migrations',
        payload: body.payload,
        headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
      });
      let observed: Observed;
      if (res.statusCode === 200) observed = { count: Number(res.json().records) };
      else if (res.statusCode >= 400 && res.statusCode < 500)
        observed = { refusal: { ...res.json(), status: res.statusCode } };
      else observed = { crash: `HTTP ${res.statusCode}: ${res.body.slice(0, 200)}` };
      const v = judge(c, observed, { recordsVisible: false });
      recordOutcome({
        kind: 'input',
        case: `${c.what} (upload, dry run)`,
        expected: v.expected,
        observed: v.observed,
        ok: v.ok,
      });
      t.ok(v.ok, `${c.id} (dry-run upload): expected ${v.expected}; observed ${v.observed}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});
