/**
 * Dates and times to what Odoo stores: Datetime as "YYYY-MM-DD HH:MM:SS" in UTC, Date as
 * "YYYY-MM-DD". Source values without an offset are read in the source's time zone (Kartra's
 * are US Eastern), with luxon doing the zone arithmetic (daylight saving included).
 *
 * "04/03/2021" is the 4th of March in Paris and April 3rd in Boston: the order of day and month
 * in slashed/dashed dates is a property of the column, inferred from all its values
 * (`inferDateOrder`: a first number above 12 is a day, a second above 12 is a day) and, when
 * every value fits both, from the language of the headers; a column that stays open is asked,
 * never guessed. Without an order, slashed dates are read month first (US exports).
 */
import { DateTime, Settings, type Zone } from 'luxon';
import { cleanText } from './text.js';
import { empty, ok, warn, type Normalized } from './result.js';

/** day/month order of numeric dates: day first, month first */
export type DateOrder = 'dmy' | 'mdy';

const TIMES = ['HH:mm:ss', 'HH:mm', 'H:mm', 'H:mm:ss', 'h:mm a', 'h:mm:ss a'];
const ISOISH = [
  'yyyy-MM-dd HH:mm:ss',
  'yyyy-MM-dd HH:mm',
  'yyyy-MM-dd',
  "yyyy-MM-dd'T'HH:mm:ss",
  'yyyy/MM/dd',
  'yyyy/MM/dd HH:mm:ss',
  'yyyy/MM/dd HH:mm',
];
const withTimes = (dates: string[]) => dates.flatMap((d) => [d, ...TIMES.map((t) => `${d} ${t}`)]);
const SLASHED: Record<DateOrder, string[]> = {
  mdy: withTimes(['MM/dd/yyyy', 'M/d/yyyy', 'MM-dd-yyyy', 'M-d-yyyy', 'M/d/yy']),
  dmy: withTimes(['dd/MM/yyyy', 'd/M/yyyy', 'dd-MM-yyyy', 'd-M-yyyy', 'd/M/yy']),
};
/** dotted dates are day first in every language that writes them */
const DOTTED = withTimes(['dd.MM.yyyy', 'd.M.yyyy', 'dd.MM.yy']);
const ZERO_DATES = new Set(['0000-00-00', '0000-00-00 00:00:00']);
/** MySQL's "no date" placeholder: nothing to keep, but the admin sees where it was */
const ZERO_DATE_NOTE = (v: string) => `"${v}" is the source's "no date" placeholder; left empty`;
const NUMERIC = /^(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})\b/;

/** every format of ISOISH, SLASHED and DOTTED starts with a number: other values skip the loop */
const FORMAT_CHARS = /^\d/;

export function parseSourceDate(raw: string, zone: string, order?: DateOrder): DateTime | null {
  const v = cleanText(raw);
  if (v === '' || ZERO_DATES.has(v)) return null;
  const iso = DateTime.fromISO(v, { zone, setZone: false });
  if (iso.isValid) return iso;
  if (FORMAT_CHARS.test(v)) {
    for (const f of [...ISOISH, ...SLASHED[order ?? 'mdy'], ...DOTTED]) {
      const d = DateTime.fromFormat(v, f, { zone });
      if (d.isValid) return d;
    }
  }
  if (/^\d{9,10}$/.test(v)) return DateTime.fromSeconds(Number(v), { zone: 'utc' });
  return null;
}

// ---------------------------------------------------------------- the fast path
// Most exports write "2023-05-01 10:00:00", "2023-05-01" or "5/1/2023 10:00". For those, the
// local date and time are read with one regular expression and turned into an instant exactly
// as luxon's fromObject does (its fixOffset, with the zone's offset "now" as the first guess),
// with the zone's offsets cached per UTC day (a day whose two ends have different offsets holds
// a transition and is never cached). Anything else goes the luxon way
// above. test/unit/normalize.test.ts compares both ways on many values and zones.

