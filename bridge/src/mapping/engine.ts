/**
 * The mapping engine: a source's tables (CSV files, API objects, read through a SourceReader) + a
 * declarative mapping → staged records and a profile. It knows no source system by name;
 * everything source-specific is in the mapping.
 *
 * Per table: the object is the one the reader names (API), else recognised from the header
 * (and, when its Odoo app is not installed, handed to its fallback object), columns are resolved by meaning, required columns are checked
 * (a missing one stops the whole run before anything is staged), then every row becomes a record
 * with per-field issues. Cells that name other objects (a company, tags, a stage) become derived
 * records referred to by key; per-row children (order lines) are made beside their parent.
 * After the last file: unknown columns become custom fields (records of their own that the
 * records using them depend on), refs by value (a deal's contact by email) are resolved, and
 * records with the same key or the same `dedupeBy` value are merged, with a note.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../core/input-error.js';
import { cleanText, normalizeText } from '../normalize/text.js';
import { countryCode } from '../normalize/country.js';
import { parseSourceDate } from '../normalize/datetime.js';
import type { Normalized } from '../normalize/result.js';
import { contentHash } from '../staging/hash.js';
import { hashFile, resolveLocalFile, type BlobFile } from '../staging/blob.js';
import { hasErrors, type Issue, type Lookup, type Scalar, type StagedRecord } from '../staging/record.js';
import { ColumnQuestion, detectScore, headerToken, resolveColumns, type TakenColumn } from './columns.js';
import { fromColumns, type FieldRule, type Mapping, type ObjectMapping } from './schema.js';
import { applyTransform } from './transforms.js';
import type { FileProfile, Profile, StructureNode, TargetChoice } from './profile.js';
import { mergeDuplicates } from './dedupe.js';
import { customValue, fieldName, findSchemaRow, inferType, selectionLiteral, type CustomFieldSpec, type SchemaRow } from './custom-fields.js';
import { DateTime } from 'luxon';
import type { SourceReader, SourceRow, SourceTable } from '../sources/reader.js';

type Draft = Omit<StagedRecord, 'hash'>;

export interface StageResult {
  source: string;
  records: StagedRecord[];
  profile: Profile;
  /** files of staged ir.attachment records (not in error), to upload after staging */
  blobs: BlobFile[];
}

export interface EngineOptions {
  /** Odoo module name → installed; null/absent: not checked (dry run), preferred targets used */
  installedApps?: Record<string, boolean> | null;
  /** objects whose rows are left out by the admin's choice */
  skip?: string[];
  /** "now", for the stale-record flag (tests pin it) */
  now?: Date;
  /** the folder that file columns (`blobFrom`) name files in; absent: such rows are in error */
  filesDir?: string | null | undefined;
  /** headers named by the admin for columns the mapping needs: `column` or `object.column` → header */
  columns?: Record<string, string> | undefined;
  /** file name → headers taken for the mapping's columns before staging (by the planner, which
   *  saw the values too): used as given, and reported in the profile */
  takenByFile?: ReadonlyMap<string, TakenColumn[]> | undefined;
}

interface RowContext {
  file: string;
  row: number;
  cell: (column: string) => string;
  headerOf: (column: string) => string;
  /** the file has this column */
  present: (column: string) => boolean;
  /** rows whose Odoo app is missing: no derived records, refs or lookups (their models may not exist) */
  valuesOnly?: boolean;
}

interface Evaluated {
  /** Odoo field → source header(s) that fed it */
  columns: Record<string, string>;
  values: Record<string, Scalar>;
  refs: Draft['refs'];
  lookups: Draft['lookups'];
  issues: Issue[];
  normalized: Map<string, Scalar>;
  pendingRefs: { field: string; rule: FieldRule; value: Scalar; where: Issue }[];
}

interface FileTarget {
  objectName: string;
  object: ObjectMapping;
  /** the object whose columns/key/detection the file uses */
  primaryName: string;
  primary: ObjectMapping;
  byColumn: Map<string, string>;
  skip: boolean;
  missingApps: string[];
  /** headers taken for columns by their meaning, not the mapping's spelling */
  taken: TakenColumn[];
}

export class MappingEngine {
  private readonly drafts: Draft[] = [];
  private readonly derived = new Map<string, Draft>();
  private readonly files: FileProfile[] = [];
  /** object → unknown headers that become custom fields on its model */
  private readonly unknown = new Map<string, string[]>();
  /** object → unknown headers left out (the object takes no custom fields, or its app is missing) */
  private readonly leftOut = new Map<string, string[]>();
  private readonly schemaRows = new Map<string, SchemaRow[]>();
  private readonly pending: { draft: Draft; field: string; rule: FieldRule; value: Scalar; where: Issue }[] = [];
  private readonly targets = new Map<string, TargetChoice>();
  private readonly flagCounts: Profile['flags'] = {};
  /** attached records of file objects: the parent named by a cell, resolved after the last file */
  private readonly attachPending: { draft: Draft; spec: NonNullable<ObjectMapping['attachTo']>; value: string; where: Issue }[] = [];
  /** files named by cells, hashed (streamed) before finishing */
  private readonly blobPending: { draft: Draft; cell: string; where: Issue }[] = [];
  private readonly blobPaths = new Map<Draft, string>();
  private readonly now: DateTime;
  /** the mapping's objects, plus one object per custom object met in the upload (customModel) */
  private readonly objects: Record<string, ObjectMapping>;
  /** object made from a customModel template → its custom model (name, label) */
  private readonly customModels = new Map<string, { model: string; label: string; template: string }>();

