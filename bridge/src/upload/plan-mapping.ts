/**
 * Use case: the tables of any known source (export files, API objects) (with a shipped mapping, or the generic CSV source)
 * → the mapping this upload is staged with, and one mapping line per column for the admin to
 * confirm in Odoo. Decisions, strongest first: this migration's confirmed decisions, decisions
 * saved from earlier migrations of the same source, the shipped mapping, the proposal
 * (headers, values), then an optional language model; a column nothing fits becomes a custom
 * field where the object takes them. Staged records always do exactly what the lines say.
 */
import type { Logger } from 'pino';
import { InputError } from '../core/input-error.js';
import { headerLanguage } from '../mapping/header-words.js';
import { DateOrderTally } from '../normalize/datetime.js';
import { ColumnQuestion, detectScore, headerToken, resolveColumns, type TakenColumn } from '../mapping/columns.js';
import { givenColumns } from '../mapping/engine.js';
import { inferType } from '../mapping/custom-fields.js';
import { applyDecisions, type Decision } from '../mapping/decisions.js';
import { fromColumns, type Mapping, type ObjectMapping } from '../mapping/schema.js';
import { CATALOG, type FieldKind } from '../proposal/field-catalog.js';
import { llmSuggest, type LlmConfig, type LlmSuggestion } from '../proposal/llm-suggest.js';
import { catalogFromFieldsGet, selectionTable, type FieldsGet } from '../proposal/odoo-fields.js';
import { proposeMapping } from '../proposal/propose.js';
import { profileValues } from '../proposal/value-profile.js';
import type { StagedRecord } from '../staging/record.js';
import type { MappingLine, ValueKind } from '../contract/schemas.js';
import type { SourceSystem } from '../sources/registry.js';
import type { SourceReader } from '../sources/reader.js';
import { peekTables, samples, type PeekedTable } from './peek.js';

/** one mapping line: its zod schema is part of the contract with the addon (docs/schemas/mapping-line.json) */
export type { MappingLine } from '../contract/schemas.js';

export interface PlanOptions {
  /** this migration's confirmed decisions (the admin's word) */
  decisions?: Decision[];
  /** decisions saved from earlier migrations of the same source */
  saved?: Decision[];
  llm?: LlmConfig | undefined;
  log?: Pick<Logger, 'warn' | 'info'> | undefined;
  /** `fields_get` of the target models in the Odoo at hand: its plain fields become targets too */
  odooFields?: Record<string, FieldsGet> | undefined;
  /** headers named for columns the mapping needs: `column` or `object.column` → header */
  columns?: Record<string, string> | undefined;
  /** a required column no header is sure to be: take the best candidate and ask on the Mapping
   *  page (an upload), instead of stopping with a ColumnQuestion (the CLI) */
  askOnMappingPage?: boolean | undefined;
}

export interface Plan {
  mapping: Mapping;
  /** object → headers of its files */
  headers: Map<string, string[]>;
  /** object → the first rows of its files (samples, value kinds) */
  rowsOf: Map<string, Record<string, string>[]>;
  /** `${object}\u0000${header token}` → the decision applied, with where it came from */
  decided: Map<string, { decision: Decision; confidence: number; reason: string }>;
  /** file name → headers taken for the mapping's columns by meaning and values (not its spelling) */
  taken: Map<string, (TakenColumn & { object: string })[]>;
  /** `${object}\u0000${header}` → a required column taken below the threshold: the admin confirms it */
  toConfirm: Map<string, TakenColumn & { candidates: TakenColumn[] }>;
}

/** What a source adds to planning: a mapping built per upload (no fixed columns). */
export type PlanSource = Pick<SourceSystem, 'prepareMapping' | 'finishMapping'>;

const decisionId = (object: string, header: string) => `${object}\u0000${headerToken(header)}`;

const KIND_TTYPE: Partial<Record<FieldKind, string>> = {
  char: 'char',
  text: 'text',
  html: 'html',
  email: 'char',
  phone: 'char',
  url: 'char',
  date: 'date',
  datetime: 'datetime',
  float: 'float',
  integer: 'integer',
  monetary: 'monetary',
  boolean: 'boolean',
  selection: 'selection',
  many2one: 'many2one',
  many2many: 'many2many',
};

