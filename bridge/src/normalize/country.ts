/**
 * Country names or codes ("United States", "USA", "us", "Deutschland") to ISO 3166-1 alpha-2,
 * with i18n-iso-countries' name tables (English plus a few languages exports come in).
 */
import countries from 'i18n-iso-countries';
import { createRequire } from 'node:module';
import { cleanText } from './text.js';
import { empty, ok, warn, type Normalized } from './result.js';

const require = createRequire(import.meta.url);
for (const lang of ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt']) {
  countries.registerLocale(require(`i18n-iso-countries/langs/${lang}.json`) as countries.LocaleData);
}
const LANGS = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt'];
const EXTRA: Record<string, string> = {
  uk: 'GB',
  'great britain': 'GB',
  england: 'GB',
  usa: 'US',
  'u.s.a.': 'US',
  'u.s.': 'US',
};

/** Exports repeat a few countries on every row: resolved once each. */
const cache = new Map<string, string | null>();

export function countryCode(raw: string): string | null {
  const hit = cache.get(raw);
  if (hit !== undefined) return hit;
  const code = resolveCountry(raw);
  if (cache.size < 10_000) cache.set(raw, code);
  return code;
}

function resolveCountry(raw: string): string | null {
  const v = cleanText(raw);
  if (v === '') return null;
  const extra = EXTRA[v.toLowerCase()];
  if (extra) return extra;
  if (/^[a-z]{2}$/i.test(v) && countries.isValid(v.toUpperCase())) return v.toUpperCase();
  if (/^[a-z]{3}$/i.test(v)) {
    const a2 = countries.alpha3ToAlpha2(v.toUpperCase());
    if (a2) return a2;
  }
  if (/[\d@]/.test(v)) return null; // no country's name has a digit or an @ (the planner asks every cell)
  for (const lang of LANGS) {
    const a2 = countries.getAlpha2Code(v, lang);
    if (a2) return a2;
  }
  return null;
}

export function normalizeCountry(raw: string): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  const code = countryCode(v);
  return code ? ok(code) : warn(null, `country "${v}" is not recognised; left empty`);
}
