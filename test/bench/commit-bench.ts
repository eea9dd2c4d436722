/**
 * npm run bench, commit part (issue #11): our stage + commit into Odoo against Odoo's own
 * `load()` on the same records, in the same database and the same run, for partners (tags,
 * companies, contacts) and for leads (deals on those contacts); our commit with 1 and with N
 * chunks at a time (`commitParallel`, each chunk its own transaction on one of Odoo's workers);
 * and the rollback of everything.
 *
 * The records are the staged records the bridge sends for a contacts export (the same shape as
 * test/bench/bench.ts: a company per 10 contacts, two of 30 tags each, country by lookup, match on
 * email) plus one deal per two contacts, generated here so that this part measures Odoo's side
 * only. BENCH_ROWS contacts (default 5000); BENCH_WORKERS chunks at a time (default 2);
 * BENCH_BATCH chunk size (default 1000, the size load() is given too). BENCH_PASSES: the chunks at a
 * time of our passes (default `1,BENCH_WORKERS`; above 100,000 rows only BENCH_WORKERS, each pass
 * being as long as the whole of a smaller bench).
 * Prints one JSON object and the ratio lines (>1: ours is faster).
 */
import { z } from 'zod';
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { OdooReader } from '../helpers/odoo.js';
import { TAGS, records, type Records } from './bench-records.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 5000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const loadAnswer = z.object({ ids: z.array(z.number()).or(z.literal(false)), messages: z.array(z.unknown()) }).loose();

async function load(odoo: OdooReader, model: string, fields: string[], rows: string[][]): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += BATCH) {
    const answer = loadAnswer.parse(
      await odoo.transport.call(model, 'load', [fields, rows.slice(i, i + BATCH)], {
        context: { tracking_disable: true },
      }),
    );
    if (answer.ids === false || answer.messages.length)
      throw new Error(`${model}.load refused rows: ${JSON.stringify(answer.messages.slice(0, 3))}`);
    ids.push(...answer.ids);
  }
  return ids;
}

/** Odoo's own import of the same records: ms for partners (tags, companies, contacts) and for leads. */
async function odooLoad(
  odoo: OdooReader,
  p: string,
): Promise<{ partnersMs: number; leadsMs: number; records: number }> {
  const x = `__cbench_${p}__`;
  let t0 = performance.now();
  const tagIds = await load(
    odoo,
    'res.partner.category',
    ['id', 'name'],
    Array.from({ length: TAGS }, (_, t) => [`${x}.tag_${t}`, `${p}-tag-${t}`]),
  );
  const companyIds = await load(
    odoo,
    'res.partner',
    ['id', 'name', 'is_company'],
    Array.from({ length: ROWS / 10 }, (_, c) => [`${x}.company_${c}`, `${p} Company ${c}`, '1']),
  );
  const contactIds = await load(
    odoo,
    'res.partner',
    ['id', 'name', 'email', 'phone', 'city', 'zip', 'country_id/id', 'parent_id/id', 'category_id/id'],
    Array.from({ length: ROWS }, (_, i) => [
      `${x}.contact_${i}`,
      `${p} First${i} Last${i}`,
      `${p}.${i}@bench.example`,
      '+12125551000',
      'New York',
      '10001',
      'base.us',
      `${x}.company_${Math.floor(i / 10)}`,
      [`${x}.tag_${i % TAGS}`, `${x}.tag_${(i * 7) % TAGS}`].join(','),
    ]),
  );
  const partnersMs = performance.now() - t0;
  t0 = performance.now();
  const leadIds = await load(
    odoo,
    'crm.lead',
    ['id', 'name', 'type', 'expected_revenue', 'partner_id/id'],
    Array.from({ length: ROWS / 2 }, (_, i) => [
      `${x}.deal_${i}`,
      `${p} Deal ${i}`,
      'opportunity',
      String(1000 + i),
      `${x}.contact_${i}`,
    ]),
  );
  const leadsMs = performance.now() - t0;
  await odoo.unlink('crm.lead', leadIds);
  await odoo.unlink('res.partner', contactIds);
  await odoo.unlink('res.partner', companyIds);
  await odoo.unlink('res.partner.category', tagIds);
  await odoo.transport.call('ir.model.data', 'unlink', [
    await odoo.transport.call('ir.model.data', 'search', [[['module', '=', x]]]),
  ]);
  return { partnersMs, leadsMs, records: tagIds.length + companyIds.length + contactIds.length + leadIds.length };
}

