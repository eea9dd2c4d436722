/**
 * A test source read from the Ontraport stand-in (test/helpers/ontraport-standin.ts) with the API
 * toolkit, as an API source is meant to be written (docs/adding-a-source.md); its mapping is
 * test/fixtures/api/standin-ontraport.json. Not the Ontraport source itself (that is its own issue).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { ApiClient, type ApiClientOptions } from '../../bridge/src/sources/api/http-client.js';
import { offsetPages, pagedReader } from '../../bridge/src/sources/api/paged-reader.js';
import type { SourceSystem } from '../../bridge/src/sources/registry.js';
import { root } from './paths.js';

const jsonValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Ontraport's documented answer of a plural endpoint */
export const ontraportList = z.object({ code: z.literal(0), data: z.array(z.record(z.string(), jsonValue)) });

export function standinSource(url: () => string, client: Partial<ApiClientOptions> = {}): SourceSystem {
  return {
    name: 'standin_ontraport',
    label: 'Ontraport (stand-in)',
    mappingFile: join(root, 'test', 'fixtures', 'api', 'standin-ontraport.json'),
    input: 'api',
    credentials: [
      { name: 'api_key', label: 'API key', secret: true },
      { name: 'app_id', label: 'App ID', secret: true },
    ],
    reader: (credentials, options) =>
      pagedReader({
        name: 'Ontraport API (stand-in)',
        client: new ApiClient({
          name: 'Ontraport API (stand-in)',
          baseUrl: url(),
          headers: { 'Api-Key': credentials.api_key ?? '', 'Api-Appid': credentials.app_id ?? '' },
          rate: { limit: 180, intervalMs: 60_000 },
          backoffMs: 50,
          log: options.log,
          ...client,
        }),
        objects: [
          {
            name: 'Contacts',
            object: 'contact',
            ...offsetPages({
              path: 'Contacts',
              startParam: 'start',
              sizeParam: 'range',
              size: 50,
              schema: ontraportList,
              records: (a) => a.data,
            }),
          },
        ],
        spoolDir: options.dir,
        resume: options.resume,
        onProgress: options.onProgress,
      }),
  };
}
