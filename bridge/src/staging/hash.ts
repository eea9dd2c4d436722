import crypto from 'node:crypto';
import type { StagedRecord } from './record.js';

/** JSON with object keys sorted at every depth, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]);
    }
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  // sort() without a comparator orders strings by UTF-16 code units, as `<` does
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = object[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    out += JSON.stringify(k);
    out += ':';
    out += typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v);
    first = false;
  }
  return `${out}}`;
}

/** sha-256 in hex: node's one-shot `crypto.hash` where it exists (node ≥ 20.12), else a Hash object */
const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => crypto.createHash('sha256').update(text).digest('hex');

/** The content hash: what would be written to Odoo, not where it came from. `attach_to` and
 *  `blob` count when present (absent keys are left out, as the addon's canonical_hash does). */
export function contentHash(
  record: Pick<StagedRecord, 'model' | 'values' | 'refs' | 'lookups' | 'attach_to' | 'blob'>,
): string {
  const { model, values, refs, lookups, attach_to, blob } = record;
  return sha256(canonicalJson({ model, values, refs, lookups, attach_to, blob }));
}
