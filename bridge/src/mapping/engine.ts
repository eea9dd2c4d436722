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
import { fastSourceInstant, parseSourceDate } from '../normalize/datetime.js';
import { ValueCache } from './value-cache.js';
import { collectGarbage, COLLECT_EVERY } from '../core/memory.js';
import type { Normalized } from '../normalize/result.js';
import { contentHash } from '../staging/hash.js';
import { hashFile, resolveLocalFile, type BlobFile } from '../staging/blob.js';
import { hasErrors, type Issue, type Lookup, type Scalar, type StagedRecord } from '../staging/record.js';
import { ColumnQuestion, detectScore, headerToken, resolveColumns, type TakenColumn } from './columns.js';
import { fromColumns, type FieldRule, type Mapping, type ObjectMapping, type TransformName } from './schema.js';
import { applyTransform, type TransformContext } from './transforms.js';
import type { DuplicateMerge, FileProfile, Profile, StructureNode, TargetChoice } from './profile.js';
import { mergeInto } from './dedupe.js';
import { DraftStore, HashIndex, hash32, Paged, type StoreCodec, type StoreOptions } from '../staging/draft-store.js';
import {
  customValue,
  fieldName,
  findSchemaRow,
  selectionLiteral,
  TypeTally,
  type CustomFieldSpec,
  type SchemaRow,
} from './custom-fields.js';
import { DateTime } from 'luxon';
import type { SourceReader, SourceRow, SourceTable } from '../sources/reader.js';

/** A ref by value (a deal's contact by email) or by key, waiting for the last file: it travels
 *  with its record in the store (`waiting`), so memory holds per ref only two numbers. */
interface WaitingRef {
  field: string;
  /** the rule, by its number in `MappingEngine.waitRules` */
  rule: number;
  value: Scalar;
  where: Issue;
}

type Draft = Omit<StagedRecord, 'hash'> & { waiting?: WaitingRef[] };

export interface StageResult {
  source: string;
  records: StagedRecord[];
  profile: Profile;
  /** files of staged ir.attachment records (not in error), to upload after staging */
  blobs: BlobFile[];
}

/** What finishing tells besides the records it hands to the sink one by one. */
export interface Finished {
  source: string;
  /** records handed to the sink */
  count: number;
  profile: Profile;
  blobs: BlobFile[];
  /** the tag records (res.partner.category) and custom field records among them, for the
   *  inventory and the mapping lines */
  tags: StagedRecord[];
  customFields: StagedRecord[];
}

/** Where finished records go, in order: an array, a JSON-lines file, batches to Odoo. */
export interface RecordSink {
  /** before the first record: how many will come */
  begin?(total: number): void | Promise<void>;
  record(record: StagedRecord): void | Promise<void>;
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
  /** where records wait between reading and finishing (past a few thousand: a temporary file) */
  store?: StoreOptions | undefined;
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

type PerRowChild = ObjectMapping & { perRow: NonNullable<ObjectMapping['perRow']> };

/** per record in the store: its object's number × 2, + 1 for a derived record */
const DERIVED = 1;
/** the dedupe hash of a record without a dedupe value (a hash that is also this is only a candidate) */
const NO_VALUE = 0xffffffff;

export class MappingEngine {
  /** every record made from the rows (file objects, their children, derived ones), in order */
  private readonly store: DraftStore<Draft>;
  /** how drafts are written to the store's file (the row's cells without their headers) */
  private readonly codec = new DraftCodec();
  /** derived records: key → position in the store */
  private readonly derived = new Map<string, number>();
  private readonly objectIds = new Map<string, number>();
  /** records that have a dedupe value */
  private withValue = 0;
  private rowsRead = 0;
  /** file (non-derived) records per object, and the file of the first */
  private readonly fileRecords = new Map<string, { count: number; firstFile: string; firstRow: number }>();
  /** `${object}\u0000${header}` → the values of an unknown column, tallied for its custom field type */
  private readonly tallies = new Map<string, TypeTally>();
  private readonly files: FileProfile[] = [];
  /** object → unknown headers that become custom fields on its model */
  private readonly unknown = new Map<string, string[]>();
  /** object → unknown headers left out (the object takes no custom fields, or its app is missing) */
  private readonly leftOut = new Map<string, string[]>();
  private readonly schemaRows = new Map<string, SchemaRow[]>();
  /** the rules of waiting refs, by number (a ref's record holds the number) */
  private readonly waitRules: FieldRule[] = [];
  private readonly waitRuleIds = new Map<FieldRule, number>();
  /** what a waiting ref names: `v|object|field` (a value) or `k|object` (a key), by number */
  private readonly waitTargets: string[] = [];
  private readonly waitTargetIds = new Map<string, number>();
  /** per waiting ref, in the order of their records: its target's number and the hash of what it names */
  private readonly waitTarget = new Paged((n) => new Uint32Array(n));
  private readonly waitHash = new Paged((n) => new Uint32Array(n));
  private readonly targets = new Map<string, TargetChoice>();
  private readonly flagCounts: Profile['flags'] = {};
  /** attached records of file objects: the parent named by a cell, resolved after the last file */
  private readonly attachPending: {
    at: number;
    spec: NonNullable<ObjectMapping['attachTo']>;
    value: string;
    where: Issue;
  }[] = [];
  /** files named by cells, hashed (streamed) before finishing */
  private readonly blobPending: { at: number; cell: string; where: Issue }[] = [];
  /** what hashing the files named by cells gave, by store position */
  private readonly blobDone = new Map<number, { blob?: NonNullable<Draft['blob']>; path?: string; issue?: Issue }>();
  private readonly now: DateTime;
  private readonly nowMs: number;
  /** the mapping's objects, plus one object per custom object met in the upload (customModel) */
  private readonly objects: Record<string, ObjectMapping>;
  /** object made from a customModel template → its custom model (name, label) */
  private readonly customModels = new Map<string, { model: string; label: string; template: string }>();
  /** attached children that go where their (attached) parent goes, set once parents are resolved (store positions) */
  private readonly besideParent = new Map<number, { at: number; object: string }>();
  private readonly structures = new Map<string, StructureNode>();
  /** records that complete a record of another file object (`completes`): position → the value naming it */
  private readonly completing: { at: number; object: string; by: string; value: string }[] = [];

  constructor(
    private readonly mapping: Mapping,
    private readonly options: EngineOptions = {},
  ) {
    this.now = DateTime.fromJSDate(options.now ?? new Date());
    this.nowMs = this.now.toMillis();
    this.store = new DraftStore<Draft>(options.store, this.codec);
    this.objects = { ...mapping.objects };
  }

  /** Reads every table fully before returning: a bad table throws and nothing is staged. */
  static async stage(mapping: Mapping, reader: SourceReader, options: EngineOptions = {}): Promise<StageResult> {
    const records: StagedRecord[] = [];
    const done = await MappingEngine.stageTo(mapping, reader, { record: (r) => void records.push(r) }, options);
    return { source: done.source, records, profile: done.profile, blobs: done.blobs };
  }

