/**
 * The Ontraport API reader (bridge/src/sources/ontraport/api.ts) against the local stand-in for
 * Ontraport's documented REST API (test/helpers/ontraport-standin.ts, account in
 * test/helpers/ontraport-account.ts): both auth headers, the generic object interface paged by
 * `start`/`range` of 50, users/tags/metadata turning ids into emails, tag names and option labels,
 * the account's rate headers respected (no 429 provoked), Ontraport's 429 (no Retry-After) waited
 * out from its reset header, and a stopped extraction resumed from the spool, fetching only what
 * is missing; then the rows staged through the Ontraport mapping.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ontraportApiReader, type OntraportReaderOptions } from '../../bridge/src/sources/ontraport/api.js';
import { readCheckpoint } from '../../bridge/src/sources/api/spool.js';
import type { ExtractionProgress } from '../../bridge/src/sources/api/paged-reader.js';
import type { SourceReader } from '../../bridge/src/sources/reader.js';
import { apiReader } from '../../bridge/src/sources/registry.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { OntraportStandin, type StandinOptions } from '../helpers/ontraport-standin.js';
import { ontraportAccount } from '../helpers/ontraport-account.js';

async function spoolDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-ontraport-spool-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function standin(t: Test, contacts: number, extra: Partial<StandinOptions> = {}): Promise<OntraportStandin> {
  const s = await new OntraportStandin({ ...ontraportAccount(contacts), ...extra }).start();
  t.teardown(() => s.stop());
  return s;
}

function reader(s: OntraportStandin, dir: string, extra: Partial<OntraportReaderOptions> = {}): SourceReader {
  return ontraportApiReader({
    apiKey: 'key-123',
    appId: 'app-456',
    dir,
    baseUrl: s.url,
    client: { backoffMs: 20, maxAttempts: 2 },
    ...extra,
  });
}

async function readAll(r: SourceReader) {
  const out: { name: string; object?: string | undefined; header: string[]; rows: Record<string, string>[] }[] = [];
  for await (const table of r.tables()) {
    const rows = [];
    for await (const row of table.rows) rows.push(row.cells);
    out.push({ name: table.name, object: table.object, header: table.header, rows });
  }
  return out;
}

t.test(
  'objects paged by start/range of 50; owners, tags, dropdowns, timestamps and custom fields made readable',
  async (t) => {
    const s = await standin(t, 120);
    const progress: ExtractionProgress[] = [];
    const tables = await readAll(reader(s, await spoolDir(t), { onProgress: (p) => progress.push(p) }));
    t.same(
      tables.map((x) => [x.name, x.object, x.rows.length]),
      [
        ['Contacts', 'contact', 120],
        ['Companies', 'company', 1],
        ['Deals', 'deal', 3],
        ['Tasks', 'task', 2],
      ],
      'lookup tables are read, not staged',
    );
    t.same(
      s.log,
      [
        'GET /1/objects?objectID=2&start=0&range=50',
        'GET /1/objects?objectID=14&start=0&range=50',
        'GET /1/objects/meta?objectID=0&format=byId',
        'GET /1/objects?objectID=0&start=0&range=50',
        'GET /1/objects?objectID=0&start=50&range=50',
        'GET /1/objects?objectID=0&start=100&range=50',
        'GET /1/objects/meta?objectID=150&format=byId',
        'GET /1/objects?objectID=150&start=0&range=50',
        'GET /1/objects/meta?objectID=149&format=byId',
        'GET /1/objects?objectID=149&start=0&range=50',
        'GET /1/objects/meta?objectID=1&format=byId',
        'GET /1/objects?objectID=1&start=0&range=50',
      ],
      'every page once, in order, 50 at a time',
    );
    const contacts = tables[0];
    t.ok(
      contacts?.header.includes('Rocket Model') && !contacts.header.includes('f1420'),
      'a custom field is named by its label',
    );
    t.notOk(
      contacts?.header.some((h) => h.startsWith('cc')) ||
        Object.keys(contacts?.rows[0] ?? {}).some((h) => h.startsWith('cc')),
      'stored card fields are never carried',
    );
    t.match(contacts?.rows[0], {
      owner: 'jane.sales@example.com',
      contact_cat: 'VIP*/*Newsletter',
      dla: '',
      date: '1700000000',
      bulk_mail: '1',
      priority: '8',
      'Rocket Model': 'Falcon',
    });
    t.match(contacts?.rows[9], { owner: 'olaf.unknown@example.com', contact_cat: 'Newsletter' });
    t.same(
      tables[2]?.rows.map((r) => [r.sales_stage, r.stage_order, r.actual_close_date]),
      [
        ['Proposal', '2', ''],
        ['Closed Won', '3', '1719000000'],
        ['Closed Lost', '4', '1718000000'],
      ],
      "stage option ids → labels and their place in the pipeline's order, timestamp 0 → empty",
    );
    t.same(
      progress.filter((p) => p.object === 'Contacts').map((p) => [p.pages, p.rows, p.done]),
      [
        [1, 50, false],
        [2, 100, false],
        [3, 120, true],
      ],
    );
  },
);

