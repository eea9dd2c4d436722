/**
 * The Ortto source's client and reader against the local stand-in for Ortto's documented API
 * (test/helpers/ortto-standin.ts, instance in test/helpers/ortto-instance.ts): cursor paging of
 * people and accounts, offset paging of the activity feed per person (40 a page, 1 request a
 * second), audience members, a 429 whose body names the wait, bad-request answers (never
 * retried), the guard that never lets 15 bad requests through within 15 s (also across a resume),
 * resume from the spool, the region's host, and what the rows stage into.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ApiStoppedError } from '../../bridge/src/sources/api/http-client.js';
import { readCheckpoint } from '../../bridge/src/sources/api/spool.js';
import { orttoApiReader, type OrttoReaderOptions } from '../../bridge/src/sources/ortto/api.js';
import { apiReader, describeSources, findSource, mappingPath } from '../../bridge/src/sources/registry.js';
import { loadMapping } from '../../bridge/src/mapping/load.js';
import { MappingEngine } from '../../bridge/src/mapping/engine.js';
import type { SourceReader } from '../../bridge/src/sources/reader.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { OrttoStandin, orttoPeople } from '../helpers/ortto-standin.js';
import { orttoInstance, ORTTO_KEY, OWNER } from '../helpers/ortto-instance.js';
import { recordOutcome } from '../helpers/fault-table.js';

async function spoolDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-ortto-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function standin(t: Test, people = orttoInstance().people, data = orttoInstance().data): Promise<OrttoStandin> {
  const s = await new OrttoStandin(people, ORTTO_KEY, 1, data).start();
  t.teardown(() => s.stop());
  return s;
}

function reader(s: OrttoStandin, dir: string, extra: Partial<OrttoReaderOptions> = {}): SourceReader {
  return orttoApiReader({
    apiKey: ORTTO_KEY,
    dir,
    baseUrl: s.url,
    activityRate: { limit: 1000, intervalMs: 1000 },
    ...extra,
    client: { backoffMs: 5, rate: { limit: 1000, intervalMs: 1000 }, ...extra.client },
  });
}

async function readAll(
  r: SourceReader,
): Promise<Map<string, { object?: string | undefined; header: string[]; rows: Record<string, string>[] }>> {
  const out = new Map<string, { object?: string | undefined; header: string[]; rows: Record<string, string>[] }>();
  for await (const table of r.tables()) {
    const rows = [];
    for await (const row of table.rows) rows.push(row.cells);
    out.set(table.name, { object: table.object, header: table.header, rows });
  }
  return out;
}

t.test('registered: GET /sources lists Ortto with its key, region and plan; credentials checked', async (t) => {
  const ortto = describeSources().find((s) => s.name === 'ortto');
  t.match(ortto, { label: 'Ortto (API)', input: 'api' });
  t.same(
    ortto?.credentials.map((c) => [c.name, c.secret, c.options ?? null]),
    [
      ['api_key', true, null],
      ['region', false, ['default', 'eu', 'au']],
      ['plan', false, ['free', 'campaigns', 'pro', 'business', 'enterprise']],
    ],
  );
  t.throws(
    () => apiReader('ortto', { api_key: 'k', region: 'mars', plan: 'pro' }, { dir: '/tmp/x' }),
    /Region \(instance host\) must be one of default, eu, au/,
  );
  t.throws(() => apiReader('ortto', { region: 'eu', plan: 'pro' }, { dir: '/tmp/x' }), /API key is required/);
});

t.test('the region picks the documented host; the key goes in X-Api-Key', async (t) => {
  for (const [region, host] of [
    ['default', 'https://api.ap3api.com/v1/'],
    ['eu', 'https://api.eu.ap3api.com/v1/'],
    ['au', 'https://api.au.ap3api.com/v1/'],
  ] as const) {
    const seen: { url: string; key: string | null }[] = [];
    const fakeNet = (async (url: URL | string, init?: RequestInit) => {
      seen.push({ url: String(url), key: new Headers(init?.headers).get('x-api-key') });
      return new Response(JSON.stringify({ fields: [] }), { status: 200 });
    }) as typeof fetch;
    const r = orttoApiReader({
      apiKey: 'secret-key',
      region,
      dir: await spoolDir(t),
      client: { fetch: fakeNet, maxAttempts: 1 },
    });
    await t.rejects(readAll(r));
    t.equal(seen[0]?.url, `${host}person/custom-field/get`, `${region}: ${host}`);
    t.equal(seen[0]?.key, 'secret-key');
  }
});

t.test(
  'cursor paging of people (500 a page), audience members, the feed per person (40 a page, offsets)',
  async (t) => {
    const { data } = orttoInstance();
    const people = orttoPeople(700);
    data.accounts = [];
    data.activities = {
      [String(people[1]?.id)]: Array.from({ length: 85 }, (_, i) => ({
        activity_id: 'act::v',
        activity_name: 'Visited page',
        timestamp: new Date(Date.UTC(2024, 0, 1, 0, 85 - i)).toISOString(),
      })),
    };
    data.audiences = [
      {
        id: 'aud-1',
        name: 'All',
        type: 'dynamic',
        filter: { $has_any_value: { field_id: 'str::email' } },
        members: people.slice(0, 600).map((p) => String(p.id)),
      },
    ];
    const s = await standin(t, people, data);
    const tables = await readAll(reader(s, await spoolDir(t)));
    t.equal(tables.get('People')?.rows.length, 700);
    const personGets = s.log.filter((l) => l.path === 'person/get' && l.body.audience_id === undefined);
    t.same(
      personGets.map((l) => [l.body.limit, typeof l.body.cursor_id]),
      [
        [500, 'undefined'],
        [500, 'string'],
      ],
      'two pages of 500, the second by the cursor of the first',
    );
    const memberGets = s.log.filter((l) => l.path === 'person/get' && l.body.audience_id === 'aud-1');
    t.equal(memberGets.length, 2, '600 members: two pages');
    const feed = s.log.filter((l) => l.path === 'person/get/activities');
    t.equal(feed.length, 700 + 2, 'one request per person, two more for the person with 85 events');
    const paged = feed.filter((l) => l.body.person_id === people[1]?.id);
    t.same(
      paged.map((l) => [l.body.offset, l.body.limit]),
      [
        [0, 40],
        [40, 40],
        [80, 40],
      ],
    );
    t.same(paged[0]?.body.timeframe, { type: 'all' }, 'the whole history, not the last 30 days');
    t.equal(tables.get('Activities: notes and events')?.rows.length, 85);
    t.match(tables.get('People')?.rows[0], {
      id: String(people[0]?.id),
      dynamic_audiences: 'All',
      tags: 'vip|batch-0',
      phone: '+61 412345600',
      city: 'Sydney',
    });
  },
);

t.test('the feed keeps its documented pace: 1 request a second by default', async (t) => {
  const { people, data } = orttoInstance();
  const s = await standin(t, people.slice(0, 3), { ...data, audiences: [], activities: {} });
  await readAll(reader(s, await spoolDir(t), { activityRate: undefined }));
  const at = s.log.filter((l) => l.path === 'person/get/activities').map((l) => l.at);
  t.equal(at.length, 3);
  t.ok(
    (at[2] as number) - (at[0] as number) >= 1900,
    `three feed requests over ${(at[2] as number) - (at[0] as number)} ms`,
  );
});

t.test('a 429 waits the try-in-seconds its body names, then the same request goes again', async (t) => {
  const s = await standin(t);
  s.troubleAt.set('accounts/get', ['rate-limit']);
  const started = Date.now();
  const tables = await readAll(reader(s, await spoolDir(t)));
  t.ok(Date.now() - started >= 950, 'waited the 1 s the body asked');
  t.equal(s.requestsAt.get('accounts/get'), 2);
  t.equal(tables.get('Accounts')?.rows.length, 2);
  recordOutcome({
    kind: 'fault',
    case: 'Ortto API: 429 with try-in-seconds in the body',
    expected: 'wait the named time, ask again once',
    observed: `waited ${Date.now() - started} ms, ${s.requestsAt.get('accounts/get')} requests`,
    ok: s.requestsAt.get('accounts/get') === 2,
  });
});

t.test("bad requests stop at once with Ortto's message, never retried", async (t) => {
  const s = await standin(t);
  s.troubleAt.set('tags/get', ['bad-request']);
  await t.rejects(
    readAll(reader(s, await spoolDir(t))),
    /Ortto API, POST \/v1\/tags\/get: HTTP 400: .*invalid request body/,
  );
  t.equal(s.requestsAt.get('tags/get'), 1, 'a 400 is not asked again');
  recordOutcome({
    kind: 'fault',
    case: 'Ortto API: 400 bad request',
    expected: "stop at once with Ortto's message, no retry",
    observed: `${s.requestsAt.get('tags/get')} request, stopped`,
    ok: s.requestsAt.get('tags/get') === 1,
  });
  const wrongKey = orttoApiReader({ apiKey: 'wrong', dir: await spoolDir(t), baseUrl: s.url });
  await t.rejects(readAll(wrongKey), /HTTP 401.*invalid API key.*credentials were refused/);
});

t.test(
  'never 15 bad requests within 15 s: the client stops at 10 and a resume right after sends nothing',
  async (t) => {
    const s = await standin(t);
    s.troubleAt.set(
      'person/custom-field/get',
      Array.from({ length: 40 }, () => 'server-error' as const),
    );
    const dir = await spoolDir(t);
    const client = { backoffMs: 5, maxAttempts: 40 };
    const err = await readAll(reader(s, dir, { client })).catch((e: unknown) => e);
    t.ok(err instanceof ApiStoppedError, 'stopped by the guard');
    t.match(String(err), /stopped: 10 bad answers within 15 s .*nothing more is sent, resume later/);
    t.equal(s.requestsAt.get('person/custom-field/get'), 10);
    for (let i = 0; i < 3; i += 1) {
      const again = await readAll(reader(s, dir, { client })).catch((e: unknown) => e);
      t.ok(again instanceof ApiStoppedError, `resume ${i + 1} stops before sending`);
    }
    t.equal(
      s.requestsAt.get('person/custom-field/get'),
      10,
      'the resumes sent nothing (one guard for every Ortto client of the host)',
    );
    t.ok(s.maxBadWithin(15_000) < 15, `at most ${s.maxBadWithin(15_000)} bad requests within 15 s`);
    t.equal(s.bans, 0, 'the stand-in never banned us');
    recordOutcome({
      kind: 'fault',
      case: 'Ortto API: an endpoint failing on every request, then 3 resumes at once (ban at 15 bad in 15 s)',
      expected: 'stop and report before 15 bad requests in 15 s, resumes send nothing',
      observed: `${s.maxBadWithin(15_000)} bad within 15 s, ${s.bans} ban(s)`,
      ok: s.maxBadWithin(15_000) < 15 && s.bans === 0,
    });
  },
);

t.test('resume: a stop in the middle of the feed continues from the spooled cursor', async (t) => {
  const s = await standin(t);
  const dir = await spoolDir(t);
  // the feed's 3rd request (Charles, offset 40) is dropped, and so is its retry
  s.troubleAt.set('person/get/activities', ['ok', 'ok', 'drop', 'drop']);
  const failing = reader(s, dir, { client: { backoffMs: 5, maxAttempts: 2 } });
  await t.rejects(readAll(failing), /person\/get\/activities: connection failed .*gave up after 2 tries/);
  const before = s.log.filter((l) => l.path === 'person/get/activities').map((l) => [l.body.person_id, l.body.offset]);
  t.equal(before.length, 4);
  const cp = await readCheckpoint(dir);
  t.same(cp?.objects.Activities?.next, { p: 1, o: 40 }, 'the checkpoint holds the next page: Charles, offset 40');
  const staged = await stageExports('ortto', reader(s, dir));
  const after = s.log
    .filter((l) => l.path === 'person/get/activities')
    .map((l) => [l.body.person_id, l.body.offset])
    .slice(before.length);
  t.same(after[0], ['p-charles', 40], 'resumed where it stopped');
  t.equal(after.length, 5, 'then the four people after Charles: nothing fetched twice');
  t.equal(staged.records.filter((r) => r.object === 'activity_event').length, 50);
});

t.test(
  'what the rows stage into: accounts first, links, tags, audiences, campaigns, typed custom fields, activities split by kind',
  async (t) => {
    const s = await standin(t);
    const staged = await stageExports('ortto', reader(s, await spoolDir(t)));
    const byKey = new Map(staged.records.map((r) => [r.key, r]));
    const ada = byKey.get('ortto:person:p-ada');
    t.match(ada?.values, {
      name: 'Ada Lovelace',
      email: 'ada@analytical.example',
      phone: '+442079460000',
      ref: 'p-ada',
      city: 'London',
      x_ortto_lifecycle_stage: 'Customer',
      x_ortto_birthday: '1815-12-10',
      x_ortto_job_title: 'Engineer',
      x_ortto_score: 42,
      x_ortto_lifetime_value: 1234.5,
      x_ortto_renewal_date: '2025-01-31',
      x_ortto_plan: 'Gold',
      x_ortto_email_permission: true,
    });
    t.same(ada?.refs.parent_id, 'ortto:account:a-analytical', 'the person links to the account created before it');
    t.same([...(ada?.refs.category_id as string[])].sort(), [
      'ortto:campaign_tag:march newsletter',
      'ortto:static_audience:conference 2024 list',
      'ortto:tag:engaged last 30 days',
      'ortto:tag:interests: analytics',
      'ortto:tag:interests: events',
      'ortto:tag:newsletter',
      'ortto:tag:vip',
    ]);
    t.match(
      ada?.lookups.user_id,
      { model: 'res.users', field: 'login', value: OWNER, required: true },
      'owner by email, waiting when no user has it',
    );
    t.match(byKey.get('ortto:account:a-analytical')?.values, {
      name: 'Analytical Engines Ltd',
      is_company: true,
      website: 'https://analytical.example',
      x_ortto_employees: 12,
      x_ortto_contact_count: 2,
      x_ortto_account_tier: 'Enterprise',
    });
    t.match(byKey.get('ortto:static_audience:conference 2024 list')?.refs, {
      parent_id: 'ortto:audience_family:ortto static audiences',
    });
    const fields = new Map(
      staged.records.filter((r) => r.model === 'ir.model.fields').map((r) => [r.values.name, r.values.ttype]),
    );
    t.match(Object.fromEntries(fields), {
      x_ortto_job_title: 'char',
      x_ortto_score: 'integer',
      x_ortto_lifetime_value: 'float',
      x_ortto_renewal_date: 'date',
      x_ortto_plan: 'selection',
      x_ortto_account_tier: 'char',
    });
    t.notOk(
      [...fields.keys()].some((n) => /orders|interests/.test(String(n))),
      'no field for the aggregate nor the multi-select',
    );
    const call = staged.records.find((r) => r.object === 'activity_call');
    t.match(call, {
      model: 'mail.activity',
      attach_to: 'ortto:person:p-ada',
      values: { summary: 'Intro call', active: false, date_done: '2024-03-04' },
      lookups: { activity_type_id: { value: 'Call' } },
    });
    const meeting = staged.records.find((r) => r.object === 'activity_meeting');
    t.match(meeting, {
      model: 'calendar.event',
      values: { name: 'Quarterly review', start: '2024-03-05 14:00:00', stop: '2024-03-05 14:45:00', location: 'Zoom' },
      refs: { partner_ids: ['ortto:person:p-ada'] },
    });
    const notes = staged.records.filter((r) => r.object === 'activity_event' && r.attach_to === 'ortto:person:p-ada');
    t.same(
      notes.map((n) => [n.values.subject, n.values.date]),
      [
        ['Note added', '2024-03-03 08:00:00'],
        ['Clicked email', '2024-03-02 10:00:05'],
        ['Opened email', '2024-03-02 10:00:00'],
        ['Sent email', '2024-03-01 09:00:00'],
        ['Webinar attended', '2024-02-28 17:15:30'],
      ],
      'notes and events with their name and original time, in feed order',
    );
    t.match(staged.inventory, /## Audiences \(segment inventory\)[\s\S]*Engaged last 30 days \| dynamic \| 3 \|/);
    t.match(staged.inventory, /March newsletter \| email \| sent \| 120 \| 118 \| 60 \| 12 \| 0\.51 \| 0\.1 \| 1 \|/);
    t.match(staged.inventory, /## Journeys[\s\S]*Welcome journey \| on \| Person created/);
    t.match(staged.inventory, /Newsletter popup \| popup \| on \| Email: email, required; First name: text/);
    t.match(staged.inventory, /Getting started \| Basics \| published \| 2024-01-02 \| 4 \| 2 \|/);
    t.match(staged.inventory, /\| person \| Orders total \| `int:cm:orders-total` \|/);
    const requests = Object.fromEntries(s.requestsAt);
    t.equal(requests['person/get/activities'], 7, 'six people, one with a second page');
  },
);

t.test(
  "header variants: the same people staged under the reader's columns, Ortto's field ids and their labels",
  async (t) => {
    const mapping = await loadMapping(mappingPath(findSource('ortto') as NonNullable<ReturnType<typeof findSource>>));
    const canonical = {
      id: 'p-1',
      first_name: 'Ada',
      last_name: 'Lovelace',
      email: 'ADA@analytical.example',
      phone: '+44 2079460000',
      city: 'London',
      country: 'United Kingdom',
      postal: 'SW1A 1AA',
      birthday: '1815-12-10',
      external_id: 'EXT-1',
      account_id: '',
      tags: 'vip|newsletter',
    };
    const spellings: Record<string, Record<string, string>> = {
      'reader columns': {},
      'Ortto field ids': {
        first_name: 'str::first',
        last_name: 'str::last',
        email: 'str::email',
        phone: 'phn::phone',
        city: 'geo::city',
        country: 'geo::country',
        postal: 'str::postal',
        birthday: 'dtz::b',
        external_id: 'str::ei',
        account_id: 'idt::o',
      },
      'UI labels': {
        first_name: 'First name',
        last_name: 'Last name',
        email: 'Email',
        phone: 'Phone',
        city: 'City',
        country: 'Country',
        postal: 'Postal code',
        birthday: 'Birthday',
        external_id: 'External ID',
        account_id: 'Account ID',
        tags: 'Tags',
      },
    };
    const staged: Record<string, unknown>[] = [];
    for (const [variant, rename] of Object.entries(spellings)) {
      const cells = Object.fromEntries(Object.entries(canonical).map(([k, v]) => [rename[k] ?? k, v]));
      const table = {
        name: `People (${variant})`,
        object: 'person',
        header: Object.keys(cells),
        rows: (async function* () {
          yield { row: 1, cells };
        })(),
      };
      const result = await MappingEngine.stage(mapping, {
        describe: () => variant,
        async *tables() {
          yield table;
        },
      });
      const person = result.records.find((r) => r.object === 'person');
      t.same(person?.issues, [], `${variant}: no issue`);
      staged.push({ values: person?.values, refs: person?.refs });
    }
    t.match(staged[0], {
      values: {
        name: 'Ada Lovelace',
        email: 'ada@analytical.example',
        phone: '+442079460000',
        zip: 'SW1A 1AA',
        x_ortto_birthday: '1815-12-10',
        x_ortto_external_id: 'EXT-1',
      },
    });
    t.same(staged[1], staged[0], "Ortto's field ids stage the same record");
    t.same(staged[2], staged[0], "the UI's labels stage the same record");
  },
);
