/**
 * Runs the hostile-input corpus (test/fixtures/hostile/corpus.ts) and judges each outcome the
 * same way whatever the route: refused (with the named location), flagged (a located issue on a
 * staged record) or staged (and the case's own check holds).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostileCase, StagedLike } from '../fixtures/hostile/corpus.js';

export interface Observed {
  /** refused: the error answer (file, row, field, message) */
  refusal?: { file?: unknown; row?: unknown; field?: unknown; message?: unknown; status?: number };
  /** staged: the records (when the route gives them) and how many */
  records?: StagedLike[];
  count?: number;
  /** anything else (a crash, a 500, a timeout) */
  crash?: string;
}

export interface Verdict {
  ok: boolean;
  observed: string;
  expected: string;
}

/** Writes the case's files into `dir` (names kept where the file system allows; the route sees the name given). */
export async function writeCase(dir: string, c: HostileCase): Promise<{ name: string; path: string; bytes: Buffer }[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    c.files.map(async (f, i) => {
      const bytes = f.bytes();
      const path = join(dir, `${i}-${c.id}.csv`);
      await writeFile(path, bytes);
      return { name: f.name, path, bytes };
    }),
  );
}

export function expectedText(c: HostileCase): string {
  const where = [
    c.expect.file,
    c.expect.row !== undefined ? `row ${c.expect.row}` : undefined,
    c.expect.field ? `field ${c.expect.field}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  if (c.expect.outcome === 'staged') return 'staged as it is';
  return `${c.expect.outcome}${where ? ` (${where})` : ''}: ${c.expect.message.source}`;
}

const short = (s: unknown) => String(s).replace(/\s+/g, ' ').slice(0, 140);

export function judge(c: HostileCase, o: Observed, opts: { recordsVisible: boolean }): Verdict {
  const expected = expectedText(c);
  if (o.crash) return { ok: false, expected, observed: `crash: ${short(o.crash)}` };
  const e = c.expect;
  if (o.refusal) {
    const r = o.refusal;
    const observed = `refused: ${short(r.message)}`;
    if (e.outcome !== 'refused') return { ok: false, expected, observed };
    const msg = String(r.message ?? '');
    const located =
      (e.file === undefined || String(r.file ?? msg).includes(e.file) || msg.includes(e.file)) &&
      (e.row === undefined || r.row === e.row || msg.includes(`row ${e.row}`)) &&
      (e.field === undefined || r.field === e.field || msg.includes(`"${e.field}"`) || msg.includes(e.field));
    return { ok: located && e.message.test(msg), expected, observed };
  }
  const records = o.records ?? [];
  const count = o.count ?? records.length;
  if (e.outcome === 'refused') return { ok: false, expected, observed: `staged ${count} record(s), no refusal` };
  if (!opts.recordsVisible) {
    // this route answers counts only: a flag shows as an issue count, a refusal would have shown above
    return { ok: count > 0, expected, observed: `staged ${count} record(s)` };
  }
  const problem = c.check?.(records);
  if (problem) return { ok: false, expected, observed: problem };
  if (e.outcome === 'staged') return { ok: count > 0, expected, observed: `staged ${count} record(s)` };
  const level = e.level ?? 'warning';
  const issue = records
    .flatMap((r) => r.issues ?? [])
    .find(
      (i) =>
        i.level === level &&
        e.message.test(i.message) &&
        (e.file === undefined || i.file === e.file) &&
        (e.row === undefined || i.row === e.row) &&
        (e.field === undefined || i.field === e.field),
    );
  return issue
    ? { ok: true, expected, observed: `flagged (${i2s(issue)}): ${short(issue.message)}` }
    : {
        ok: false,
        expected,
        observed: `staged ${count} record(s) without that flag; issues: ${short(JSON.stringify(records.flatMap((r) => r.issues ?? []).slice(0, 3)))}`,
      };
}

function i2s(i: { file?: string; row?: number; field?: string; level: string }): string {
  return [i.file, i.row !== undefined ? `row ${i.row}` : undefined, i.field ? `field ${i.field}` : undefined, i.level]
    .filter(Boolean)
    .join(', ');
}
