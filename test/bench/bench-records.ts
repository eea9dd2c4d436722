/**
 * The staged records of the commit benches (test/bench/commit-bench.ts, queue-bench.ts): what the
 * bridge sends for a contacts export (a company per 10 contacts, two of 30 tags each, country by
 * lookup, match on email) plus one deal per two contacts. `p` makes names unique per run.
 */
import type { StagedRecord } from '../../bridge/src/staging/record.js';
import { stagedIn } from '../helpers/staged-record.js';

export const TAGS = 30;

export type Records = { partners: StagedRecord[]; deals: StagedRecord[] };

const staged = stagedIn('bench.csv');

/** `p`: a prefix making names unique per run (the records of one run are the same records). */
export function records(p: string, ROWS: number): Records {
  const partners: StagedRecord[] = [];
  for (let t = 0; t < TAGS; t++)
    partners.push(
      staged(`cb:tag:${t}`, 'tag', 'res.partner.category', { name: `${p}-tag-${t}` }, { match: [['name']] }),
    );
  for (let c = 0; c < ROWS / 10; c++) {
    partners.push(
      staged(
        `cb:company:${c}`,
        'company',
        'res.partner',
        { name: `${p} Company ${c}`, is_company: true },
        { match: [['name', 'is_company']] },
      ),
    );
  }
  for (let i = 0; i < ROWS; i++) {
    partners.push(
      staged(
        `cb:contact:${i}`,
        'contact',
        'res.partner',
        {
          is_company: false,
          type: 'contact',
          name: `${p} First${i} Last${i}`,
          email: `${p}.${i}@bench.example`,
          phone: '+12125551000',
          city: 'New York',
          zip: '10001',
        },
        {
          refs: {
            parent_id: `cb:company:${Math.floor(i / 10)}`,
            category_id: [`cb:tag:${i % TAGS}`, `cb:tag:${(i * 7) % TAGS}`],
          },
          lookups: { country_id: { model: 'res.country', field: 'code', value: 'US' } },
          match: [['email']],
        },
      ),
    );
  }
  const deals: StagedRecord[] = [];
  for (let i = 0; i < ROWS / 2; i++) {
    deals.push(
      staged(
        `cb:deal:${i}`,
        'deal',
        'crm.lead',
        { name: `${p} Deal ${i}`, type: 'opportunity', expected_revenue: 1000 + i },
        {
          refs: { partner_id: `cb:contact:${i}` },
        },
      ),
    );
  }
  return { partners, deals };
}
