import { createHash } from 'node:crypto';
import type { StagedRecord } from './record.js';

/** JSON with object keys sorted at every depth, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The content hash: what would be written to Odoo, not where it came from. `attach_to` and
 *  `blob` count when present (absent keys are left out, as the addon's canonical_hash does). */
export function contentHash(record: Pick<StagedRecord, 'model' | 'values' | 'refs' | 'lookups' | 'attach_to' | 'blob'>): string {
  const { model, values, refs, lookups, attach_to, blob } = record;
  return createHash('sha256').update(canonicalJson({ model, values, refs, lookups, attach_to, blob })).digest('hex');
}
