/**
 * POST /migrations/:id/extract against a real Odoo 18: an API source's extraction runs in the
 * background, stops half-way (the connection drops), is reported to Odoo as failed and resumable
 * with nothing staged, and the resumed run re-reads the pages it kept and fetches only the rest,
 * then stages every record once. The source is registered by the test: the generic CSV mapping
 * with a paged reader over in-memory pages (a test reader, not an Odoo stand-in) that keeps its
 * pages and a checkpoint in the folder the bridge gives it, as the API toolkit does.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { sources, type SourceSystem } from '../../bridge/src/sources/registry.js';
import { genericCsv } from '../../bridge/src/sources/generic-csv/source.js';
import type { ReaderOptions, SourceReader, SourceRow } from '../../bridge/src/jobs/source-reader.js';
import { spoolDirOf } from '../../bridge/src/jobs/staging-jobs.js';
import { OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const TOKEN = 'e2e-extract-token-0123456789';
const PAGES = 5;
const PAGE_SIZE = 100;

/** what the reader did: pages fetched from "the API", credentials it got, whether it resumed */
const seen = { fetched: [] as number[], credentials: [] as Record<string, string>[], resumed: [] as boolean[], dropAfter: 3 as number | null };

function page(n: number): SourceRow[] {
  return Array.from({ length: PAGE_SIZE }, (_, i) => {
    const k = n * PAGE_SIZE + i;
    return { row: k + 2, cells: { Email: `api.person${k}@extract.example`, Name: `Api Person ${k}` } };
  });
}

/** Pages kept in `dir` (`<n>.json`) with `checkpoint.json` = the next page to fetch. */
function pagedReader(credentials: Record<string, string>, options: ReaderOptions): SourceReader {
  seen.credentials.push(credentials);
  seen.resumed.push(options.resume);
  async function* rows(): AsyncIterable<SourceRow> {
    await mkdir(options.dir, { recursive: true });
    let next = 0;
    const checkpoint = join(options.dir, 'checkpoint.json');
    if (options.resume && existsSync(checkpoint)) {
      next = (JSON.parse(await readFile(checkpoint, 'utf8')) as { next: number }).next;
      for (let n = 0; n < next; n += 1) yield* JSON.parse(await readFile(join(options.dir, `${n}.json`), 'utf8')) as SourceRow[];
    }
    for (let n = next; n < PAGES; n += 1) {
      if (seen.dropAfter !== null && n === seen.dropAfter) throw new Error('read ECONNRESET (the API dropped the connection)');
      seen.fetched.push(n);
      const got = page(n);
      await writeFile(join(options.dir, `${n}.json`), JSON.stringify(got));
      await writeFile(checkpoint, JSON.stringify({ next: n + 1 }));
      yield* got;
    }
  }
  return {
    describe: () => 'Extract test API',
    async *tables() {
      yield { name: 'contacts', object: 'contact', header: ['Email', 'Name'], rows: rows() };
    },
  };
}

const testApi: SourceSystem = {
  ...genericCsv,
  name: 'e2e_api',
  label: 'E2E API (test reader)',
  input: 'api',
  credentials: [{ name: 'api_key', label: 'API key', secret: true }],
  reader: pagedReader,
};

async function jobEnd(id: number, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await odoo.one('crm.migration', [['id', '=', id]], ['state', 'job', 'job_state', 'job_phase', 'job_message', 'job_resumable']);
    if (m.job_state !== 'running' && m.job_state !== 'queued') return m;
    if (Date.now() > until) throw new Error(`the job of migration ${id} is still ${String(m.job_state)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test('an extraction that stopped resumes where it stopped', async (t) => {
  sources[testApi.name] = testApi;
  t.teardown(() => { delete sources[testApi.name]; });
  const spoolRoot = await mkdtemp(join(tmpdir(), 'crm-extract-e2e-'));
  t.teardown(() => rm(spoolRoot, { recursive: true, force: true }));
  const app = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, BRIDGE_SPOOL_DIR: spoolRoot }), migrations: odoo.migrations });
  t.teardown(() => app.close());
  const id = await odoo.migrations.create('Extraction, resumed', 'e2e_api');
  t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
  const extract = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: `/migrations/${id}/extract`, payload, headers: { authorization: `Bearer ${TOKEN}` } });
  const records = () => odoo.count('crm.migration.record', [['migration_id', '=', id]]);

  const noKey = await extract({ source: 'e2e_api', credentials: {} });
  t.equal(noKey.statusCode, 422);
  t.match(noKey.json(), { field: 'credentials.api_key' });

  const first = await extract({ source: 'e2e_api', credentials: { api_key: 'k-1' } });
  t.equal(first.statusCode, 202, first.body);
  let m = await jobEnd(id);
  t.match(m, { job: 'upload', job_state: 'failed', job_resumable: true });
  t.match(m.job_message, /ECONNRESET/);
  t.equal(await records(), 0, 'nothing staged from a stopped extraction');
  t.same(seen.fetched, [0, 1, 2]);
  t.same(seen.credentials, [{ api_key: 'k-1' }], 'the reader got the credentials');
  t.same((await readdir(join(spoolDirOf(spoolRoot, id), 'pages'))).sort(), ['0.json', '1.json', '2.json', 'checkpoint.json'], 'what was fetched is kept');

  seen.dropAfter = null;
  const resumed = await extract({ source: 'e2e_api', credentials: { api_key: 'k-1' }, resume: true });
  t.equal(resumed.statusCode, 202, resumed.body);
  t.match(resumed.json(), { status: 'resumed' });
  m = await jobEnd(id);
  t.equal(m.job_state, 'done', String(m.job_message));
  t.same(seen.resumed, [false, true]);
  t.same(seen.fetched, [0, 1, 2, 3, 4], 'the resumed run fetched only the missing pages');
  t.equal(await odoo.count('crm.migration.record', [['migration_id', '=', id], ['object', '=', 'contact']]), PAGES * PAGE_SIZE, 'every record staged once');
  const last = await odoo.one('crm.migration.record', [['migration_id', '=', id], ['key', 'ilike', 'api.person499@']], ['values_json', 'source_file', 'source_row']);
  t.match(JSON.stringify(last.values_json), /Api Person 499/);
  t.match(last, { source_file: 'contacts', source_row: 501 }, 'errors and records name the API object and row');
  t.notOk(existsSync(spoolDirOf(spoolRoot, id)), 'the spool is removed once done');

  const again = await extract({ source: 'e2e_api', credentials: { api_key: 'k-1' }, resume: true });
  t.equal(again.statusCode, 422, 'nothing left to resume');
});
