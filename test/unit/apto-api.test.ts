/**
 * Apto's Salesforce client and reader against the local stand-in for the Salesforce REST and Bulk
 * API 2.0 (test/helpers/salesforce-standin.ts): login (password flow, access token, refresh),
 * SOQL paging with queryMore, 429 with Retry-After, the org's REQUEST_LIMIT_EXCEEDED and our own
 * budget stop, an expired session renewed once, Bulk job states (UploadComplete → InProgress →
 * JobComplete, Failed) with Sforce-Locator paging, the namespace discovered, the company hierarchy
 * ordered with its loop broken, deal chains, files downloaded with equal bytes, resume from the
 * spool, and the whole org staged through the mapping.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { ApiError, ApiStoppedError } from '../../bridge/src/sources/api/http-client.js';
import { SalesforceClient } from '../../bridge/src/sources/apto/salesforce.js';
import { aptoApiReader } from '../../bridge/src/sources/apto/api.js';
import { discoverNamespace, hierarchyOrder } from '../../bridge/src/sources/apto/shape.js';
import { apiReader, describeSources } from '../../bridge/src/sources/registry.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import type { SourceReader } from '../../bridge/src/sources/reader.js';
import { SalesforceStandin } from '../helpers/salesforce-standin.js';
import { aptoOrg, JANE, PDF, PNG } from '../helpers/apto-org.js';
import { recordOutcome } from '../helpers/fault-table.js';

const quick = { backoffMs: 10 };
const auth = (url: string) => ({
  loginUrl: url,
  clientId: 'cid',
  clientSecret: 'csecret',
  username: 'broker@apto.example',
  password: 'pw+token',
});

async function tmp(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-apto-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function standin(t: Test, ...args: ConstructorParameters<typeof SalesforceStandin>): Promise<SalesforceStandin> {
  const s = await new SalesforceStandin(...args).start();
  t.teardown(() => s.stop());
  return s;
}

async function drain(reader: SourceReader): Promise<Record<string, Record<string, string>[]>> {
  const out: Record<string, Record<string, string>[]> = {};
  for await (const table of reader.tables()) {
    const rows: Record<string, string>[] = [];
    for await (const r of table.rows) rows.push(r.cells);
    out[table.name] = rows;
  }
  return out;
}

t.test('login, SOQL paging with queryMore, the API budget counted', async (t) => {
  const s = await standin(t, aptoOrg({ contacts: 25 }), { batchSize: 10, used: 100, dailyLimit: 15_000 });
  const usage: number[] = [];
  const sf = new SalesforceClient({ auth: auth(s.url), client: quick, onUsage: (u) => usage.push(u.used) });
  const first = await sf.query('SELECT Id, LastName FROM Contact');
  t.equal(first.records.length, 10);
  t.equal(first.done, false);
  t.ok(first.nextRecordsUrl);
  const second = await sf.query('', first.nextRecordsUrl);
  const third = await sf.query('', second.nextRecordsUrl);
  t.same(
    [second.records.length, third.records.length, third.done, third.nextRecordsUrl],
    [10, 5, true, undefined],
    'queryMore until done',
  );
  t.equal(s.logins, 1, 'one login');
  t.same(sf.usage, { used: 103, max: 15_000 }, 'Sforce-Limit-Info read');
  t.same(usage, [101, 102, 103]);
});

t.test("a wrong password is refused with Salesforce's reason", async (t) => {
  const s = await standin(t, aptoOrg());
  const sf = new SalesforceClient({ auth: { ...auth(s.url), password: 'wrong' }, client: quick });
  await t.rejects(sf.query('SELECT Id FROM User'), /login refused: authentication failure/);
});

t.test('an expired session is renewed once (password flow, refresh token); an access token alone stops', async (t) => {
  const s = await standin(t, aptoOrg());
  const sf = new SalesforceClient({ auth: auth(s.url), client: quick });
  await sf.query('SELECT Id FROM User');
  s.expireTokens();
  const again = await sf.query('SELECT Id FROM User');
  t.equal(again.records.length, 2);
  t.equal(s.logins, 2, 'logged in again once');
  recordOutcome({
    kind: 'fault',
    case: 'Apto (Salesforce): session expired mid-extraction (401 INVALID_SESSION_ID)',
    expected: 'one re-login, the request repeated',
    observed:
      s.logins === 2 && again.records.length === 2 ? 'one re-login, the request repeated' : `${s.logins} logins`,
    ok: s.logins === 2,
  });

  const refreshing = new SalesforceClient({
    auth: { loginUrl: s.url, accessToken: s.issueToken(), refreshToken: 'refresh-1', clientId: 'cid' },
    client: quick,
  });
  await refreshing.query('SELECT Id FROM User');
  s.expireTokens();
  await refreshing.query('SELECT Id FROM User');
  t.equal(refreshing.logins, 1, 'refreshed once with the refresh token');

  const tokenOnly = new SalesforceClient({ auth: { loginUrl: s.url, accessToken: s.issueToken() }, client: quick });
  await tokenOnly.query('SELECT Id FROM User');
  s.expireTokens();
  await t.rejects(tokenOnly.query('SELECT Id FROM User'), /access token was refused or has expired/);
});

t.test(
  '429 with Retry-After is waited out; 503 retried; REQUEST_LIMIT_EXCEEDED stops; our budget share stops first',
  async (t) => {
    const s = await standin(t, aptoOrg(), { dailyLimit: 50 });
    const sf = new SalesforceClient({ auth: auth(s.url), client: quick });
    s.trouble.set('/query', ['429', '503']);
    const started = Date.now();
    const r = await sf.query('SELECT Id FROM User');
    t.equal(r.records.length, 2);
    t.ok(Date.now() - started >= 900, 'waited the Retry-After second');
    t.equal(sf.api.stats.retries, 2);

    s.used = 60; // the org is over its allowance (someone else used it)
    const err = await sf.query('SELECT Id FROM User').catch((e: unknown) => e);
    t.type(err, ApiStoppedError);
    t.match(String((err as Error).message), /REQUEST_LIMIT_EXCEEDED/);
    const stopped = err instanceof ApiStoppedError && /REQUEST_LIMIT_EXCEEDED/.test(err.message);
    recordOutcome({
      kind: 'fault',
      case: "Apto (Salesforce): the org's daily API limit used up (403 REQUEST_LIMIT_EXCEEDED)",
      expected: 'the extraction stops, resumable, no retry storm',
      observed: stopped ? 'the extraction stops, resumable, no retry storm' : String(err),
      ok: stopped,
    });

    const s2 = await standin(t, aptoOrg(), { dailyLimit: 100, used: 79 });
    const capped = new SalesforceClient({ auth: auth(s2.url), client: quick, budgetShare: 0.8 });
    await capped.query('SELECT Id FROM User'); // 80 of 100 used now
    await t.rejects(capped.query('SELECT Id FROM User'), /used 80 of its 100 daily API requests.*stops at 80%/);
  },
);

t.test(
  'Bulk API 2.0: job states polled to JobComplete, results paged by Sforce-Locator; a Failed job stops',
  async (t) => {
    const s = await standin(t, aptoOrg({ contacts: 23 }), { bulkPolls: 2, bulkFail: ['Account'] });
    const sf = new SalesforceClient({ auth: auth(s.url), client: quick, pollMs: 5 });
    const job = await sf.bulkQuery('SELECT Id, LastName, Email FROM Contact');
    t.equal(s.count(`GET /services/data/v60.0/jobs/query/${job}`), 3, 'polled: InProgress, InProgress, JobComplete');
    const pages: number[] = [];
    let locator: string | null = null;
    const emails: string[] = [];
    do {
      const page: { rows: Record<string, string>[]; next: string | null } = await sf.bulkResults(job, locator, 10);
      pages.push(page.rows.length);
      emails.push(...page.rows.map((r) => r.Email ?? ''));
      locator = page.next;
    } while (locator);
    t.same(pages, [10, 10, 3]);
    t.equal(emails[22], 'contact23@apto-standin.example');
    const err = await sf.bulkQuery('SELECT Id, Name FROM Account').catch((e: unknown) => e);
    t.type(err, ApiError);
    t.match(String((err as Error).message), /job failed: INVALID_FIELD: scripted failure/);
    const failed = /job failed: INVALID_FIELD/.test(String((err as Error).message));
    recordOutcome({
      kind: 'fault',
      case: 'Apto (Salesforce): a Bulk API 2.0 query job ends Failed',
      expected: "stops naming the job's errorMessage",
      observed: failed ? "stops naming the job's errorMessage" : String(err),
      ok: failed,
    });
  },
);

t.test('the namespace: the package objects tell it, never assumed', async (t) => {
  t.equal(discoverNamespace(['Account', 'McLabs2__Listing__c', 'Property__c']), 'McLabs2__');
  t.equal(discoverNamespace(['Account', 'McLabs__Proposal__c']), 'McLabs__');
  t.equal(discoverNamespace(['Account', 'Listing__c', 'Sale__c']), '', 'an unnamespaced copy of the package');
  t.equal(discoverNamespace(['Account', 'Property__c', 'Other__Listing__c']), 'Other__', 'pipeline objects first');
  t.equal(discoverNamespace(['Account', 'Contact']), null, 'no Apto objects: none');
});

t.test('cycle detection: topological order, loops broken at the smallest id and reported', async (t) => {
  const nodes = [
    { id: 'c', parent: 'b', name: 'C' },
    { id: 'b', parent: 'a', name: 'B' },
    { id: 'a', parent: '', name: 'A' },
    { id: 'x', parent: 'z', name: 'X' },
    { id: 'y', parent: 'x', name: 'Y' },
    { id: 'z', parent: 'y', name: 'Z' },
    { id: 'self', parent: 'self', name: 'Self' },
    { id: 'orphan', parent: 'gone', name: 'Orphan' },
    { id: 'w', parent: 'y', name: 'W' },
  ];
  const { order, broken } = hierarchyOrder(nodes);
  t.equal(order.length, nodes.length, 'every company once');
  const at = (id: string) => order.indexOf(id);
  t.ok(at('a') < at('b') && at('b') < at('c'), 'parents first');
  t.ok(
    at('x') < at('y') && at('y') < at('z') && at('y') < at('w'),
    'the loop x→z→y→x broken at x: x first, then y, z, w',
  );
  t.same(broken.map((b) => b.id).sort(), ['self', 'x']);
  t.equal(broken.find((b) => b.id === 'x')?.cycle.join(' → '), 'X → Z → Y → X');
});

t.test(
  'the reader: namespace discovered, hierarchy ordered, deals chained, files downloaded equal, resume fetches nothing again',
  async (t) => {
    for (const ns of ['McLabs2__', 'McLabs__']) {
      const s = await standin(t, aptoOrg({ ns, contacts: 12 }), { batchSize: 5 });
      const dir = await tmp(t);
      const progress: string[] = [];
      const reader = aptoApiReader({
        auth: auth(s.url),
        dir,
        client: quick,
        onProgress: (p) => progress.push(p.message ?? ''),
      });
      const tables = await drain(reader);
      t.same(
        Object.keys(tables),
        [
          'Companies fields',
          'Companies',
          'Contacts fields',
          'Contacts',
          'Deals fields',
          'Pipeline stages',
          'Deals',
          'Tasks',
          'Emails',
          'Events',
          'Attachments',
          'Content files',
        ],
        `${ns}: the tables`,
      );
      t.equal(reader.shaper()?.report.namespace, ns, 'namespace discovered');
      t.same(
        tables.Companies?.map((r) => r.Name),
        ['Harbor Holdings', 'Harbor West', 'Harbor West Retail', 'Loop A', 'Loop B'],
        'parents before children; the loop broken at Loop A (smallest id)',
      );
      const loopA = tables.Companies?.find((r) => r.Name === 'Loop A');
      t.match(loopA, { ParentId: '', HierarchyNote: /Parent company Loop B .* loops \(Loop A → Loop B → Loop A\)/ });
      t.match(
        tables.Companies?.[2],
        {
          Investor_Type: 'REIT',
          Square_Footage_Owned: '120000.5',
          OwnerEmail: JANE,
          CreatedDate: '2021-03-04T10:11:12Z',
        },
        'custom fields without namespace and __c',
      );
      t.equal(tables.Companies?.[0]?.Jigsaw, undefined, 'standard fields the mapping does not read stay out');
      t.equal(tables.Contacts?.length, 12, 'three queryMore batches');
      const deals = tables.Deals ?? [];
      t.equal(deals.length, 4, 'four chains: three from proposals, one from a listing');
      t.match(
        deals.find((d) => d.Id === 'a0P000000000001AAA'),
        {
          Stage: 'Comp',
          StageOrder: '4',
          Won: 'true',
          Lost: 'false',
          Pipeline: 'Investment Sales',
          Amount: '2350000',
          CloseDate: '2024-06-01',
          Probability: '100',
          Entered_Proposal: '2024-01-10T15:04:05Z',
          Entered_Listing: '2024-02-01T10:00:00Z',
          Entered_Project: '2024-03-15T11:00:00Z',
          Entered_Comp: '2024-06-01T16:00:00Z',
          Listing_Asking_Price_Actual: '2500000',
        },
      );
      t.match(
        deals.find((d) => d.Id === 'a0P000000000003AAA'),
        { Stage: 'Listing', Won: 'false', Lost: 'true', Amount: '900000' },
        'a withdrawn listing: lost',
      );
      t.match(
        deals.find((d) => d.Id === 'a0L000000000004AAA'),
        { Stage: 'Listing', Pipeline: 'Apto pipeline', Entered_Listing: '2024-05-01T10:00:00Z' },
        'a chain that starts at its listing',
      );
      t.equal(deals.find((d) => d.Id === 'a0P000000000002AAA')?.Stage, 'Proposal');
      t.match(
        tables.Tasks?.find((r) => r.Id === '00T000000000002AAA'),
        { ParentObject: 'deal', ParentId: 'a0P000000000001AAA', Done: 'true', Kind: 'Call' },
        'a call on a listing hangs on its deal',
      );
      t.match(tables.Emails, [{ Id: '00T000000000003AAA', ParentObject: 'company', ParentId: '001000000000001AAA' }]);
      t.match(
        tables['Content files']?.map((r) => [r.ParentObject, r.ParentId, r.Name]),
        [
          ['company', '001000000000001AAA', 'site-photo.png'],
          ['contact', '003000000000001AAA', 'site-photo.png'],
        ],
        "one file per linked record, the user's own link left out",
      );
      const att = tables.Attachments?.[0] as Record<string, string>;
      t.same(await readFile(join(reader.filesDir as string, att.file_path as string)), PDF, 'attachment bytes equal');
      t.same(
        await readFile(join(reader.filesDir as string, tables['Content files']?.[0]?.file_path as string)),
        PNG,
        'content version bytes equal',
      );
      t.match(
        reader.notMigratable?.().map((i) => i.what),
        [/loop: Loop A → Loop B → Loop A/, /Workflow rule "Notify broker on new listing"/, /API budget/],
      );
      t.match(progress.at(-1), /API requests today: \d+ of 15000/, 'the budget shown with the progress');

      const before = [...s.requests.values()].reduce((a, b) => a + b, 0);
      const again = aptoApiReader({ auth: auth(s.url), dir, client: quick });
      const tables2 = await drain(again);
      t.same(tables2, tables, 'a second run reads the same from the spool');
      t.equal(
        [...s.requests.values()].reduce((a, b) => a + b, 0),
        before,
        'and asks the API nothing (not even a login)',
      );
    }
  },
);

t.test('large objects through the Bulk API 2.0 in the reader', async (t) => {
  const s = await standin(t, aptoOrg({ contacts: 30 }), { bulkPolls: 1 });
  const dir = await tmp(t);
  const reader = aptoApiReader({
    auth: auth(s.url),
    dir,
    client: quick,
    pollMs: 5,
    bulkThreshold: 20,
    bulkPageSize: 8,
  });
  const tables = await drain(reader);
  t.equal(tables.Contacts?.length, 30);
  t.equal(s.count('POST /services/data/v60.0/jobs/query'), 1, 'one bulk job: Contacts');
  t.equal(s.count('/results'), 4, 'four result pages of 8');
  t.equal(tables.Contacts?.[29]?.Email, 'contact30@apto-standin.example');
});

t.test('registered with its credentials; the whole org staged through the mapping', async (t) => {
  const apto = describeSources().find((x) => x.name === 'apto');
  t.match(apto, { label: 'Apto (Salesforce API)', input: 'api' });
  t.ok(describeSources().find((x) => x.name === 'apto_export'));
  t.throws(
    () => apiReader('apto', { login_url: 'https://login.salesforce.com', username: 'u' }, { dir: '/tmp/x' }),
    /access token, or the connected app/,
  );
  const s = await standin(t, aptoOrg());
  const dir = await tmp(t);
  const reader = apiReader(
    'apto',
    {
      login_url: s.url,
      client_id: 'cid',
      client_secret: 'csecret',
      username: 'broker@apto.example',
      password: 'pw+token',
    },
    { dir },
  );
  const staged = await stageExports('apto', reader);
  const by = (key: string) => staged.records.find((r) => r.key === key);
  t.match(by('apto:company:001000000000003AAA'), {
    model: 'res.partner',
    values: {
      name: 'Harbor West Retail',
      is_company: true,
      x_apto_company_investor_type: 'REIT',
      x_apto_company_square_footage_owned: 120000.5,
      source_create_date: '2021-03-04 10:11:12',
    },
    refs: { parent_id: 'apto:company:001000000000002AAA' },
    lookups: { user_id: { value: JANE, required: true } },
  });
  t.match(by('apto:company:001000000000004AAA'), { refs: {} }, 'the loop broken');
  t.match(by('apto:contact:003000000000001AAA'), {
    values: { name: 'First1 Last1', email: 'contact1@apto-standin.example', x_apto_contact_contact_type: 'Investor' },
    refs: { parent_id: 'apto:company:001000000000001AAA' },
  });
  t.match(by('apto:deal:a0P000000000001AAA'), {
    model: 'crm.lead',
    values: {
      type: 'opportunity',
      expected_revenue: 2350000,
      probability: 100,
      active: true,
      x_apto_deal_entered_proposal: '2024-01-10 15:04:05',
      x_apto_deal_entered_comp: '2024-06-01 16:00:00',
      x_apto_deal_listing_asking_price_actual: 2500000,
    },
    refs: { partner_id: 'apto:contact:003000000000001AAA' },
  });
  t.match(by('apto:deal:a0P000000000003AAA'), { values: { active: false, probability: 0 } });
  t.match(by('apto:task:00T000000000002AAA'), {
    model: 'mail.activity',
    attach_to: 'apto:deal:a0P000000000001AAA',
    values: { active: false, date_done: '2024-04-02' },
  });
  t.match(by('apto:email:00T000000000003AAA'), {
    model: 'mail.message',
    attach_to: 'apto:company:001000000000001AAA',
    values: { message_type: 'email', date: '2024-04-10 09:15:00' },
  });
  t.match(by('apto:file:00P000000000001AAA'), {
    model: 'ir.attachment',
    attach_to: 'apto:deal:a0P000000000001AAA',
    blob: { sha1: createHash('sha1').update(PDF).digest('hex'), size: PDF.length },
  });
  const field = staged.records.find((r) => r.key === 'apto:custom_field:crm.lead.x_apto_deal_entered_listing');
  t.match(
    field,
    { values: { ttype: 'datetime', field_description: 'Entered Listing' } },
    'stage-entered dates in datetime fields of their own',
  );
  t.match(staged.inventory, /Workflow rule "Notify broker on new listing"/);
  t.same(
    staged.records.filter((r) => r.issues.some((i) => i.level === 'error')).map((r) => [r.key, r.issues]),
    [],
    'no record in error',
  );
});
