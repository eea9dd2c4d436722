/**
 * Ontraport, two ways in, one mapping (mappings/ontraport.json, keys `ontraport:<object>:<id>` for
 * both, so an API extraction after a CSV upload is the same records):
 *
 * - `ontraport`: CSV exports from its UI (Contacts, Companies, Deals). Ontraport documents no
 *   export headers (shared/reference/sources.md §2.1): the mapping's `columns` carry the field
 *   names of its import guide (support.ontraport.com "Importing Contacts": First Name, Last Name,
 *   Email, Title, Company, Address, Address 2, City, State, Zip Code, Country, Fax, SMS Number,
 *   Office Phone, Birthday, Website, Referring Page, Contact Tags with `*`/`*` between tags, Bulk
 *   Email Status in the UI's words), the API keys, and the usual variants, all matched by meaning.
 * - `ontraport_api`: its REST API (api.ts), asked in the wizard for the API key and the App ID.
 */
import type { SourceSystem } from '../registry.js';
import { ontraportApiReader } from './api.js';

export const ontraport: SourceSystem = {
  name: 'ontraport',
  label: 'Ontraport (CSV exports)',
  mappingFile: 'ontraport.json',
  input: 'csv-upload',
  credentials: [],
};

export const ontraportApi: SourceSystem = {
  name: 'ontraport_api',
  label: 'Ontraport (API)',
  mappingFile: 'ontraport.json',
  input: 'api',
  credentials: [
    { name: 'api_key', label: 'API key', secret: true },
    { name: 'app_id', label: 'App ID', secret: true },
  ],
  reader: (credentials, options) =>
    ontraportApiReader({
      apiKey: credentials.api_key ?? '',
      appId: credentials.app_id ?? '',
      dir: options.dir,
      resume: options.resume,
      onProgress: options.onProgress,
      log: options.log,
    }),
};