/** yyyy-MM-dd, then optional [ T]HH:mm[:ss] (what fromISO or an ISOISH format reads) */
const ISO_FAST = /^(\d{4})-(\d{2})-(\d{2})(?:([ T])(\d{2}):(\d{2})(?::(\d{2}))?)?$/;
/** M/d/yyyy or d/M/yyyy, then optional H:mm[:ss] (what a SLASHED format reads) */
const SLASHED_FAST = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const BUCKET = 24 * 60 * 60 * 1000;

interface ZoneOffsets {
  zone: Zone;
  buckets: Map<number, number>;
}
const zones = new Map<string, ZoneOffsets | null>();

function zoneOffsets(name: string): ZoneOffsets | null {
  let z = zones.get(name);
  if (z === undefined) {
    const zone = DateTime.fromMillis(0, { zone: name }).zone;
    z = zone.isValid ? { zone, buckets: new Map() } : null;
    zones.set(name, z);
  }
  return z;
}

/** the zone's offset (minutes) at `ts`, as luxon's zone.offset(ts) gives it; a UTC day whose
 *  first and last millisecond have the same offset has it all day (zones change at most once a
 *  day; the fast path reads only years 1971-2099, where that holds) */
function offsetAt(z: ZoneOffsets, ts: number): number {
  const b = Math.floor(ts / BUCKET);
  const known = z.buckets.get(b);
  if (known !== undefined) return known;
  const start = z.zone.offset(b * BUCKET);
  const end = z.zone.offset(b * BUCKET + BUCKET - 1);
  if (start !== end) return z.zone.offset(ts);
  if (z.buckets.size > 100_000) z.buckets.clear();
  z.buckets.set(b, start);
  return start;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function validLocal(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (y < 1971 || y > 2099 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 && leap ? 29 : (DAYS[mo - 1] as number));
}

/** An instant and the zone's offset there (minutes), for the values the fast path reads;
 *  undefined: not one of those (use parseSourceDate). */
export function fastSourceInstant(
  v: string,
  zone: string,
  order?: DateOrder,
): { ts: number; offset: number } | undefined {
  let y: number,
    mo: number,
    d: number,
    h = 0,
    mi = 0,
    s = 0;
  let m = ISO_FAST.exec(v);
  if (m) {
    // fromISO reads "T" times; the ISOISH formats read " HH:mm:ss" and " HH:mm"
    y = Number(m[1]);
    mo = Number(m[2]);
    d = Number(m[3]);
    if (m[4] !== undefined) {
      h = Number(m[5]);
      mi = Number(m[6]);
      s = m[7] === undefined ? 0 : Number(m[7]);
    }
  } else if ((m = SLASHED_FAST.exec(v))) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    [mo, d] = (order ?? 'mdy') === 'mdy' ? [a, b] : [b, a];
    y = Number(m[3]);
    if (m[4] !== undefined) {
      // "HH:mm" needs two digits, "H:mm" takes one or two: either reads the same hour
      h = Number(m[4]);
      mi = Number(m[5]);
      s = m[6] === undefined ? 0 : Number(m[6]);
    }
  } else return undefined;
  if (!validLocal(y, mo, d, h, mi, s)) return undefined;
  const z = zoneOffsets(zone);
  if (!z) return undefined;
  // luxon: objToLocalTS, then fixOffset(localTS, zone.offset(now), zone)
  const local = Date.UTC(y, mo - 1, d, h, mi, s, 0);
  const o = offsetAt(z, Settings.now());
  let guess = local - o * 60_000;
  const o2 = offsetAt(z, guess);
  if (o === o2) return { ts: guess, offset: o };
  guess -= (o2 - o) * 60_000;
  const o3 = offsetAt(z, guess);
  if (o2 === o3) return { ts: guess, offset: o2 };
  return { ts: local - Math.min(o2, o3) * 60_000, offset: Math.max(o2, o3) };
}

