/** The transforms a mapping may name, each a normalizer from ../normalize. */
import type { TransformName } from './schema.js';
import type { Normalized } from '../normalize/result.js';
import { normalizeBoolean, normalizeInteger, normalizeMultiline, normalizeNumber, normalizeText, normalizeUrl } from '../normalize/text.js';
import { normalizeEmail } from '../normalize/email.js';
import { normalizePhone, type PhoneContext } from '../normalize/phone.js';
import { normalizeCountry } from '../normalize/country.js';
import { normalizeDate, normalizeDatetime } from '../normalize/datetime.js';

export interface TransformContext {
  zone: string;
  phone?: PhoneContext;
}

export function applyTransform(name: TransformName, raw: string, ctx: TransformContext): Normalized {
  switch (name) {
    case 'text': return normalizeText(raw);
    case 'multiline': return normalizeMultiline(raw);
    case 'email': return normalizeEmail(raw);
    case 'phone': return normalizePhone(raw, ctx.phone);
    case 'datetime': return normalizeDatetime(raw, ctx.zone);
    case 'date': return normalizeDate(raw, ctx.zone);
    case 'country': return normalizeCountry(raw);
    case 'integer': return normalizeInteger(raw);
    case 'number': return normalizeNumber(raw);
    case 'boolean': return normalizeBoolean(raw);
    case 'url': return normalizeUrl(raw);
  }
}
