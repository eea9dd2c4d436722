/**
 * The mapping engine: export files + a declarative mapping → staged records and a profile.
 * It knows no source system by name; everything source-specific is in the mapping.
 *
 * Per file: the object is recognised from the header, columns are resolved by meaning, required
 * columns are checked (a missing one stops the whole run before anything is staged), then every
 * row becomes one record with per-field issues. Cells that name other objects (a company, tags)
 * become derived records the row refers to by key. Records with the same key, or the same value of
 * the object's `dedupeBy` field (e.g. email), are merged, with a note on the kept record.
 */
import { readCsv, type CsvFile } from '../csv/read-csv.js';
import { InputError } from '../core/input-error.js';
import { cleanText, normalizeText } from '../normalize/text.js';
import { countryCode } from '../normalize/country.js';
import type { Normalized } from '../normalize/result.js';
import { contentHash } from '../staging/hash.js';
import type { Issue, Scalar, StagedRecord } from '../staging/record.js';
import { detectScore, resolveColumns } from './columns.js';
import type { FieldRule, Mapping, ObjectMapping } from './schema.js';
import { applyTransform } from './transforms.js';
import type { FileProfile, Profile } from './profile.js';
import { mergeDuplicates } from './dedupe.js';

type Draft = Omit<StagedRecord, 'hash'>;

export interface StageResult {
  source: string;
  records: StagedRecord[];
  profile: Profile;
}

export class MappingEngine {
  private readonly drafts: Draft[] = [];
  private readonly derived = new Map<string, Draft>();
  private readonly files: FileProfile[] = [];

  constructor(private readonly mapping: Mapping) {}

  /** Reads every file fully before returning: a bad file throws and nothing is staged. */
  static async stage(mapping: Mapping, files: CsvFile[]): Promise<StageResult> {
    if (files.length === 0) throw new InputError({ file: '(none)' }, 'no export file given');
    const engine = new MappingEngine(mapping);
    for (const file of files) await engine.addFile(file);
    return engine.finish();
  }

  async addFile(file: CsvFile): Promise<void> {
    let objectName = '';
    let object: ObjectMapping | undefined;
    let byColumn = new Map<string, string>();
    const profile: FileProfile = { file: file.name, object: '', encoding: '', rows: 0, unknownColumns: [] };
    for await (const { row, cells } of readCsv(file, ({ encoding, header }) => {
      [objectName, object] = this.recognise(file.name, header);
      const resolved = resolveColumns(object, header);
      byColumn = resolved.byColumn;
      for (const column of object.requiredColumns) {
        if (!byColumn.has(column)) {
          const spellings = [column, ...(object.columns[column] ?? [])].join('", "');
          throw new InputError({ file: file.name, row: 1, field: column }, `required column missing from the header (expected one of "${spellings}")`);
        }
      }
      Object.assign(profile, { object: objectName, encoding, unknownColumns: resolved.unknown });
    })) {
      profile.rows += 1;
      this.drafts.push(this.rowToRecord(file.name, row, cells, objectName, object as ObjectMapping, byColumn));
    }
    this.files.push(profile);
  }

  finish(): StageResult {
    const drafts = [...this.drafts, ...this.derived.values()];
    const { kept, merges } = mergeDuplicates(drafts, this.mapping);
    const records = kept.map((d) => ({ ...d, hash: contentHash(d) }));
    const objects: Profile['objects'] = {};
    for (const r of records) {
      const o = (objects[r.object] ??= { model: r.model, records: 0, withErrors: 0, withWarnings: 0 });
      o.records += 1;
      if (r.issues.some((i) => i.level === 'error')) o.withErrors += 1;
      else if (r.issues.length > 0) o.withWarnings += 1;
    }
    const issues = records.flatMap((r) => r.issues);
    return {
      source: this.mapping.source,
      records,
      profile: {
        source: this.mapping.source,
        files: this.files,
        objects,
        duplicatesMerged: merges,
        issues: {
          errors: issues.filter((i) => i.level === 'error').length,
          warnings: issues.filter((i) => i.level === 'warning').length,
        },
        notMigratable: this.mapping.notMigratable,
        lossy: Object.entries(this.mapping.objects).flatMap(([o, m]) => m.lossy.map((l) => ({ object: o, ...l }))),
      },
    };
  }

  private recognise(fileName: string, header: string[]): [string, ObjectMapping] {
    let best: [string, ObjectMapping] | undefined;
    let bestScore = 0;
    for (const [name, object] of Object.entries(this.mapping.objects)) {
      const score = detectScore(object, header);
      if (score > bestScore) {
        best = [name, object];
        bestScore = score;
      }
    }
    if (!best) {
      const kinds = Object.values(this.mapping.objects).filter((o) => o.file).map((o) => o.label).join(', ');
      throw new InputError({ file: fileName, row: 1 }, `not recognised as a ${this.mapping.label} export (${kinds}); header was: ${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''}`);
    }
    return best;
  }