/** What a column's values look like, in one word (the Odoo side limits the field picker by it). */
export function valueKind(values: string[]): ValueKind {
  const p = profileValues(values);
  if (p.filled === 0) return 'empty';
  if (p.email >= 0.8) return 'email';
  if (p.url >= 0.8) return 'url';
  if (p.boolean >= 0.9) return 'boolean';
  if (p.date >= 0.8) return 'date';
  if (p.number >= 0.9) return 'number';
  if (p.phone >= 0.8) return 'phone';
  return 'text';
}

function objectOf(mapping: Mapping, header: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  for (const [name, object] of Object.entries(mapping.objects)) {
    const score = detectScore(object, header);
    if (score > bestScore) [best, bestScore] = [name, score];
  }
  return best;
}

function rulesReading(object: ObjectMapping, column: string) {
  return object.fields.filter((r) => fromColumns(r).includes(column));
}

export async function planMapping(
  base: Mapping,
  source: PlanSource,
  reader: SourceReader,
  options: PlanOptions = {},
): Promise<Plan> {
  const peeked = await peekTables(reader);
  if (peeked.length === 0) throw new InputError({ file: '(none)' }, 'no export file given');
  // a source without fixed columns: every column is proposed, and the source shapes the mapping
  const adaptive = source.prepareMapping !== undefined;
  let mapping = source.prepareMapping
    ? source.prepareMapping(base, [...new Set(peeked.flatMap((p) => p.header))])
    : base;
  const headers = new Map<string, string[]>();
  const rowsOf = new Map<string, Record<string, string>[]>();
  const taken: Plan['taken'] = new Map();
  const toConfirm: Plan['toConfirm'] = new Map();
  /** object → the names of its tables */
  const filesOf = new Map<string, Set<string>>();
  const confirmed = new Map([
    ...(options.saved ?? []).map(
      (d) => [`${d.object}\u0000${headerToken(d.column)}`, 'confirmed in an earlier migration'] as const,
    ),
    ...(options.decisions ?? []).map((d) => [`${d.object}\u0000${headerToken(d.column)}`, 'confirmed by you'] as const),
  ]);
  const refersTo = adaptive ? new Map<string, Map<string, Set<string>>>() : referredValues(mapping, peeked);
  for (const p of peeked) {
    const object = p.object !== undefined && mapping.objects[p.object] ? p.object : objectOf(mapping, p.header);
    if (!object) continue;
    if (!adaptive) {
      // the mapping's spellings first, then the headers' words and the values of the first rows
      const given = givenColumns(options.columns, object);
      const resolved = resolveColumns(mapping.objects[object] as ObjectMapping, p.header, {
        rows: p.rows,
        given,
        refersTo: refersTo.get(object),
      });
      const found = resolved.taken.map((t) => ({ ...t, object }));
      for (const open of resolved.open) {
        const best = open.candidates[0];
        // a header the admin confirmed on the Mapping page for this column
        const word = best ? confirmed.get(`${object}\u0000${headerToken(best.header)}`) : undefined;
        if (best && word) {
          found.push({ ...best, object, confidence: 1, evidence: word });
        } else if (best && options.askOnMappingPage) {
          found.push({ ...best, object });
          toConfirm.set(`${object}\u0000${best.header}`, { ...best, candidates: open.candidates });
        } else {
          throw new ColumnQuestion(p.name, object, open);
        }
      }
      if (found.length > 0) taken.set(p.name, found);
    }
    if (mapping.objects[object]?.schemaFor) continue;
    filesOf.set(object, new Set([...(filesOf.get(object) ?? []), p.name]));
    headers.set(object, [...new Set([...(headers.get(object) ?? []), ...p.header])]);
    rowsOf.set(object, [...(rowsOf.get(object) ?? []), ...p.rows]);
  }

  const decided: Plan['decided'] = new Map();
  const put = (decision: Decision, confidence: number, reason: string) => {
    const id = decisionId(decision.object, decision.column);
    if (!decided.has(id)) decided.set(id, { decision, confidence, reason });
  };
  /** a decision onto a selection field of Odoo: each of its keys and labels → the key */
  const withOptions = (d: Decision): Decision => {
    const object = mapping.objects[d.object];
    const selection =
      object && d.action === 'map' && d.field && !d.values
        ? options.odooFields?.[object.model]?.[d.field]?.selection
        : undefined;
    return selection ? { ...d, ttype: 'selection', values: selectionTable(selection) } : d;
  };
  for (const d of options.decisions ?? []) put(withOptions(d), 1, 'confirmed by you');
  for (const d of options.saved ?? []) put(withOptions(d), 0.98, 'saved mapping from an earlier migration');

  const described = customOnlyColumns(mapping, peeked);
  for (const [objectName, objectHeaders] of headers) {
    const object = mapping.objects[objectName] as ObjectMapping;
    const rows = rowsOf.get(objectName) ?? [];
    const open = adaptive ? objectHeaders : resolveColumns(object, objectHeaders).unknown;
    // a column the source's own field list declares (`customOnly`) is its custom field: not proposed elsewhere
    const todo = open.filter(
      (h) => !decided.has(decisionId(objectName, h)) && !described.get(objectName)?.has(headerToken(h)),
    );
    if (todo.length === 0) continue;
    const written = new Set(adaptive ? [] : object.fields.map((r) => r.field));
    const known = CATALOG.filter((t) => t.model === object.model);
    const odoo = options.odooFields?.[object.model];
    const fromOdoo = odoo ? catalogFromFieldsGet(object.model, odoo, known) : [];
    const catalog = [...known, ...fromOdoo].filter((t) => !written.has(t.field) && (adaptive || !t.part));
    const proposals = proposeMapping(todo, rows, { catalog });
    const unmapped = proposals.filter((p) => !p.field);
    const llm =
      options.llm && unmapped.length
        ? await llmSuggest(
            options.llm,
            unmapped.map((p) => ({ column: p.column, samples: samples(rows, p.column, 5) })),
            catalog,
            options.log,
          )
        : new Map<string, LlmSuggestion>();
    for (const p of proposals) {
      const target = p.field ? catalog.find((t) => t.field === p.field) : undefined;
      const suggestion = llm.get(p.column);
      if (p.field && target) {
        const values = target.selection ? selectionTable(target.selection) : undefined;
        put(
          {
            object: objectName,
            column: p.column,
            action: 'map',
            field: p.field,
            ttype: KIND_TTYPE[target.kind] ?? null,
            ...(values ? { values } : {}),
          },
          p.confidence,
          p.reason,
        );
      } else if (suggestion) {
        const t = catalog.find((c) => c.field === suggestion.field);
        put(
          {
            object: objectName,
            column: p.column,
            action: 'map',
            field: suggestion.field,
            ttype: t ? (KIND_TTYPE[t.kind] ?? null) : null,
          },
          0.5,
          suggestion.reason,
        );
      } else if (adaptive) {
        const inferred = inferType(rows.map((r) => r[p.column] ?? ''));
        put(
          {
            object: objectName,
            column: p.column,
            action: 'create',
            ttype: inferred.type === 'selection' ? 'char' : inferred.type,
            label: p.column,
          },
          0.5,
          'no Odoo field fits: a new custom field',
        );
      }
      // known source, nothing fits: the object's custom-field rule (or the inventory) takes it
    }
  }

  if (adaptive) await settleDateOrders(reader, decided, headers, filesOf);
  mapping = applyDecisions(
    mapping,
    headers,
    [...decided.values()].map((d) => d.decision),
  );
  if (source.finishMapping)
    mapping = source.finishMapping(
      mapping,
      peeked.map((p) => p.name),
    );
  return { mapping, headers, rowsOf, decided, taken, toConfirm };
}

