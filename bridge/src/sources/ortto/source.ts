/**
 * Ortto (formerly Autopilot), read through its REST API (api.ts): the wizard asks the API key, the
 * instance's region (its host: default, EU or AU) and the plan (which sets the request rate).
 *
 * `CRM_MIGRATION_ORTTO_URL` (TEST ONLY): the base URL of a local stand-in (test/helpers/ortto-standin.ts)
 * used instead of the region's host, so the browser journey and the demo can migrate Ortto
 * without the real service. Never set it in production: credentials would go to that address.
 */
import type { SourceSystem } from '../registry.js';
import { orttoApiReader, PLAN_RATE, type OrttoPlan, type OrttoRegion } from './api.js';

export const REGIONS = ['default', 'eu', 'au'] as const;

export const ortto: SourceSystem = {
  name: 'ortto',
  label: 'Ortto (API)',
  mappingFile: 'ortto.json',
  input: 'api',
  credentials: [
    { name: 'api_key', label: 'API key', secret: true },
    { name: 'region', label: 'Region (instance host)', secret: false, options: [...REGIONS] },
    { name: 'plan', label: 'Plan (sets the request rate)', secret: false, options: Object.keys(PLAN_RATE) },
  ],
  reader: (credentials, options) =>
    orttoApiReader({
      apiKey: credentials.api_key ?? '',
      region: (credentials.region ?? 'default') as OrttoRegion,
      plan: (credentials.plan ?? 'pro') as OrttoPlan,
      dir: options.dir,
      resume: options.resume,
      onProgress: options.onProgress,
      log: options.log,
      baseUrl: process.env.CRM_MIGRATION_ORTTO_URL || undefined,
    }),
};
