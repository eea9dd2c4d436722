/**
 * What a column's values look like: shares of emails, phones, dates, numbers, booleans, URLs,
 * countries and multi-line cells. The proposer uses it to confirm or correct what a header suggests ("Contact" holding emails is an email column).
 */
import { z } from 'zod';
import { cleanText, normalizeBoolean, normalizeNumber } from '../normalize/text.js';
import { parseSourceDate } from '../normalize/datetime.js';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { countryCode } from '../normalize/country.js';

const email = z.email();

export interface ValueProfile {
  filled: number;
  email: number;
  phone: number;
  date: number;
  number: number;
  boolean: number;
  url: number;
  multiline: number;
  /** country names or codes ("France", "USA", "DE") */
  country: number;
}

export function profileValues(values: string[]): ValueProfile {
  const cells = values.map((v) => v.trim()).filter((v) => v !== '');
  const n = cells.length || 1;
  const share = (test: (v: string) => boolean) => cells.filter(test).length / n;
  return {
    filled: cells.length,
    email: share((v) => email.safeParse(v.toLowerCase()).success),
    // a date written with digits and dashes (1990-05-01, 0000-00-00) is not a phone number
    phone: share(
      (v) =>
        !/^\d{4}-\d{2}-\d{2}([ T].*)?$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$/.test(v) &&
        /\d{6,}/.test(v.replace(/[\s().-]/g, '')) &&
        !/[a-z@]/i.test(v) &&
        Boolean(
          parsePhoneNumberFromString(v.startsWith('+') ? v : `+${v.replace(/\D/g, '')}`)?.isPossible() ||
          /^[+(]?\d[\d\s().-]{6,}$/.test(v),
        ),
    ),
    date: share((v) => /\d/.test(v) && /[-/.]/.test(v) && parseSourceDate(v, 'UTC') !== null),
    number: share((v) => /^[-+$€£]?\s?[\d.,]+$/.test(v) && normalizeNumber(v).value !== null),
    boolean: share((v) => normalizeBoolean(v).value !== null && !/^\d{2,}$/.test(v)),
    url: share(
      (v) => /^(https?:\/\/|www\.)|\.[a-z]{2,}(\/|$)/i.test(v) && !v.includes('@') && !/\s/.test(cleanText(v)),
    ),
    multiline: share((v) => /\n/.test(v)),
    country: share((v) => v.length > 1 && countryCode(v) !== null),
  };
}