/** object → header tokens of the columns a `customOnly` field list (schemaFor) describes, from its peeked rows */
function customOnlyColumns(mapping: Mapping, peeked: PeekedTable[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const p of peeked) {
    const object = p.object !== undefined ? mapping.objects[p.object] : undefined;
    // a source's own field list declares custom fields (a describe call, a custom-field list)
    if (!object?.schemaFor) continue;
    const byColumn = resolveColumns(object, p.header).byColumn;
    const tokens = out.get(object.schemaFor) ?? new Set<string>();
    for (const r of p.rows) {
      for (const column of ['identifier', 'label']) {
        const value = r[byColumn.get(column) ?? ''];
        if (value) tokens.add(headerToken(value));
      }
    }
    out.set(object.schemaFor, tokens);
  }
  return out;
}

/**
 * The other files of the export as evidence: for each column that names a record of another file
 * object by a value (`refTo`: a deal's contact by email), the values that object's files hold for
 * it (from their first rows), lower-cased. object → column → values.
 */
function referredValues(mapping: Mapping, peeked: PeekedTable[]): Map<string, Map<string, Set<string>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  const filesOf = new Map<string, PeekedTable[]>();
  for (const p of peeked) {
    const object = p.object !== undefined && mapping.objects[p.object] ? p.object : objectOf(mapping, p.header);
    if (object) filesOf.set(object, [...(filesOf.get(object) ?? []), p]);
  }
  for (const [name, object] of Object.entries(mapping.objects)) {
    for (const rule of object.fields) {
      const target = rule.refTo ? mapping.objects[rule.refTo.object] : undefined;
      const by = target?.fields.find((r) => r.field === rule.refTo?.by);
      if (!target || !by || Array.isArray(rule.from)) continue;
      const values = new Set<string>();
      for (const p of filesOf.get(rule.refTo?.object as string) ?? []) {
        const header = resolveColumns(target, p.header).byColumn.get(fromColumns(by)[0] as string);
        if (header) for (const r of p.rows) if (r[header]) values.add((r[header] as string).trim().toLowerCase());
      }
      if (values.size === 0) continue;
      const columns = out.get(name) ?? new Map<string, Set<string>>();
      columns.set(rule.from, values);
      out.set(name, columns);
    }
  }
  return out;
}

