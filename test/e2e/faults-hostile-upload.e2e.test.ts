/**
 * The hostile-input corpus through the route Odoo's upload wizard calls (POST /migrations/:id/upload)
 * into a real Odoo 18: a refusal fails the job with the located message and stages nothing; a flag
 * arrives in Odoo on the staged record (issues_json); what is staged reads back as the case says.
 * Each case writes one row of the fault table.
 */
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { cases, type StagedLike } from '../fixtures/hostile/corpus.js';
import { judge, writeCase, type Observed } from '../helpers/hostile-run.js';
import { multipartBody } from '../helpers/multipart.js';
import { recordOutcome } from '../helpers/fault-table.js';
import { jobEnd as jobEndOf, OdooReader, odooEnvPresent } from '../helpers/odoo.js';

if (!odooEnvPresent()) {
  t.fail('ODOO_URL is not set: run through scripts/test-all.sh, which starts a real Odoo');
  process.exit(1);
}

const odoo = new OdooReader();
const TOKEN = 'hostile-upload-token-0123456789';

const jobEnd = (id: number, timeoutMs?: number) => jobEndOf(odoo, id, timeoutMs);

t.test('hostile inputs through the upload route, into Odoo', { timeout: 900_000 }, async (t) => {
  const app = await buildApp({
    config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, BRIDGE_MAX_FILE_MB: '64' }),
    migrations: odoo.migrations,
  });
  t.teardown(() => app.close());
  for (const c of cases.filter((x) => !x.routes || x.routes.includes('upload'))) {
    const dir = await mkdtemp(join(tmpdir(), `hostile-up-${c.id}-`));
    const source = c.source ?? 'generic_csv';
    const id = await odoo.migrations.create(`Hostile input: ${c.id}`, source);
    try {
      const files = await writeCase(dir, c);
      const body = multipartBody(
        { source },
        files.map((f) => ({ name: f.name, bytes: f.bytes })),
      );
      const res = await app.inject({
        method: 'POST',
        url: `/migrations/${id}/upload`,
        payload: body.payload,
        headers: { ...body.headers, authorization: `Bearer ${TOKEN}` },
      });
      let observed: Observed;
      if (res.statusCode === 202) {
        const m = await jobEnd(id, 120_000);
        const rows = await odoo.read(
          'crm.migration.record',
          [
            ['migration_id', '=', id],
            ['object', '!=', 'custom_field'],
          ],
          ['key', 'values_json', 'issues_json', 'source_json'],
        );
        if (m.job_state === 'failed') {
          observed =
            rows.length === 0
              ? { refusal: { message: m.job_message } }
              : { crash: `job failed but ${rows.length} records stayed staged: ${String(m.job_message)}` };
        } else if (m.job_state === 'done') {
          const records: StagedLike[] = rows.map((r) => ({
            key: String(r.key),
            values: (r.values_json ?? {}) as Record<string, unknown>,
            issues: (r.issues_json ?? []) as StagedLike['issues'],
          }));
          observed = { records };
        } else {
          observed = { crash: `job ${String(m.job_state)}: ${String(m.job_message)}` };
        }
      } else if (res.statusCode >= 400 && res.statusCode < 500) {
        observed = { refusal: { ...res.json(), status: res.statusCode } };
        if (await odoo.count('crm.migration.record', [['migration_id', '=', id]]))
          observed = { crash: 'refused, yet records were staged' };
      } else {
        observed = { crash: `HTTP ${res.statusCode}: ${res.body.slice(0, 200)}` };
      }
      const v = judge(c, observed, { recordsVisible: true });
      recordOutcome({
        kind: 'input',
        case: `${c.what} (upload into Odoo)`,
        expected: v.expected,
        observed: v.observed,
        ok: v.ok,
      });
      t.ok(v.ok, `${c.id} (upload into Odoo): expected ${v.expected}; observed ${v.observed}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await odoo.transport.call('crm.migration', 'unlink', [[id]]).catch(() => undefined);
    }
  }
});
