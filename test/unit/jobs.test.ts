/**
 * Background jobs of the bridge (bridge/src/jobs): started at once, run in the background, their
 * progress and end told to the progress sink (Odoo's api_job_progress in the service; here a
 * recorder of what Odoo would be told), one job per migration, failures naming file/row/field;
 * the extraction route's checks; the API toolkit's progress forwarded in order.
 */
import t from 'tap';
import { mkdtemp, readdir, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { InputError } from '../../bridge/src/core/input-error.js';
import { JobRunner, type JobContext, type JobProgress } from '../../bridge/src/jobs/job-runner.js';
import { extractionProgress, spoolDirOf } from '../../bridge/src/jobs/staging-jobs.js';
import type { SourceReader } from '../../bridge/src/sources/reader.js';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { registerSource, type SourceSystem } from '../../bridge/src/sources/registry.js';
import { multipartBody } from '../helpers/multipart.js';
import { samples } from '../helpers/paths.js';

const silent = pino({ level: 'silent' });
const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

/** What Odoo would be told, in order. */
class Recorder {
  readonly told: { id: number; progress: JobProgress }[] = [];
  refuse: ((p: JobProgress) => boolean) | null = null;
  async jobProgress(id: number, progress: JobProgress): Promise<void> {
    if (this.refuse?.(progress)) throw new Error(`refused ${progress.phase}`);
    this.told.push({ id, progress });
  }
  phases(id: number): string[] {
    return this.told.filter((x) => x.id === id).map((x) => x.progress.phase);
  }
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

t.test('a job answers at once, runs in the background and tells its end', async (t) => {
  const sink = new Recorder();
  const runner = new JobRunner(sink, silent);
  const g = gate();
  let cleaned = '';
  const started = await runner.start(7, {
    token: 'odoo-job-0001',
    first: { phase: 'reading', object: 'contacts.csv', done: 0, total: 1 },
    run: async (ctx) => {
      await g.wait;
      await ctx.progress({ phase: 'staging', object: 'contact', done: 1000, total: 1500 });
      await ctx.progress({ phase: 'staging', object: 'contact', done: 1500, total: 1500 });
      return '1500 records staged';
    },
    cleanup: async (outcome) => {
      cleaned = outcome;
    },
  });
  t.equal(started.job, 'odoo-job-0001', "Odoo's token is the job's id");
  t.same(sink.phases(7), ['reading'], 'the start is answered once Odoo knows the job runs, before the work is done');
  t.equal(runner.current(7), 'odoo-job-0001');
  g.open();
  t.equal(await started.finished, 'done');
  t.same(sink.phases(7), ['reading', 'staging', 'staging', 'done']);
  t.match(sink.told.at(-1)?.progress, { job: 'odoo-job-0001', phase: 'done', message: '1500 records staged' });
  t.match(sink.told[1]?.progress, { object: 'contact', done: 1000, total: 1500 });
  t.equal(cleaned, 'done');
  t.equal(runner.current(7), undefined, 'the migration is free again');
});

t.test('one job per migration: a second start is refused with 409 while the first runs', async (t) => {
  const sink = new Recorder();
  const runner = new JobRunner(sink, silent);
  const g = gate();
  const first = await runner.start(3, {
    first: { phase: 'reading' },
    run: async () => {
      await g.wait;
      return 'ok';
    },
  });
  t.match(first.job, /^[0-9a-f-]{36}$/, 'without a token from Odoo the bridge makes one');
  const second = runner.start(3, { first: { phase: 'reading' }, run: async () => 'never' });
  await t.rejects(second, { name: 'JobBusyError', statusCode: 409, message: /migration 3 already has a job running/ });
  const other = await runner.start(4, { first: { phase: 'reading' }, run: async () => 'other' });
  t.equal(await other.finished, 'done', 'another migration is not held up');
  g.open();
  await first.finished;
  t.same(sink.phases(3), ['reading', 'done'], 'the refused start told Odoo nothing');
  const again = await runner.start(3, { first: { phase: 'reading' }, run: async () => 'again' });
  t.equal(await again.finished, 'done', 'free once the first job ended');
});

t.test('a failure is told to Odoo naming file, row and field', async (t) => {
  const sink = new Recorder();
  const runner = new JobRunner(sink, silent);
  let cleaned = '';
  const started = await runner.start(9, {
    first: { phase: 'reading' },
    run: async () => {
      throw new InputError({ file: 'deals.csv', row: 14, field: 'Amount' }, 'not a number: "12,5O"');
    },
    cleanup: async (outcome) => {
      cleaned = outcome;
    },
  });
  t.equal(await started.finished, 'failed');
  t.match(sink.told.at(-1)?.progress, {
    phase: 'failed',
    file: 'deals.csv',
    row: 14,
    field: 'Amount',
    message: 'deals.csv, row 14, field "Amount": not a number: "12,5O"',
  });
  t.notOk(sink.told.at(-1)?.progress.resumable);
  t.equal(cleaned, 'failed');

  const crash = await runner.start(9, {
    first: { phase: 'extracting' },
    run: async () => {
      throw new Error('socket hang up');
    },
    resumable: () => true,
  });
  t.equal(await crash.finished, 'failed');
  t.match(sink.told.at(-1)?.progress, {
    phase: 'failed',
    message: /unexpected error: socket hang up/,
    resumable: true,
  });
});

t.test('Odoo refusing the first report starts nothing; refusing a later one stops the job', async (t) => {
  const sink = new Recorder();
  const runner = new JobRunner(sink, silent);
  sink.refuse = (p) => p.phase === 'reading';
  let ran = false;
  await t.rejects(
    runner.start(5, {
      first: { phase: 'reading' },
      run: async () => {
        ran = true;
        return '';
      },
    }),
    /refused reading/,
  );
  t.equal(runner.current(5), undefined);
  t.notOk(ran);
  // the admin stopped the job in Odoo: its next report is refused and the work ends there
  sink.refuse = (p) => p.phase === 'staging';
  let after = false;
  const stopped = await runner.start(5, {
    first: { phase: 'extracting' },
    run: async (ctx) => {
      await ctx.progress({ phase: 'staging', done: 1 });
      after = true;
      return '';
    },
  });
  t.equal(await stopped.finished, 'failed');
  t.notOk(after, 'nothing ran after the refused report');
});

function apiReader(): SourceReader {
  return {
    describe: () => 'Test API',
    async *tables() {
      /* none */
    },
  };
}

t.test("the API toolkit's progress reaches Odoo in order; a refused report stops the extraction", async (t) => {
  const told: unknown[] = [];
  let refuse = false;
  const ctx: JobContext = {
    id: 1,
    job: 'j',
    log: silent,
    progress: async (u) => {
      await new Promise((r) => setTimeout(r, 5));
      if (refuse) throw new Error('Migration is not running this job anymore');
      told.push(u);
    },
  };
  const forward = extractionProgress(ctx);
  for (const rows of [50, 100, 130])
    forward.onProgress({ object: 'Contacts', pages: rows / 50, rows, fromSpool: false, done: rows === 130 });
  await forward.settle();
  t.same(
    told,
    [50, 100, 130].map((done) => ({ phase: 'extracting', object: 'Contacts', done })),
    'one report per page, in order',
  );
  refuse = true;
  forward.onProgress({ object: 'Deals', pages: 1, rows: 50, fromSpool: false, done: false });
  await t.rejects(forward.settle(), /not running this job/);
  t.throws(
    () => forward.onProgress({ object: 'Deals', pages: 2, rows: 100, fromSpool: false, done: false }),
    /not running this job/,
    'the next page read stops there',
  );
});

t.test('POST /migrations/:id/extract checks its body, the source and the credentials first', async (t) => {
  const spoolRoot = await mkdtemp(join(tmpdir(), 'jobs-root-'));
  t.teardown(() => rm(spoolRoot, { recursive: true, force: true }));
  const testApi: SourceSystem = {
    name: 'test_api',
    label: 'Test API',
    mappingFile: 'generic_csv.json',
    input: 'api',
    credentials: [
      { name: 'api_key', label: 'API key', secret: true },
      { name: 'region', label: 'Region', secret: false, options: ['eu', 'us'] },
    ],
    reader: () => apiReader(),
  };
  t.teardown(registerSource(testApi));
  const app = await buildApp({
    config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, BRIDGE_SPOOL_DIR: spoolRoot }),
    migrations: null,
  });
  t.teardown(() => app.close());
  const extract = (payload: Record<string, unknown>, headers: Record<string, string> = auth) =>
    app.inject({ method: 'POST', url: '/migrations/12/extract', payload, headers });

  t.equal((await extract({ source: 'test_api' }, {})).statusCode, 401, 'the token is needed');
  const listed = await app.inject({ method: 'GET', url: '/sources', headers: auth });
  t.match(
    listed.json().find((s: { name: string }) => s.name === 'test_api'),
    {
      input: 'api',
      credentials: [
        { name: 'api_key', secret: true },
        { name: 'region', options: ['eu', 'us'] },
      ],
    },
  );
  const unknownKey = await extract({ source: 'test_api', credentials: { api_key: 'k', region: 'eu' }, color: 'red' });
  t.equal(unknownKey.statusCode, 400);
  const badType = await extract({ source: 'test_api', credentials: { api_key: 1 } });
  t.equal(badType.statusCode, 400);
  t.match(badType.json(), { field: 'credentials.api_key' });
  const missing = await extract({ source: 'test_api', credentials: { region: 'eu' } });
  t.equal(missing.statusCode, 422);
  t.match(missing.json(), { field: 'api_key', message: /API key/ });
  const outside = await extract({ source: 'test_api', credentials: { api_key: 'k', region: 'mars' } });
  t.equal(outside.statusCode, 422);
  t.match(outside.json(), { field: 'region' });
  const csvSource = await extract({ source: 'kartra' });
  t.equal(csvSource.statusCode, 422);
  t.match(csvSource.json(), { field: 'source', message: /takes export files/ });
  const unknown = await extract({ source: 'zoho' });
  t.match(unknown.json(), { field: 'source', message: /unknown source "zoho"/ });
  const noResume = await extract({ source: 'test_api', credentials: { api_key: 'k', region: 'us' }, resume: true });
  t.equal(noResume.statusCode, 422);
  t.match(noResume.json(), { field: 'resume', message: /nothing to resume/ });
  await mkdir(spoolDirOf(spoolRoot, 12), { recursive: true });
  const resumable = await extract({ source: 'test_api', credentials: { api_key: 'k', region: 'us' }, resume: true });
  t.equal(resumable.statusCode, 503, 'a resume with something spooled gets as far as Odoo (none configured here)');
  t.same(await readdir(spoolRoot), ['migration-12']);

  // files of an API source go to the extract route instead
  const body = multipartBody({ source: 'test_api' }, samples);
  const upload = await app.inject({
    method: 'POST',
    url: '/migrations/12/upload',
    payload: body.payload,
    headers: { ...body.headers, ...auth },
  });
  t.equal(upload.statusCode, 422);
  t.match(upload.json(), { field: 'source', message: /extract/ });
});