/**
 * Columns decided as dates: the order of day and month in their numeric values, from every value
 * of the object's files (streamed once, counted, not kept) and the headers' language. A column
 * that stays open is kept as text in a custom field and asked on the Mapping page; a date is
 * never read in a guessed order.
 */
async function settleDateOrders(
  reader: SourceReader,
  decided: Plan['decided'],
  headers: Map<string, string[]>,
  filesOf: Map<string, Set<string>>,
): Promise<void> {
  const isDate = (d: Decision) =>
    d.action !== 'ignore' && (d.ttype === 'date' || d.ttype === 'datetime') && !d.dateOrder;
  const todo = [...filesOf]
    .map(([object, tables]) => ({
      object,
      tables,
      entries: [...decided.entries()].filter(([, e]) => e.decision.object === object && isDate(e.decision)),
    }))
    .filter((o) => o.entries.length > 0);
  if (todo.length === 0) return;
  const tallies = new Map(
    todo.flatMap((o) =>
      o.entries.map(([id, e]) => [id, { column: e.decision.column, tally: new DateOrderTally() }] as const),
    ),
  );
  for await (const table of reader.tables()) {
    const mine = todo
      .filter((o) => o.tables.has(table.name))
      .flatMap((o) => o.entries.map(([id]) => tallies.get(id) as { column: string; tally: DateOrderTally }));
    if (mine.length === 0) continue;
    for await (const { cells } of table.rows) {
      for (const { column, tally } of mine) {
        const v = cells[column];
        if (v !== undefined) tally.add(v);
      }
    }
  }
  for (const { object, entries } of todo) {
    const language = headerLanguage(headers.get(object) ?? []);
    for (const [id, entry] of entries) {
      const evidence = (tallies.get(id) as { tally: DateOrderTally }).tally.evidence(language);
      if (evidence.order) {
        decided.set(id, {
          ...entry,
          decision: { ...entry.decision, dateOrder: evidence.order },
          reason: `${entry.reason}; ${evidence.reason}`,
        });
      } else if (evidence.conflicting || evidence.either > 0) {
        const target = entry.decision.field ?? entry.decision.column;
        decided.set(id, {
          decision: {
            object,
            column: entry.decision.column,
            action: 'create',
            ttype: 'char',
            label: entry.decision.column,
          },
          confidence: 0.4,
          reason: `to confirm: day/month order unknown (${evidence.reason}); kept as text until you map it to ${target} with the order (dd/mm or mm/dd)`,
        });
      }
    }
  }
}

