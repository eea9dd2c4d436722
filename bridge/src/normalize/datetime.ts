/**
 * Dates and times to what Odoo stores: Datetime as "YYYY-MM-DD HH:MM:SS" in UTC, Date as
 * "YYYY-MM-DD". Source values without an offset are read in the source's time zone (Kartra's
 * are US Eastern), with luxon doing the zone arithmetic (daylight saving included).
 */
import { DateTime } from 'luxon';
import { cleanText } from './text.js';
import { empty, ok, warn, type Normalized } from './result.js';

const FORMATS = [
  'yyyy-MM-dd HH:mm:ss', 'yyyy-MM-dd HH:mm', 'yyyy-MM-dd', "yyyy-MM-dd'T'HH:mm:ss",
  'MM/dd/yyyy HH:mm:ss', 'MM/dd/yyyy HH:mm', 'MM/dd/yyyy h:mm a', 'MM/dd/yyyy', 'M/d/yyyy', 'M/d/yyyy H:mm',
  'dd.MM.yyyy', 'dd.MM.yyyy HH:mm',
];
const ZERO_DATES = new Set(['0000-00-00', '0000-00-00 00:00:00']);

export function parseSourceDate(raw: string, zone: string): DateTime | null {
  const v = cleanText(raw);
  if (v === '' || ZERO_DATES.has(v)) return null;
  const iso = DateTime.fromISO(v, { zone, setZone: false });
  if (iso.isValid) return iso;
  for (const f of FORMATS) {
    const d = DateTime.fromFormat(v, f, { zone });
    if (d.isValid) return d;
  }
  if (/^\d{9,10}$/.test(v)) return DateTime.fromSeconds(Number(v), { zone: 'utc' });
  return null;
}

export function normalizeDatetime(raw: string, zone: string): Normalized {
  const v = cleanText(raw);
  if (v === '' || ZERO_DATES.has(v)) return empty;
  const d = parseSourceDate(v, zone);
  if (!d) return warn(null, `"${v}" is not a date/time we can read; left empty`);
  return ok(d.toUTC().toFormat('yyyy-MM-dd HH:mm:ss'));
}

export function normalizeDate(raw: string, zone: string): Normalized {
  const v = cleanText(raw);
  if (v === '' || ZERO_DATES.has(v)) return empty;
  const d = parseSourceDate(v, zone);
  if (!d) return warn(null, `"${v}" is not a date we can read; left empty`);
  return ok(d.toFormat('yyyy-MM-dd'));
}
