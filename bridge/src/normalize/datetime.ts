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
import { DateTime } from 'luxon';
import { cleanText } from './text.js';
import { empty, ok, warn, type Normalized } from './result.js';

/** day/month order of numeric dates: day first, month first */
export type DateOrder = 'dmy' | 'mdy';

const TIMES = ['HH:mm:ss', 'HH:mm', 'H:mm', 'H:mm:ss', 'h:mm a', 'h:mm:ss a'];
const ISOISH = ['yyyy-MM-dd HH:mm:ss', 'yyyy-MM-dd HH:mm', 'yyyy-MM-dd', "yyyy-MM-dd'T'HH:mm:ss", 'yyyy/MM/dd', 'yyyy/MM/dd HH:mm:ss', 'yyyy/MM/dd HH:mm'];
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

export function parseSourceDate(raw: string, zone: string, order?: DateOrder): DateTime | null {
  const v = cleanText(raw);
  if (v === '' || ZERO_DATES.has(v)) return null;
  const iso = DateTime.fromISO(v, { zone, setZone: false });
  if (iso.isValid) return iso;
  for (const f of [...ISOISH, ...SLASHED[order ?? 'mdy'], ...DOTTED]) {
    const d = DateTime.fromFormat(v, f, { zone });
    if (d.isValid) return d;
  }
  if (/^\d{9,10}$/.test(v)) return DateTime.fromSeconds(Number(v), { zone: 'utc' });
  return null;
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
      return { order: null, ...counts, conflicting: true, reason: `${dayFirst} values are dd/mm and ${monthFirst} mm/dd` };
    }
    if (dayFirst > 0) return { order: 'dmy', ...counts, conflicting: false, reason: `dd/mm: ${dayFirst} of ${dayFirst + either} values have a day above 12` };
    if (monthFirst > 0) return { order: 'mdy', ...counts, conflicting: false, reason: `mm/dd: ${monthFirst} of ${monthFirst + either} values have a day above 12` };
    if (either === 0) return { order: null, ...counts, conflicting: false, reason: 'no dd/mm or mm/dd values' };
    if (language && DAY_FIRST_LANGUAGES.has(language)) {
      return { order: 'dmy', ...counts, conflicting: false, reason: `dd/mm: every value fits both orders; the headers are in ${LANGUAGE_NAMES[language] ?? language}, which writes the day first` };
    }
    return { order: null, ...counts, conflicting: false, reason: `all ${either} values fit both dd/mm and mm/dd` };
  }
}

const LANGUAGE_NAMES: Record<string, string> = { fr: 'French', de: 'German', es: 'Spanish', it: 'Italian', nl: 'Dutch', pt: 'Portuguese' };

export function normalizeDatetime(raw: string, zone: string, order?: DateOrder): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  if (ZERO_DATES.has(v)) return warn(null, ZERO_DATE_NOTE(v));
  const d = parseSourceDate(v, zone, order);
  if (!d) return warn(null, `"${v}" is not a date/time we can read; left empty`);
  return ok(d.toUTC().toFormat('yyyy-MM-dd HH:mm:ss'));
}

export function normalizeDate(raw: string, zone: string, order?: DateOrder): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  if (ZERO_DATES.has(v)) return warn(null, ZERO_DATE_NOTE(v));
  const d = parseSourceDate(v, zone, order);
  if (!d) return warn(null, `"${v}" is not a date we can read; left empty`);
  return ok(d.toFormat('yyyy-MM-dd'));
}