  constructor(private readonly mapping: Mapping, private readonly options: EngineOptions = {}) {
    this.now = DateTime.fromJSDate(options.now ?? new Date());
    this.objects = { ...mapping.objects };
  }

  /** Reads every table fully before returning: a bad table throws and nothing is staged. */
  static async stage(mapping: Mapping, reader: SourceReader, options: EngineOptions = {}): Promise<StageResult> {
    const engine = new MappingEngine(mapping, options);
    let tables = 0;
    for await (const table of reader.tables()) {
      tables += 1;
      await engine.addTable(table);
    }
    if (tables === 0) throw new InputError({ file: '(none)' }, 'no export file given');
    engine.refuseEmpty();
    await engine.hashBlobs();
    return engine.finish();
  }

  /** One table (a CSV file, an API object): recognised, then its rows read as they stream in. */
  async addTable(table: SourceTable): Promise<void> {
    const t = this.recognise(table.name, table.header, table.object);
    const profile: FileProfile = { file: table.name, object: t.objectName, encoding: table.encoding ?? '', rows: 0, unknownColumns: this.noteUnknown(t, table.header) };
    if (t.taken.length > 0) profile.columnsTaken = t.taken;
    for await (const { row, cells, flags } of table.rows) {
      profile.rows += 1;
      if (t.skip) continue;
      const ctx: RowContext = {
        file: table.name,
        row,
        cell: (column) => {
          const header = t.byColumn.get(column);
          return header === undefined ? '' : (cells[header] ?? '');
        },
        headerOf: (column) => t.byColumn.get(column) ?? column,
        present: (column) => t.byColumn.has(column),
        valuesOnly: t.missingApps.length > 0,
      };
      if (t.primary.schemaFor) {
        profile.describes = 'custom_field';
        this.addSchemaRow(t.primary, ctx);
        continue;
      }
      this.addRow(t.object.customModel ? this.customTarget(t, ctx, profile.unknownColumns) : t, ctx, cells, flags);
      this.noteStructure(t.objectName, t.primary, ctx);
    }
    this.files.push(profile);
  }

  // ---------------------------------------------------------------- files and targets

  /** `declared`: the object an API reader says the rows are (no detection from the header) */
  private recognise(fileName: string, header: string[], declared?: string): FileTarget {
    let best: [string, ObjectMapping] | undefined = declared === undefined ? undefined : this.declaredObject(fileName, declared);
    let bestScore = 0;
    for (const [name, object] of declared === undefined ? Object.entries(this.objects) : []) {
      const score = detectScore(object, header);
      if (score > bestScore) {
        best = [name, object];
        bestScore = score;
      }
    }
    if (!best) {
      const kinds = Object.values(this.objects).filter((o) => o.file).map((o) => o.label).join(', ');
      throw new InputError({ file: fileName, row: 1 }, `not recognised as a ${this.mapping.label} export (${kinds}); header was: ${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''}`);
    }
    const [primaryName, primary] = best;
    const planned = this.options.takenByFile?.get(fileName) ?? [];
    const given = givenColumns(this.options.columns, primaryName);
    for (const t of planned) given.set(t.column, t.header);
    const resolved = resolveColumns(primary, header, { given });
    const { byColumn, open } = resolved;
    const fromPlan = planned.filter((t) => byColumn.get(t.column) === t.header);
    const taken = [...fromPlan, ...resolved.taken.filter((t) => !fromPlan.some((p) => p.column === t.column))];
    const first = open[0];
    if (first) throw new ColumnQuestion(fileName, primaryName, first);
    const choice = this.chooseTarget(primaryName, primary);
    const chosen = choice.chosen ?? primaryName;
    return {
      objectName: chosen,
      object: this.objects[chosen] as ObjectMapping,
      primaryName,
      primary,
      byColumn,
      skip: choice.decision === 'skipped by choice',
      missingApps: choice.decision === 'app missing' ? choice.missingApps : [],
      taken,
    };
  }

  private declaredObject(tableName: string, name: string): [string, ObjectMapping] {
    const object = this.objects[name];
    if (!object) throw new InputError({ file: tableName }, `the reader names object "${name}", which the ${this.mapping.label} mapping does not have (it has ${Object.keys(this.objects).join(', ')})`);
    return [name, object];
  }

  /**
   * A row of a custom-object template: the object of its custom object (named by the row), made
   * the first time that name is met: the template's columns and fields on the custom model
   * `<prefix><name>`; the table's unknown columns become custom fields of that model.
   */
  private customTarget(t: FileTarget, ctx: RowContext, unknown: string[]): FileTarget {
    const spec = t.object.customModel as NonNullable<ObjectMapping['customModel']>;
    const label = cleanText(ctx.cell(spec.nameFrom));
    const slug = label.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'object';
    const objectName = `custom_${slug}`;
    if (!this.objects[objectName]) {
      const { customModel: _template, file: _file, ...rest } = t.object;
      this.objects[objectName] = { ...rest, label: `${label || slug} (custom object)`, model: `${spec.prefix}${slug}` };
      this.customModels.set(objectName, { model: `${spec.prefix}${slug}`, label: label || slug, template: t.objectName });
    }
    if (this.customRule(objectName)) {
      const seen = this.unknown.get(objectName) ?? [];
      for (const h of unknown) if (!seen.includes(h)) seen.push(h);
      this.unknown.set(objectName, seen);
    }
    return { ...t, objectName, object: this.objects[objectName] as ObjectMapping };
  }

