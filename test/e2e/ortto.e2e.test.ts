/**
 * Ortto into a real Odoo 18 (with Calendar): the instance in test/helpers/ortto-instance.ts, served
 * by the local stand-in for Ortto's documented API (test/helpers/ortto-standin.ts), extracted
 * through the Ortto reader, staged, committed and read back: accounts before people and people
 * linked to them, typed custom fields, tags, audiences and campaign labels, the owner by email,
 * calls as done activities, meetings as calendar events, notes and events as log notes with
 * their original time in feed order; then rolled back to exactly what was there. An extraction
 * stopped by the bad-answer guard sends nothing to Odoo.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { orttoApiReader } from '../../bridge/src/sources/ortto/api.js';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { stageToOdoo } from '../../bridge/src/stage-exports.js';
import { OdooReader, m2oId, m2oName, odooEnvPresent } from '../helpers/odoo.js';
import { OrttoStandin } from '../helpers/ortto-standin.js';
import { orttoInstance, ORTTO_KEY, OWNER } from '../helpers/ortto-instance.js';

if (!odooEnvPresent() || !process.env.ODOO_DB_FULL) {
  t.fail('ODOO_URL / ODOO_DB_FULL not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}
process.env.ODOO_DB = process.env.ODOO_DB_FULL; // meetings need Calendar

const odoo = new OdooReader();
const MODELS = [
  'res.partner',
  'res.partner.category',
  'ir.model.fields',
  'mail.message',
  'mail.activity',
  'calendar.event',
  'mail.mail',
];

const counts = () => odoo.counts(MODELS);

async function spoolDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-ortto-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function standin(t: Test): Promise<OrttoStandin> {
  const { people, data } = orttoInstance();
  const s = await new OrttoStandin(people, ORTTO_KEY, 1, data).start();
  t.teardown(() => s.stop());
  return s;
}

async function rep(t: Test): Promise<number> {
  const existing = await odoo.migrations.userId(OWNER);
  if (existing !== null) return existing;
  const id = await odoo.create('res.users', { name: 'Ortto Rep', login: OWNER, email: OWNER });
  t.teardown(() => odoo.unlink('res.users', [id]).catch(() => undefined));
  return id;
}

const names = async (model: string, ids: unknown) =>
  (await odoo.read(model, [['id', 'in', ids as number[]]], ['display_name'])).map((r) => String(r.display_name)).sort();

t.test('extracted from the stand-in, staged, committed, read back, rolled back', async (t) => {
  const s = await standin(t);
  const repId = await rep(t);
  const before = await counts();
  const reader = orttoApiReader({
    apiKey: ORTTO_KEY,
    dir: await spoolDir(t),
    baseUrl: s.url,
    activityRate: { limit: 100, intervalMs: 1000 },
  });
  const { report: staged } = await stageToOdoo(odoo.migrations, 'ortto', reader, { name: 'Ortto e2e' });
  t.same(await counts(), before, 'staging writes nothing outside the migration');
  t.match(staged.counts, { error: 0 });
  t.teardown(async () => {
    if ((await odoo.migrations.state(staged.id)) !== 'rolled_back') await odoo.migrations.rollback(staged.id, 'undo');
  });

  const report = await odoo.migrations.commit(staged.id);
  t.equal(report.state, 'committed', JSON.stringify([report.failed, report.skipped]));
  t.match(report.objects, {
    account: { committed: 2 },
    person: { committed: 6 },
    activity_call: { committed: 1 },
    activity_meeting: { committed: 1 },
    activity_event: { committed: 50 },
  });

  const company = await odoo.one(
    'res.partner',
    [['source_key', '=', 'ortto:account:a-analytical']],
    [
      'name',
      'is_company',
      'website',
      'country_id',
      'user_id',
      'x_ortto_industry',
      'x_ortto_employees',
      'x_ortto_contact_count',
      'x_ortto_account_tier',
      'child_ids',
    ],
  );
  t.match(company, {
    name: 'Analytical Engines Ltd',
    is_company: true,
    website: 'https://analytical.example',
    x_ortto_industry: 'Computing',
    x_ortto_employees: 12,
    x_ortto_contact_count: 2,
    x_ortto_account_tier: 'Enterprise',
  });
  t.equal(m2oName(company.country_id), 'United Kingdom');
  t.equal(m2oId(company.user_id), repId, 'the account owner: the Odoo user with that email');

  const ada = await odoo.one(
    'res.partner',
    [['email', '=', 'ada@analytical.example']],
    [
      'id',
      'name',
      'phone',
      'city',
      'zip',
      'parent_id',
      'category_id',
      'user_id',
      'ref',
      'source_key',
      'x_ortto_lifecycle_stage',
      'x_ortto_birthday',
      'x_ortto_external_id',
      'x_ortto_email_permission',
      'x_ortto_job_title',
      'x_ortto_score',
      'x_ortto_lifetime_value',
      'x_ortto_renewal_date',
      'x_ortto_plan',
    ],
  );
  t.match(ada, {
    name: 'Ada Lovelace',
    phone: '+442079460000',
    ref: 'p-ada',
    source_key: 'ortto:person:p-ada',
    x_ortto_lifecycle_stage: 'Customer',
    x_ortto_birthday: '1815-12-10',
    x_ortto_external_id: 'EXT-1',
    x_ortto_email_permission: true,
    x_ortto_job_title: 'Engineer',
    x_ortto_score: 42,
    x_ortto_lifetime_value: 1234.5,
    x_ortto_renewal_date: '2025-01-31',
    x_ortto_plan: 'Gold',
  });
  t.equal(m2oName(ada.parent_id), 'Analytical Engines Ltd', 'the person is linked to its account');
  t.equal(m2oId(ada.user_id), repId);
  t.same(
    await names('res.partner.category', ada.category_id),
    [
      'Engaged last 30 days',
      'Interests: Analytics',
      'Interests: Events',
      'Ortto campaigns / March newsletter',
      'Ortto static audiences / Conference 2024 list',
      'newsletter',
      'vip',
    ],
    'tags, the dynamic audience as a tag, the static one and the campaign under their families, multi-select values as tags',
  );
  const types = Object.fromEntries(
    (
      await odoo.read(
        'ir.model.fields',
        [
          ['model', '=', 'res.partner'],
          ['name', 'like', 'x_ortto_'],
        ],
        ['name', 'ttype'],
      )
    ).map((f) => [f.name, f.ttype]),
  );
  t.match(types, {
    x_ortto_score: 'integer',
    x_ortto_lifetime_value: 'float',
    x_ortto_renewal_date: 'date',
    x_ortto_plan: 'selection',
    x_ortto_job_title: 'char',
    x_ortto_email_permission: 'boolean',
  });
  const grace = await odoo.one('res.partner', [['email', '=', 'grace@difference.example']], ['parent_id', 'user_id']);
  t.equal(m2oName(grace.parent_id), 'Difference Co');
  t.equal(
    await odoo.count('res.partner', [
      ['email', '=', 'edsger@solo.example'],
      ['parent_id', '=', false],
    ]),
    1,
    'a person without an account stands alone',
  );

  const [call] = await odoo.read(
    'mail.activity',
    [
      ['res_model', '=', 'res.partner'],
      ['res_id', '=', ada.id],
      ['active', '=', false],
    ],
    ['summary', 'activity_type_id', 'date_done', 'user_id', 'note', 'state'],
  );
  t.match(
    call,
    { summary: 'Intro call', date_done: '2024-03-04', state: 'done' },
    'the call: a done activity with its date',
  );
  t.equal(m2oName(call?.activity_type_id), 'Call');
  t.equal(m2oId(call?.user_id), repId);
  t.match(String(call?.note), /Discussed pricing/);

  const meeting = await odoo.one(
    'calendar.event',
    [['name', '=', 'Quarterly review']],
    ['start', 'stop', 'location', 'partner_ids', 'source_create_date'],
  );
  t.match(
    meeting,
    { start: '2024-03-05 14:00:00', stop: '2024-03-05 14:45:00', location: 'Zoom' },
    'the meeting at its original time',
  );
  t.ok((meeting.partner_ids as number[]).includes(ada.id as number), 'Ada attends');

  const history = await odoo.read(
    'mail.message',
    [
      ['model', '=', 'res.partner'],
      ['res_id', '=', ada.id],
      ['message_type', '=', 'comment'],
    ],
    ['id', 'subject', 'date', 'body', 'author_id'],
  );
  const byId = [...history].sort((a, b) => Number(a.id) - Number(b.id));
  t.same(
    byId.map((m) => [m.subject, m.date]),
    [
      ['Webinar attended', '2024-02-28 17:15:30'],
      ['Sent email', '2024-03-01 09:00:00'],
      ['Opened email', '2024-03-02 10:00:00'],
      ['Clicked email', '2024-03-02 10:00:05'],
      ['Note added', '2024-03-03 08:00:00'],
    ],
    'log notes with the event name and its original time, created oldest first: the chatter reads in feed order',
  );
  t.match(String(byId[4]?.body), /Prefers email over phone/);
  t.equal(m2oName(byId[0]?.author_id), 'Imported from ortto');
  const charles = await odoo.one('res.partner', [['email', '=', 'charles@analytical.example']], ['id']);
  const views = await odoo.read(
    'mail.message',
    [
      ['model', '=', 'res.partner'],
      ['res_id', '=', charles.id],
      ['subject', '=', 'Visited page'],
    ],
    ['id', 'date'],
  );
  t.equal(views.length, 45, 'a feed over two pages: every event');
  const dates = [...views].sort((a, b) => Number(a.id) - Number(b.id)).map((v) => String(v.date));
  t.same(dates, [...dates].sort(), 'in time order by id');
  t.equal(await odoo.count('mail.mail'), before['mail.mail'], 'no mail queued');

  const rolled = await odoo.migrations.rollback(staged.id, 'undo');
  t.equal(rolled.state, 'rolled_back');
  t.same(await counts(), before, 'rollback leaves Odoo exactly as before');
});

t.test('an extraction the guard stops sends nothing to Odoo', async (t) => {
  const s = await standin(t);
  s.troubleAt.set(
    'accounts/get',
    Array.from({ length: 30 }, () => 'server-error' as const),
  );
  const migrations = await odoo.count('crm.migration');
  const reader = orttoApiReader({
    apiKey: ORTTO_KEY,
    dir: await spoolDir(t),
    baseUrl: s.url,
    client: { backoffMs: 5, maxAttempts: 30 },
  });
  await t.rejects(
    stageToOdoo(odoo.migrations, 'ortto', reader, { name: 'Ortto stopped' }),
    /stopped: 10 bad answers within 15 s/,
  );
  t.equal(await odoo.count('crm.migration'), migrations, 'no migration made');
  t.ok(s.maxBadWithin() < 15);
  t.equal(s.bans, 0);
});

t.test(
  'through POST /migrations/:id/extract: a 400 mid-feed fails the job as resumable, Resume continues where it stopped',
  async (t) => {
    const s = await standin(t);
    await rep(t);
    const previousUrl = process.env.CRM_MIGRATION_ORTTO_URL;
    process.env.CRM_MIGRATION_ORTTO_URL = s.url; // test only: the registered source reads the stand-in
    t.teardown(() => {
      if (previousUrl === undefined) delete process.env.CRM_MIGRATION_ORTTO_URL;
      else process.env.CRM_MIGRATION_ORTTO_URL = previousUrl;
    });
    const spoolRoot = await spoolDir(t);
    const TOKEN = 'e2e-ortto-token-0123456789';
    const app = await buildApp({
      config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, BRIDGE_SPOOL_DIR: spoolRoot }),
      migrations: odoo.migrations,
    });
    t.teardown(() => app.close());
    const id = await odoo.migrations.create('Ortto, resumed', 'ortto');
    t.teardown(() => odoo.transport.call('crm.migration', 'unlink', [[id]]));
    const extract = (payload: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: `/migrations/${id}/extract`,
        payload,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
    const jobEnd = async (): Promise<Record<string, unknown>> => {
      for (const until = Date.now() + 120_000; Date.now() < until;) {
        const m = await odoo.one(
          'crm.migration',
          [['id', '=', id]],
          ['state', 'job_state', 'job_message', 'job_resumable'],
        );
        if (m.job_state !== 'running' && m.job_state !== 'queued') return m;
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error('job still running');
    };
    const credentials = { api_key: ORTTO_KEY, region: 'au', plan: 'business' };
    t.equal(
      (await extract({ source: 'ortto', credentials: { api_key: ORTTO_KEY, region: 'us', plan: 'pro' } })).statusCode,
      422,
      'a region Ortto does not have is refused',
    );

    // the feed's third request (Charles, offset 40) is refused with a 400: never retried, the job stops
    s.troubleAt.set('person/get/activities', ['ok', 'ok', 'bad-request']);
    t.equal((await extract({ source: 'ortto', credentials })).statusCode, 202);
    let m = await jobEnd();
    t.match(m, { job_state: 'failed', job_resumable: true });
    t.match(m.job_message, /person\/get\/activities: HTTP 400/);
    t.equal(
      await odoo.count('crm.migration.record', [['migration_id', '=', id]]),
      0,
      'nothing staged from a stopped extraction',
    );
    const asked = Object.fromEntries(s.requestsAt);

    const resumed = await extract({ source: 'ortto', credentials, resume: true });
    t.equal(resumed.statusCode, 202, resumed.body);
    m = await jobEnd();
    t.equal(m.job_state, 'done', String(m.job_message));
    t.equal(s.requestsAt.get('person/get'), asked['person/get'], 'people and audience members not asked again');
    t.equal(s.requestsAt.get('accounts/get'), asked['accounts/get']);
    t.equal(
      (s.requestsAt.get('person/get/activities') ?? 0) - (asked['person/get/activities'] ?? 0),
      5,
      'the feed continued at Charles, offset 40: five requests',
    );
    t.equal(
      await odoo.count('crm.migration.record', [
        ['migration_id', '=', id],
        ['object', '=', 'activity_event'],
      ]),
      50,
      'every event staged once',
    );
    t.match(m.state, /^(uploaded|mapped)$/);
  },
);
