/** The transforms a mapping may name, each a normalizer from ../normalize. */
import type { FieldRule, TransformName } from './schema.js';
import type { Normalized, Scalar } from '../normalize/result.js';
import {
  cleanText,
  normalizeBoolean,
  normalizeInteger,
  normalizeMultiline,
  normalizeMultilineHtml,
  normalizeNumber,
  normalizeText,
  normalizeUrl,
} from '../normalize/text.js';
import { normalizeEmail } from '../normalize/email.js';
import { normalizePhone, type PhoneContext } from '../normalize/phone.js';
import { normalizeCountry } from '../normalize/country.js';
import { normalizeDate, normalizeDatetime } from '../normalize/datetime.js';
import { headerToken } from './columns.js';

export interface TransformContext {
  zone: string;
  phone?: PhoneContext;
  rule?: Pick<FieldRule, 'values' | 'default' | 'dateOrder'>;
}

export function applyTransform(name: TransformName, raw: string, ctx: TransformContext): Normalized {
  switch (name) {
    case 'text':
      return normalizeText(raw);
    case 'multiline':
      return normalizeMultiline(raw);
    case 'html':
      return normalizeMultilineHtml(raw);
    case 'email':
      return normalizeEmail(raw);
    case 'phone':
      return normalizePhone(raw, ctx.phone);
    case 'datetime':
      return normalizeDatetime(raw, ctx.zone, ctx.rule?.dateOrder);
    case 'date':
      return normalizeDate(raw, ctx.zone, ctx.rule?.dateOrder);
    case 'country':
      return normalizeCountry(raw);
    case 'integer':
      return normalizeInteger(raw);
    case 'number':
      return normalizeNumber(raw);
    case 'boolean':
      return normalizeBoolean(raw);
    case 'url':
      return normalizeUrl(raw);
    case 'enum':
      return normalizeEnum(
        raw,
        ctx.rule?.values ?? {},
        ctx.rule && 'default' in ctx.rule ? { value: ctx.rule.default ?? null } : undefined,
      );
  }
}

/** A source value looked up in a table (keys compared ignoring case, spaces, punctuation). */
export function normalizeEnum(raw: string, table: Record<string, Scalar>, fallback?: { value: Scalar }): Normalized {
  const v = cleanText(raw);
  if (v === '') return { value: null };
  // the exact value first: tokens drop signs and punctuation, so "-2" and "2" are one token
  const lower = v.toLowerCase();
  for (const [k, out] of Object.entries(table)) if (k.trim().toLowerCase() === lower) return { value: out };
  const token = headerToken(v);
  for (const [k, out] of Object.entries(table)) if (headerToken(k) === token) return { value: out };
  if (fallback) return { value: fallback.value };
  return {
    value: null,
    issue: { level: 'warning', message: `"${v}" is not one of ${Object.keys(table).join(', ')}; left empty` },
  };
}
