import { empty, ok, warn, type Normalized } from './result.js';

// eslint-disable-next-line no-control-regex -- dropping control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Trims, folds runs of white space, and drops control characters. Empty → null. */
export function cleanText(raw: string): string {
  return raw
    .replace(CONTROL_CHARACTERS, '')
    .replace(/[ \t\u00a0]+/g, ' ')
    .trim();
}

export function normalizeText(raw: string): Normalized {
  const v = cleanText(raw);
  return v === '' ? empty : ok(v);
}

/** Multi-line text: keeps line breaks, trims each line. */
export function normalizeMultiline(raw: string): Normalized {
  const v = raw.replace(/\r\n?/g, '\n').split('\n').map(cleanText).join('\n').trim();
  return v === '' ? empty : ok(v);
}

/** Multi-line plain text as HTML (an Odoo html field such as a chatter message body): special
 *  characters escaped, blank lines separate paragraphs, other line breaks kept as <br>. */
export function normalizeMultilineHtml(raw: string): Normalized {
  const text = normalizeMultiline(raw).value;
  if (typeof text !== 'string') return empty;
  const escape = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return ok(
    text
      .split(/\n{2,}/)
      .map((p) => `<p>${p.split('\n').map(escape).join('<br>')}</p>`)
      .join(''),
  );
}

export function normalizeUrl(raw: string): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `https://${v}`;
  try {
    const url = new URL(withScheme);
    if (!url.hostname.includes('.')) return warn(v, `"${v}" does not look like a web address; kept as written`);
    return ok(withScheme);
  } catch {
    return warn(v, `"${v}" is not a valid web address; kept as written`);
  }
}

const INT4_MAX = 2_147_483_647;

export function normalizeInteger(raw: string): Normalized {
  const v = cleanText(raw);
  if (v === '') return empty;
  if (!/^[-+]?\d+$/.test(v)) return warn(null, `"${v}" is not a whole number; left empty`);
  const n = Number.parseInt(v, 10);
  // Odoo's integer is PostgreSQL's int4: a larger value would fail the whole record at commit
  if (n > INT4_MAX || n < -INT4_MAX - 1)
    return warn(
      null,
      `${v} is beyond the range of an Odoo integer field (±2,147,483,647); left empty (make the field decimal or text to keep it)`,
    );
  return ok(n);
}

/** Numbers as exports write them: "1,234.50", "1234,50", "$99". */
export function normalizeNumber(raw: string): Normalized {
  let v = cleanText(raw).replace(/[\s$€£¥]/g, '');
  if (v === '') return empty;
  if (/^[-+]?\d{1,3}(\.\d{3})*(,\d+)?$/.test(v) && v.includes(',')) v = v.replace(/\./g, '').replace(',', '.');
  else v = v.replace(/,/g, '');
  const n = Number(v);
  if (!Number.isFinite(n)) return warn(null, `"${raw.trim()}" is not a number; left empty`);
  return ok(n);
}

const TRUE = new Set(['1', 'true', 'yes', 'y', 'on', 'x', 'checked']);
const FALSE = new Set(['0', 'false', 'no', 'n', 'off', 'unchecked']);

export function normalizeBoolean(raw: string): Normalized {
  const v = cleanText(raw).toLowerCase();
  if (v === '') return empty;
  if (TRUE.has(v)) return ok(true);
  if (FALSE.has(v)) return ok(false);
  return warn(null, `"${raw.trim()}" is not yes/no; left empty`);
}