  /** Which object (the preferred one or a fallback) takes a file's rows, given Odoo's apps. */
  private chooseTarget(primaryName: string, primary: ObjectMapping): TargetChoice {
    const known = this.targets.get(primaryName);
    if (known) return known;
    const alternatives: [string, ObjectMapping][] = [[primaryName, primary], ...Object.entries(this.objects).filter(([, o]) => o.fallbackFor === primaryName)];
    const apps = this.options.installedApps;
    const missing = (o: ObjectMapping) => o.requires.filter((a) => !apps?.[a]);
    const choices = [
      ...alternatives.filter(([, o]) => o.requires.length > 0).map(([n, o]) => `install ${o.requires.join(' + ')} → ${this.objects[n]?.model}`),
      `skip (--skip ${primaryName})`,
    ];
    let choice: TargetChoice;
    if (this.options.skip?.includes(primaryName)) {
      choice = { object: primaryName, chosen: null, model: null, requires: primary.requires, missingApps: [], decision: 'skipped by choice', choices };
    } else if (!apps) {
      choice = { object: primaryName, chosen: primaryName, model: primary.model, requires: primary.requires, missingApps: [], decision: 'apps not checked', choices };
    } else {
      const ok = alternatives.find(([, o]) => missing(o).length === 0);
      choice = ok
        ? { object: primaryName, chosen: ok[0], model: ok[1].model, requires: ok[1].requires, missingApps: missing(primary), decision: ok[0] === primaryName ? 'preferred' : 'fallback', choices }
        : { object: primaryName, chosen: primaryName, model: primary.model, requires: primary.requires, missingApps: [...new Set(alternatives.flatMap(([, o]) => missing(o)))], decision: 'app missing', choices };
    }
    this.targets.set(primaryName, choice);
    return choice;
  }

  /**
   * Headers no column claims: custom fields on the model that takes the rows (the object's own
   * rule, or the one it falls back from), or left out and listed when the object takes none.
   */
  private noteUnknown(target: FileTarget, header: string[]): string[] {
    const taken = new Set(target.byColumn.values());
    const unknown = header.filter((h) => !taken.has(h));
    if (target.skip || target.primary.schemaFor) return unknown;
    const custom = this.customRule(target.objectName) && target.missingApps.length === 0;
    const store = custom ? this.unknown : this.leftOut;
    const seen = store.get(target.objectName) ?? [];
    for (const h of unknown) if (!seen.includes(h)) seen.push(h);
    store.set(target.objectName, seen);
    return unknown;
  }

  /** The custom-field rule of an object, or of the file object it takes the rows of. */
  private customRule(objectName: string): ObjectMapping['customFields'] {
    const object = this.objects[objectName];
    return object?.customFields ?? (object?.fallbackFor ? this.objects[object.fallbackFor]?.customFields : undefined);
  }

  private addSchemaRow(object: ObjectMapping, ctx: RowContext): void {
    const identifier = cleanText(ctx.cell('identifier'));
    if (identifier === '') return;
    const sourceType = headerToken(ctx.cell('type'));
    const type = Object.entries(object.typeMap).find(([k]) => headerToken(k) === sourceType)?.[1];
    if (!type) {
      throw new InputError({ file: ctx.file, row: ctx.row, field: ctx.headerOf('type') }, `unknown custom field type "${ctx.cell('type')}" (known: ${Object.keys(object.typeMap).join(', ')})`);
    }
    const options = ctx.cell('options').split(/[|;\n]/).map(cleanText).filter((o) => o !== '');
    const rows = this.schemaRows.get(object.schemaFor as string) ?? [];
    rows.push({ identifier, label: cleanText(ctx.cell('label')) || identifier, type, options });
    this.schemaRows.set(object.schemaFor as string, rows);
  }

  // ---------------------------------------------------------------- rows

  private addRow(t: FileTarget, ctx: RowContext, cells: Record<string, string>, flags?: SourceRow['flags']): void {
    const ev = this.evaluate(t.objectName, t.object, ctx);
    if (flags) for (const f of flags) ev.issues.push({ file: ctx.file, row: ctx.row, ...f });
    let keyValue: string | undefined;
    for (const column of t.primary.key) {
      const v = ev.normalized.has(column) ? ev.normalized.get(column) : normalizeText(ctx.cell(column)).value;
      if (v !== null && v !== undefined && String(v) !== '') {
        keyValue = String(v);
        break;
      }
    }
    if (keyValue === undefined) {
      ev.issues.push({ file: ctx.file, row: ctx.row, field: ctx.headerOf(t.primary.key[0] as string), level: 'error', message: `no ${t.primary.key.join(' or ')} to identify this record` });
      keyValue = `row:${ctx.file}:${ctx.row}`;
    }
    if (t.missingApps.length > 0) {
      ev.issues.push({ file: ctx.file, row: ctx.row, field: '(object)', level: 'error', message: `needs the Odoo app(s) ${t.missingApps.join(', ')}, not installed: install it and stage again, or leave these rows out (--skip ${t.primaryName})` });
    }
    const draft = this.draft(`${this.mapping.source}:${t.objectName}:${keyValue}`, t.objectName, t.object, ev, { file: ctx.file, row: ctx.row, data: cells });
    this.drafts.push(draft);
    this.noteAttached(t.object, draft, ctx);
    for (const [childName, child] of Object.entries(this.objects)) {
      if (child.perRow?.parent !== t.objectName) continue;
      const cev = this.evaluate(childName, child, ctx);
      // an attached child (inline notes) exists only where the row has something for it
      if (child.attachTo && !child.fields.some((r) => cev.values[r.field] !== undefined && cev.values[r.field] !== null)) continue;
      if (child.perRow.parentField) cev.refs[child.perRow.parentField] = draft.key;
      if (t.missingApps.length > 0) cev.issues.push({ file: ctx.file, row: ctx.row, field: '(object)', level: 'error', message: `belongs to a record whose Odoo app is not installed (${t.missingApps.join(', ')})` });
      const childKey = child.perRow.keyFrom
        ? `${keyValue}:${createHash('sha256').update(child.perRow.keyFrom.map((c) => cleanText(ctx.cell(c))).join('\u0000')).digest('hex').slice(0, 12)}`
        : keyValue;
      const childDraft = this.draft(`${this.mapping.source}:${childName}:${childKey}`, childName, child, cev, { file: ctx.file, row: ctx.row, data: cells });
      if (child.attachTo && child.perRow.besideParent) this.besideParent.push({ child: childDraft, parent: draft });
      else if (child.attachTo) childDraft.attach_to = draft.key;
      this.drafts.push(childDraft);
    }
  }