t.test('the rows staged through the Ontraport mapping', async (t) => {
  const s = await standin(t, 12);
  // an Odoo without Project: tasks fall back to activities on their contact
  const staged = await stageExports('ontraport_api', reader(s, await spoolDir(t)), {
    now: new Date('2024-07-01T00:00:00Z'),
    installedApps: { project: false, account: false },
  });
  const k = new Map(staged.records.map((r) => [r.key, r]));
  t.match(k.get('ontraport:contact:1'), {
    values: {
      name: 'First1 Last1',
      email: 'contact1@op-standin.example',
      ref: '1',
      x_ontraport_sales_stage: 'Customer',
      phone: '+18055550100',
      x_ontraport_bulk_mail: 'single_opt_in',
      x_ontraport_priority: 'high',
      source_create_date: '2023-11-14 22:13:20',
      x_ontraport_rocket_model: 'Falcon',
    },
    refs: { parent_id: 'ontraport:company:1', category_id: ['ontraport:tag:vip', 'ontraport:tag:newsletter'] },
    lookups: { user_id: { model: 'res.users', field: 'login', value: 'jane.sales@example.com', required: true } },
  });
  t.notOk(
    'x_ontraport_last_activity' in (k.get('ontraport:contact:1')?.values ?? {}),
    'dla 0 = never: left empty, no warning',
  );
  t.same(k.get('ontraport:contact:1')?.issues, []);
  t.same(
    staged.records
      .filter((r) => r.object === 'contact')
      .map((r) => r.values.x_ontraport_bulk_mail)
      .slice(0, 5),
    ['single_opt_in', 'double_opt_in', 'transactional_only', 'hard_bounce', 'pending_review'],
    "the API's numbers, -2 and -5 included",
  );
  t.match(k.get('ontraport:deal:2'), {
    values: { name: 'Launch pad lease', probability: 100, active: true, date_deadline: '2024-06-30' },
    refs: { stage_id: 'ontraport:stage:closed won', partner_id: 'ontraport:contact:2' },
  });
  t.match(k.get('ontraport:deal:3'), { values: { probability: 0, active: false } });
  t.same(
    staged.records.filter((r) => r.object === 'stage').map((r) => [r.values.name, r.values.sequence, r.values.is_won]),
    [
      ['Proposal', 2, false],
      ['Closed Won', 3, true],
      ['Closed Lost', 4, false],
    ],
    "stages in the pipeline's order from the API",
  );
  t.match(k.get('ontraport:company:1'), {
    values: { name: 'Orbital Standin Rockets', is_company: true, x_ontraport_employee_count: 120 },
  });
  t.same(
    staged.profile.files.map((f) => [f.file, f.rows]),
    [
      ['Contacts', 12],
      ['Companies', 1],
      ['Deals', 3],
      ['Tasks', 2],
    ],
  );
  t.same(
    staged.profile.files.map((f) => f.unknownColumns),
    [['Rocket Model'], [], [], []],
    "Ontraport's documented fields are known; only the custom field is new",
  );
  t.same(
    staged.profile.customFields
      .filter((f) => !f.name.startsWith('x_ontraport_') || f.origin !== 'mapping')
      .map((f) => f.name),
    ['x_ontraport_rocket_model'],
  );
  t.same(
    staged.records
      .filter((r) => r.object === 'task_activity')
      .map((r) => [
        r.key,
        r.model,
        r.attach_to,
        r.values.summary,
        r.values.date_deadline,
        r.values.active,
        r.values.date_done ?? null,
        r.lookups.activity_type_id?.value,
        r.lookups.user_id?.value,
      ]),
    [
      [
        'ontraport:task_activity:1',
        'mail.activity',
        'ontraport:contact:1',
        'Send the fuel quote',
        '2024-12-31',
        true,
        null,
        'To-Do',
        'jane.sales@example.com',
      ],
      [
        'ontraport:task_activity:2',
        'mail.activity',
        'ontraport:contact:2',
        'Call about the lease',
        '2024-06-30',
        false,
        '2024-06-21',
        'To-Do',
        'jane.sales@example.com',
      ],
    ],
    'tasks: contact id → attached, owner id → email, status 0/1 → scheduled/done, Unix dates, completion 0 = none',
  );
});

