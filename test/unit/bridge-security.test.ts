/**
 * The bridge's side of issue #12 item 4: every route but /health needs the token, /sources too.
 * The language model coming from Odoo's settings only (never from a request) is probed end to end
 * with a real Odoo and two labelled stand-in endpoints in test/e2e/faults-security.e2e.test.ts.
 */
import t from 'tap';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';

const TOKEN = 'test-token-0123456789abcdef';

t.test('GET /sources needs the token, GET /health does not', async (t) => {
  const app = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN }), migrations: null });
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'GET', url: '/sources' })).statusCode, 401);
  t.equal(
    (await app.inject({ method: 'GET', url: '/sources', headers: { authorization: 'Bearer nope' } })).statusCode,
    401,
  );
  t.equal(
    (await app.inject({ method: 'GET', url: '/sources', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode,
    200,
  );
  t.equal((await app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
});
