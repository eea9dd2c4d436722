/**
 * Phones to E.164 with libphonenumber-js (Google's metadata), when a country is known from the
 * row (an ISO country, or the calling code the source exports beside the number). A number that
 * cannot be read is kept as written, with a warning: nothing is dropped.
 */
import { parsePhoneNumberFromString, getCountryCallingCode, type CountryCode } from 'libphonenumber-js/max';
import { cleanText } from './text.js';
import { empty, ok, warn, type Normalized } from './result.js';

export interface PhoneContext {
  country?: string | null | undefined;
  callingCode?: string | null | undefined;
}

export function normalizePhone(raw: string, ctx: PhoneContext = {}): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  const calling = (ctx.callingCode ?? '').replace(/\D/g, '');
  let candidate = v;
  if (!v.startsWith('+') && !v.startsWith('00') && calling !== '') candidate = `+${calling}${v.replace(/^0+/, '')}`;
  if (v.startsWith('00')) candidate = `+${v.slice(2)}`;
  const country = validCountry(ctx.country);
  const parsed = parsePhoneNumberFromString(candidate, country ? { defaultCountry: country } : undefined);
  if (parsed?.isValid()) return ok(parsed.number);
  if (!candidate.startsWith('+') && !country) return warn(v, `phone "${v}" kept as written: no country known to put it in E.164`);
  return warn(v, `phone "${v}" is not a valid number${country ? ` for ${country}` : ''}; kept as written`);
}

function validCountry(code: string | null | undefined): CountryCode | undefined {
  if (!code || code.length !== 2) return undefined;
  const upper = code.toUpperCase() as CountryCode;
  try {
    getCountryCallingCode(upper);
    return upper;
  } catch {
    return undefined;
  }
}
