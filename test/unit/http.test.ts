import { registerSource } from '../../bridge/src/sources/registry.js';
import t from 'tap';
import { buildApp } from '../../bridge/src/http/app.js';
import { serverConfigFromEnv } from '../../bridge/src/config.js';
import { multipartBody } from '../helpers/multipart.js';
import { fixture, samples } from '../helpers/paths.js';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

async function app(env: Record<string, string> = {}) {
  const config = serverConfigFromEnv({ BRIDGE_TOKEN: TOKEN, ...env });
  const a = await buildApp({ config, migrations: null });
  t.teardown(() => a.close());
  return a;
}

t.test('health is public and says which sources exist', async (t) => {
  const res = await (await app()).inject({ method: 'GET', url: '/health' });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { status: 'ok', sources: ['kartra'], odoo: { configured: false } });
});

t.test('uploads need the token', async (t) => {
  const a = await app();
  const body = multipartBody({ source: 'kartra', dryRun: 'true' }, samples);
  t.equal((await a.inject({ method: 'POST', url: '/migrations', ...body })).statusCode, 401);
  const wrong = await a.inject({
    method: 'POST',
    url: '/migrations',
    payload: body.payload,
    headers: { ...body.headers, authorization: 'Bearer nope' },
  });
  t.equal(wrong.statusCode, 401);
  t.equal((await a.inject({ method: 'GET', url: '/migrations/1' })).statusCode, 401);
});