/** "yyyy-MM-dd HH:mm:ss" of an instant, in UTC */
function utcText(ts: number): string {
  const iso = new Date(ts).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

export interface DateOrderEvidence {
  /** null: the values (and headers) leave it open */
  order: DateOrder | null;
  /** values only one order reads: day first, month first; values either reads */
  dayFirst: number;
  monthFirst: number;
  either: number;
  /** some values are only day first and others only month first */
  conflicting: boolean;
  /** in words, for the mapping line */
  reason: string;
}

/** Languages whose people write the day first (every one the proposer knows but English). */
const DAY_FIRST_LANGUAGES = new Set(['fr', 'de', 'es', 'it', 'nl', 'pt']);

/**
 * The day/month order of a column, from all its values; `language` (of the headers) decides
 * when every value fits both orders. Values that are not numeric dates (ISO, dotted) say nothing.
 */
export function inferDateOrder(values: Iterable<string>, language?: string | null): DateOrderEvidence {
  const tally = new DateOrderTally();
  for (const v of values) tally.add(v);
  return tally.evidence(language);
}

/** Counts a column's values one at a time (a whole export streams through it in constant memory). */
export class DateOrderTally {
  private dayFirst = 0;
  private monthFirst = 0;
  private either = 0;

  add(raw: string): void {
    const m = NUMERIC.exec(cleanText(raw));
    if (!m) return;
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a > 12 && b <= 12) this.dayFirst += 1;
    else if (b > 12 && a <= 12) this.monthFirst += 1;
    else if (a <= 12 && b <= 12) this.either += 1;
  }

  evidence(language?: string | null): DateOrderEvidence {
    const { dayFirst, monthFirst, either } = this;
    const counts = { dayFirst, monthFirst, either };
    if (dayFirst > 0 && monthFirst > 0) {
      return {
        order: null,
        ...counts,
        conflicting: true,
        reason: `${dayFirst} values are dd/mm and ${monthFirst} mm/dd`,
      };
    }
    if (dayFirst > 0)
      return {
        order: 'dmy',
        ...counts,
        conflicting: false,
        reason: `dd/mm: ${dayFirst} of ${dayFirst + either} values have a day above 12`,
      };
    if (monthFirst > 0)
      return {
        order: 'mdy',
        ...counts,
        conflicting: false,
        reason: `mm/dd: ${monthFirst} of ${monthFirst + either} values have a day above 12`,
      };
    if (either === 0) return { order: null, ...counts, conflicting: false, reason: 'no dd/mm or mm/dd values' };
    if (language && DAY_FIRST_LANGUAGES.has(language)) {
      return {
        order: 'dmy',
        ...counts,
        conflicting: false,
        reason: `dd/mm: every value fits both orders; the headers are in ${LANGUAGE_NAMES[language] ?? language}, which writes the day first`,
      };
    }
    return { order: null, ...counts, conflicting: false, reason: `all ${either} values fit both dd/mm and mm/dd` };
  }
}

const LANGUAGE_NAMES: Record<string, string> = {
  fr: 'French',
  de: 'German',
  es: 'Spanish',
  it: 'Italian',
  nl: 'Dutch',
  pt: 'Portuguese',
};

export function normalizeDatetime(raw: string, zone: string, order?: DateOrder): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  if (ZERO_DATES.has(v)) return warn(null, ZERO_DATE_NOTE(v));
  const fast = fastSourceInstant(v, zone, order);
  if (fast) return ok(utcText(fast.ts));
  const d = parseSourceDate(v, zone, order);
  if (!d) return warn(null, `"${v}" is not a date/time we can read; left empty`);
  return ok(d.toUTC().toFormat('yyyy-MM-dd HH:mm:ss'));
}

export function normalizeDate(raw: string, zone: string, order?: DateOrder): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  if (ZERO_DATES.has(v)) return warn(null, ZERO_DATE_NOTE(v));
  const fast = fastSourceInstant(v, zone, order);
  if (fast) return ok(new Date(fast.ts + fast.offset * 60_000).toISOString().slice(0, 10));
  const d = parseSourceDate(v, zone, order);
  if (!d) return warn(null, `"${v}" is not a date we can read; left empty`);
  return ok(d.toFormat('yyyy-MM-dd'));
}
