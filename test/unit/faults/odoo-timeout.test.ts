/**
 * An Odoo that accepts connections and never answers (a stuck worker, a proxy holding the line):
 * every call gives up after its timeout with a message naming Odoo, the call and the knob; reads
 * are tried once more, writes never; the CLI (a real process) exits instead of hanging.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { XmlRpcTransport, OdooTimeout } from '../../../bridge/src/odoo/xmlrpc-transport.js';
import { recordOutcome } from '../../helpers/fault-table.js';
import { root } from '../../helpers/paths.js';

/** Accepts, reads, never answers; counts connections. */
async function silentOdoo(t: {
  teardown: (f: () => void) => void;
}): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

t.test('a read times out, is tried once more, and says so', async (t) => {
  const odoo = await silentOdoo(t);
  const transport = new XmlRpcTransport({
    url: odoo.url,
    db: 'x',
    user: 'admin',
    password: 'admin',
    timeoutSeconds: 0.4,
  });
  const started = Date.now();
  const err = await transport.version().then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = Date.now() - started;
  t.ok(err instanceof OdooTimeout, String(err));
  t.match(
    String((err as Error).message),
    new RegExp(`Odoo at ${odoo.url} did not answer version within 0.4 s \\(ODOO_TIMEOUT_SECONDS\\)`),
  );
  t.equal(odoo.connections(), 2, 'a read is sent twice, no more');
  t.ok(took < 3000, `gave up after ${took} ms`);
  recordOutcome({
    kind: 'fault',
    case: 'Odoo accepts connections and never answers: a read',
    expected: 'timeout naming Odoo and the call, read tried twice',
    observed: `${String((err as Error).message).slice(0, 80)} (${odoo.connections()} tries)`,
    ok: err instanceof OdooTimeout && odoo.connections() === 2,
  });
});

t.test('a write times out once and is never repeated; the message says Odoo may still finish it', async (t) => {
  const odoo = await silentOdoo(t);
  // login reads first: give the transport a uid by letting login time out is not the point, so call raw through a commit
  const transport = new XmlRpcTransport({
    url: odoo.url,
    db: 'x',
    user: 'admin',
    password: 'admin',
    timeoutSeconds: 0.3,
    longTimeoutSeconds: 0.3,
  });
  Object.assign(transport as unknown as { uid: number }, { uid: 2 });
  const err = await transport.call('crm.migration', 'api_commit', [[1], {}]).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof OdooTimeout, String(err));
  t.match(
    String((err as Error).message),
    /did not answer crm\.migration\.api_commit within 0\.3 s \(ODOO_LONG_TIMEOUT_SECONDS\); Odoo may still finish that work/,
  );
  t.equal(odoo.connections(), 1, 'a write is sent once');
  recordOutcome({
    kind: 'fault',
    case: 'Odoo never answers a commit call',
    expected: 'timeout, not repeated, "may still finish"',
    observed: `${odoo.connections()} try; ${String((err as Error).message).slice(0, 70)}`,
    ok: err instanceof OdooTimeout && odoo.connections() === 1,
  });
});

t.test('the CLI exits with a clear message instead of hanging', async (t) => {
  const odoo = await silentOdoo(t);
  const started = Date.now();
  const r = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [join(root, 'dist', 'bridge', 'src', 'cli.js'), 'report', '1'],
      {
        env: {
          ...process.env,
          ODOO_URL: odoo.url,
          ODOO_DB: 'x',
          ODOO_USER: 'admin',
          ODOO_PASSWORD: 'admin',
          ODOO_TIMEOUT_SECONDS: '1',
        },
        timeout: 30_000,
      },
      (_e, stdout, stderr) => resolve({ code: child.exitCode, out: stdout, err: stderr }),
    );
  });
  const took = Date.now() - started;
  t.not(r.code, 0, 'non-zero exit');
  t.match(r.err + r.out, /did not answer .* within 1 s \(ODOO_TIMEOUT_SECONDS\)/);
  t.ok(took < 15_000, `exited after ${took} ms`);
  recordOutcome({
    kind: 'fault',
    case: 'CLI against an Odoo that never answers',
    expected: 'exits non-zero with a timeout message',
    observed: `exit ${r.code} after ${(took / 1000).toFixed(1)} s: ${(r.err + r.out).trim().split('\n').pop()?.slice(0, 60)}`,
    ok: r.code !== 0 && took < 15_000,
  });
});
