/**
 * Apto into a real Odoo 18, read from the local stand-in for the Salesforce REST API
 * (test/helpers/salesforce-standin.ts, org in test/helpers/apto-org.ts): companies with their
 * hierarchy (a loop broken and noted), contacts under their company, deals with a sales team per
 * pipeline and a stage per pipeline object (Comp won, a withdrawn listing lost), the stage-entered
 * dates in fields of their own, custom `__c` fields as `x_` fields, activities (a task, a logged
 * call, an event) with their owner and dates, a logged email with its original date, an
 * Attachment and a shared ContentVersion as ir.attachment on the right records with equal bytes,
 * an unknown owner waiting until reconciled; then rolled back to exactly what was there. And the
 * same org from a Data Export zip.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { aptoApiReader } from '../../bridge/src/sources/apto/api.js';
import { aptoExportReader } from '../../bridge/src/sources/apto/export-zip.js';
import { stageToOdoo } from '../../bridge/src/stage-exports.js';
import { m2oId, m2oName, odooEnvPresent, OdooReader, STAGE_TEAM_FIELD, type Row } from '../helpers/odoo.js';
import { SalesforceStandin } from '../helpers/salesforce-standin.js';
import { aptoExportEntries, aptoOrg, BOB, JANE, PDF, PNG } from '../helpers/apto-org.js';
import { writeZip } from '../helpers/zip-writer.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const MODELS = [
  'res.partner',
  'crm.lead',
  'crm.stage',
  'crm.team',
  'ir.model.fields',
  'mail.message',
  'mail.activity',
  'ir.attachment',
  'mail.mail',
];
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  // the migration's own files (its inventory, its uploads) are not the org's
  for (const m of MODELS)
    out[m] = await odoo.count(m, m === 'ir.attachment' ? [['res_model', 'not like', 'crm.migration%']] : []);
  return out;
}

async function jane(t: Test): Promise<number> {
  const existing = await odoo.migrations.userId(JANE);
  if (existing !== null) return existing;
  const id = await odoo.create('res.users', { name: 'Jane Broker', login: JANE, email: JANE });
  t.teardown(() => odoo.unlink('res.users', [id]).catch(() => undefined));
  return id;
}

async function tmp(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-apto-e2e-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test(
  'Apto through the Salesforce API (stand-in) into Odoo: fields, links, hierarchy, stages, dates, files; rollback exact',
  async (t) => {
    const janeId = await jane(t);
    const s = await new SalesforceStandin(aptoOrg(), { batchSize: 5 }).start();
    t.teardown(() => s.stop());
    const dir = await tmp(t);
    const before = await counts();
    const stagesBefore = await odoo.read('crm.stage', [], ['name', 'sequence', 'is_won', STAGE_TEAM_FIELD]);

    const started = Date.now();
    const reader = aptoApiReader({
      auth: {
        loginUrl: s.url,
        clientId: 'cid',
        clientSecret: 'csecret',
        username: 'broker@apto.example',
        password: 'pw+token',
      },
      dir,
      client: { backoffMs: 10 },
    });
    const { report: staged } = await stageToOdoo(odoo.migrations, 'apto', reader, { name: 'Apto e2e' });
    t.same(await counts(), before, 'staging writes nothing outside the migration');

    const first = await odoo.migrations.commit(staged.id);
    t.equal(first.state, 'partial', 'the record of the unknown owner waits');
    t.match(first.counts, { waiting: 1, failed: 0 }, `${BOB}'s contact waits for its owner`);
    t.same(first.failed, []);
    await odoo.migrations.resolveOwner(staged.id, BOB, janeId);
    const second = await odoo.migrations.commit(staged.id);
    t.equal(second.state, 'committed');
    t.same(second.failed, []);
    t.same(second.skipped, []);
    t.comment(`staged and committed in ${Date.now() - started} ms; ${s.used} API requests, ${s.logins} login`);

    // companies and their hierarchy
    const company = (name: string) =>
      odoo.one(
        'res.partner',
        [
          ['name', '=', name],
          ['is_company', '=', true],
        ],
        [
          'id',
          'parent_id',
          'ref',
          'comment',
          'user_id',
          'source_create_date',
          'x_apto_company_investor_type',
          'x_apto_company_square_footage_owned',
          'website',
          'phone',
          'city',
          'country_id',
        ],
      );
    const holdings = await company('Harbor Holdings');
    const west = await company('Harbor West');
    const retail = await company('Harbor West Retail');
    t.match(holdings, {
      parent_id: false,
      ref: '001000000000001AAA',
      website: 'https://harbor.example',
      x_apto_company_investor_type: 'REIT',
      x_apto_company_square_footage_owned: 900000,
      source_create_date: '2020-01-15 08:30:00',
    });
    t.equal(m2oName(holdings.country_id), 'United States');
    t.equal(m2oId(holdings.user_id), janeId, 'owner → user by email');
    t.equal(m2oId(west.parent_id), holdings.id, 'Harbor West under Harbor Holdings');
    t.equal(m2oId(retail.parent_id), west.id, 'Harbor West Retail under Harbor West');
    t.match(retail, { x_apto_company_investor_type: 'REIT', x_apto_company_square_footage_owned: 120000.5 });
    const loopA = await company('Loop A');
    const loopB = await company('Loop B');
    t.equal(loopA.parent_id, false, 'the loop broken at Loop A');
    t.match(String(loopA.comment), /Parent company Loop B .* loops \(Loop A → Loop B → Loop A\)/);
    t.equal(m2oId(loopB.parent_id), loopA.id, 'Loop B keeps its parent');

    // contacts
    const c1 = await odoo.one(
      'res.partner',
      [['email', '=', 'contact1@apto-standin.example']],
      ['id', 'name', 'function', 'parent_id', 'user_id', 'x_apto_contact_contact_type', 'source_create_date'],
    );
    t.match(c1, {
      name: 'First1 Last1',
      function: 'Managing Partner',
      x_apto_contact_contact_type: 'Investor',
      source_create_date: '2023-01-10 12:00:00',
    });
    t.equal(m2oId(c1.parent_id), holdings.id);
    t.equal(m2oId(c1.user_id), janeId);
    t.equal(
      await odoo.count('res.partner', [['email', '=like', 'contact%@apto-standin.example']]),
      12,
      'every contact of the three query batches',
    );

    // deals, pipelines, stages
    const deal = (name: string) =>
      odoo.one(
        'crm.lead',
        [['name', '=', name]],
        [
          'id',
          'type',
          'stage_id',
          'team_id',
          'partner_id',
          'user_id',
          'expected_revenue',
          'date_deadline',
          'probability',
          'active',
          'source_create_date',
          'source_key',
          'x_apto_deal_entered_proposal',
          'x_apto_deal_entered_listing',
          'x_apto_deal_entered_project',
          'x_apto_deal_entered_comp',
          'x_apto_deal_listing_asking_price_actual',
          'x_apto_deal_proposal_status',
          'x_apto_deal_comp_sale_date',
        ],
      );
    const won = await deal('100 Harbor Way – disposition');
    t.match(won, {
      type: 'opportunity',
      expected_revenue: 2350000,
      date_deadline: '2024-06-01',
      probability: 100,
      active: true,
      source_create_date: '2024-01-10 15:04:05',
      source_key: 'apto:deal:a0P000000000001AAA',
      x_apto_deal_entered_proposal: '2024-01-10 15:04:05',
      x_apto_deal_entered_listing: '2024-02-01 10:00:00',
      x_apto_deal_entered_project: '2024-03-15 11:00:00',
      x_apto_deal_entered_comp: '2024-06-01 16:00:00',
      x_apto_deal_listing_asking_price_actual: 2500000,
      x_apto_deal_proposal_status: 'Won',
      x_apto_deal_comp_sale_date: '2024-06-01',
    });
    t.equal(m2oName(won.stage_id), 'Comp');
    t.equal(m2oName(won.team_id), 'Investment Sales', 'its pipeline (record type) is a sales team');
    t.equal(m2oId(won.partner_id), c1.id, 'the client contact');
    t.equal(m2oId(won.user_id), janeId);
    const lost = await deal('Dockside sale');
    t.match(lost, {
      active: false,
      probability: 0,
      x_apto_deal_entered_listing: '2024-04-01 10:00:00',
      x_apto_deal_entered_comp: false,
    });
    t.equal(m2oName(lost.stage_id), 'Listing', 'lost at the stage it reached');
    const leasing = await deal('Pier 7 lease-up');
    t.equal(m2oName(leasing.team_id), 'Leasing');
    t.equal(m2oName(leasing.stage_id), 'Proposal');
    t.equal(m2oId(leasing.partner_id), west.id, 'no client contact: the client company');
    t.equal(m2oName((await deal('Warehouse 12 (no proposal)')).team_id), 'Apto pipeline');
    const stages = await odoo.read(
      'crm.stage',
      [['name', 'in', ['Proposal', 'Listing', 'Project', 'Comp']]],
      ['name', 'sequence', 'is_won'],
    );
    t.same(
      stages.sort((a, b) => Number(a.sequence) - Number(b.sequence)).map((x) => [x.name, x.is_won]),
      [
        ['Proposal', false],
        ['Listing', false],
        ['Project', false],
        ['Comp', true],
      ],
      "the org's stages in pipeline order, Comp won",
    );

    // activities, emails, files
    const acts = await odoo.read(
      'mail.activity',
      [
        ['res_model', 'in', ['res.partner', 'crm.lead']],
        ['res_id', 'in', [Number(c1.id), Number(won.id)]],
      ],
      ['res_model', 'res_id', 'summary', 'date_deadline', 'active', 'date_done', 'user_id', 'activity_type_id'],
    );
    t.same(
      acts
        .map((a) => [
          a.res_model,
          a.summary,
          a.date_deadline,
          a.active,
          a.date_done,
          m2oId(a.user_id),
          m2oName(a.activity_type_id),
        ])
        .sort(),
      [
        ['crm.lead', 'Call: pricing feedback', '2024-04-02', false, '2024-04-02', janeId, 'Call'],
        ['crm.lead', 'Property tour', '2024-03-20', false, '2024-03-20', janeId, 'Meeting'],
        ['res.partner', 'Send the offering memorandum', '2025-12-31', true, false, janeId, 'To-Do'],
      ].sort(),
      'a task on its contact, a logged call and an event on the deal (their listing/proposal), owners and dates kept',
    );
    const email = await odoo.one(
      'mail.message',
      [
        ['model', '=', 'res.partner'],
        ['res_id', '=', Number(holdings.id)],
        ['subject', '=', 'Email: LOI received'],
      ],
      ['date', 'message_type', 'body', 'author_id'],
    );
    t.match(email, { date: '2024-04-10 09:15:00', message_type: 'email', body: /LOI attached/ });
    const files = await odoo.read(
      'ir.attachment',
      [
        ['res_model', 'in', ['res.partner', 'crm.lead']],
        ['res_id', 'in', [Number(holdings.id), Number(c1.id), Number(won.id)]],
      ],
      ['name', 'res_model', 'res_id', 'checksum', 'file_size', 'datas', 'mimetype'],
    );
    const om = files.find((f) => f.name === 'Offering Memorandum.pdf') as Row;
    t.match(
      om,
      {
        res_model: 'crm.lead',
        res_id: won.id,
        checksum: sha1(PDF),
        file_size: PDF.length,
        mimetype: 'application/pdf',
      },
      'the Attachment on the listing lands on its deal',
    );
    t.same(Buffer.from(String(om.datas), 'base64'), PDF, 'bytes equal');
    const photos = files.filter((f) => f.name === 'site-photo.png');
    t.same(
      photos.map((p) => [p.res_model, p.res_id]).sort(),
      [
        ['res.partner', holdings.id],
        ['res.partner', c1.id],
      ].sort(),
      'the ContentVersion on both records it is linked to',
    );
    for (const p of photos) t.same(Buffer.from(String(p.datas), 'base64'), PNG, 'bytes equal');
    t.equal((await odoo.count('mail.mail')) - (before['mail.mail'] ?? 0), 0, 'no mail queued');

    const report = await odoo.migrations.report(staged.id);
    t.equal(report.state, 'committed');

    const rolled = await odoo.migrations.rollback(staged.id);
    t.equal(rolled.state, 'rolled_back');
    t.same(await counts(), before, 'every touched model has its rows as before');
    t.same(
      await odoo.read('crm.stage', [], ['name', 'sequence', 'is_won', STAGE_TEAM_FIELD]),
      stagesBefore,
      'stages as before',
    );
    t.equal(await odoo.count('ir.model.fields', [['name', '=like', 'x\\_apto\\_%']]), 0, 'custom fields removed');
  },
);

t.test(
  'Apto from a Salesforce Data Export zip into Odoo: the same records, files with equal bytes; rollback exact',
  async (t) => {
    const janeId = await jane(t);
    const dir = await tmp(t);
    const zip = join(dir, 'WE_00D000000000001_1.zip');
    await writeZip(zip, aptoExportEntries());
    const before = await counts();
    const { report: staged } = await stageToOdoo(
      odoo.migrations,
      'apto_export',
      aptoExportReader([zip], join(dir, 'unpacked')),
      { name: 'Apto export e2e' },
    );
    await odoo.migrations.setFallbackUser(staged.id, janeId);
    const committed = await odoo.migrations.commit(staged.id);
    t.equal(committed.state, 'committed');
    t.same(committed.failed, []);
    const retail = await odoo.one(
      'res.partner',
      [['name', '=', 'Harbor West Retail']],
      ['parent_id', 'x_apto_company_investor_type'],
    );
    t.equal(m2oName(retail.parent_id), 'Harbor West');
    t.equal(retail.x_apto_company_investor_type, 'REIT');
    const won = await odoo.one(
      'crm.lead',
      [['name', '=', '100 Harbor Way – disposition']],
      ['id', 'stage_id', 'x_apto_deal_entered_comp'],
    );
    t.equal(m2oName(won.stage_id), 'Comp');
    t.equal(won.x_apto_deal_entered_comp, '2024-06-01 16:00:00');
    const om = await odoo.one(
      'ir.attachment',
      [
        ['res_model', '=', 'crm.lead'],
        ['res_id', '=', Number(won.id)],
        ['name', '=', 'Offering Memorandum.pdf'],
      ],
      ['checksum', 'datas'],
    );
    t.same(Buffer.from(String(om.datas), 'base64'), PDF, 'bytes equal');
    const rolled = await odoo.migrations.rollback(staged.id);
    t.equal(rolled.state, 'rolled_back');
    t.same(await counts(), before, 'rollback exact');
  },
);