/** One line per column of each file object, saying what the staged records do with it. */
export function mappingLines(plan: Plan, records: StagedRecord[]): MappingLine[] {
  const lines: MappingLine[] = [];
  const customByColumn = new Map<string, StagedRecord>();
  for (const r of records) {
    if (r.object !== 'custom_field') continue;
    const column = r.source.data.column;
    if (typeof column === 'string') customByColumn.set(`${String(r.values.model)}\u0000${headerToken(column)}`, r);
  }
  for (const [objectName, objectHeaders] of plan.headers) {
    const object = plan.mapping.objects[objectName] as ObjectMapping;
    const rows = plan.rowsOf.get(objectName) ?? [];
    const plannedTaken = [...plan.taken.values()].flat().filter((t) => t.object === objectName);
    const { byColumn } = resolveColumns(object, objectHeaders, {
      given: new Map(plannedTaken.map((t) => [t.column, t.header])),
    });
    const columnOf = new Map([...byColumn.entries()].map(([c, h]) => [h, c]));
    for (const header of objectHeaders) {
      const token = headerToken(header);
      const values = rows.map((r) => r[header] ?? '');
      const base = {
        object: objectName,
        model: object.model,
        column: header,
        kind: valueKind(values),
        samples: samples(rows, header),
      };
      const origin = plan.decided.get(decisionId(objectName, header));
      const column = columnOf.get(header);
      const rule = column ? rulesReading(object, column)[0] : undefined;
      const schemaField = rule ? object.schemaFields.find((f) => f.name === rule.field) : undefined;
      const custom = customByColumn.get(`${object.model}\u0000${token}`);
      const lossy = object.lossy.find((l) =>
        l.column.split(/,\s*/).some((c) => headerToken(c) === token || c === column),
      );
      const ask = plan.toConfirm.get(`${objectName}\u0000${header}`);
      const meant = plannedTaken.find((t) => t.header === header);
      if (ask) {
        // a column the mapping needs, taken below the threshold: the admin confirms it here
        const others = ask.candidates
          .filter((c) => c.header !== header)
          .map((c) => `"${c.header}" (${Math.round(c.confidence * 100)}%)`);
        lines.push({
          ...base,
          field: rule?.field ?? null,
          action: rule ? 'map' : 'ignore',
          ttype: null,
          label: null,
          confidence: Math.min(ask.confidence, 0.59),
          reason: `to confirm: is this the "${ask.column}" column the ${plan.mapping.label} mapping needs? (${ask.evidence})${others.length ? `; other candidates: ${others.join(', ')}` : ''}`,
        });
        continue;
      }
      const why = meant ? `header taken for "${meant.column}" (${meant.evidence})` : undefined;
      if (rule) {
        const created = schemaField && origin;
        lines.push({
          ...base,
          field: rule.field,
          action: created ? 'create' : 'map',
          ttype: schemaField?.type ?? origin?.decision.ttype ?? null,
          label: schemaField?.label ?? null,
          confidence: origin?.confidence ?? meant?.confidence ?? 1,
          reason:
            origin?.reason ??
            (why ? `shipped ${plan.mapping.label} mapping; ${why}` : `shipped ${plan.mapping.label} mapping`),
        });
      } else if (custom) {
        lines.push({
          ...base,
          field: String(custom.values.name),
          action: 'create',
          ttype: String(custom.values.ttype),
          label: String(custom.values.field_description),
          confidence: origin?.confidence ?? 0.5,
          reason:
            origin?.reason ??
            `no Odoo field fits: new custom field (${String(custom.source.data.origin ?? 'inferred from values')})`,
        });
      } else {
        // read by an attached record of each row (inline notes → chatter messages)
        const attached = column
          ? Object.values(plan.mapping.objects).find(
              (o) => o.attachTo && o.perRow?.parent === objectName && rulesReading(o, column).length > 0,
            )
          : undefined;
        lines.push({
          ...base,
          field: null,
          action: 'ignore',
          ttype: null,
          label: null,
          confidence: origin?.confidence ?? meant?.confidence ?? 1,
          reason:
            origin?.reason ??
            (attached ? `attached to the record as ${attached.label.toLowerCase()} (${attached.model})` : undefined) ??
            lossy?.reason ??
            why ??
            (column
              ? `read by the ${plan.mapping.label} mapping (record key, flags or phone country)`
              : 'no Odoo field fits and this object takes no custom fields (listed in the inventory)'),
        });
      }
    }
  }
  return lines;
}
