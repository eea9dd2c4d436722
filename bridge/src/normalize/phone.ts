/**
 * Phones to E.164 with libphonenumber-js (Google's metadata), when a country is known from the
 * row (an ISO country, or the calling code the source exports beside the number). A number that
 * cannot be read is kept as written, with a warning: nothing is dropped.
 *
 * Speed (issue #11: phones rarely repeat, so no cache helps): the library's ES2015+ build
 * (`libphonenumber-js/max/es6`, the same code and metadata without the Babel helpers of the
 * legacy build: ~30% less time a number), and no stack trace captured for the errors the
 * library throws and catches itself on numbers it cannot read.
 */
import {
  parsePhoneNumberFromString,
  getCountryCallingCode,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/max/es6';
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
  const parsed = quietly(() =>
    parsePhoneNumberFromString(candidate, country ? { defaultCountry: country } : undefined),
  );
  if (parsed && quietly(() => parsed.isValid())) return ok(parsed.number);
  if (!candidate.startsWith('+') && !country)
    return warn(v, `phone "${v}" kept as written: no country known to put it in E.164`);
  return warn(v, `phone "${v}" is not a valid number${country ? ` for ${country}` : ''}; kept as written`);
}

/** `fn` with no stack traces captured (the library throws and catches a ParseError per unreadable number). */
function quietly<T extends PhoneNumber | boolean | undefined>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** two letters → the country libphonenumber knows by them, or undefined (a few hundred entries at most) */
const countries = new Map<string, CountryCode | undefined>();

function validCountry(code: string | null | undefined): CountryCode | undefined {
  if (!code || code.length !== 2) return undefined;
  if (countries.has(code)) return countries.get(code);
  const upper = code.toUpperCase() as CountryCode;
  let known: CountryCode | undefined;
  try {
    getCountryCallingCode(upper);
    known = upper;
  } catch {
    known = undefined;
  }
  countries.set(code, known);
  return known;
}
