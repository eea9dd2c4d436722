import { z } from 'zod';
import { cleanText } from './text.js';
import { empty, fail, ok, type Normalized } from './result.js';

const emailSchema = z.email();

/** Lower-cased, trimmed, validated. "mailto:" prefixes and angle brackets are removed. */
export function normalizeEmail(raw: string): Normalized {
  const v = cleanText(raw).replace(/^mailto:/i, '').replace(/^<(.*)>$/, '$1').toLowerCase();
  if (v === '') return empty;
  if (!emailSchema.safeParse(v).success) return fail(`"${raw.trim()}" is not a valid email address`);
  return ok(v);
}
