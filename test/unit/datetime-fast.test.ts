/** The fast date path (normalize/datetime.ts) gives exactly what luxon's parsing gives, around
 *  daylight-saving changes, in zones with half- and quarter-hour offsets, on invalid dates. */
import t from 'tap';
import { DateTime } from 'luxon';
import {
  fastSourceInstant,
  normalizeDate,
  normalizeDatetime,
  parseSourceDate,
} from '../../bridge/src/normalize/datetime.js';

const ZONES = [
  'America/New_York',
  'Europe/Paris',
  'Australia/Adelaide',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/Sao_Paulo',
  'UTC',
];

function values(): string[] {
  const out: string[] = [];
  const pad = (n: number) => String(n).padStart(2, '0');
  // every quarter hour of the days around the changes of 2024 (north and south), and some odd ones
  for (const day of [
    '2024-03-10',
    '2024-03-31',
    '2024-04-07',
    '2024-10-06',
    '2024-10-27',
    '2024-11-03',
    '2018-11-04',
    '1999-02-28',
  ]) {
    for (let m = 0; m < 24 * 60; m += 15)
      out.push(
        `${day} ${pad(Math.floor(m / 60))}:${pad(m % 60)}:00`,
        `${day}T${pad(Math.floor(m / 60))}:${pad(m % 60)}`,
      );
    out.push(day);
  }
  out.push(
    '2024-02-29',
    '2023-02-29',
    '2024-13-01',
    '2024-00-10',
    '2024-04-31',
    '2024-01-01 24:00:00',
    '2024-01-01 23:60',
    '1000-01-01',
    '9999-12-31 23:59:59',
    '1970-06-01 10:00',
    '2100-01-01',
  );
  for (const [a, b] of [
    [3, 7],
    [12, 31],
    [31, 12],
    [13, 1],
    [2, 29],
    [0, 5],
  ] as [number, number][])
    out.push(`${a}/${b}/2024`, `${a}/${b}/2023 9:05`, `${pad(a)}/${pad(b)}/2021 14:30:15`, `${a}/${b}/2024 24:00`);
  return out;
}

const slowDatetime = (v: string, zone: string, order?: 'dmy' | 'mdy') =>
  parseSourceDate(v, zone, order)?.toUTC().toFormat('yyyy-MM-dd HH:mm:ss') ?? null;
const slowDate = (v: string, zone: string, order?: 'dmy' | 'mdy') =>
  parseSourceDate(v, zone, order)?.toFormat('yyyy-MM-dd') ?? null;

t.test('fast and luxon readings agree', async (t) => {
  let fast = 0;
  let compared = 0;
  for (const zone of ZONES) {
    for (const order of [undefined, 'dmy', 'mdy'] as const) {
      for (const v of values()) {
        if (fastSourceInstant(v, zone, order)) fast += 1;
        compared += 1;
        const dt = normalizeDatetime(v, zone, order).value;
        const d = normalizeDate(v, zone, order).value;
        if (dt !== slowDatetime(v, zone, order) || d !== slowDate(v, zone, order)) {
          t.fail(
            `${v} in ${zone} (${order}): ${String(dt)} / ${String(d)} vs ${String(slowDatetime(v, zone, order))} / ${String(slowDate(v, zone, order))}`,
          );
        }
      }
    }
  }
  t.ok(fast > compared / 2, `most values took the fast path (${fast} of ${compared})`);
  t.pass(`${compared} values compared`);
});

t.test('an instant and its offset, as luxon has them', async (t) => {
  const f = fastSourceInstant('2024-11-03 01:30:00', 'America/New_York');
  const d = DateTime.fromFormat('2024-11-03 01:30:00', 'yyyy-MM-dd HH:mm:ss', { zone: 'America/New_York' });
  t.same(f, { ts: d.toMillis(), offset: d.offset });
  t.equal(fastSourceInstant('sometime in 2019', 'UTC'), undefined);
  t.equal(fastSourceInstant('2024-01-01', 'Not/AZone'), undefined);
});