t.test('dry-run upload of several chunk files returns the profile', async (t) => {
  const body = multipartBody({ source: 'kartra', dryRun: 'true' }, samples);
  const res = await (
    await app()
  ).inject({ method: 'POST', url: '/migrations', payload: body.payload, headers: { ...body.headers, ...auth } });
  t.equal(res.statusCode, 200);
  const json = res.json();
  t.equal(
    json.records,
    53,
    '17 contacts + 1 contact note + 11 companies + 11 tags + 1 list family + 2 lists + 1 affiliate category + 9 custom fields',
  );
  t.match(json.inventory, /# Migration inventory: Kartra/);
  t.equal(json.profile.objects.contact.records, 17);
  t.same(
    json.profile.files.map((f: { file: string; rows: number }) => [f.file, f.rows]),
    [
      ['contacts_1.csv', 12],
      ['contacts_2.csv', 6],
    ],
  );
});

t.test('clear 4xx answers', async (t) => {
  const a = await app({ BRIDGE_MAX_FILE_MB: '0.0001' });
  const post = (fields: Record<string, string>, files: Parameters<typeof multipartBody>[1]) => {
    const body = multipartBody(fields, files);
    return a.inject({
      method: 'POST',
      url: '/migrations',
      payload: body.payload,
      headers: { ...body.headers, ...auth },
    });
  };
  const tooBig = await post({ source: 'kartra', dryRun: 'true' }, [samples[0] as { name: string; path: string }]);
  t.equal(tooBig.statusCode, 413);
  t.match(tooBig.json(), { error: 'file_too_large', file: 'contacts_1.csv' });

  const b = await app();
  const postB = (fields: Record<string, string>, files: Parameters<typeof multipartBody>[1]) => {
    const body = multipartBody(fields, files);
    return b.inject({
      method: 'POST',
      url: '/migrations',
      payload: body.payload,
      headers: { ...body.headers, ...auth },
    });
  };
  const noSource = await postB({ dryRun: 'true' }, samples);
  t.equal(noSource.statusCode, 400);
  t.match(noSource.json(), { field: 'source' });
  const noFiles = await postB({ source: 'kartra' }, []);
  t.equal(noFiles.statusCode, 400);
  t.match(noFiles.json(), { field: 'files' });
  const badQuote = await postB({ source: 'kartra', dryRun: 'true' }, [
    samples[0] as { name: string; path: string },
    fixture('unbalanced-quote.csv'),
  ]);
  t.equal(badQuote.statusCode, 422);
  t.match(badQuote.json(), { error: 'input', file: 'unbalanced-quote.csv', row: 2 });
  const noEmail = await postB({ source: 'kartra', dryRun: 'true' }, [fixture('missing-email-column.csv')]);
  t.match(noEmail.json(), { error: 'input', file: 'missing-email-column.csv', row: 1, field: 'email' });
  const notCsv = await postB({ source: 'kartra', dryRun: 'true' }, [fixture('not-csv.csv')]);
  t.equal(notCsv.statusCode, 422);
  const empty = await postB({ source: 'kartra', dryRun: 'true' }, [{ name: 'empty.csv', bytes: Buffer.alloc(0) }]);
  t.match(empty.json(), { error: 'input', file: 'empty.csv', message: /empty/ });
  const unknown = await postB({ source: 'zoho', dryRun: 'true' }, samples);
  t.equal(unknown.statusCode, 422);
  t.match(unknown.json(), { field: 'source', message: /unknown source "zoho"/ });
  const noOdoo = await postB({ source: 'kartra' }, samples);
  t.equal(noOdoo.statusCode, 503, 'a real upload without Odoo configured says so');
  const json = await b.inject({ method: 'POST', url: '/migrations', payload: { source: 'kartra' }, headers: auth });
  t.equal(json.statusCode, 415);
  const badId = await b.inject({ method: 'GET', url: '/migrations/abc', headers: auth });
  t.equal(badId.statusCode, 400);
  const badOwner = await b.inject({
    method: 'POST',
    url: '/migrations/1/owners',
    payload: { value: 'x@y.example' },
    headers: auth,
  });
  t.equal(badOwner.statusCode, 400, 'an owner assignment needs a user id');
  const owner = await b.inject({
    method: 'POST',
    url: '/migrations/1/owners',
    payload: { value: 'x@y.example', userId: 2 },
    headers: auth,
  });
  t.equal(owner.statusCode, 503, 'a well-formed assignment without Odoo says Odoo is not configured');
});

t.test('the server refuses a short token', async (t) => {
  t.throws(() => serverConfigFromEnv({ BRIDGE_TOKEN: 'short' }), /at least 16/);
});

t.test('GET /sources lists what the upload wizard in Odoo offers', async (t) => {
  const res = await (await app()).inject({ method: 'GET', url: '/sources', headers: auth });
  t.equal(res.statusCode, 200);
  const listed = res.json() as { name: string }[];
  t.match(
    listed.find((x) => x.name === 'apto'),
    {
      label: 'Apto (Salesforce API)',
      input: 'api',
      credentials: [
        { name: 'login_url', secret: false },
        { name: 'client_id', secret: true, optional: true },
      ],
    },
    'Apto: optional credentials (password flow or access token)',
  );
  t.match(
    listed.find((x) => x.name === 'apto_export'),
    { label: 'Apto (Salesforce Data Export zip)', input: 'csv-upload', credentials: [] },
  );
  t.same(
    listed.filter((x) => !x.name.startsWith('apto')),
    [
      { name: 'kartra', label: 'Kartra', input: 'csv-upload', credentials: [] },
      { name: 'generic_csv', label: 'Generic CSV (any CRM)', input: 'csv-upload', credentials: [] },
      { name: 'ontraport', label: 'Ontraport (CSV exports)', input: 'csv-upload', credentials: [] },
      {
        name: 'ontraport_api',
        label: 'Ontraport (API)',
        input: 'api',
        credentials: [
          { name: 'api_key', label: 'API key', secret: true },
          { name: 'app_id', label: 'App ID', secret: true },
        ],
      },
      { name: 'crmconnect', label: 'crmConnect (CSV exports)', input: 'csv-upload', credentials: [] },
      {
        name: 'ortto',
        label: 'Ortto (API)',
        input: 'api',
        credentials: [
          { name: 'api_key', label: 'API key', secret: true },
          { name: 'region', label: 'Region (instance host)', secret: false, options: ['default', 'eu', 'au'] },
          {
            name: 'plan',
            label: 'Plan (sets the request rate)',
            secret: false,
            options: ['free', 'campaigns', 'pro', 'business', 'enterprise'],
          },
        ],
      },
    ],
  );
  // an API source says what the wizard must ask; no reader code crosses the wire
  const unregister = registerSource({
    name: 'api_example',
    label: 'An API source',
    mappingFile: 'generic_csv.json',
    input: 'api',
    credentials: [
      { name: 'api_key', label: 'API key', secret: true },
      { name: 'region', label: 'Region', secret: false, options: ['eu', 'us'] },
    ],
    reader: () => {
      throw new Error('not read here');
    },
  });
  t.teardown(unregister);
  const withApi = await (await app()).inject({ method: 'GET', url: '/sources', headers: auth });
  t.same(withApi.json().at(-1), {
    name: 'api_example',
    label: 'An API source',
    input: 'api',
    credentials: [
      { name: 'api_key', label: 'API key', secret: true },
      { name: 'region', label: 'Region', secret: false, options: ['eu', 'us'] },
    ],
  });
});

t.test('POST /migrations/:id/upload checks its fields before anything reaches Odoo', async (t) => {
  const a = await app();
  const post = (fields: Record<string, string>, id = '7') => {
    const body = multipartBody(fields, samples);
    return a.inject({
      method: 'POST',
      url: `/migrations/${id}/upload`,
      payload: body.payload,
      headers: { ...body.headers, ...auth },
    });
  };
  const badJson = await post({ source: 'kartra', mapping: '[{not json' });
  t.equal(badJson.statusCode, 400);
  t.match(badJson.json(), { field: 'mapping', message: /not valid JSON/ });
  const badDecision = await post({
    source: 'kartra',
    mapping: JSON.stringify([{ object: 'contact', column: 'Phone', action: 'rename' }]),
  });
  t.equal(badDecision.statusCode, 400);
  t.match(badDecision.json(), { field: /mapping/ });
  t.equal((await post({ source: 'kartra' }, 'x')).statusCode, 400, 'the id is a number');
  const noOdoo = await post({ source: 'kartra', mapping: '[]' });
  t.equal(noOdoo.statusCode, 503, 'a bridge without Odoo settings says so');
});

t.test('a dry-run upload also answers the mapping lines', async (t) => {
  const body = multipartBody({ source: 'kartra', dryRun: 'true' }, samples);
  const res = await (
    await app()
  ).inject({ method: 'POST', url: '/migrations', payload: body.payload, headers: { ...body.headers, ...auth } });
  t.match(
    res.json().lines.find((l: { column: string }) => l.column === 'Email'),
    { field: 'email', action: 'map' },
  );
});