  /**
   * Reads every table fully (a bad table throws before the sink sees anything), then hands the
   * finished records to the sink one by one: memory stays bounded whatever the export's size.
   */
  static async stageTo(
    mapping: Mapping,
    reader: SourceReader,
    sink: RecordSink,
    options: EngineOptions = {},
  ): Promise<Finished> {
    const engine = new MappingEngine(mapping, options);
    try {
      let tables = 0;
      for await (const table of reader.tables()) {
        tables += 1;
        await engine.addTable(table);
      }
      if (tables === 0) throw new InputError({ file: '(none)' }, 'no export file given');
      engine.refuseEmpty();
      await engine.hashBlobs();
      return await engine.finish(sink);
    } finally {
      engine.store.close();
    }
  }

  /** One table (a CSV file, an API object): recognised, then its rows read as they stream in. */
  async addTable(table: SourceTable): Promise<void> {
    const t = this.recognise(table.name, table.header, table.object);
    const profile: FileProfile = {
      file: table.name,
      object: t.objectName,
      encoding: table.encoding ?? '',
      rows: 0,
      unknownColumns: this.noteUnknown(t, table.header),
    };
    this.codec.header(table.header);
    // exactly the profile's four keys (the contract's schema is closed; a plan's entries carry more)
    if (t.taken.length > 0)
      profile.columnsTaken = t.taken.map(({ column, header, confidence, evidence }) => ({
        column,
        header,
        confidence,
        evidence,
      }));
    let cells: Record<string, string> = {};
    // one context for the table's rows (its functions are the same for every row)
    const ctx: RowContext = {
      file: table.name,
      row: 0,
      cell: (column) => {
        const header = t.byColumn.get(column);
        return header === undefined ? '' : (cells[header] ?? '');
      },
      headerOf: (column) => t.byColumn.get(column) ?? column,
      present: (column) => t.byColumn.has(column),
      valuesOnly: t.missingApps.length > 0,
    };
    for await (const next of table.rows) {
      profile.rows += 1;
      if (++this.rowsRead % COLLECT_EVERY === 0 && this.store.onDisk) collectGarbage();
      if (t.skip) continue;
      cells = next.cells;
      ctx.row = next.row;
      if (t.primary.schemaFor) {
        profile.describes = 'custom_field';
        this.addSchemaRow(t.primary, ctx);
        continue;
      }
      this.addRow(t.object.customModel ? this.customTarget(t, ctx, profile.unknownColumns) : t, ctx, cells, next.flags);
      this.noteStructure(t.objectName, t.primary, ctx);
    }
    this.files.push(profile);
  }

  // ---------------------------------------------------------------- files and targets

