/**
 * The fault/input table of issue "Nothing lost, nothing doubled, nobody in who should not be".
 * Every fault, hostile input and access probe test records one row: what was tried, what the
 * product must do, what it did. `scripts/fault-table.mjs` prints them as one table at the end of
 * `npm test` and `npm run faults`. A row is written whether the case passed or not, so the table
 * shows a regression as well as the tap output does.
 */
import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type FaultKind = 'security' | 'fault' | 'input';

export interface FaultRow {
  kind: FaultKind;
  /** what was tried, e.g. "U+FFFE in a cell (upload route)" */
  case: string;
  /** what the product must do, e.g. "located refusal: file, row 3, field Name" */
  expected: string;
  /** what it did, in the same words when it held */
  observed: string;
  ok: boolean;
}

export function faultTableFile(): string {
  return process.env.FAULTS_TABLE_FILE ?? join(tmpdir(), 'crm-migration-faults.jsonl');
}

export function recordOutcome(row: FaultRow): void {
  appendFileSync(faultTableFile(), `${JSON.stringify(row)}\n`);
}