  private rowToRecord(file: string, row: number, cells: Record<string, string>, objectName: string, object: ObjectMapping, byColumn: Map<string, string>): Draft {
    const cell = (column: string): string => {
      const header = byColumn.get(column);
      return header === undefined ? '' : (cells[header] ?? '');
    };
    const headerOf = (column: string): string => byColumn.get(column) ?? column;
    const values: Record<string, Scalar> = { ...object.constants };
    const refs: Draft['refs'] = {};
    const lookups: Draft['lookups'] = {};
    const issues: Issue[] = [];
    const normalizedByColumn = new Map<string, Scalar>();

    for (const rule of object.fields) {
      const from = Array.isArray(rule.from) ? rule.from : [rule.from];
      const where = { file, row, field: headerOf(from[0] as string) };
      const result = this.readRule(rule, from, cell);
      if (from.length === 1) normalizedByColumn.set(from[0] as string, result.value);
      if (result.issue) issues.push({ ...where, ...result.issue });
      if (result.value === null) {
        if (rule.required && !result.issue) issues.push({ ...where, level: 'error', message: 'required value is empty' });
        continue;
      }
      if (rule.lookup) {
        lookups[rule.field] = { model: rule.lookup.model, field: rule.lookup.field, value: result.value };
      } else if (rule.object) {
        const keys = this.derive(rule, String(result.value), file, row);
        if (keys.length > 0) refs[rule.field] = rule.split ? keys : (keys[0] as string);
      } else {
        values[rule.field] = result.value;
      }
    }

    let keyValue: string | undefined;
    for (const column of object.key) {
      const v = normalizedByColumn.has(column) ? normalizedByColumn.get(column) : normalizeText(cell(column)).value;
      if (v !== null && v !== undefined && String(v) !== '') {
        keyValue = String(v);
        break;
      }
    }
    if (keyValue === undefined) {
      issues.push({ file, row, field: headerOf(object.key[0] as string), level: 'error', message: `no ${object.key.join(' or ')} to identify this record` });
      keyValue = `row:${file}:${row}`;
    }
    return {
      key: `${this.mapping.source}:${objectName}:${keyValue}`,
      object: objectName,
      model: object.model,
      values,
      refs,
      lookups,
      match: object.match,
      source: { file, row, data: cells },
      issues: dedupeIssues(issues),
    };
  }

  private readRule(rule: FieldRule, from: string[], cell: (c: string) => string): Normalized {
    const ctx = {
      zone: this.mapping.timezone,
      phone: { country: rule.countryFrom ? countryCode(cell(rule.countryFrom)) : null, callingCode: rule.callingCodeFrom ? cell(rule.callingCodeFrom) : null },
    };
    if (from.length > 1) {
      const parts = from.map((c) => applyTransform(rule.transform, cell(c), ctx).value).filter((v) => v !== null && v !== '');
      if (parts.length > 0) return { value: parts.join(rule.join) };
    } else {
      const result = applyTransform(rule.transform, cell(from[0] as string), ctx);
      if (result.value !== null || result.issue) return result;
    }
    for (const c of rule.fallback) {
      const v = normalizeText(cell(c)).value;
      if (v !== null) return { value: v };
    }
    return { value: null };
  }

  /** Creates (once) the records a cell names in another object; returns their keys. */
  private derive(rule: FieldRule, text: string, file: string, row: number): string[] {
    const objectName = rule.object as string;
    const object = this.mapping.objects[objectName] as ObjectMapping;
    const parts = rule.split ? splitAny(text, rule.split) : [text];
    const keys: string[] = [];
    for (const part of parts) {
      const value = cleanText(part);
      if (value === '') continue;
      const key = `${this.mapping.source}:${objectName}:${value.toLowerCase()}`;
      if (!this.derived.has(key)) {
        this.derived.set(key, {
          key,
          object: objectName,
          model: object.model,
          values: { ...object.constants, [object.valueField as string]: value },
          refs: {},
          lookups: {},
          match: object.match,
          source: { file, row, data: { [rule.field]: value } },
          issues: [],
        });
      }
      if (!keys.includes(key)) keys.push(key);
    }
    return keys;
  }
}

function splitAny(text: string, separators: string[]): string[] {
  let parts = [text];
  for (const sep of separators) parts = parts.flatMap((p) => p.split(sep));
  return parts;
}

function dedupeIssues(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.level}|${i.field}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
