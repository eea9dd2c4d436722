/**
 * How long an Ortto extraction takes against the local stand-in (in this process), apart from
 * Ortto's own limits: N people with no feed, read through the reader and staged (no Odoo), the
 * feed's documented 1 request a second lifted so the bridge's own cost shows. The real floor is
 * Ortto's: one feed request per person at 1 a second (N people ≥ N seconds).
 *   node dist/test/bench/ortto-extract.js [N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orttoApiReader } from '../../bridge/src/sources/ortto/api.js';
import { stageExports } from '../../bridge/src/stage-exports.js';
import { OrttoStandin, orttoPeople } from '../helpers/ortto-standin.js';
import { ORTTO_KEY } from '../helpers/ortto-instance.js';

const n = Number(process.argv[2] ?? 5000);
const s = await new OrttoStandin(orttoPeople(n), ORTTO_KEY, 1, {}).start();
const dir = await mkdtemp(join(tmpdir(), 'ortto-bench-'));
const fast = {
  activityRate: { limit: 100_000, intervalMs: 1000 },
  client: { rate: { limit: 100_000, intervalMs: 1000 } },
};
let started = Date.now();
const staged = await stageExports('ortto', orttoApiReader({ apiKey: ORTTO_KEY, dir, baseUrl: s.url, ...fast }));
const fetched = Date.now() - started;
const requests = [...s.requestsAt.values()].reduce((a, b) => a + b, 0);
started = Date.now();
await stageExports('ortto', orttoApiReader({ apiKey: ORTTO_KEY, dir, baseUrl: s.url, ...fast }));
const spooled = Date.now() - started;
process.stdout.write(
  `${n} people: ${staged.records.length} records staged; fetched and staged in ${(fetched / 1000).toFixed(1)} s (${requests} requests), again from the spool in ${(spooled / 1000).toFixed(1)} s (${[...s.requestsAt.values()].reduce((a, b) => a + b, 0) - requests} requests); at Ortto's 1 feed request a second the feed alone takes ≥ ${n} s\n`,
);
await s.stop();
await rm(dir, { recursive: true, force: true });
