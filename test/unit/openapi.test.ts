/**
 * The routes declare their params, query and body with zod (fastify-type-provider-zod) and
 * `GET /openapi.json` serves the OpenAPI document made from them (@fastify/swagger). The README's
 * route table is generated from that document (`npm run schemas`): this test fails when it
 * differs, and proves each route's auth column true by asking without and with the token.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIV3_1 } from 'openapi-types';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { ROUTES_BEGIN, ROUTES_END, routeTable } from '../../bridge/src/http/readme-routes.js';
import { root } from '../helpers/paths.js';

const TOKEN = 'openapi-test-token-0123456789';

async function app() {
  const a = await buildApp({ config: serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN }), migrations: null });
  t.teardown(() => a.close());
  return a;
}

t.test('GET /openapi.json serves the routes, their schemas and their auth', async (t) => {
  const res = await (await app()).inject({ method: 'GET', url: '/openapi.json' });
  t.equal(res.statusCode, 200, 'public, like /health');
  const doc = res.json() as OpenAPIV3_1.Document;
  t.equal(doc.openapi, '3.1.0');
  t.match(doc.components?.securitySchemes, { bearer: { type: 'http', scheme: 'bearer' } });
  const paths = doc.paths ?? {};
  t.same(Object.keys(paths).sort(), [
    '/health',
    '/migrations',
    '/migrations/{id}',
    '/migrations/{id}/commit',
    '/migrations/{id}/conflicts',
    '/migrations/{id}/diff',
    '/migrations/{id}/extract',
    '/migrations/{id}/owners',
    '/migrations/{id}/rollback',
    '/migrations/{id}/sample/rollback',
    '/migrations/{id}/upload',
    '/openapi.json',
    '/sources',
  ]);
  const extract = paths['/migrations/{id}/extract']?.post;
  const body = (extract?.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content['application/json']
    ?.schema as OpenAPIV3_1.SchemaObject | undefined;
  t.same(body?.required, ['source'], 'the extract body, from its zod schema');
  t.equal(body?.additionalProperties, false, 'closed: an unknown key is a 400');
  t.match(paths['/migrations/{id}/commit']?.post?.parameters, [
    { in: 'query', name: 'sample', required: false },
    { in: 'path', name: 'id', required: true },
  ]);
  t.match(paths['/migrations/{id}/owners']?.post?.requestBody, {
    content: {
      'application/json': { schema: { anyOf: [{ required: ['value', 'userId'] }, { required: ['fallbackUserId'] }] } },
    },
  });
});

t.test("the README's route table is the OpenAPI document's (npm run schemas rewrites it)", async (t) => {
  const doc = (await (await app()).inject({ method: 'GET', url: '/openapi.json' })).json() as OpenAPIV3_1.Document;
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const begin = readme.indexOf(ROUTES_BEGIN);
  const end = readme.indexOf(ROUTES_END);
  t.ok(begin > 0 && end > begin, 'the README has the route table markers');
  t.equal(readme.slice(begin + ROUTES_BEGIN.length + 1, end), routeTable(doc), 'README "HTTP service" table');
  t.match(routeTable(doc), /\| `GET \/sources` \| Bearer \|/);
  t.match(routeTable(doc), /\| `POST \/migrations\/:id\/rollback\[\?onConflict=stop\\\|keep\\\|undo\]` \| Bearer \|/);
});

t.test('every route answers as its declared auth says', async (t) => {
  const a = await app();
  const doc = (await a.inject({ method: 'GET', url: '/openapi.json' })).json() as OpenAPIV3_1.Document;
  let routes = 0;
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of ['get', 'post'] as const) {
      const operation = item?.[method];
      if (!operation) continue;
      routes++;
      const url = path.replace('{id}', '7');
      const anonymous = await a.inject({ method: method.toUpperCase() as 'GET' | 'POST', url });
      const withToken = await a.inject({
        method: method.toUpperCase() as 'GET' | 'POST',
        url,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (operation.security?.length) {
        t.equal(anonymous.statusCode, 401, `${method} ${path} without the token`);
        t.not(withToken.statusCode, 401, `${method} ${path} with the token`);
      } else {
        t.not(anonymous.statusCode, 401, `${method} ${path} is public`);
      }
    }
  }
  t.equal(routes, 14);
});

t.test('a bad param, query or body declared by a route answers 400 naming the field, as before', async (t) => {
  const a = await app();
  const auth = { authorization: `Bearer ${TOKEN}` };
  const badId = await a.inject({ method: 'GET', url: '/migrations/abc', headers: auth });
  t.equal(badId.statusCode, 400);
  t.match(badId.json(), { error: 'bad_request', field: 'id' });
  const badQuery = await a.inject({ method: 'POST', url: '/migrations/3/rollback?onConflict=maybe', headers: auth });
  t.equal(badQuery.statusCode, 400);
  t.match(badQuery.json(), { error: 'bad_request', field: 'onConflict' });
  const badBody = await a.inject({
    method: 'POST',
    url: '/migrations/3/owners',
    headers: auth,
    payload: { value: 'x' },
  });
  t.equal(badBody.statusCode, 400);
  t.match(badBody.json(), { error: 'bad_request' });
  const noOdoo = await a.inject({ method: 'POST', url: '/migrations/3/rollback?onConflict=keep', headers: auth });
  t.equal(noOdoo.statusCode, 503, 'valid input gets as far as Odoo (none configured)');
});