  /** `declared`: the object an API reader says the rows are (no detection from the header) */
  private recognise(fileName: string, header: string[], declared?: string): FileTarget {
    let best: [string, ObjectMapping] | undefined =
      declared === undefined ? undefined : this.declaredObject(fileName, declared);
    let bestScore = 0;
    for (const [name, object] of declared === undefined ? Object.entries(this.objects) : []) {
      const score = detectScore(object, header);
      if (score > bestScore) {
        best = [name, object];
        bestScore = score;
      }
    }
    if (!best) {
      const kinds = Object.values(this.objects)
        .filter((o) => o.file)
        .map((o) => o.label)
        .join(', ');
      throw new InputError(
        { file: fileName, row: 1 },
        `not recognised as a ${this.mapping.label} export (${kinds}); header was: ${header.slice(0, 8).join(', ')}${header.length > 8 ? ', ...' : ''}`,
      );
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
    if (!object)
      throw new InputError(
        { file: tableName },
        `the reader names object "${name}", which the ${this.mapping.label} mapping does not have (it has ${Object.keys(this.objects).join(', ')})`,
      );
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
    const slug =
      label
        .normalize('NFKD')
        .replace(/[\u0300-\u036f]/g, '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_+|_+$/g, '')
        .slice(0, 40) || 'object';
    const objectName = `custom_${slug}`;
    if (!this.objects[objectName]) {
      const { customModel: _template, file: _file, ...rest } = t.object;
      this.objects[objectName] = { ...rest, label: `${label || slug} (custom object)`, model: `${spec.prefix}${slug}` };
      this.children.clear();
      this.customModels.set(objectName, {
        model: `${spec.prefix}${slug}`,
        label: label || slug,
        template: t.objectName,
      });
    }
    if (this.customRule(objectName)) {
      const seen = this.unknown.get(objectName) ?? [];
      for (const h of unknown) {
        if (seen.includes(h)) continue;
        seen.push(h);
        this.tallyEarlier(objectName, h);
      }
      this.unknown.set(objectName, seen);
    }
    return { ...t, objectName, object: this.objects[objectName] as ObjectMapping };
  }

  /** Which object (the preferred one or a fallback) takes a file's rows, given Odoo's apps. */
  private chooseTarget(primaryName: string, primary: ObjectMapping): TargetChoice {
    const known = this.targets.get(primaryName);
    if (known) return known;
    const alternatives: [string, ObjectMapping][] = [
      [primaryName, primary],
      ...Object.entries(this.objects).filter(([, o]) => o.fallbackFor === primaryName),
    ];
    const apps = this.options.installedApps;
    const missing = (o: ObjectMapping) => o.requires.filter((a) => !apps?.[a]);
    const choices = [
      ...alternatives
        .filter(([, o]) => o.requires.length > 0)
        .map(([n, o]) => `install ${o.requires.join(' + ')} → ${this.objects[n]?.model}`),
      `skip (--skip ${primaryName})`,
    ];
    let choice: TargetChoice;
    if (this.options.skip?.includes(primaryName)) {
      choice = {
        object: primaryName,
        chosen: null,
        model: null,
        requires: primary.requires,
        missingApps: [],
        decision: 'skipped by choice',
        choices,
      };
    } else if (!apps) {
      choice = {
        object: primaryName,
        chosen: primaryName,
        model: primary.model,
        requires: primary.requires,
        missingApps: [],
        decision: 'apps not checked',
        choices,
      };
    } else {
      const ok = alternatives.find(([, o]) => missing(o).length === 0);
      choice = ok
        ? {
            object: primaryName,
            chosen: ok[0],
            model: ok[1].model,
            requires: ok[1].requires,
            missingApps: missing(primary),
            decision: ok[0] === primaryName ? 'preferred' : 'fallback',
            choices,
          }
        : {
            object: primaryName,
            chosen: primaryName,
            model: primary.model,
            requires: primary.requires,
            missingApps: [...new Set(alternatives.flatMap(([, o]) => missing(o)))],
            decision: 'app missing',
            choices,
          };
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
    for (const h of unknown) {
      if (seen.includes(h)) continue;
      seen.push(h);
      if (custom) this.tallyEarlier(target.objectName, h);
    }
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
      throw new InputError(
        { file: ctx.file, row: ctx.row, field: ctx.headerOf('type') },
        `unknown custom field type "${ctx.cell('type')}" (known: ${Object.keys(object.typeMap).join(', ')})`,
      );
    }
    const options = ctx
      .cell('options')
      .split(/[|;\n]/)
      .map(cleanText)
      .filter((o) => o !== '');
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
      ev.issues.push({
        file: ctx.file,
        row: ctx.row,
        field: ctx.headerOf(t.primary.key[0] as string),
        level: 'error',
        message: `no ${t.primary.key.join(' or ')} to identify this record`,
      });
      keyValue = `row:${ctx.file}:${ctx.row}`;
    }
    if (t.missingApps.length > 0) {
      ev.issues.push({
        file: ctx.file,
        row: ctx.row,
        field: '(object)',
        level: 'error',
        message: `needs the Odoo app(s) ${t.missingApps.join(', ')}, not installed: install it and stage again, or leave these rows out (--skip ${t.primaryName})`,
      });
    }
    const draft = this.draft(`${this.mapping.source}:${t.objectName}:${keyValue}`, t.objectName, t.object, ev, {
      file: ctx.file,
      row: ctx.row,
      data: cells,
    });
    this.noteAttached(t.object, draft, ctx, this.store.size);
    const parentAt = this.keep(draft, ev.pendingRefs, false);
    for (const [childName, child] of this.childrenOf(t.objectName)) {
      const cev = this.evaluate(childName, child, ctx);
      // an attached child (inline notes) exists only where the row has something for it
      if (
        child.attachTo &&
        !child.fields.some((r) => cev.values[r.field] !== undefined && cev.values[r.field] !== null)
      )
        continue;
      if (child.perRow.parentField) cev.refs[child.perRow.parentField] = draft.key;
      if (t.missingApps.length > 0)
        cev.issues.push({
          file: ctx.file,
          row: ctx.row,
          field: '(object)',
          level: 'error',
          message: `belongs to a record whose Odoo app is not installed (${t.missingApps.join(', ')})`,
        });
      const childKey = child.perRow.keyFrom
        ? `${keyValue}:${createHash('sha256')
            .update(child.perRow.keyFrom.map((c) => cleanText(ctx.cell(c))).join('\u0000'))
            .digest('hex')
            .slice(0, 12)}`
        : keyValue;
      const childDraft = this.draft(`${this.mapping.source}:${childName}:${childKey}`, childName, child, cev, {
        file: ctx.file,
        row: ctx.row,
        data: cells,
      });
      const besideParent = Boolean(child.attachTo && child.perRow.besideParent);
      if (child.attachTo && !besideParent) childDraft.attach_to = draft.key;
      const childAt = this.keep(childDraft, cev.pendingRefs, false);
      if (besideParent) this.besideParent.set(childAt, { at: parentAt, object: t.objectName });
    }
  }

  /** per-row children of an object (order lines of an order), in the mapping's order; reset when an object is added */
  private readonly children = new Map<string, [string, PerRowChild][]>();
  private childrenOf(objectName: string): [string, PerRowChild][] {
    let list = this.children.get(objectName);
    if (!list) {
      list = Object.entries(this.objects).filter((e): e is [string, PerRowChild] => e[1].perRow?.parent === objectName);
      this.children.set(objectName, list);
    }
    return list;
  }

  /** The row's place in its object's structure (membership → course), counted for the inventory. */
  private noteStructure(objectName: string, object: ObjectMapping, ctx: RowContext): void {
    if (!object.structure) return;
    let node =
      this.structures.get(objectName) ?? (this.structures.set(objectName, {}).get(objectName) as StructureNode);
    for (const column of object.structure.path) {
      const value = cleanText(ctx.cell(column)) || '(none)';
      const entry = (node[value] ??= { rows: 0, children: {} });
      entry.rows += 1;
      node = entry.children;
    }
  }

  /** A row of an attached file object: the parent its cell names (resolved after the last file)
   *  and the file its path cell names (hashed before finishing). */
  private noteAttached(object: ObjectMapping, draft: Draft, ctx: RowContext, at: number): void {
    const spec = object.attachTo;
    if (spec?.from) {
      // the parent's object may be named per row (`objectFrom`); the first parent the row names is
      // taken: `from`, else each of `else` in order
      const named = spec.objectFrom ? cleanText(ctx.cell(spec.objectFrom)) : '';
      if (named !== '' && !spec.objects?.includes(named)) {
        draft.issues.push({
          file: ctx.file,
          row: ctx.row,
          field: ctx.headerOf(spec.objectFrom as string),
          level: 'error',
          message: `"${named}" is none of the objects this record may be attached to (${spec.objects?.join(', ')})`,
        });
      } else {
        const alternatives = [
          { object: named === '' ? spec.object : named, from: spec.from, by: spec.by },
          ...spec.else,
        ];
        const chosen = alternatives.find((a) => cleanText(ctx.cell(a.from)) !== '');
        if (!chosen) {
          const names = [...new Set(alternatives.map((a) => a.object))].join(' or ');
          draft.issues.push({
            file: ctx.file,
            row: ctx.row,
            field: alternatives.map((a) => ctx.headerOf(a.from)).join(' / '),
            level: 'error',
            message: `names no ${names} to attach this record to`,
          });
        } else {
          const where: Issue = {
            file: ctx.file,
            row: ctx.row,
            field: ctx.headerOf(chosen.from),
            level: 'error',
            message: '',
          };
          this.attachPending.push({
            at,
            spec: { ...spec, object: chosen.object, from: chosen.from, by: chosen.by, else: [] },
            value: cleanText(ctx.cell(chosen.from)),
            where,
          });
        }
      }
    }
    if (object.blobFrom) {
      const where: Issue = {
        file: ctx.file,
        row: ctx.row,
        field: ctx.headerOf(object.blobFrom),
        level: 'error',
        message: '',
      };
      const cell = cleanText(ctx.cell(object.blobFrom));
      if (cell === '') draft.issues.push({ ...where, message: 'names no file' });
      else this.blobPending.push({ at, cell, where });
    }
  }

  /** sha1 and size of every file a row names, streamed from disk one after another. */
  async hashBlobs(): Promise<void> {
    for (const { at, cell, where } of this.blobPending) {
      const local = resolveLocalFile(this.options.filesDir, cell);
      if ('error' in local) {
        this.blobDone.set(at, { issue: { ...where, message: local.error } });
        continue;
      }
      try {
        this.blobDone.set(at, { blob: await hashFile(local.path), path: local.path });
      } catch (e) {
        this.blobDone.set(at, {
          issue: {
            ...where,
            message: `cannot read the file "${cell}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          },
        });
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
    return draft;
  }

  private objectId(name: string): number {
    let id = this.objectIds.get(name);
    if (id === undefined) {
      id = this.objectIds.size;
      this.objectIds.set(name, id);
    }
    return id;
  }

  /** `${object}|${dedupeBy}|value`: what merges records of one object by a field's value */
  private dedupeValue(draft: Draft): string | undefined {
    const dedupeBy = this.mapping.objects[draft.object]?.dedupeBy;
    const v = dedupeBy ? draft.values[dedupeBy] : undefined;
    return dedupeBy && v !== undefined && v !== null
      ? `${draft.object}|${dedupeBy}|${String(v).toLowerCase()}`
      : undefined;
  }

  /** A ref by value or key, noted for the index built after the last file; the ref itself goes
   *  into its record. */
  private wait(p: Evaluated['pendingRefs'][number]): WaitingRef {
    let rule = this.waitRuleIds.get(p.rule);
    if (rule === undefined) {
      rule = this.waitRules.push(p.rule) - 1;
      this.waitRuleIds.set(p.rule, rule);
    }
    const refTo = p.rule.refTo as NonNullable<FieldRule['refTo']>;
    const target = refTo.by ? `v|${refTo.object}|${refTo.by}` : `k|${refTo.object}`;
    let id = this.waitTargetIds.get(target);
    if (id === undefined) {
      id = this.waitTargets.push(target) - 1;
      this.waitTargetIds.set(target, id);
    }
    this.waitTarget.push(id);
    this.waitHash.push(
      hash32(refTo.by ? String(p.value).toLowerCase() : `${this.mapping.source}:${refTo.object}:${String(p.value)}`),
    );
    return { field: p.field, rule, value: p.value, where: p.where };
  }

  /** Puts a finished row's record in the store (its refs by value wait for the last file). */
  private keep(draft: Draft, pendingRefs: Evaluated['pendingRefs'], derived: boolean): number {
    const value = this.dedupeValue(draft);
    if (value !== undefined) this.withValue += 1;
    if (pendingRefs.length > 0) draft.waiting = pendingRefs.map((p) => this.wait(p));
    const at = this.store.add(
      draft,
      this.objectId(draft.object) * 2 + (derived ? DERIVED : 0),
      hash32(draft.key),
      value === undefined ? NO_VALUE : hash32(value) === NO_VALUE ? NO_VALUE - 1 : hash32(value),
    );
    if (!derived) {
      const seen = this.fileRecords.get(draft.object);
      if (seen) seen.count += 1;
      else this.fileRecords.set(draft.object, { count: 1, firstFile: draft.source.file, firstRow: draft.source.row });
      const completes = this.mapping.objects[draft.object]?.completes;
      const v = completes ? draft.values[completes.by] : undefined;
      if (completes && v !== null && v !== undefined && v !== '')
        this.completing.push({ at, object: completes.object, by: completes.by, value: String(v) });
      for (const header of this.unknown.get(draft.object) ?? [])
        this.tally(draft.object, header).add(draft.source.data[header] ?? '');
    }
    return at;
  }

  private tally(object: string, header: string): TypeTally {
    const id = `${object}\u0000${header}`;
    let t = this.tallies.get(id);
    if (!t) {
      t = new TypeTally();
      this.tallies.set(id, t);
    }
    return t;
  }

  /** A column first unknown in a later file: the values earlier records of the object have. */
  private tallyEarlier(object: string, header: string): void {
    const tally = this.tally(object, header);
    if (!this.fileRecords.has(object)) return;
    const tag = this.objectId(object) * 2;
    for (const [, d] of this.store.each((i) => this.store.tags.get(i) === tag)) tally.add(d.source.data[header] ?? '');
  }

  /** Field rules of one object applied to one row (a file object's, a derived one's, a child's). */
  private evaluate(objectName: string, object: ObjectMapping, ctx: RowContext): Evaluated {
    // the columns object is the file's (shared by its records, never changed: a derived record takes a copy)
    const ev: Evaluated = {
      columns: this.columnsOf(object, ctx),
      values: { ...object.constants },
      refs: {},
      lookups: {},
      issues: [],
      normalized: new Map(),
      pendingRefs: [],
    };
    for (const rule of object.fields) {
      const from = fromColumns(rule);
      if (rule.refTo && rule.split) {
        // a list of values in one cell (attendees' emails): each one refers to its record
        if (ctx.valuesOnly) continue;
        const where: Issue = {
          file: ctx.file,
          row: ctx.row,
          field: ctx.headerOf(from[0] as string),
          level: 'warning',
          message: '',
        };
        for (const part of splitAny(from.map((c) => ctx.cell(c)).join(rule.split[0] as string), rule.split)) {
          if (cleanText(part) === '') continue;
          const one = applyTransform(rule.transform, part, {
            zone: this.mapping.timezone,
            phone: { country: null, callingCode: null },
            rule,
          });
          if (one.issue) ev.issues.push({ ...where, ...one.issue });
          if (one.value !== null) ev.pendingRefs.push({ field: rule.field, rule, value: one.value, where });
        }
        continue;
      }
      const result = this.readRule(rule, from, ctx.cell, ctx.headerOf);
      if (from.length === 1) ev.normalized.set(from[0] as string, result.value);
      if (result.issue)
        ev.issues.push({
          file: ctx.file,
          row: ctx.row,
          field: ctx.headerOf(from[0] as string),
          level: result.issue.level,
          message: result.issue.message,
        });
      if (result.value === null) {
        if (rule.required && !result.issue)
          ev.issues.push({
            file: ctx.file,
            row: ctx.row,
            field: ctx.headerOf(from[0] as string),
            level: 'error',
            message: 'required value is empty',
          });
        continue;
      }
      if ((rule.refTo || rule.lookup || rule.object) && ctx.valuesOnly) continue;
      if (rule.refTo)
        ev.pendingRefs.push({
          field: rule.field,
          rule,
          value: result.value,
          where: {
            file: ctx.file,
            row: ctx.row,
            field: ctx.headerOf(from[0] as string),
            level: 'warning',
            message: '',
          },
        });
      else if (rule.lookup) ev.lookups[rule.field] = this.lookup(rule, result.value, ctx);
      // a field another rule of the object fills with a list (tags by `split`) is a many2many: a
      // single-valued rule on it (the affiliate category) gives a list too, also when it is alone
      else if (rule.object)
        addRefs(
          ev.refs,
          rule.field,
          this.derive(rule, String(result.value), ctx),
          Boolean(rule.split) || listField(object, rule.field),
        );
      else ev.values[rule.field] = result.value;
    }
    if (!ctx.valuesOnly) {
      const constant = constantsOf(object);
      for (const [field, lookup] of constant.lookups)
        ev.lookups[field] ??= { model: lookup.model, field: lookup.field, value: lookup.value };
      for (const [field, ref] of constant.refs) ev.refs[field] = this.deriveOne(ref.object, ref.value, ctx);
    }
    for (const flag of object.flags) {
      if (this.flagged(flag, ctx.cell(flag.column))) {
        const counts = (this.flagCounts[objectName] ??= {});
        counts[flag.name] = (counts[flag.name] ?? 0) + 1;
        ev.issues.push({
          file: ctx.file,
          row: ctx.row,
          field: ctx.headerOf(flag.column),
          level: 'warning',
          message: `flagged ${flag.name}: "${cleanText(ctx.cell(flag.column))}"`,
        });
      }
    }
    return ev;
  }

  /** Odoo field → the header(s) of this file that feed it: the same for every row of a file. */
  private readonly columnsCache = new Map<
    ObjectMapping,
    { byColumn: RowContext['headerOf']; columns: Record<string, string> }
  >();
  private columnsOf(object: ObjectMapping, ctx: RowContext): Record<string, string> {
    const known = this.columnsCache.get(object);
    if (known && known.byColumn === ctx.headerOf) return known.columns;
    const columns: Record<string, string> = {};
    for (const rule of object.fields) {
      const headers = [...fromColumns(rule), ...(rule.refTo && rule.split ? [] : rule.fallback)]
        .filter(ctx.present)
        .map(ctx.headerOf)
        .join(' + ');
      const had = columns[rule.field];
      if (headers !== '')
        columns[rule.field] = had && !had.split(' + ').includes(headers) ? `${had} + ${headers}` : headers;
    }
    this.columnsCache.set(object, { byColumn: ctx.headerOf, columns });
    this.codec.columns(columns);
    return columns;
  }

  private flagged(flag: ObjectMapping['flags'][number], raw: string): boolean {
    const v = cleanText(raw);
    if (v === '') return false;
    if (flag.pattern && !this.pattern(flag.pattern).test(v)) return false;
    if (flag.olderThanDays) {
      // far from the limit, milliseconds decide; near it (calendar days, daylight saving), luxon
      const fast = fastSourceInstant(v, this.mapping.timezone);
      const days = fast ? (this.nowMs - fast.ts) / 86_400_000 : Number.NaN;
      if (days < flag.olderThanDays - 2) return false;
      if (!(days > flag.olderThanDays + 2)) {
        const d = parseSourceDate(v, this.mapping.timezone);
        if (!d || this.now.diff(d, 'days').days <= flag.olderThanDays) return false;
      }
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
      const v = this.transform(w, w.transform, ctx.cell(w.from), { zone: this.mapping.timezone }).value;
      if (v !== null) where[path] = v;
    }
    if (Object.keys(where).length > 0) lookup.where = where;
    if (spec.required) lookup.required = true;
    return lookup;
  }

  /** Per-column caches: rule (or lookup condition) → cell (and phone context) → normalized value. */
  private readonly caches = new Map<object, ValueCache<Normalized>>();
  private transform(owner: object, name: TransformName, raw: string, ctx: TransformContext): Normalized {
    let cache = this.caches.get(owner);
    if (!cache) {
      cache = new ValueCache<Normalized>();
      this.caches.set(owner, cache);
    }
    const key =
      name === 'phone' ? `${raw}\u0000${ctx.phone?.country ?? ''}\u0000${ctx.phone?.callingCode ?? '\u0001'}` : raw;
    const hit = cache.get(key);
    if (hit) return hit;
    const result = applyTransform(name, raw, ctx);
    cache.set(key, result);
    return result;
  }

  /** the transform context of a rule without a phone (the same for every row) */
  private readonly ruleContexts = new Map<FieldRule, TransformContext>();
  /** `labelOf`: the header a column was read from (labelled joins) */
  private readRule(
    rule: FieldRule,
    from: string[],
    cell: (c: string) => string,
    labelOf?: (c: string) => string,
  ): Normalized {
    let ctx = this.ruleContexts.get(rule);
    if (rule.transform === 'phone') {
      ctx = {
        zone: this.mapping.timezone,
        phone: {
          country: rule.countryFrom ? countryCode(cell(rule.countryFrom)) : null,
          callingCode: rule.callingCodeFrom ? cell(rule.callingCodeFrom) : null,
        },
        rule,
      };
    } else if (!ctx) {
      ctx = { zone: this.mapping.timezone, phone: {}, rule };
      this.ruleContexts.set(rule, ctx);
    }
    const label = (c: string, v: string) => (rule.labelled && labelOf ? `${labelOf(c)}: ${v}` : v);
    if ((from.length > 1 || rule.labelled) && rule.transform === 'html') {
      // one html text of the joined cells (one paragraph, the joiner escaped like the cells)
      const parts = from
        .map((c) => [c, cell(c).trim()] as const)
        .filter(([, v]) => v !== '')
        .map(([c, v]) => label(c, v));
      if (parts.length > 0) return applyTransform('html', parts.join(rule.join), ctx);
    } else if (from.length > 1 || rule.labelled) {
      const parts = from
        .map((c) => [c, applyTransform(rule.transform, cell(c), ctx).value] as const)
        .filter(([, v]) => v !== null && v !== '')
        .map(([c, v]) => label(c, String(v)));
      if (parts.length > 0) return { value: parts.join(rule.join) };
    } else {
      const result = this.transform(rule, rule.transform, cell(from[0] as string), ctx);
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
      ev.columns = { ...ev.columns, [object.valueField as string]: object.valueField as string };
      const draft = this.draft(key, objectName, object, ev, {
        file: ctx.file,
        row: ctx.row,
        data: { [object.valueField as string]: value },
      });
      this.derived.set(key, this.keep(draft, ev.pendingRefs, true));
    }
    return key;
  }

  // ---------------------------------------------------------------- after the last file

  /**
   * After the last file: custom fields, refs by value, attached parents, thin derived objects,
   * duplicates merged; then every record, finished, to the sink in order (custom fields, derived
   * records, then the rows' records). Records are read back from the store one at a time; what
   * stays in memory is per duplicate, per derived record and per attached row, and 8 bytes per ref by
   * value (`refIndex`), not per row.
   */
  async finish(sink: RecordSink): Promise<Finished> {
    const customFields = this.customFields();
    refuseTooManyCustomFields(
      customFields,
      this.files.map((f) => f.file),
    );
    const specsOf = new Map<string, CustomFieldSpec[]>();
    for (const f of customFields)
      if (f.fromColumn)
        (specsOf.get(f.object) ?? (specsOf.set(f.object, []).get(f.object) as CustomFieldSpec[])).push(f);
    const index = this.refIndex();
    const gone = this.dropThinDerived();
    const isDerived = (i: number) => (this.store.tags.get(i) & DERIVED) === DERIVED;
    /** the parent an attached file record's cell names: its key, or the issue why none */
    const attachOf = new Map<number, { key?: string; issue?: Issue }>();
    for (const { at, spec, value, where } of this.attachPending) {
      if (!spec.by) {
        attachOf.set(at, { key: `${this.mapping.source}:${spec.object}:${value}` });
        continue;
      }
      const key = index.byValue(spec.object, spec.by, value);
      attachOf.set(
        at,
        key
          ? { key }
          : {
              issue: {
                ...where,
                message: `no ${spec.object} with ${spec.by} "${value}" in this upload to attach this record to`,
              },
            },
      );
    }
    /** records completing another record (`completes`): the key of the record they complete */
    const completedOf = new Map<number, string>();
    for (const { at, object, by, value } of this.completing) {
      const key = index.byValue(object, by, value);
      if (key) completedOf.set(at, key);
    }

    /** the steps of the original finish, on one record (in their order) */
    const finalize = (at: number, d: Draft): Draft => {
      const blob = this.blobDone.get(at);
      if (blob?.issue) d.issues.push(blob.issue);
      if (blob?.blob) d.blob = blob.blob;
      const specs = isDerived(at) ? undefined : specsOf.get(d.object);
      if (specs) {
        let added: Record<string, string> | undefined;
        for (const spec of specs) {
          const raw = d.source.data[spec.header];
          if (raw === undefined) continue;
          const v = customValue(spec, raw, this.mapping.timezone);
          if (v.value !== null) d.values[spec.name] = v.value;
          (added ??= {})[spec.name] = spec.header;
          if (v.issue) d.issues.push({ file: d.source.file, row: d.source.row, field: spec.header, ...v.issue });
        }
        if (added) d.source.columns = { ...d.source.columns, ...added };
      }
      for (const { field, rule: ruleId, value, where } of d.waiting ?? []) {
        const rule = this.waitRules[ruleId] as FieldRule;
        const refTo = rule.refTo as NonNullable<FieldRule['refTo']>;
        const wanted = `${this.mapping.source}:${refTo.object}:${String(value)}`;
        const key = refTo.by
          ? index.byValue(refTo.object, refTo.by, String(value))
          : index.hasKey(refTo.object, wanted)
            ? wanted
            : undefined;
        if (key) addRefs(d.refs, field, [key], refTo.many);
        else if (rule.lookup && !rule.split)
          d.lookups[field] = {
            model: rule.lookup.model,
            field: rule.lookup.field,
            value,
            ...(rule.lookup.required ? { required: true } : {}),
          };
        else
          d.issues.push({
            ...where,
            level: 'warning',
            message: `no ${refTo.object} with ${refTo.by ?? 'id'} "${String(value)}" in this upload; left empty`,
          });
      }
      delete d.waiting;
      const attached = attachOf.get(at);
      if (attached?.key) d.attach_to = attached.key;
      if (attached?.issue) d.issues.push(attached.issue);
      const parent = this.besideParent.get(at);
      if (parent) {
        // goes where its (attached) parent goes
        let parentKey = attachOf.get(parent.at)?.key;
        if (parentKey && !dups.has(parent.at) && mergedInto.has(parentKey)) parentKey = mergedInto.get(parentKey);
        if (parentKey) d.attach_to = parentKey;
        else
          d.issues.push({
            file: d.source.file,
            row: d.source.row,
            field: '(object)',
            level: 'error',
            message: `its ${parent.object} is attached to no record`,
          });
      }
      if (gone.size > 0) {
        for (const [field, ref] of Object.entries(d.refs)) {
          if (Array.isArray(ref)) {
            const left = ref.filter((k) => !gone.has(k));
            if (left.length > 0) d.refs[field] = left;
            else delete d.refs[field];
          } else if (gone.has(ref)) delete d.refs[field];
        }
      }
      return d;
    };

    // duplicates: the first record of a key (or of an object's dedupeBy value) is kept, in the
    // order derived records, then the rows' records; later ones are merged into it
    const derivedOrder = [...this.derived.values()];
    const byKey = HashIndex.sized(this.store.size);
    const byValue = HashIndex.sized(this.withValue);
    const dupsOf = new Map<number, [number, string][]>();
    const dups = new Set<number>();
    const merges: DuplicateMerge[] = [];
    const find = (index: HashIndex, hash: number, same: (other: Draft) => boolean): number => {
      for (const c of index.candidates(hash)) if (same(this.store.get(c))) return c;
      return -1;
    };
    const dedupe = (at: number) => {
      const kh = this.store.a.get(at);
      const vh = this.store.b.get(at);
      let draft: Draft | undefined;
      const me = () => (draft ??= this.store.get(at));
      let target = find(byKey, kh, (o) => o.key === me().key);
      let by = 'key';
      if (target < 0 && vh !== NO_VALUE) {
        target = find(byValue, vh, (o) => this.dedupeValue(o) === this.dedupeValue(me()));
        if (target >= 0) by = this.mapping.objects[me().object]?.dedupeBy as string;
      }
      if (target < 0) {
        byKey.add(kh, at);
        if (vh !== NO_VALUE) byValue.add(vh, at);
        return;
      }
      const kept = this.store.get(target);
      const d = me();
      (dupsOf.get(target) ?? (dupsOf.set(target, []).get(target) as [number, string][])).push([at, by]);
      dups.add(at);
      merges.push({
        object: d.object,
        kept: kept.key,
        keptAt: { file: kept.source.file, row: kept.source.row },
        merged: { key: d.key, file: d.source.file, row: d.source.row },
        by,
      });
    };
    for (const at of derivedOrder) dedupe(at);
    for (let at = 0; at < this.store.size; at++) if (!isDerived(at)) dedupe(at);
    const mergedInto = new Map(merges.map((m) => [m.merged.key, m.kept]));
    const fieldKeys = new Map(customFields.map((f) => [`${f.model}|${f.name}`, f.key]));

    const tally = new ProfileTally();
    const tags: StagedRecord[] = [];
    const customRecords: StagedRecord[] = [];
    const blobs: BlobFile[] = [];
    const emit = async (record: StagedRecord) => {
      tally.add(record);
      if (record.model === 'res.partner.category') tags.push(record);
      await sink.record(record);
    };
    const models = this.customModelDrafts();
    const modelKeys = new Map(models.map((m) => [m.values.model as string, m.key]));
    for (const f of customFields) {
      const modelKey = modelKeys.get(f.model);
      if (modelKey) f.draft.deps = [modelKey];
    }
    await sink.begin?.(
      models.length +
        customFields.length +
        derivedOrder.length +
        this.store.size -
        this.derived.size -
        gone.size -
        dups.size,
    );
    for (const m of models) await emit({ ...m, hash: contentHash(m) });
    for (const f of customFields) {
      const record = { ...f.draft, hash: contentHash(f.draft) };
      customRecords.push(record);
      await emit(record);
    }
    let finished = 0;
    const finishKept = async (at: number, d: Draft) => {
      if (++finished % COLLECT_EVERY === 0 && this.store.onDisk) collectGarbage();
      finalize(at, d);
      for (const [dupAt, by] of dupsOf.get(at) ?? []) mergeInto(d, finalize(dupAt, this.store.get(dupAt)), by);
      // attached records follow their parent when it was merged into another record
      if (d.attach_to && mergedInto.has(d.attach_to)) d.attach_to = mergedInto.get(d.attach_to);
      const deps = [...Object.keys(d.values), ...Object.keys(d.refs)]
        .map((f) => fieldKeys.get(`${d.model}|${f}`))
        .filter((k): k is string => k !== undefined);
      const modelKey = modelKeys.get(d.model);
      if (modelKey) deps.unshift(modelKey);
      const completed = completedOf.get(at);
      if (completed && completed !== d.key) deps.push(completed);
      if (deps.length > 0) d.deps = [...new Set(deps)];
      const path = this.blobDone.get(at)?.path;
      if (path && d.blob && !hasErrors(d)) blobs.push({ key: d.key, path, ...d.blob });
      await emit({ ...d, hash: contentHash(d) });
    };
    // derived records in their order (ascending positions: read in sequence, not one by one)
    const kept = new Set(derivedOrder);
    for (const [at, d] of this.store.each((i) => kept.has(i) && !dups.has(i))) await finishKept(at, d);
    for (const [at, d] of this.store.each((i) => !isDerived(i) && !dups.has(i))) await finishKept(at, d);
    const profile = this.profile(tally, merges, customFields);
    return { source: this.mapping.source, count: tally.records, profile, blobs, tags, customFields: customRecords };
  }

  /** An export of header rows only would stage an empty migration: refused, naming the files. */
  refuseEmpty(): void {
    if (this.files.length === 0 || this.files.some((f) => f.rows > 0)) return;
    const names = this.files.map((f) => f.file);
    throw new InputError(
      { file: names.join(', '), row: 2 },
      `${names.length === 1 ? 'the file has' : 'every file has'} a header but no data rows: nothing to migrate (was the export cut short?)`,
    );
  }

  /** One custom model (`ir.model`, matched by its name) per custom object that has records. */
  private customModelDrafts(): Draft[] {
    const out: Draft[] = [];
    for (const [objectName, { model, label, template }] of this.customModels) {
      const first = this.fileRecords.get(objectName);
      if (!first) continue;
      out.push({
        key: `${this.mapping.source}:custom_model:${model}`,
        object: 'custom_model',
        model: 'ir.model',
        values: { model, name: label, state: 'manual' },
        refs: {},
        lookups: {},
        match: [['model']],
        source: { file: first.firstFile, row: first.firstRow, data: { object: label, template } },
        issues: [],
      });
    }
    return out;
  }

  /** Custom fields: declared by the mapping, or made from unknown columns (typed from all
   *  their values, tallied as the rows were read; the values are filled in when finishing). */
  private customFields(): (CustomFieldSpec & {
    object: string;
    model: string;
    key: string;
    draft: Draft;
    fromColumn: boolean;
  })[] {
    const out: (CustomFieldSpec & { object: string; model: string; key: string; draft: Draft; fromColumn: boolean })[] =
      [];
    for (const [objectName, object] of Object.entries(this.objects)) {
      const mine = this.fileRecords.get(objectName);
      const specs: (CustomFieldSpec & { fromColumn: boolean })[] = object.schemaFields.map((f) => ({
        header: f.name,
        name: f.name,
        label: f.label,
        type: f.type,
        options: (f.selection ?? []).map(([k]) => k),
        origin: 'mapping' as const,
        fromColumn: false,
        ...(f.relation ? { relation: f.relation } : {}),
      }));
      const declaredSelections = new Map(object.schemaFields.map((f) => [f.name, f.selection]));
      const customRule = this.customRule(objectName);
      if (customRule) {
        const taken = new Set([...Object.keys(object.constants), ...specs.map((s) => s.name)]);
        const schema = this.schemaRows.get(objectName) ?? [];
        for (const header of this.unknown.get(objectName) ?? []) {
          const row = findSchemaRow(schema, header);
          const inferred = row
            ? { type: row.type, options: row.options }
            : (this.tallies.get(`${objectName}\u0000${header}`) ?? new TypeTally()).result();
          const label =
            Object.entries(object.customLabels).find(([h]) => headerToken(h) === headerToken(header))?.[1] ??
            (row?.label && row.label !== row.identifier ? row.label : header);
          specs.push({
            header,
            name: fieldName(customRule.prefix, header, taken),
            label,
            ...inferred,
            origin: row ? 'schema file' : 'inferred from values',
            fromColumn: true,
          });
        }
      }
      if (specs.length === 0 || !mine) continue;
      for (const spec of specs) {
        const key = `${this.mapping.source}:custom_field:${object.model}.${spec.name}`;
        const values: Record<string, Scalar> = {
          name: spec.name,
          model: object.model,
          field_description: spec.label,
          ttype: spec.type,
          state: 'manual',
        };
        if (spec.type === 'selection')
          values.selection = selectionLiteral(declaredSelections.get(spec.name) ?? spec.options.map((o) => [o, o]));
        if (spec.relation) values.relation = spec.relation;
        const draft: Draft = {
          key,
          object: 'custom_field',
          model: 'ir.model.fields',
          values,
          refs: {},
          lookups: { model_id: { model: 'ir.model', field: 'model', value: object.model } },
          match: [['name', 'model']],
          source: { file: mine.firstFile, row: 1, data: { column: spec.header, type: spec.type, origin: spec.origin } },
          issues: [],
        };
        out.push({ ...spec, object: objectName, model: object.model, key, draft });
      }
    }
    return out;
  }

  /**
   * What the refs by value (a deal's contact by email), the attached rows and the completing
   * records name, found in one pass over the store for just the values named. Memory holds
   * hashes and positions (typed arrays), not the values: a hit is confirmed on the record itself
   * (read back from the store), so a hash collision never links the wrong record; of several
   * records with one value, the first (in the store's order) is the one named, as before.
   */
  private refIndex(): {
    byValue: (object: string, by: string, value: string) => string | undefined;
    hasKey: (object: string, key: string) => boolean;
  } {
    const wanted = new Map<string, HashIndex>();
    const want = (target: string, hash: number) => {
      let set = wanted.get(target);
      if (!set) wanted.set(target, (set = new HashIndex()));
      if (!set.has(hash)) set.add(hash, 0);
    };
    for (let i = 0; i < this.waitTarget.length; i++)
      want(this.waitTargets[this.waitTarget.get(i)] as string, this.waitHash.get(i));
    for (const { spec, value } of this.attachPending)
      if (spec.by) want(`v|${spec.object}|${spec.by}`, hash32(value.toLowerCase()));
    for (const { object, by, value } of this.completing) want(`v|${object}|${by}`, hash32(value.toLowerCase()));
    /** target → hash → the position of the first record with that value (or key) */
    const found = new Map<string, HashIndex>();
    const lowerOf = (d: Draft, by: string): string | undefined => {
      const v = d.values[by];
      return v === null || v === undefined ? undefined : String(v).toLowerCase();
    };
    const byValue = (object: string, by: string, value: string): string | undefined => {
      const positions = found.get(`v|${object}|${by}`);
      if (!positions) return undefined;
      const lower = value.toLowerCase();
      for (const c of positions.candidates(hash32(lower))) {
        const d = this.store.get(c); // one read: the value confirmed and the key taken from it
        if (lowerOf(d, by) === lower) return d.key;
      }
      return undefined;
    };
    const hasKey = (object: string, key: string): boolean => {
      const positions = found.get(`k|${object}`);
      if (!positions) return false;
      for (const c of positions.candidates(hash32(key))) if (this.store.get(c).key === key) return true;
      return false;
    };
    if (wanted.size === 0) return { byValue, hasKey };
    /** object tag → the fields named by value; the tags of objects named by key */
    const fieldsOf = new Map<number, string[]>();
    const keyTags = new Set<number>();
    for (const target of wanted.keys()) {
      const [kind, object, by] = target.split('|') as [string, string, string];
      const tag = this.objectId(object) * 2;
      if (kind === 'k') keyTags.add(tag);
      else (fieldsOf.get(tag) ?? (fieldsOf.set(tag, []).get(tag) as string[])).push(by);
    }
    const positionsOf = (target: string) =>
      found.get(target) ?? (found.set(target, new HashIndex()).get(target) as HashIndex);
    let read = 0;
    for (const [at, d] of this.store.each(
      (i) => fieldsOf.has(this.store.tags.get(i)) || keyTags.has(this.store.tags.get(i)),
    )) {
      // a pass over every record of the objects named: the records read are garbage at once
      if (++read % COLLECT_EVERY === 0 && this.store.onDisk) collectGarbage();
      const tag = this.store.tags.get(at);
      if (keyTags.has(tag)) {
        const target = `k|${d.object}`;
        const hash = this.store.a.get(at);
        if (wanted.get(target)?.has(hash)) positionsOf(target).add(hash, at);
      }
      for (const by of fieldsOf.get(tag) ?? []) {
        const v = d.values[by];
        if (v === null || v === undefined) continue;
        const target = `v|${d.object}|${by}`;
        const lower = String(v).toLowerCase();
        const hash = hash32(lower);
        if (!wanted.get(target)?.has(hash)) continue;
        const positions = positionsOf(target);
        let first = true;
        for (const c of positions.candidates(hash)) if (lowerOf(this.store.get(c), by) === lower) first = false;
        if (first) positions.add(hash, at);
      }
    }
    return { byValue, hasKey };
  }

  /** Derived objects that need several distinct values (pipelines → teams) but got fewer: their
   *  keys, dropped (refs to them are removed when finishing). */
  private dropThinDerived(): Set<string> {
    const gone = new Set<string>();
    for (const [name, object] of Object.entries(this.objects)) {
      if (object.minDistinct <= 1) continue;
      const tag = this.objectId(name) * 2 + DERIVED;
      const keys = [...this.derived.entries()].filter(([, at]) => this.store.tags.get(at) === tag).map(([k]) => k);
      if (keys.length >= object.minDistinct) continue;
      for (const k of keys) {
        this.derived.delete(k);
        gone.add(k);
      }
    }
    return gone;
  }

  private profile(
    tally: ProfileTally,
    merges: Profile['duplicatesMerged'],
    customFields: (CustomFieldSpec & { object: string; model: string })[],
  ): Profile {
    const skipped = new Set(
      [...this.targets.values()].filter((t) => t.decision === 'skipped by choice').map((t) => t.object),
    );
    const fileReconciliation = this.files
      .filter((f) => !f.describes)
      .map((f) => {
        const mine = tally.byFile.get(`${f.object}\u0000${f.file}`) ?? { staged: 0, errors: 0 };
        const staged = mine.staged;
        const merged = merges.filter((m) => m.object === f.object && m.merged.file === f.file).length;
        const leftOut = skipped.has(f.object) ? f.rows - staged - merged : 0;
        return {
          file: f.file,
          object: f.object,
          rows: f.rows,
          staged,
          merged,
          leftOut,
          errors: mine.errors,
          reconciled: f.rows === staged + merged + leftOut,
        };
      });
    return {
      source: this.mapping.source,
      files: this.files,
      fileReconciliation,
      objects: tally.objects,
      duplicatesMerged: merges,
      missingValues: tally.missingValues,
      flags: this.flagCounts,
      customFields: customFields.map(({ header, name, label, type, options, origin, object, model }) => ({
        header,
        name,
        label,
        type,
        options,
        origin,
        object,
        model,
      })),
      targets: [...this.targets.values()].filter(
        (t) =>
          t.requires.length > 0 ||
          t.decision === 'skipped by choice' ||
          Object.values(this.objects).some((o) => o.fallbackFor === t.object),
      ),
      issues: { errors: tally.errors, warnings: tally.warnings },
      columnsLeftOut: Object.fromEntries(this.leftOut),
      notMigratable: this.mapping.notMigratable,
      structures: [...this.structures].map(([object, tree]) => {
        const spec = (this.mapping.objects[object]?.structure ??
          this.mapping.objects[this.mapping.objects[object]?.fallbackFor ?? '']?.structure) as NonNullable<
          ObjectMapping['structure']
        >;
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

const listFields = new WeakMap<ObjectMapping, Set<string>>();

/** True when a rule of `object` fills `field` with several records (`split`): the field takes a list. */
function listField(object: ObjectMapping, field: string): boolean {
  let fields = listFields.get(object);
  if (!fields) {
    fields = new Set(object.fields.filter((r) => r.split && (r.object || r.refTo)).map((r) => r.field));
    listFields.set(object, fields);
  }
  return fields.has(field);
}

const constants = new WeakMap<
  ObjectMapping,
  {
    lookups: [string, NonNullable<ObjectMapping['constantLookups']>[string]][];
    refs: [string, ObjectMapping['constantRefs'][string]][];
  }
>();

/** An object's constant lookups and refs as lists (the same for every row). */
function constantsOf(object: ObjectMapping): {
  lookups: [string, NonNullable<ObjectMapping['constantLookups']>[string]][];
  refs: [string, ObjectMapping['constantRefs'][string]][];
} {
  let c = constants.get(object);
  if (!c) {
    c = { lookups: Object.entries(object.constantLookups ?? {}), refs: Object.entries(object.constantRefs) };
    constants.set(object, c);
  }
  return c;
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
  if (issues.length < 2) return issues;
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.level}|${i.field}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The profile's counts, record by record. */
class ProfileTally {
  readonly objects: Profile['objects'] = {};
  readonly missingValues: Profile['missingValues'] = {};
  /** `${object}\u0000${file}` → records staged from that file's rows, and those in error */
  readonly byFile = new Map<string, { staged: number; errors: number }>();
  errors = 0;
  warnings = 0;
  records = 0;

  add(r: StagedRecord): void {
    this.records += 1;
    const id = `${r.object}\u0000${r.source.file}`;
    const f =
      this.byFile.get(id) ??
      (this.byFile.set(id, { staged: 0, errors: 0 }).get(id) as { staged: number; errors: number });
    f.staged += 1;
    if (hasErrors(r)) f.errors += 1;
    const o = (this.objects[r.object] ??= { model: r.model, records: 0, withErrors: 0, withWarnings: 0 });
    o.records += 1;
    if (hasErrors(r)) o.withErrors += 1;
    else if (r.issues.length > 0) o.withWarnings += 1;
    for (const i of r.issues) {
      if (i.level === 'error') this.errors += 1;
      else if (i.level === 'warning') this.warnings += 1;
      if (i.level === 'error' && /required value is empty|is not a valid email|no .* to identify/.test(i.message)) {
        const m = (this.missingValues[r.object] ??= {});
        m[i.field] = (m[i.field] ?? 0) + 1;
      }
    }
  }
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
      throw new InputError(
        { file: files.join(', '), row: 1 },
        `${n.toLocaleString('en')} columns would become custom fields on ${model}; at most ${MAX_CUSTOM_FIELDS_PER_MODEL.toLocaleString('en')} are accepted (PostgreSQL holds 1,600 columns per table, Odoo uses part of them): leave unneeded columns out of the export`,
      );
    }
  }
}

/**
 * Drafts in the store's file (issue #11: about 2 KB of JSON a row, written once and read back
 * once or more): the row's cells as an array when their headers are a table's header in its
 * order (as the CSV reader gives them), and the Odoo field → header map by its number (one per
 * object and file, shared by its rows). Decoding builds the same objects, keys in the same order.
 */
export class DraftCodec implements StoreCodec<Draft> {
  private readonly headers: string[][] = [];
  private readonly columnMaps: Record<string, string>[] = [];
  private readonly columnIds = new Map<Record<string, string>, number>();
  private last = -1;

  header(header: string[]): void {
    this.last = this.headers.length;
    this.headers.push(header);
  }

  columns(columns: Record<string, string>): void {
    if (!this.columnIds.has(columns)) {
      this.columnIds.set(columns, this.columnMaps.length);
      this.columnMaps.push(columns);
    }
  }

  encode(d: Draft): unknown {
    const columns = d.source.columns === undefined ? undefined : this.columnIds.get(d.source.columns);
    const header = this.headerOf(d.source.data);
    if (columns === undefined && header < 0) return d;
    let data: unknown = d.source.data;
    if (header >= 0) {
      const cells: unknown[] = [header];
      for (const k in d.source.data) cells.push(d.source.data[k]);
      data = cells;
    }
    return { ...d, source: { ...d.source, data, ...(columns === undefined ? {} : { columns }) } };
  }

  decode(value: unknown): Draft {
    const d = value as Draft;
    const source = d.source as { data: unknown; columns?: unknown };
    if (Array.isArray(source.data)) {
      const header = this.headers[source.data[0] as number] as string[];
      const data: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) data[header[i] as string] = source.data[i + 1] as string;
      source.data = data;
    }
    if (typeof source.columns === 'number') source.columns = this.columnMaps[source.columns];
    return d;
  }

  /** the number of the header whose names `data` has, in the same order; -1 for none */
  private headerOf(data: Record<string, string>): number {
    if (this.last >= 0 && sameKeys(data, this.headers[this.last] as string[])) return this.last;
    for (let i = 0; i < this.headers.length; i++) {
      if (i !== this.last && sameKeys(data, this.headers[i] as string[])) return i;
    }
    return -1;
  }
}

function sameKeys(data: Record<string, string>, header: string[]): boolean {
  let i = 0;
  for (const k in data) {
    if (header[i] !== k || typeof data[k] !== 'string') return false;
    i += 1;
  }
  return i === header.length;
}
