import { createHash } from 'node:crypto';
import type { StagedRecord } from './record.js';

/** JSON with object keys sorted at every depth, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i > 0 ? ',' : ''}${canonicalJson(value[i])}`;
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** The content hash: what would be written to Odoo, not where it came from. `attach_to` and
 *  `blob` count when present (absent keys are left out, as the addon's canonical_hash does). */
export function contentHash(record: Pick<StagedRecord, 'model' | 'values' | 'refs' | 'lookups' | 'attach_to' | 'blob'>): string {
  const { model, values, refs, lookups, attach_to, blob } = record;
  return createHash('sha256').update(canonicalJson({ model, values, refs, lookups, attach_to, blob })).digest('hex');
}