t.test('credentials as the wizard declares them; both headers sent; a refused key stops at once', async (t) => {
  t.throws(() => apiReader('ontraport_api', { api_key: 'k' }, { dir: '/nonexistent' }), /App ID is required/);
  const s = await standin(t, 3);
  const bad = ontraportApiReader({ apiKey: 'wrong', appId: 'app-456', dir: await spoolDir(t), baseUrl: s.url });
  await t.rejects(readAll(bad), /HTTP 401: Invalid API key or App ID \(the credentials were refused/);
  t.equal(s.log.length, 1, 'not retried');
});

t.test(
  "the account's rate headers are respected: the client waits for the reset instead of provoking 429s",
  async (t) => {
    const s = await standin(t, 60, { rateLimit: 4, rateWindowMs: 1500 });
    const began = Date.now();
    const tables = await readAll(reader(s, await spoolDir(t)));
    t.equal(tables[0]?.rows.length, 60);
    t.equal(s.log.length, 11, 'eleven pages and metadata, each asked once: no 429 was answered');
    t.ok(Date.now() - began >= 1000, 'paused when the remaining count reached 0');
  },
);

t.test(
  "Ontraport's 429 (no Retry-After) is waited out from X-Rate-Limit-Reset, then the page is fetched",
  async (t) => {
    const s = await standin(t, 5, { rateLimit: 20, rateWindowMs: 1000 });
    s.exhaust();
    const began = Date.now();
    const tables = await readAll(reader(s, await spoolDir(t), { client: { backoffMs: 5000, maxAttempts: 3 } }));
    t.equal(tables[0]?.rows.length, 5);
    t.equal(s.objectRequests.get('2:0'), 2, 'the first request met the 429 and was asked once more');
    const waited = Date.now() - began;
    t.ok(waited >= 900 && waited < 4000, `waited the reset (about a second), not the 5 s backoff: ${waited} ms`);
  },
);

t.test('a stopped extraction resumes from the spool and fetches only what is missing', async (t) => {
  const s = await standin(t, 120);
  const dir = await spoolDir(t);
  s.objectDown.add('0:50');
  await t.rejects(
    readAll(reader(s, dir)),
    /Ontraport API, GET \/1\/objects\?objectID=0&start=50&range=50: connection failed .*gave up after 2 tries/,
  );
  t.match((await readCheckpoint(dir))?.objects, {
    Users: { complete: true },
    Tags: { complete: true },
    Contacts: { pages: 1, rows: 50, complete: false, next: 50 },
  });
  s.objectDown.delete('0:50');
  const asked = new Map(s.objectRequests);
  const tables = await readAll(reader(s, dir));
  t.equal(tables[0]?.rows.length, 120);
  const fetchedNow = [...s.objectRequests]
    .filter(([page, n]) => n !== (asked.get(page) ?? 0))
    .map(([page, n]) => [page, n - (asked.get(page) ?? 0)]);
  t.same(
    fetchedNow,
    [
      ['0:50', 1],
      ['0:100', 1],
      ['meta:150', 1],
      ['150:0', 1],
      ['meta:149', 1],
      ['149:0', 1],
      ['meta:1', 1],
      ['1:0', 1],
    ],
    'users, tags, metadata and the first page come from the spool',
  );
  t.same(tables[0]?.rows[0]?.owner, 'jane.sales@example.com', 'lookups read back from the spool too');
});