interface Ours {
  partners: { stageMs: number; commitMs: number };
  leads: { stageMs: number; commitMs: number };
  chunks: number;
  retries: number;
  failed: number;
  rollbackMs: number;
  rolledBack: number;
}

/** Our path: stage (api_stage_json) + commit with `workers` chunks at a time, partners then leads
 * (a second migration whose deals refer to the first one's contacts), then both rolled back. */
async function ours(odoo: OdooReader, recs: Records, workers: number): Promise<Ours> {
  const timed = async (name: string, list: StagedRecord[]) => {
    let t0 = performance.now();
    const staged = await odoo.migrations.stageAll(name, 'bench', list);
    const stageMs = performance.now() - t0;
    t0 = performance.now();
    const result = await odoo.migrations.commitParallel(staged.id, { batchSize: BATCH, workers });
    return { id: staged.id, stageMs, commitMs: performance.now() - t0, result };
  };
  const partners = await timed(`cbench partners w${workers}`, recs.partners);
  const leads = await timed(`cbench deals w${workers}`, recs.deals);
  const t0 = performance.now();
  await odoo.migrations.rollback(leads.id, 'undo');
  await odoo.migrations.rollback(partners.id, 'undo');
  const rollbackMs = performance.now() - t0;
  const failed = partners.result.report.failed.length + leads.result.report.failed.length;
  return {
    partners: { stageMs: partners.stageMs, commitMs: partners.commitMs },
    leads: { stageMs: leads.stageMs, commitMs: leads.commitMs },
    chunks: partners.result.chunks + leads.result.chunks,
    retries: partners.result.retries + leads.result.retries,
    failed,
    rollbackMs,
    rolledBack: recs.partners.length + recs.deals.length,
  };
}

const round = (ms: number) => Math.round(ms);
const ratio = (base: number, mine: number) => Number((base / mine).toFixed(2));

async function main(): Promise<void> {
  const odoo = new OdooReader();
  const p = `cb${Date.now().toString(36)}`;
  // warm-up: the first records a fresh server creates pay for loading its code and caches
  const warm = records(`${p}w`, ROWS);
  await ours(odoo, { partners: warm.partners.slice(0, 200), deals: [] }, 1);
  const base = await odooLoad(odoo, p);
  const recs = records(p, ROWS);
  const runs: Record<string, Ours> = {};
  const passes = (process.env.BENCH_PASSES ?? (ROWS > 100_000 ? String(WORKERS) : `1,${WORKERS}`))
    .split(',')
    .map(Number);
  for (const w of [...new Set(passes)]) runs[`workers${w}`] = await ours(odoo, recs, w);
  const figures = Object.fromEntries(
    Object.entries(runs).map(([name, r]) => [
      name,
      {
        partnersMs: round(r.partners.stageMs + r.partners.commitMs),
        partnersCommitMs: round(r.partners.commitMs),
        leadsMs: round(r.leads.stageMs + r.leads.commitMs),
        leadsCommitMs: round(r.leads.commitMs),
        ratioPartnersToLoad: ratio(base.partnersMs, r.partners.stageMs + r.partners.commitMs),
        ratioLeadsToLoad: ratio(base.leadsMs, r.leads.stageMs + r.leads.commitMs),
        chunks: r.chunks,
        retries: r.retries,
        failed: r.failed,
        rollbackMs: round(r.rollbackMs),
        rollbackRecordsPerSecond: Math.round(r.rolledBack / (r.rollbackMs / 1000)),
        rollbackMsPer100k: round((r.rollbackMs / r.rolledBack) * 100_000),
      },
    ]),
  );
  const out = {
    rows: ROWS,
    batch: BATCH,
    records: { partners: recs.partners.length, leads: recs.deals.length },
    odooLoad: { partnersMs: round(base.partnersMs), leadsMs: round(base.leadsMs), records: base.records },
    ours: figures,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  for (const [name, f] of Object.entries(figures)) {
    process.stdout.write(
      `commit ratio (${name}): our stage+commit is ${f.ratioPartnersToLoad}x load() for ${recs.partners.length} partner records, ` +
        `${f.ratioLeadsToLoad}x for ${recs.deals.length} leads (>1 = faster); rollback of ${recs.partners.length + recs.deals.length} records ${(f.rollbackMs / 1000).toFixed(1)} s\n`,
    );
  }
}

main().catch((e) => {
  process.stderr.write(`commit bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
