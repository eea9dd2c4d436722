import t from 'tap';
import { normalizeEmail } from '../../bridge/src/normalize/email.js';
import { normalizePhone } from '../../bridge/src/normalize/phone.js';
import { normalizeDate, normalizeDatetime } from '../../bridge/src/normalize/datetime.js';
import { countryCode, normalizeCountry } from '../../bridge/src/normalize/country.js';
import { normalizeBoolean, normalizeNumber, normalizeText, normalizeUrl } from '../../bridge/src/normalize/text.js';

t.test('email: trimmed, lower-cased, validated', async (t) => {
  t.same(normalizeEmail('  Ada.Lovelace@Example.COM '), { value: 'ada.lovelace@example.com' });
  t.same(normalizeEmail('mailto:<Bob@x.example>').value, 'bob@x.example');
  t.same(normalizeEmail(''), { value: null });
  const bad = normalizeEmail('not-an-email');
  t.equal(bad.value, null);
  t.equal(bad.issue?.level, 'error');
  t.match(bad.issue?.message, /not a valid email/);
});

t.test('phone: E.164 where the country is known, kept with a warning otherwise', async (t) => {
  t.equal(normalizePhone('20 7946 0018', { callingCode: '44' }).value, '+442079460018');
  t.equal(normalizePhone('(202) 555-0143', { country: 'US' }).value, '+12025550143');
  t.equal(normalizePhone('+44 1908 640404').value, '+441908640404');
  t.equal(normalizePhone('0044 1908 640404').value, '+441908640404');
  t.equal(normalizePhone('07911 123456', { country: 'GB', callingCode: '44' }).value, '+447911123456');
  const unknown = normalizePhone('555 0101');
  t.equal(unknown.value, '555 0101');
  t.equal(unknown.issue?.level, 'warning');
  t.equal(normalizePhone('').value, null);
});

t.test('dates: source zone to UTC in Odoo format, DST included', async (t) => {
  t.equal(normalizeDatetime('2024-01-15 09:30:00', 'America/New_York').value, '2024-01-15 14:30:00');
  t.equal(normalizeDatetime('2024-07-15 09:30:00', 'America/New_York').value, '2024-07-15 13:30:00');
  t.equal(normalizeDatetime('2024-07-15T09:30:00Z', 'America/New_York').value, '2024-07-15 09:30:00');
  t.equal(normalizeDatetime('07/04/2023 10:00', 'UTC').value, '2023-07-04 10:00:00');
  t.equal(normalizeDatetime('0000-00-00 00:00:00', 'UTC').value, null);
  t.equal(normalizeDate('2024-03-01 23:00:00', 'America/New_York').value, '2024-03-01');
  const bad = normalizeDatetime('yesterday-ish', 'UTC');
  t.equal(bad.value, null);
  t.equal(bad.issue?.level, 'warning');
});

t.test('country names and codes to ISO alpha-2', async (t) => {
  t.equal(countryCode('United Kingdom'), 'GB');
  t.equal(countryCode('UK'), 'GB');
  t.equal(countryCode('usa'), 'US');
  t.equal(countryCode('Deutschland'), 'DE');
  t.equal(countryCode('fr'), 'FR');
  t.equal(countryCode('NLD'), 'NL');
  t.equal(normalizeCountry('Atlantis').issue?.level, 'warning');
});

t.test('text, numbers, booleans, urls', async (t) => {
  t.equal(normalizeText('  a \t b  ').value, 'a b');
  t.equal(normalizeText('   ').value, null);
  t.equal(normalizeNumber('1,234.50').value, 1234.5);
  t.equal(normalizeNumber('1.234,50').value, 1234.5);
  t.equal(normalizeNumber('$99').value, 99);
  t.equal(normalizeBoolean('Yes').value, true);
  t.equal(normalizeBoolean('0').value, false);
  t.equal(normalizeUrl('example.com').value, 'https://example.com');
});
