/**
 * Merging duplicates within one upload: records of one object with the same key, or the same
 * value of the object's `dedupeBy` field (e.g. the same email in two chunk files or two rows).
 * The first record is kept; later ones fill its empty fields and add their many2many refs. Where
 * they disagree, the kept value stays and a warning says what was not taken: nothing is silent.
 */
import type { Issue, StagedRecord } from '../staging/record.js';
import type { Mapping } from './schema.js';
import type { DuplicateMerge } from './profile.js';

type Draft = Omit<StagedRecord, 'hash'>;

export function mergeDuplicates(drafts: Draft[], mapping: Mapping): { kept: Draft[]; merges: DuplicateMerge[] } {
  const kept: Draft[] = [];
  const merges: DuplicateMerge[] = [];
  const byKey = new Map<string, Draft>();
  const byValue = new Map<string, Draft>();
  for (const draft of drafts) {
    const dedupeBy = mapping.objects[draft.object]?.dedupeBy;
    const dedupeValue = dedupeBy ? draft.values[dedupeBy] : undefined;
    const valueKey =
      dedupeBy && dedupeValue !== undefined && dedupeValue !== null
        ? `${draft.object}|${dedupeBy}|${String(dedupeValue).toLowerCase()}`
        : undefined;
    const target = byKey.get(draft.key) ?? (valueKey ? byValue.get(valueKey) : undefined);
    if (!target) {
      kept.push(draft);
      byKey.set(draft.key, draft);
      if (valueKey) byValue.set(valueKey, draft);
      continue;
    }
    const by = byKey.has(draft.key) ? 'key' : (dedupeBy as string);
    mergeInto(target, draft, by);
    merges.push({
      object: draft.object,
      kept: target.key,
      keptAt: { file: target.source.file, row: target.source.row },
      merged: { key: draft.key, file: draft.source.file, row: draft.source.row },
      by,
    });
  }
  return { kept, merges };
}

export function mergeInto(target: Draft, dup: Draft, by: string): void {
  const where = { file: dup.source.file, row: dup.source.row };
  const notes: Issue[] = [
    {
      ...where,
      level: 'warning',
      field: by,
      message: `duplicate of ${target.source.file} row ${target.source.row} (same ${by}); merged into it`,
    },
  ];
  for (const [field, value] of Object.entries(dup.values)) {
    const current = target.values[field];
    if (current === undefined || current === null || current === '') target.values[field] = value;
    else if (value !== null && value !== '' && current !== value) {
      notes.push({
        ...where,
        level: 'warning',
        field,
        message: `kept "${String(current)}" from row ${target.source.row}; "${String(value)}" from this duplicate row was not taken`,
      });
    }
  }
  for (const [field, ref] of Object.entries(dup.refs)) {
    const current = target.refs[field];
    if (current === undefined) target.refs[field] = ref;
    else if (Array.isArray(current) && Array.isArray(ref)) target.refs[field] = [...new Set([...current, ...ref])];
  }
  for (const [field, lookup] of Object.entries(dup.lookups)) target.lookups[field] ??= lookup;
  target.issues.push(...dup.issues, ...notes);
}