  /** attached children that go where their (attached) parent goes, set once parents are resolved */
  private readonly besideParent: { child: Draft; parent: Draft }[] = [];
  private readonly structures = new Map<string, StructureNode>();
  /** The row's place in its object's structure (membership → course), counted for the inventory. */
  private noteStructure(objectName: string, object: ObjectMapping, ctx: RowContext): void {
    if (!object.structure) return;
    let node = this.structures.get(objectName) ?? this.structures.set(objectName, {}).get(objectName) as StructureNode;
    for (const column of object.structure.path) {
      const value = cleanText(ctx.cell(column)) || '(none)';
      const entry = (node[value] ??= { rows: 0, children: {} });
      entry.rows += 1;
      node = entry.children;
    }
  }

  /** A row of an attached file object: the parent its cell names (resolved after the last file)
   *  and the file its path cell names (hashed before finishing). */
  private noteAttached(object: ObjectMapping, draft: Draft, ctx: RowContext): void {
    const spec = object.attachTo;
    if (spec?.from) {
      // the parent's object may be named per row (`objectFrom`); the first parent the row names is
      // taken: `from`, else each of `else` in order
      const named = spec.objectFrom ? cleanText(ctx.cell(spec.objectFrom)) : '';
      if (named !== '' && !spec.objects?.includes(named)) {
        draft.issues.push({ file: ctx.file, row: ctx.row, field: ctx.headerOf(spec.objectFrom as string), level: 'error', message: `"${named}" is none of the objects this record may be attached to (${spec.objects?.join(', ')})` });
      } else {
        const alternatives = [{ object: named === '' ? spec.object : named, from: spec.from, by: spec.by }, ...spec.else];
        const chosen = alternatives.find((a) => cleanText(ctx.cell(a.from)) !== '');
        if (!chosen) {
          const names = [...new Set(alternatives.map((a) => a.object))].join(' or ');
          draft.issues.push({ file: ctx.file, row: ctx.row, field: alternatives.map((a) => ctx.headerOf(a.from)).join(' / '), level: 'error', message: `names no ${names} to attach this record to` });
        } else {
          const where: Issue = { file: ctx.file, row: ctx.row, field: ctx.headerOf(chosen.from), level: 'error', message: '' };
          this.attachPending.push({ draft, spec: { ...spec, object: chosen.object, from: chosen.from, by: chosen.by, else: [] }, value: cleanText(ctx.cell(chosen.from)), where });
        }
      }
    }
    if (object.blobFrom) {
      const where: Issue = { file: ctx.file, row: ctx.row, field: ctx.headerOf(object.blobFrom), level: 'error', message: '' };
      const cell = cleanText(ctx.cell(object.blobFrom));
      if (cell === '') draft.issues.push({ ...where, message: 'names no file' });
      else this.blobPending.push({ draft, cell, where });
    }
  }

