/**
 * Apto (commercial real-estate CRM, a managed package on Salesforce: shared/reference/sources.md
 * §4), two ways in, one mapping (mappings/apto.json, keys `apto:<object>:<Salesforce Id>` for
 * both, so an export read first and the API later are the same records):
 *
 * - `apto`: the org's REST API (api.ts): OAuth username-password flow (a connected app's client id
 *   and secret, the username, the password followed by the security token), or an access token
 *   (with the instance URL as the login URL, optionally a refresh token).
 * - `apto_export`: a Salesforce Data Export zip (export-zip.ts), for teams that cannot grant API
 *   access: `crm-migrate stage --source apto_export Export.zip`.
 */
import { InputError } from '../../core/input-error.js';
import type { SourceSystem } from '../registry.js';
import { aptoApiReader } from './api.js';
import { aptoExportReader } from './export-zip.js';

export const apto: SourceSystem = {
  name: 'apto',
  label: 'Apto (Salesforce API)',
  mappingFile: 'apto.json',
  input: 'api',
  credentials: [
    {
      name: 'login_url',
      label:
        'Login URL (https://login.salesforce.com, https://test.salesforce.com, your My Domain; with an access token: the instance URL)',
      secret: false,
    },
    { name: 'client_id', label: 'Connected app: consumer key', secret: true, optional: true },
    { name: 'client_secret', label: 'Connected app: consumer secret', secret: true, optional: true },
    { name: 'username', label: 'Username', secret: false, optional: true },
    { name: 'password', label: 'Password followed by the security token', secret: true, optional: true },
    { name: 'access_token', label: 'Access token (instead of username and password)', secret: true, optional: true },
    {
      name: 'refresh_token',
      label: 'Refresh token (renews an expired access token; needs the consumer key)',
      secret: true,
      optional: true,
    },
  ],
  reader: (c, options) => {
    const login = c.login_url ?? '';
    if (!/^https?:\/\/[^\s/]+/i.test(login))
      throw new InputError(
        { file: '(credentials)', field: 'login_url' },
        'Login URL must be an https:// address (https://login.salesforce.com)',
      );
    if (!c.access_token && !(c.client_id && c.client_secret && c.username && c.password)) {
      const missing = ['client_id', 'client_secret', 'username', 'password'].find((k) => !c[k]) ?? 'access_token';
      throw new InputError(
        { file: '(credentials)', field: missing },
        "give an access token, or the connected app's consumer key and secret with a username and password (followed by the security token)",
      );
    }
    return aptoApiReader({
      auth: {
        loginUrl: login,
        clientId: c.client_id,
        clientSecret: c.client_secret,
        username: c.username,
        password: c.password,
        accessToken: c.access_token,
        refreshToken: c.refresh_token,
      },
      dir: options.dir,
      resume: options.resume,
      onProgress: options.onProgress,
      log: options.log,
    });
  },
};

export const aptoExport: SourceSystem = {
  name: 'apto_export',
  label: 'Apto (Salesforce Data Export zip)',
  mappingFile: 'apto.json',
  input: 'csv-upload',
  credentials: [],
  uploadReader: (files, dir) =>
    aptoExportReader(
      files.map((f) => f.path),
      dir,
    ),
};
