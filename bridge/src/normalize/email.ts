import { z } from 'zod';
import { cleanText } from './text.js';
import { empty, fail, ok, type Normalized } from './result.js';

const emailSchema = z.email();
/** internationalised addresses (RFC 6531: a Unicode local part, an IDN domain) are valid addresses too */
const unicodeEmailSchema = z.email({ pattern: z.regexes.unicodeEmail });

function isEmail(v: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(v)) return emailSchema.safeParse(v).success;
  const domain = v.slice(v.lastIndexOf('@') + 1);
  return unicodeEmailSchema.safeParse(v).success && /\.[^.]+$/.test(domain) && !/\s/.test(v);
}

/** Lower-cased, trimmed, validated. "mailto:" prefixes and angle brackets are removed. */
export function normalizeEmail(raw: string): Normalized {
  const v = cleanText(raw)
    .replace(/^mailto:/i, '')
    .replace(/^<(.*)>$/, '$1')
    .toLowerCase();
  if (v === '') return empty;
  if (!isEmail(v)) return fail(`"${raw.trim()}" is not a valid email address`);
  return ok(v);
}