  /** sha1 and size of every file a row names, streamed from disk one after another. */
  async hashBlobs(): Promise<void> {
    for (const { draft, cell, where } of this.blobPending) {
      const local = resolveLocalFile(this.options.filesDir, cell);
      if ('error' in local) {
        draft.issues.push({ ...where, message: local.error });
        continue;
      }
      try {
        draft.blob = await hashFile(local.path);
        this.blobPaths.set(draft, local.path);
      } catch (e) {
        draft.issues.push({ ...where, message: `cannot read the file "${cell}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      }
    }
    this.blobPending.length = 0;
  }

  private draft(key: string, objectName: string, object: ObjectMapping, ev: Evaluated, source: Draft['source']): Draft {
    if (Object.keys(ev.columns).length > 0) source = { ...source, columns: ev.columns };
    const draft: Draft = {
      key,
      object: objectName,
      model: object.model,
      values: ev.values,
      refs: ev.refs,
      lookups: ev.lookups,
      match: object.match,
      source,
      issues: dedupeIssues(ev.issues),
    };
    for (const p of ev.pendingRefs) this.pending.push({ draft, ...p });
    return draft;
  }

  /** Field rules of one object applied to one row (a file object's, a derived one's, a child's). */
  private evaluate(objectName: string, object: ObjectMapping, ctx: RowContext): Evaluated {
    const ev: Evaluated = { columns: {}, values: { ...object.constants }, refs: {}, lookups: {}, issues: [], normalized: new Map(), pendingRefs: [] };
    for (const rule of object.fields) {
      const from = fromColumns(rule);
      const where: Issue = { file: ctx.file, row: ctx.row, field: ctx.headerOf(from[0] as string), level: 'warning', message: '' };
      if (rule.refTo && rule.split) {
        // a list of values in one cell (attendees' emails): each one refers to its record
        const headers = from.filter(ctx.present).map(ctx.headerOf).join(' + ');
        if (headers !== '') ev.columns[rule.field] = ev.columns[rule.field] && !ev.columns[rule.field]?.split(' + ').includes(headers) ? `${ev.columns[rule.field]} + ${headers}` : headers;
        if (ctx.valuesOnly) continue;
        for (const part of splitAny(from.map((c) => ctx.cell(c)).join(rule.split[0] as string), rule.split)) {
          if (cleanText(part) === '') continue;
          const one = applyTransform(rule.transform, part, { zone: this.mapping.timezone, phone: { country: null, callingCode: null }, rule });
          if (one.issue) ev.issues.push({ ...where, ...one.issue });
          if (one.value !== null) ev.pendingRefs.push({ field: rule.field, rule, value: one.value, where });
        }
        continue;
      }
      const result = this.readRule(rule, from, ctx.cell, ctx.headerOf);
      if (from.length === 1) ev.normalized.set(from[0] as string, result.value);
      const headers = [...from, ...rule.fallback].filter(ctx.present).map(ctx.headerOf).join(' + ');
      const known = ev.columns[rule.field];
      if (headers !== '') ev.columns[rule.field] = known && !known.split(' + ').includes(headers) ? `${known} + ${headers}` : headers;
      if (result.issue) ev.issues.push({ ...where, ...result.issue });
      if (result.value === null) {
        if (rule.required && !result.issue) ev.issues.push({ ...where, level: 'error', message: 'required value is empty' });
        continue;
      }
      if ((rule.refTo || rule.lookup || rule.object) && ctx.valuesOnly) continue;
      if (rule.refTo) ev.pendingRefs.push({ field: rule.field, rule, value: result.value, where });
      else if (rule.lookup) ev.lookups[rule.field] = this.lookup(rule, result.value, ctx);
      else if (rule.object) addRefs(ev.refs, rule.field, this.derive(rule, String(result.value), ctx), Boolean(rule.split));
      else ev.values[rule.field] = result.value;
    }
    for (const [field, lookup] of Object.entries(ctx.valuesOnly ? {} : object.constantLookups ?? {})) {
      ev.lookups[field] ??= { model: lookup.model, field: lookup.field, value: lookup.value };
    }
    for (const [field, ref] of Object.entries(ctx.valuesOnly ? {} : object.constantRefs)) {
      ev.refs[field] = this.deriveOne(ref.object, ref.value, ctx);
    }
    for (const flag of object.flags) {
      if (this.flagged(flag, ctx.cell(flag.column))) {
        const counts = (this.flagCounts[objectName] ??= {});
        counts[flag.name] = (counts[flag.name] ?? 0) + 1;
        ev.issues.push({ file: ctx.file, row: ctx.row, field: ctx.headerOf(flag.column), level: 'warning', message: `flagged ${flag.name}: "${cleanText(ctx.cell(flag.column))}"` });
      }
    }
    return ev;
  }

  private flagged(flag: ObjectMapping['flags'][number], raw: string): boolean {
    const v = cleanText(raw);
    if (v === '') return false;
    if (flag.pattern && !this.pattern(flag.pattern).test(v)) return false;
    if (flag.olderThanDays) {
      const d = parseSourceDate(v, this.mapping.timezone);
      if (!d || this.now.diff(d, 'days').days <= flag.olderThanDays) return false;
    }
    return true;
  }

  private readonly patterns = new Map<string, RegExp>();
  private pattern(source: string): RegExp {
    let re = this.patterns.get(source);
    if (!re) {
      re = new RegExp(source, 'i');
      this.patterns.set(source, re);
    }
    return re;
  }

  private lookup(rule: FieldRule, value: Scalar, ctx: RowContext): Lookup {
    const spec = rule.lookup as NonNullable<FieldRule['lookup']>;
    const lookup: Lookup = { model: spec.model, field: spec.field, value };
    if (spec.altFields.length > 0) lookup.alt_fields = spec.altFields;
    const where: Record<string, Scalar> = {};
    for (const [path, w] of Object.entries(spec.where)) {
      const v = applyTransform(w.transform, ctx.cell(w.from), { zone: this.mapping.timezone }).value;
      if (v !== null) where[path] = v;
    }
    if (Object.keys(where).length > 0) lookup.where = where;
    if (spec.required) lookup.required = true;
    return lookup;
  }

  /** `labelOf`: the header a column was read from (labelled joins) */
  private readRule(rule: FieldRule, from: string[], cell: (c: string) => string, labelOf?: (c: string) => string): Normalized {
    const ctx = {
      zone: this.mapping.timezone,
      phone: { country: rule.countryFrom ? countryCode(cell(rule.countryFrom)) : null, callingCode: rule.callingCodeFrom ? cell(rule.callingCodeFrom) : null },
      rule,
    };
    const label = (c: string, v: string) => (rule.labelled && labelOf ? `${labelOf(c)}: ${v}` : v);
    if ((from.length > 1 || rule.labelled) && rule.transform === 'html') {
      // one html text of the joined cells (one paragraph, the joiner escaped like the cells)
      const parts = from.map((c) => [c, cell(c).trim()] as const).filter(([, v]) => v !== '').map(([c, v]) => label(c, v));
      if (parts.length > 0) return applyTransform('html', parts.join(rule.join), ctx);
    } else if (from.length > 1 || rule.labelled) {
      const parts = from.map((c) => [c, applyTransform(rule.transform, cell(c), ctx).value] as const).filter(([, v]) => v !== null && v !== '').map(([c, v]) => label(c, String(v)));
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
  private derive(rule: FieldRule, text: string, ctx: RowContext): string[] {
    const parts = rule.split ? splitAny(text, rule.split) : [text];
    const keys: string[] = [];
    for (const part of parts) {
      const value = cleanText(part);
      if (value === '') continue;
      const key = this.deriveOne(rule.object as string, value, ctx);
      if (!keys.includes(key)) keys.push(key);
    }
    return keys;
  }

  private deriveOne(objectName: string, value: string, ctx: RowContext): string {
    const object = this.objects[objectName] as ObjectMapping;
    const key = `${this.mapping.source}:${objectName}:${value.toLowerCase()}`;
    if (!this.derived.has(key)) {
      const ev = this.evaluate(objectName, object, ctx);
      ev.values[object.valueField as string] = value;
      ev.columns[object.valueField as string] = object.valueField as string;
      this.derived.set(key, this.draft(key, objectName, object, ev, { file: ctx.file, row: ctx.row, data: { [object.valueField as string]: value } }));
    }
    return key;
  }

  // ---------------------------------------------------------------- after the last file

  /** An export of header rows only would stage an empty migration: refused, naming the files. */
  refuseEmpty(): void {
    if (this.files.length === 0 || this.files.some((f) => f.rows > 0)) return;
    const names = this.files.map((f) => f.file);
    throw new InputError({ file: names.join(', '), row: 2 }, `${names.length === 1 ? 'the file has' : 'every file has'} a header but no data rows: nothing to migrate (was the export cut short?)`);
  }

  finish(): StageResult {
    const customFields = this.customFields();
    refuseTooManyCustomFields(customFields, this.files.map((f) => f.file));
    this.resolvePending();
    this.resolveAttached();
    this.dropThinDerived();
    const drafts = [...this.derived.values(), ...this.drafts];
    const { kept, merges } = mergeDuplicates(drafts, this.mapping);
    // attached records follow their parent when it was merged into another record
    const mergedInto = new Map(merges.map((m) => [m.merged.key, m.kept]));
    for (const d of kept) if (d.attach_to && mergedInto.has(d.attach_to)) d.attach_to = mergedInto.get(d.attach_to);
    for (const { child, parent } of this.besideParent) {
      if (parent.attach_to) child.attach_to = parent.attach_to;
      else child.issues.push({ file: child.source.file, row: child.source.row, field: '(object)', level: 'error', message: `its ${parent.object} is attached to no record` });
    }
    const fieldKeys = new Map(customFields.map((f) => [`${f.model}|${f.name}`, f.key]));
    const models = this.customModelDrafts();
    const modelKeys = new Map(models.map((m) => [m.values.model as string, m.key]));
    for (const f of customFields) {
      const modelKey = modelKeys.get(f.model);
      if (modelKey) f.draft.deps = [modelKey];
    }
    const completes = this.completedRecords(kept);
    for (const d of kept) {
      const deps = [...Object.keys(d.values), ...Object.keys(d.refs)].map((f) => fieldKeys.get(`${d.model}|${f}`)).filter((k): k is string => k !== undefined);
      const modelKey = modelKeys.get(d.model);
      if (modelKey) deps.unshift(modelKey);
      const completed = completes.get(d);
      if (completed) deps.push(completed);
      if (deps.length > 0) d.deps = [...new Set(deps)];
    }
    const records = [...models, ...customFields.map((f) => f.draft), ...kept].map((d) => ({ ...d, hash: contentHash(d) }));
    const blobs: BlobFile[] = [];
    for (const d of kept) {
      const path = this.blobPaths.get(d);
      if (path && d.blob && !hasErrors(d)) blobs.push({ key: d.key, path, ...d.blob });
    }
    return { source: this.mapping.source, records, profile: this.profile(records, merges, customFields), blobs };
  }

  /** One custom model (`ir.model`, matched by its name) per custom object that has records. */
  private customModelDrafts(): Draft[] {
    const out: Draft[] = [];
    for (const [objectName, { model, label, template }] of this.customModels) {
      const first = this.drafts.find((d) => d.object === objectName);
      if (!first) continue;
      out.push({
        key: `${this.mapping.source}:custom_model:${model}`, object: 'custom_model', model: 'ir.model',
        values: { model, name: label, state: 'manual' }, refs: {}, lookups: {}, match: [['model']],
        source: { file: first.source.file, row: first.source.row, data: { object: label, template } },
        issues: [],
      });
    }
    return out;
  }

  /** Custom fields: declared by the mapping, or made from unknown columns; values filled in. */
  private customFields(): (CustomFieldSpec & { object: string; model: string; key: string; draft: Draft })[] {
    const out: (CustomFieldSpec & { object: string; model: string; key: string; draft: Draft })[] = [];
    for (const [objectName, object] of Object.entries(this.objects)) {
      const mine = this.drafts.filter((d) => d.object === objectName);
      const specs: CustomFieldSpec[] = object.schemaFields.map((f) => ({
        header: f.name, name: f.name, label: f.label, type: f.type, options: (f.selection ?? []).map(([k]) => k), origin: 'mapping' as const,
        ...(f.relation ? { relation: f.relation } : {}),
      }));
      const declaredSelections = new Map(object.schemaFields.map((f) => [f.name, f.selection]));
      const customRule = this.customRule(objectName);
      if (customRule) {
        const taken = new Set([...Object.keys(object.constants), ...specs.map((s) => s.name)]);
        const schema = this.schemaRows.get(objectName) ?? [];
        const added = new Map<Draft, Record<string, string>>(); // draft → custom field → header, set once per draft below
        for (const header of this.unknown.get(objectName) ?? []) {
          const row = findSchemaRow(schema, header);
          const inferred = row ? { type: row.type, options: row.options } : inferType(mine.map((d) => d.source.data[header] ?? ''));
          const label = Object.entries(object.customLabels).find(([h]) => headerToken(h) === headerToken(header))?.[1]
            ?? (row?.label && row.label !== row.identifier ? row.label : header);
          const spec: CustomFieldSpec = { header, name: fieldName(customRule.prefix, header, taken), label, ...inferred, origin: row ? 'schema file' : 'inferred from values' };
          specs.push(spec);
          for (const d of mine) {
            const raw = d.source.data[header];
            if (raw === undefined) continue;
            const v = customValue(spec, raw, this.mapping.timezone);
            if (v.value !== null) d.values[spec.name] = v.value;
            (added.get(d) ?? added.set(d, {}).get(d) as Record<string, string>)[spec.name] = header;
            if (v.issue) d.issues.push({ file: d.source.file, row: d.source.row, field: header, ...v.issue });
          }
        }
        for (const [d, columns] of added) d.source.columns = { ...d.source.columns, ...columns };
      }
      if (specs.length === 0 || mine.length === 0) continue;
      for (const spec of specs) {
        const key = `${this.mapping.source}:custom_field:${object.model}.${spec.name}`;
        const values: Record<string, Scalar> = { name: spec.name, model: object.model, field_description: spec.label, ttype: spec.type, state: 'manual' };
        if (spec.type === 'selection') values.selection = selectionLiteral(declaredSelections.get(spec.name) ?? spec.options.map((o) => [o, o]));
        if (spec.relation) values.relation = spec.relation;
        const draft: Draft = {
          key, object: 'custom_field', model: 'ir.model.fields', values, refs: {},
          lookups: { model_id: { model: 'ir.model', field: 'model', value: object.model } },
          match: [['name', 'model']],
          source: { file: mine[0]?.source.file ?? '(mapping)', row: 1, data: { column: spec.header, type: spec.type, origin: spec.origin } },
          issues: [],
        };
        out.push({ ...spec, object: objectName, model: object.model, key, draft });
      }
    }
    return out;
  }

  /** Records that complete a record of another file object (`completes`: a member's
   *  membership fields on the contact with that email): the key of that record, which they
   *  then depend on (committed after it, so their match rule finds it). */
  private completedRecords(kept: Draft[]): Map<Draft, string> {
    const out = new Map<Draft, string>();
    for (const d of kept) {
      const spec = this.mapping.objects[d.object]?.completes;
      if (!spec) continue;
      const value = d.values[spec.by];
      if (value === null || value === undefined || value === '') continue;
      const key = this.valueIndex(spec.object, spec.by).get(String(value).toLowerCase());
      if (key && key !== d.key) out.set(d, key);
    }
    return out;
  }

  private readonly valueIndexes = new Map<string, Map<string, string>>();
  /** lower-cased value of the Odoo field `by` → key, over the records of one file object */
  private valueIndex(object: string, by: string): Map<string, string> {
    const id = `${object}|${by}`;
    let idx = this.valueIndexes.get(id);
    if (!idx) {
      idx = new Map();
      for (const d of this.drafts) {
        const v = d.values[by];
        if (d.object === object && v !== null && v !== undefined && !idx.has(String(v).toLowerCase())) idx.set(String(v).toLowerCase(), d.key);
      }
      this.valueIndexes.set(id, idx);
    }
    return idx;
  }

  /** Parents of attached records named by a cell: by key value (the parent may have been
   *  migrated earlier: Odoo resolves the key through its links), or by a field's value within
   *  this upload. */
  private resolveAttached(): void {
    for (const { draft, spec, value, where } of this.attachPending) {
      if (!spec.by) {
        draft.attach_to = `${this.mapping.source}:${spec.object}:${value}`;
        continue;
      }
      const key = this.valueIndex(spec.object, spec.by).get(value.toLowerCase());
      if (key) draft.attach_to = key;
      else draft.issues.push({ ...where, message: `no ${spec.object} with ${spec.by} "${value}" in this upload to attach this record to` });
    }
  }

  /** Refs by value: a record of another file object with that value; else the rule's lookup. */
  private resolvePending(): void {
    for (const { draft, field, rule, value, where } of this.pending) {
      const refTo = rule.refTo as NonNullable<FieldRule['refTo']>;
      const key = refTo.by ? this.valueIndex(refTo.object, refTo.by).get(String(value).toLowerCase()) : this.keyIndex(refTo.object).get(`${this.mapping.source}:${refTo.object}:${String(value)}`);
      if (key) addRefs(draft.refs, field, [key], refTo.many);
      else if (rule.lookup && !rule.split) draft.lookups[field] = { model: rule.lookup.model, field: rule.lookup.field, value, ...(rule.lookup.required ? { required: true } : {}) };
      else draft.issues.push({ ...where, level: 'warning', message: `no ${refTo.object} with ${refTo.by ?? 'id'} "${String(value)}" in this upload; left empty` });
    }
  }

  private readonly keyIndexes = new Map<string, Set<string>>();
  /** keys of the records of one file object in this upload */
  private keyIndex(object: string): { get: (key: string) => string | undefined } {
    let idx = this.keyIndexes.get(object);
    if (!idx) {
      idx = new Set(this.drafts.filter((d) => d.object === object).map((d) => d.key));
      this.keyIndexes.set(object, idx);
    }
    const keys = idx;
    return { get: (key) => (keys.has(key) ? key : undefined) };
  }

  /** Derived objects that need several distinct values (pipelines → teams) but got fewer. */
  private dropThinDerived(): void {
    for (const [name, object] of Object.entries(this.objects)) {
      if (object.minDistinct <= 1) continue;
      const keys = [...this.derived.values()].filter((d) => d.object === name).map((d) => d.key);
      if (keys.length >= object.minDistinct) continue;
      const gone = new Set(keys);
      for (const k of keys) this.derived.delete(k);
      for (const d of [...this.drafts, ...this.derived.values()]) {
        for (const [field, ref] of Object.entries(d.refs)) {
          if (Array.isArray(ref)) {
            const left = ref.filter((k) => !gone.has(k));
            if (left.length > 0) d.refs[field] = left;
            else delete d.refs[field];
          } else if (gone.has(ref)) delete d.refs[field];
        }
      }
    }
  }

  private profile(records: StagedRecord[], merges: Profile['duplicatesMerged'], customFields: (CustomFieldSpec & { object: string; model: string })[]): Profile {
    const objects: Profile['objects'] = {};
    const missingValues: Profile['missingValues'] = {};
    for (const r of records) {
      const o = (objects[r.object] ??= { model: r.model, records: 0, withErrors: 0, withWarnings: 0 });
      o.records += 1;
      if (hasErrors(r)) o.withErrors += 1;
      else if (r.issues.length > 0) o.withWarnings += 1;
      for (const i of r.issues) {
        if (i.level === 'error' && /required value is empty|is not a valid email|no .* to identify/.test(i.message)) {
          const m = (missingValues[r.object] ??= {});
          m[i.field] = (m[i.field] ?? 0) + 1;
        }
      }
    }
    const issues = records.flatMap((r) => r.issues);
    const skipped = new Set([...this.targets.values()].filter((t) => t.decision === 'skipped by choice').map((t) => t.object));
    const fileReconciliation = this.files.filter((f) => !f.describes).map((f) => {
      const mine = records.filter((r) => r.object === f.object && r.source.file === f.file);
      const staged = mine.length;
      const merged = merges.filter((m) => m.object === f.object && m.merged.file === f.file).length;
      const leftOut = skipped.has(f.object) ? f.rows - staged - merged : 0;
      return { file: f.file, object: f.object, rows: f.rows, staged, merged, leftOut, errors: mine.filter(hasErrors).length, reconciled: f.rows === staged + merged + leftOut };
    });
    return {
      source: this.mapping.source,
      files: this.files,
      fileReconciliation,
      objects,
      duplicatesMerged: merges,
      missingValues,
      flags: this.flagCounts,
      customFields: customFields.map(({ header, name, label, type, options, origin, object, model }) => ({ header, name, label, type, options, origin, object, model })),
      targets: [...this.targets.values()].filter((t) => t.requires.length > 0 || t.decision === 'skipped by choice' || Object.values(this.objects).some((o) => o.fallbackFor === t.object)),
      issues: { errors: issues.filter((i) => i.level === 'error').length, warnings: issues.filter((i) => i.level === 'warning').length },
      columnsLeftOut: Object.fromEntries(this.leftOut),
      notMigratable: this.mapping.notMigratable,
      structures: [...this.structures].map(([object, tree]) => {
        const spec = (this.mapping.objects[object]?.structure ?? this.mapping.objects[this.mapping.objects[object]?.fallbackFor ?? '']?.structure) as NonNullable<ObjectMapping['structure']>;
        return { object, title: spec.title, path: spec.path, tree };
      }),
      lossy: Object.entries(this.objects).flatMap(([o, m]) => m.lossy.map((l) => ({ object: o, ...l }))),
    };
  }
}

/** The admin's `column` / `object.column` → header choices that concern one object. */
export function givenColumns(columns: Record<string, string> | undefined, objectName: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, header] of Object.entries(columns ?? {})) {
    const dot = name.indexOf('.');
    if (dot < 0) out.set(name, header);
    else if (name.slice(0, dot) === objectName) out.set(name.slice(dot + 1), header);
  }
  return out;
}

function addRefs(refs: Draft['refs'], field: string, keys: string[], many: boolean): void {
  if (keys.length === 0) return;
  const current = refs[field];
  // a single-valued rule on a field other rules fill with lists (tags + an affiliate category) adds to the list
  if (!many && !Array.isArray(current)) {
    refs[field] = keys[0] as string;
    return;
  }
  refs[field] = [...new Set([...(Array.isArray(current) ? current : current ? [current] : []), ...keys])];
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

/**
 * PostgreSQL holds at most 1,600 columns in a table, and Odoo's own models already use a few
 * hundred: beyond MAX_CUSTOM_FIELDS_PER_MODEL new columns on one model, the commit would fail
 * late, after staging. Refused here, naming the model and the files.
 */
export const MAX_CUSTOM_FIELDS_PER_MODEL = 1000;

function refuseTooManyCustomFields(fields: { model: string }[], files: string[]): void {
  const perModel = new Map<string, number>();
  for (const f of fields) perModel.set(f.model, (perModel.get(f.model) ?? 0) + 1);
  for (const [model, n] of perModel) {
    if (n > MAX_CUSTOM_FIELDS_PER_MODEL) {
      throw new InputError({ file: files.join(', '), row: 1 }, `${n.toLocaleString('en')} columns would become custom fields on ${model}; at most ${MAX_CUSTOM_FIELDS_PER_MODEL.toLocaleString('en')} are accepted (PostgreSQL holds 1,600 columns per table, Odoo uses part of them): leave unneeded columns out of the export`);
    }
  }
}
