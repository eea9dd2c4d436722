/**
 * Odoo 19's JSON-2 transport without an Odoo: how positional calls become named bodies, which
 * transport a server version gets, and the timeouts against a server that never answers (the
 * real Odoo 19 answers are tested in test/e2e/json2-transport.e2e.test.ts).
 */
import t from 'tap';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Json2Transport, json2Body } from '../../bridge/src/odoo/json2-transport.js';
import { majorVersion, pickTransport } from '../../bridge/src/odoo/auto-transport.js';
import { OdooTimeout } from '../../bridge/src/odoo/xmlrpc-transport.js';
import { OdooError } from '../../bridge/src/odoo/transport.js';

const conn = { url: 'http://127.0.0.1:1', db: 'x', user: 'admin', password: 'admin' };

t.test('positional execute_kw arguments become named JSON-2 arguments', async (t) => {
  t.same(json2Body('crm.migration', 'api_commit', [[7], { batch_size: 5 }]), { ids: [7], options: { batch_size: 5 } });
  t.same(
    json2Body('res.partner', 'search_read', [[['id', '=', 1]]], { fields: ['name'], context: { active_test: false } }),
    { domain: [['id', '=', 1]], fields: ['name'], context: { active_test: false } },
  );
  t.same(json2Body('crm.migration', 'api_create', [{ name: 'n', source: 's' }]), { vals: { name: 'n', source: 's' } });
  t.same(json2Body('crm.migration', 'unlink', [[1, 2]]), { ids: [1, 2] });
  t.same(json2Body('crm.migration', 'api_resolve_owner', [[3], 'ann@example.com', 9]), {
    ids: [3],
    value: 'ann@example.com',
    user_id: 9,
  });
  t.same(json2Body('ir.config_parameter', 'set_param', ['k', 'v']), { key: 'k', value: 'v' });
  t.same(json2Body('res.partner', 'fields_get', [], { attributes: ['type'] }), { attributes: ['type'] });
  t.throws(() => json2Body('res.partner', 'some_method', [1]), /not in JSON2_PARAMS/);
  t.throws(() => json2Body('crm.migration', 'api_report', [[1], 'extra']), /takes 0 argument/);
});

t.test('the transport follows the server version and the API key', async (t) => {
  t.equal(majorVersion('19.0'), 19);
  t.equal(majorVersion('saas~18.3'), 18);
  t.equal(majorVersion('17.0+e'), 17);
  t.equal(pickTransport('19.0', { ...conn, apiKey: 'k' }), 'json2');
  t.equal(pickTransport('19.0', conn), 'xmlrpc', 'no API key: XML-RPC, still served by 19');
  t.equal(pickTransport('18.0', { ...conn, apiKey: 'k' }), 'xmlrpc', '18 has no JSON-2');
  t.equal(pickTransport('17.0', { ...conn, apiKey: 'k' }), 'xmlrpc');
  t.equal(pickTransport('18.0', { ...conn, apiKey: 'k', transport: 'json2' }), 'json2', 'forced');
  t.throws(() => new Json2Transport(conn), OdooError, 'JSON-2 without an API key is refused at once');
});

/** Accepts, reads, never answers; counts the requests it received (POST lines). */
async function silentServer(t: {
  teardown: (f: () => void) => void;
}): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      connections += (chunk.toString('latin1').match(/^POST \/json\/2\//gm) ?? []).length;
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

t.test('JSON-2: a read times out and is tried once more; a write once, saying Odoo may still finish it', async (t) => {
  const server = await silentServer(t);
  const transport = new Json2Transport({
    ...conn,
    url: server.url,
    apiKey: 'k',
    timeoutSeconds: 0.5,
    longTimeoutSeconds: 0.5,
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 500)); // the server may read a request after the client gave up
  const read = await transport.call('crm.migration', 'api_report', [[1]]).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(read instanceof OdooTimeout, String(read));
  t.match(
    String((read as Error).message),
    /did not answer crm\.migration\.api_report within 0\.5 s \(ODOO_TIMEOUT_SECONDS\)$/,
  );
  await settle();
  t.equal(server.connections(), 2, 'a read is sent twice');
  const write = await transport.call('crm.migration', 'api_commit', [[1], {}]).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(write instanceof OdooTimeout, String(write));
  t.match(
    String((write as Error).message),
    /api_commit within 0\.5 s \(ODOO_LONG_TIMEOUT_SECONDS\); Odoo may still finish that work/,
  );
  await settle();
  t.equal(server.connections(), 3, 'a write is sent once');
});
