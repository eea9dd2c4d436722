/**
 * An answer of tens of MB from a real Odoo 18 running with HTTP workers (prefork), as in
 * production. Odoo's workers give a client ODOO_HTTP_SOCKET_TIMEOUT seconds (2 by default) to take
 * the whole answer, then close the connection. The `xmlrpc` package's client read the socket at
 * its parser's pace (about 6 MB/s here), so the million run's commit plan (33 MB) failed with
 * ECONNRESET after Odoo had built it (issue #11). The bridge's transport now reads the answer
 * whole, then parses it (bridge/src/odoo/xmlrpc-call.ts).
 *
 * The test runs its own Odoo (two workers, a socket timeout of 1 s so that a slow reader is
 * caught on any machine) on FAULTS_ODOO_DB, which nothing else serves, and reads every
 * ir.model.fields row with all its columns: about 30 MB of XML (4 MB as JSON) for a few thousand rows.
 */
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { XmlRpcTransport } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { startOdoo } from '../helpers/processes.js';

const PORT = Number(process.env.FAULTS_ODOO_PORT ?? 18163);
const DB = process.env.FAULTS_ODOO_DB ?? '';
if (!DB) {
  t.fail('FAULTS_ODOO_DB is not set: a database with crm_migration installed that no other Odoo serves');
  process.exit(1);
}

t.test('a large answer from Odoo with HTTP workers arrives whole', async (t) => {
  const odoo = await startOdoo(DB, PORT, { workers: 2, env: { ODOO_HTTP_SOCKET_TIMEOUT: '1' } });
  // SIGTERM: the master stops its workers (a SIGKILL would leave them running for a while)
  t.teardown(async () => {
    process.kill(odoo.pid, 'SIGTERM');
    const stopped = await Promise.race([odoo.finished.then(() => true), sleep(20_000).then(() => false)]);
    if (!stopped) await odoo.kill();
  });
  const rpc = new XmlRpcTransport({
    url: `http://127.0.0.1:${PORT}`,
    db: DB,
    user: process.env.ODOO_USER ?? 'admin',
    password: process.env.ODOO_PASSWORD ?? 'admin',
  });
  const count = z.number().parse(await rpc.call('ir.model.fields', 'search_count', [[]]));
  t.ok(count > 2000, `a few thousand fields (${count})`);
  const started = Date.now();
  const rows = z
    .array(z.object({ id: z.number(), name: z.string(), model: z.string() }).loose())
    .parse(await rpc.call('ir.model.fields', 'search_read', [[]]));
  t.equal(rows.length, count, `every row read (${rows.length} in ${Date.now() - started} ms)`);
  t.equal(new Set(rows.map((r) => r.id)).size, count, 'each row once');
  const bytes = JSON.stringify(rows).length;
  t.ok(bytes > 3_000_000, `a large answer (${Math.round(bytes / 1e6)} MB as JSON, several times that as XML)`);
  t.ok(
    rows.some((r) => r.model === 'crm.migration' && r.name === 'state'),
    'the rows are the fields themselves (crm.migration.state among them)',
  );
});
