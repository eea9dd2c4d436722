/**
 * Apto's org, as the mapping reads it (mappings/apto.json), whatever it was read from: the REST
 * API (api.ts) or a Salesforce Data Export zip (export-zip.ts). Both hand over the same "raw
 * tables" named by Salesforce object (`Account`, `McLabs2__Listing__c`, ...), with field
 * descriptions where the API gives them; this turns them into the tables the engine stages:
 *
 * - The package namespace (`McLabs2__`, `McLabs__`, none) is discovered from the org's object
 *   names, never assumed; custom fields lose it and their `__c` (`McLabs2__Square_Footage__c` →
 *   `Square_Footage`), so the mapping's custom fields are `x_apto_<object>_square_footage` in every org.
 * - Companies (Account) come in topological order (a parent before its subsidiaries). A hierarchy
 *   that loops is broken at its member with the smallest Id: that company keeps no parent, a note
 *   on it names the loop, and the inventory lists it (`brokenCycles`).
 * - The pipeline: Apto's deal moves through one package object per stage (Proposal → Listing →
 *   Project (`Escrow__c`) → Comp (`Sale__c`), labels as the org names them), each linked to the
 *   stages before it. A deal is one chain, keyed by its first record; its stage is the furthest
 *   object reached, won when it reached the last one (a Comp is a completed transaction), lost when
 *   its furthest record's status says so; the date each stage was entered (the stage record's
 *   CreatedDate) is a column of its own; its pipeline (a sales team) is the first record's record
 *   type. Every custom field of each stage record comes along as `<Stage>_<Field>`.
 * - Owners (OwnerId) become the user's email (the mapping looks it up among Odoo users).
 * - Activities and files name their parent by object and key (`company`/`contact`/`deal`).
 */
import type { SourceRow, SourceTable } from '../reader.js';

export interface RawTable {
  /** a Salesforce object (`Account`), `Task:email` (the email tasks), `catalog` (the org's objects), `describe:<Object>` (its fields) */
  name: string;
  rows: AsyncIterable<Record<string, string>>;
}

/** Apto's pipeline objects, in pipeline order, without namespace: Proposal, Listing, Project, Comp */
export const STAGE_OBJECTS = ['Proposal__c', 'Listing__c', 'Escrow__c', 'Sale__c'] as const;
const DEFAULT_STAGE_LABELS: Record<string, string> = {
  Proposal__c: 'Proposal',
  Listing__c: 'Listing',
  Escrow__c: 'Project',
  Sale__c: 'Comp',
};
/** a status of a deal's furthest record that means the deal was lost */
const LOST = /^(lost|dead|cancell?ed|withdrawn|expired|terminated|fell through|closed lost)$/i;
export const DEFAULT_PIPELINE = 'Apto pipeline';
/** Salesforce id prefixes of the standard objects activities and files hang on */
const PREFIX = { account: '001', contact: '003', user: '005' };

/** standard fields the mapping reads, per object; other standard fields stay out (custom `__c` ones all come) */
export const STANDARD_FIELDS: Record<string, string[]> = {
  Account: [
    'Id',
    'Name',
    'ParentId',
    'Phone',
    'Website',
    'Description',
    'BillingStreet',
    'BillingCity',
    'BillingPostalCode',
    'BillingCountry',
    'OwnerId',
    'CreatedDate',
  ],
  Contact: [
    'Id',
    'FirstName',
    'LastName',
    'Title',
    'Email',
    'Phone',
    'MobilePhone',
    'AccountId',
    'MailingStreet',
    'MailingCity',
    'MailingPostalCode',
    'MailingCountry',
    'Description',
    'OwnerId',
    'CreatedDate',
  ],
  stage: ['Id', 'Name', 'RecordTypeId', 'OwnerId', 'CreatedDate', 'LastModifiedDate'],
  Task: [
    'Id',
    'Subject',
    'Description',
    'ActivityDate',
    'Status',
    'Priority',
    'IsClosed',
    'TaskSubtype',
    'CallType',
    'CallDurationInSeconds',
    'CompletedDateTime',
    'WhoId',
    'WhatId',
    'OwnerId',
    'CreatedDate',
  ],
  Event: [
    'Id',
    'Subject',
    'Description',
    'Location',
    'StartDateTime',
    'EndDateTime',
    'IsAllDayEvent',
    'WhoId',
    'WhatId',
    'OwnerId',
    'CreatedDate',
  ],
  Attachment: ['Id', 'ParentId', 'Name', 'ContentType', 'BodyLength', 'Description', 'OwnerId', 'CreatedDate'],
  ContentVersion: [
    'Id',
    'ContentDocumentId',
    'Title',
    'PathOnClient',
    'FileExtension',
    'FileType',
    'ContentSize',
    'Description',
    'OwnerId',
    'CreatedDate',
    'IsLatest',
  ],
  ContentDocumentLink: ['Id', 'ContentDocumentId', 'LinkedEntityId'],
  User: ['Id', 'Email', 'Name', 'IsActive'],
  RecordType: ['Id', 'Name', 'SobjectType'],
};

export interface FieldInfo {
  name: string;
  label: string;
  type: string;
  custom: boolean;
  referenceTo: string;
  options: string;
}

export interface ShapeReport {
  namespace: string | null;
  brokenCycles: { cycle: string[]; brokenAt: string; id: string }[];
  workflowRules: Record<string, string>[];
  deals: number;
}

/** `McLabs2__Proposal__c` → namespace `McLabs2__`; the first Apto pipeline object found tells it */
export function discoverNamespace(objectNames: Iterable<string>): string | null {
  const names = [...objectNames];
  // the pipeline objects tell it best (another app of the org may have a Property__c of its own)
  for (const pattern of [
    /^(?:([A-Za-z0-9]+)__)?(Proposal__c|Listing__c|Escrow__c|Sale__c)$/i,
    /^(?:([A-Za-z0-9]+)__)?(Property__c)$/i,
  ]) {
    const found = names.map((n) => pattern.exec(n)).filter((m): m is RegExpExecArray => m !== null);
    // a namespaced package object wins over an unnamespaced one of the same name
    const m = found.find((x) => x[1]) ?? found[0];
    if (m) return m[1] ? `${m[1]}__` : '';
  }
  return null;
}

/** a custom field's header: namespace and `__c` off */
export function customHeader(field: string, namespace: string | null): string {
  let h = field;
  if (namespace && h.toLowerCase().startsWith(namespace.toLowerCase())) h = h.slice(namespace.length);
  return h.replace(/__c$/i, '');
}

const isCustom = (field: string) => /__c$/i.test(field);

/** Salesforce date-times (`2024-01-10T15:04:05.000+0000`) as ISO with Z, which every reader of the mapping takes */
export function sfDatetime(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(v.trim());
  if (!m) return v;
  const zone = !m[3] || m[3] === 'Z' || /^[+-]00:?00$/.test(m[3]) ? 'Z' : m[3].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  return `${m[1]}T${m[2]}${zone}`;
}

/** Salesforce field types → the mapping's custom field types (schema rows) */
export function odooType(sfType: string): string | null {
  switch (sfType.toLowerCase()) {
    case 'reference':
    case 'id':
    case 'base64':
    case 'address':
    case 'location':
    case 'anytype':
      return null;
    default:
      return sfType.toLowerCase();
  }
}

interface StageRecord {
  object: string;
  index: number;
  cells: Record<string, string>;
}

export class OrgShaper {
  readonly report: ShapeReport = { namespace: null, brokenCycles: [], workflowRules: [], deals: 0 };
  private readonly fields = new Map<string, FieldInfo[]>();
  private readonly labels = new Map<string, string>();
  private readonly prefixes = new Map<string, string>();
  private readonly users = new Map<string, string>();
  private readonly recordTypes = new Map<string, string>();
  /** any stage record id → the deal's key (its chain's first record) */
  private readonly dealOf = new Map<string, string>();
  private readonly stageRows: StageRecord[] = [];
  private readonly versions = new Map<string, Record<string, string>>();
  private catalog = new Set<string>();

  /** `filePath(kind, id)`: where a file's bytes are, relative to the reader's files folder, when the row does not say (`file_path`) */
  constructor(private readonly filePath: (kind: 'Attachment' | 'ContentVersion', id: string) => string) {}

  private stageOf(object: string): number {
    const ns = this.report.namespace ?? '';
    return STAGE_OBJECTS.findIndex((s) => object.toLowerCase() === `${ns}${s}`.toLowerCase());
  }

  stageLabel(index: number): string {
    const s = STAGE_OBJECTS[index] as string;
    return this.labels.get(`${this.report.namespace ?? ''}${s}`.toLowerCase()) ?? (DEFAULT_STAGE_LABELS[s] as string);
  }

  async *tables(raw: AsyncIterable<RawTable>): AsyncGenerator<SourceTable> {
    for await (const table of raw) {
      const stage = this.stageOf(table.name);
      if (stage < 0 && !table.name.startsWith('describe:') && this.stageRows.length > 0) yield* this.deals();
      if (table.name === 'catalog') {
        const names: string[] = [];
        for await (const r of table.rows) {
          names.push(r.name ?? '');
          if (r.label) this.labels.set((r.name ?? '').toLowerCase(), r.label);
          if (r.keyPrefix) this.prefixes.set(r.keyPrefix, r.name ?? '');
        }
        this.report.namespace = discoverNamespace(names);
        this.catalog = new Set(names.map((n) => n.toLowerCase()));
      } else if (table.name.startsWith('describe:')) {
        const list: FieldInfo[] = [];
        for await (const r of table.rows)
          list.push({
            name: r.name ?? '',
            label: r.label ?? '',
            type: r.type ?? '',
            custom: r.custom === 'true',
            referenceTo: r.referenceTo ?? '',
            options: r.options ?? '',
          });
        this.fields.set(table.name.slice('describe:'.length).toLowerCase(), list);
      } else if (table.name === 'User') {
        for await (const r of table.rows) if (r.Id && r.Email) this.users.set(r.Id, r.Email);
      } else if (table.name === 'RecordType') {
        for await (const r of table.rows) if (r.Id && r.Name) this.recordTypes.set(r.Id, r.Name);
      } else if (table.name === 'WorkflowRule') {
        for await (const r of table.rows) this.report.workflowRules.push(r);
      } else if (table.name === 'Account') {
        yield* this.accounts(table);
      } else if (table.name === 'Contact') {
        yield* this.plain(table, 'Contacts', 'contact', 'Contact');
      } else if (stage >= 0) {
        for await (const r of table.rows) this.stageRows.push({ object: table.name, index: stage, cells: r });
      } else if (table.name === 'Task' || table.name === 'Task:email' || table.name === 'Event') {
        yield this.activities(table);
      } else if (table.name === 'Attachment') {
        yield this.attachments(table);
      } else if (table.name === 'ContentVersion') {
        for await (const r of table.rows)
          if (r.Id && r.IsLatest !== 'false') this.versions.set(r.ContentDocumentId ?? r.Id, r);
      } else if (table.name === 'ContentDocumentLink') {
        yield this.contentFiles(table);
      }
    }
    if (this.stageRows.length > 0) yield* this.deals();
  }

  // ------------------------------------------------------------ fields and cells

  /** the custom fields of an object that become custom fields in Odoo (references are links, not values) */
  private customFields(object: string, seen?: Iterable<string>): FieldInfo[] {
    const described = this.fields.get(object.toLowerCase());
    if (described) return described.filter((f) => isCustom(f.name) && odooType(f.type) !== null);
    return [...(seen ?? [])].filter(isCustom).map((name) => ({
      name,
      label: customHeader(name, this.report.namespace).replace(/_/g, ' '),
      type: '',
      custom: true,
      referenceTo: '',
      options: '',
    }));
  }

  private schemaTable(
    name: string,
    object: string,
    rows: { identifier: string; label: string; type: string; options: string }[],
  ): SourceTable | null {
    if (rows.length === 0) return null;
    return {
      name,
      object,
      header: ['identifier', 'label', 'type', 'options'],
      rows: (async function* () {
        let row = 0;
        for (const r of rows) yield { row: ++row, cells: r };
      })(),
    };
  }

  /** one record's cells as the mapping reads them: the standard fields it knows, custom fields renamed, owners as emails, date-times in ISO */
  private cells(object: string, kind: string, raw: Record<string, string>, prefix = ''): Record<string, string> {
    const out: Record<string, string> = {};
    const standard = new Set(STANDARD_FIELDS[kind] ?? []);
    const types = new Map((this.fields.get(object.toLowerCase()) ?? []).map((f) => [f.name, f.type.toLowerCase()]));
    for (const [k, v0] of Object.entries(raw)) {
      const type = types.get(k);
      const v =
        type === 'datetime' || /Date(Time)?$/.test(k) || (type === undefined && /^\d{4}-\d{2}-\d{2}T/.test(v0))
          ? sfDatetime(v0)
          : v0;
      if (standard.has(k)) out[k] = v;
      else if (isCustom(k) && (type === undefined || odooType(type) !== null))
        out[`${prefix}${customHeader(k, this.report.namespace)}`] = v;
    }
    if ('OwnerId' in raw) out.OwnerEmail = this.users.get(raw.OwnerId ?? '') ?? '';
    return out;
  }

  private schemaRows(
    object: string,
    prefix = '',
    labelPrefix = '',
  ): { identifier: string; label: string; type: string; options: string }[] {
    return this.customFields(object)
      .filter((f) => f.type !== '')
      .map((f) => ({
        identifier: `${prefix}${customHeader(f.name, this.report.namespace)}`,
        label: `${labelPrefix}${f.label}`,
        type: odooType(f.type) as string,
        options: f.options,
      }));
  }

  private headerOf(object: string, kind: string, first: Record<string, string> | undefined, prefix = ''): string[] {
    const described = this.fields.get(object.toLowerCase());
    const names = described ? described.map((f) => f.name) : Object.keys(first ?? {});
    const standard = STANDARD_FIELDS[kind] ?? [];
    const header = [
      ...standard.filter((s) => names.includes(s) || !described),
      ...this.customFields(object, names).map((f) => `${prefix}${customHeader(f.name, this.report.namespace)}`),
    ];
    if (standard.includes('OwnerId')) header.push('OwnerEmail');
    return header;
  }

  // ------------------------------------------------------------ companies and contacts

  private async *plain(table: RawTable, name: string, object: string, kind: string): AsyncGenerator<SourceTable> {
    const schema = this.schemaTable(`${name} fields`, `${object}_fields`, this.schemaRows(table.name));
    if (schema) yield schema;
    const it = table.rows[Symbol.asyncIterator]();
    const first = await it.next();
    const header = this.headerOf(table.name, kind, first.done ? undefined : first.value);
    const self = this;
    yield {
      name,
      object,
      header,
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for (let r = first; !r.done; r = await it.next())
          yield { row: ++row, cells: self.cells(table.name, kind, r.value) };
      })(),
    };
  }

  private async *accounts(table: RawTable): AsyncGenerator<SourceTable> {
    const schema = this.schemaTable('Companies fields', 'company_fields', this.schemaRows('Account'));
    if (schema) yield schema;
    const all: Record<string, string>[] = [];
    for await (const r of table.rows) all.push(r);
    const { order, broken } = hierarchyOrder(
      all.map((r) => ({ id: r.Id ?? '', parent: r.ParentId ?? '', name: r.Name ?? '' })),
    );
    const byId = new Map(all.map((r) => [r.Id ?? '', r]));
    for (const b of broken) this.report.brokenCycles.push(b);
    const note = new Map(broken.map((b) => [b.id, b]));
    const self = this;
    yield {
      name: 'Companies',
      object: 'company',
      header: [...this.headerOf('Account', 'Account', all[0]), 'HierarchyNote'],
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for (const id of order) {
          const raw = byId.get(id) as Record<string, string>;
          const cells = self.cells('Account', 'Account', raw);
          const b = note.get(id);
          cells.HierarchyNote = '';
          if (b) {
            const parent = byId.get(raw.ParentId ?? '');
            cells.ParentId = '';
            cells.HierarchyNote = `Parent company ${parent?.Name ?? raw.ParentId} (${raw.ParentId}) left out: the company hierarchy loops (${b.cycle.join(' → ')})`;
          }
          yield { row: ++row, cells };
        }
      })(),
    };
  }

  // ------------------------------------------------------------ deals

  private async *deals(): AsyncGenerator<SourceTable> {
    const rows = this.stageRows.splice(0);
    const byId = new Map(rows.map((r) => [r.cells.Id ?? '', r]));
    const ns = this.report.namespace ?? '';
    const linkField = (i: number) =>
      Object.keys(rows.find((r) => r.index > i)?.cells ?? {}).find(
        (k) => k.toLowerCase() === `${ns}${STAGE_OBJECTS[i]}`.toLowerCase(),
      );
    const root = (r: StageRecord, depth = 0): string => {
      for (let i = r.index - 1; i >= 0 && depth < 8; i--) {
        const field = linkField(i);
        const up = field ? byId.get(r.cells[field] ?? '') : undefined;
        if (up && up.index === i) return root(up, depth + 1);
      }
      return r.cells.Id ?? '';
    };
    const chains = new Map<string, StageRecord[]>();
    for (const r of rows) {
      const key = root(r);
      this.dealOf.set(r.cells.Id ?? '', key);
      (chains.get(key) ?? (chains.set(key, []).get(key) as StageRecord[])).push(r);
    }
    // one custom field per stage object's field: `<Stage>_<Field>`
    const present = [...new Set(rows.map((r) => r.index))].sort();
    const stagePrefix = (i: number) => `${this.stageLabel(i).replace(/[^A-Za-z0-9]+/g, '_')}_`;
    const schema: { identifier: string; label: string; type: string; options: string }[] = [];
    const customHeaders: string[] = [];
    for (const i of present) {
      const object = rows.find((r) => r.index === i)?.object as string;
      schema.push({
        identifier: `Entered_${this.stageLabel(i).replace(/[^A-Za-z0-9]+/g, '_')}`,
        label: `Entered ${this.stageLabel(i)}`,
        type: 'datetime',
        options: '',
      });
      schema.push(...this.schemaRows(object, stagePrefix(i), `${this.stageLabel(i)}: `));
      customHeaders.push(
        ...this.customFields(object, Object.keys(rows.find((r) => r.index === i)?.cells ?? {})).map(
          (f) => `${stagePrefix(i)}${customHeader(f.name, ns)}`,
        ),
      );
    }
    const entered = present.map((i) => `Entered_${this.stageLabel(i).replace(/[^A-Za-z0-9]+/g, '_')}`);
    const header = [
      'Id',
      'Name',
      'Stage',
      'StageOrder',
      'Won',
      'Lost',
      'Pipeline',
      'Amount',
      'CloseDate',
      'Probability',
      'ClientContactId',
      'ClientCompanyId',
      'OwnerEmail',
      'CreatedDate',
      ...entered,
      ...customHeaders,
    ];
    const tbl = this.schemaTable('Deals fields', 'deal_fields', schema);
    if (tbl) yield tbl;
    // every stage of the org's pipeline, a deal at it or not (in pipeline order; the last, a Comp, is won)
    const stages = STAGE_OBJECTS.map((_, i) => i).filter(
      (i) => present.includes(i) || this.catalog.has(`${ns}${STAGE_OBJECTS[i]}`.toLowerCase()),
    );
    const label = (i: number) => this.stageLabel(i);
    yield {
      name: 'Pipeline stages',
      object: 'pipeline_stage',
      header: ['Name', 'Sequence', 'Won'],
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for (const i of stages)
          yield {
            row: ++row,
            cells: { Name: label(i), Sequence: String(i + 1), Won: i === STAGE_OBJECTS.length - 1 ? 'true' : 'false' },
          };
      })(),
    };
    const self = this;
    const last = STAGE_OBJECTS.length - 1;
    const pick = (chain: StageRecord[], ...fields: string[]): string => {
      for (const r of [...chain].reverse()) {
        for (const f of fields) {
          const v = Object.entries(r.cells).find(([k]) => customHeader(k, ns).toLowerCase() === f.toLowerCase())?.[1];
          if (v) return v;
        }
      }
      return '';
    };
    this.report.deals = chains.size;
    yield {
      name: 'Deals',
      object: 'deal',
      header,
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for (const [key, unsorted] of chains) {
          // per stage the latest record (a proposal listed twice keeps its newest listing)
          const chain = unsorted.sort(
            (a, b) => a.index - b.index || (a.cells.CreatedDate ?? '').localeCompare(b.cells.CreatedDate ?? ''),
          );
          const first = chain[0] as StageRecord;
          const furthest = chain[chain.length - 1] as StageRecord;
          const won = furthest.index === last;
          const status = pick([furthest], 'Status');
          const cells: Record<string, string> = {
            Id: key,
            Name: first.cells.Name ?? key,
            Stage: self.stageLabel(furthest.index),
            StageOrder: String(furthest.index + 1),
            Won: won ? 'true' : 'false',
            Lost: !won && LOST.test(status.trim()) ? 'true' : 'false',
            Pipeline: self.recordTypes.get(first.cells.RecordTypeId ?? '') ?? DEFAULT_PIPELINE,
            Amount: pick(chain, 'Sale_Price', 'Contract_Price', 'Asking_Price_Actual', 'Asking_Price'),
            CloseDate: pick(chain, 'Sale_Date', 'Close_of_Escrow', 'Listing_Expiration_Date'),
            Probability: won ? '100' : pick([furthest], 'Probability', 'List_Probability'),
            ClientContactId: pick(chain, 'Client', 'Owner_Contact', 'Buyer', 'Seller'),
            ClientCompanyId: pick(chain, 'Client_Company', 'Buyer_Company', 'Seller_Company'),
            OwnerEmail: self.users.get(furthest.cells.OwnerId ?? '') ?? '',
            CreatedDate: sfDatetime(first.cells.CreatedDate ?? ''),
          };
          for (const r of chain) {
            cells[`Entered_${self.stageLabel(r.index).replace(/[^A-Za-z0-9]+/g, '_')}`] ??= sfDatetime(
              r.cells.CreatedDate ?? '',
            );
            Object.assign(cells, self.cells(r.object, 'none', r.cells, stagePrefix(r.index)));
          }
          delete cells.OwnerEmail;
          cells.OwnerEmail = self.users.get(furthest.cells.OwnerId ?? '') ?? '';
          yield { row: ++row, cells };
        }
      })(),
    };
  }

  // ------------------------------------------------------------ activities and files

  /** the record an activity or file hangs on: a deal (any of its stage records), a company, a contact */
  private parentOf(...ids: (string | undefined)[]): { object: string; id: string } | null {
    for (const id of ids) {
      if (!id) continue;
      const deal = this.dealOf.get(id);
      if (deal) return { object: 'deal', id: deal };
      if (id.startsWith(PREFIX.account)) return { object: 'company', id };
      if (id.startsWith(PREFIX.contact)) return { object: 'contact', id };
    }
    return null;
  }

  private activities(table: RawTable): SourceTable {
    const kind = table.name === 'Event' ? 'Event' : 'Task';
    const self = this;
    const done = (r: Record<string, string>) =>
      kind === 'Event' ? (r.EndDateTime ?? r.StartDateTime ?? '') < new Date().toISOString() : r.IsClosed === 'true';
    return {
      name: table.name === 'Task:email' ? 'Emails' : table.name === 'Event' ? 'Events' : 'Tasks',
      object: table.name === 'Task:email' ? 'email' : table.name === 'Event' ? 'event' : 'task',
      header: [...(STANDARD_FIELDS[kind] as string[]), 'OwnerEmail', 'ParentObject', 'ParentId', 'Done', 'Kind'],
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for await (const r of table.rows) {
          const cells = self.cells(kind, kind, r);
          const parent = self.parentOf(r.WhatId, r.WhoId);
          cells.ParentObject = parent?.object ?? '';
          cells.ParentId = parent?.id ?? '';
          cells.Done = done(cells) ? 'true' : 'false';
          cells.Kind = kind === 'Event' ? 'Meeting' : r.TaskSubtype || 'Task';
          yield { row: ++row, cells };
        }
      })(),
    };
  }

  private static readonly FILE_HEADER = [
    'FileKey',
    'ParentObject',
    'ParentId',
    'Name',
    'ContentType',
    'Description',
    'CreatedDate',
    'OwnerEmail',
    'file_path',
  ];

  private attachments(table: RawTable): SourceTable {
    const self = this;
    return {
      name: 'Attachments',
      object: 'file',
      header: OrgShaper.FILE_HEADER,
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for await (const r of table.rows) {
          const parent = self.parentOf(r.ParentId);
          yield {
            row: ++row,
            cells: {
              FileKey: r.Id ?? '',
              ParentObject: parent?.object ?? '',
              ParentId: parent?.id ?? '',
              Name: r.Name ?? '',
              ContentType: r.ContentType ?? '',
              Description: r.Description ?? '',
              CreatedDate: sfDatetime(r.CreatedDate ?? ''),
              OwnerEmail: self.users.get(r.OwnerId ?? '') ?? '',
              file_path: r.file_path || self.filePath('Attachment', r.Id ?? ''),
            },
          };
        }
      })(),
    };
  }

  /** ContentDocumentLink rows × the document's latest ContentVersion: one file per record it is shared with (users' own links left out) */
  private contentFiles(table: RawTable): SourceTable {
    const self = this;
    return {
      name: 'Content files',
      object: 'file',
      header: OrgShaper.FILE_HEADER,
      rows: (async function* (): AsyncGenerator<SourceRow> {
        let row = 0;
        for await (const link of table.rows) {
          const v = self.versions.get(link.ContentDocumentId ?? '');
          if (!v || (link.LinkedEntityId ?? '').startsWith(PREFIX.user)) continue;
          const parent = self.parentOf(link.LinkedEntityId);
          const name = v.PathOnClient
            ? (v.PathOnClient.split(/[\\/]/).pop() as string)
            : `${v.Title ?? v.Id}${v.FileExtension ? `.${v.FileExtension}` : ''}`;
          yield {
            row: ++row,
            cells: {
              FileKey: `${v.Id}-${link.LinkedEntityId}`,
              ParentObject: parent?.object ?? '',
              ParentId: parent?.id ?? '',
              Name: name,
              ContentType: '',
              Description: v.Description ?? v.Title ?? '',
              CreatedDate: sfDatetime(v.CreatedDate ?? ''),
              OwnerEmail: self.users.get(v.OwnerId ?? '') ?? '',
              file_path: v.file_path || self.filePath('ContentVersion', v.Id ?? ''),
            },
          };
        }
      })(),
    };
  }

  /** what the inventory lists besides the mapping's own: workflow rules and the hierarchy loops broken */
  inventory(): { what: string; why: string }[] {
    const out: { what: string; why: string }[] = [];
    for (const b of this.report.brokenCycles) {
      out.push({
        what: `Company hierarchy loop: ${b.cycle.join(' → ')}`,
        why: `the loop was broken at ${b.brokenAt}, which keeps no parent company (a note on it names the parent left out); set the right parent in Odoo`,
      });
    }
    for (const w of this.report.workflowRules) {
      out.push({
        what: `Workflow rule "${w.Name ?? w.Id}" on ${w.TableEnumOrId ?? '?'}`,
        why: `Salesforce workflow rules do not migrate: rebuild it as an Odoo automated action. Definition: ${JSON.stringify(w)}`,
      });
    }
    return out;
  }
}

/**
 * Companies in topological order (parents first; Kahn's algorithm, ties in the order given), the
 * loops found and where each was broken (its member with the smallest id keeps no parent). A
 * parent that is not among the companies is no edge.
 */
export function hierarchyOrder(nodes: { id: string; parent: string; name: string }[]): {
  order: string[];
  broken: { cycle: string[]; brokenAt: string; id: string }[];
} {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parentOf = new Map<string, string>();
  for (const n of nodes) if (n.parent && n.parent !== n.id && byId.has(n.parent)) parentOf.set(n.id, n.parent);
  const broken: { cycle: string[]; brokenAt: string; id: string }[] = [];
  for (const n of nodes)
    if (n.parent && n.parent === n.id)
      broken.push({ cycle: [n.name || n.id, n.name || n.id], brokenAt: n.name || n.id, id: n.id });
  // each node has at most one parent: a loop is found by walking up from each node, colouring the walk
  const state = new Map<string, number>(); // 1: on the current walk, 2: done
  for (const n of nodes) {
    const walk: string[] = [];
    let at: string | undefined = n.id;
    while (at !== undefined && !state.has(at)) {
      state.set(at, 1);
      walk.push(at);
      at = parentOf.get(at);
    }
    if (at !== undefined && state.get(at) === 1) {
      const loop = walk.slice(walk.indexOf(at));
      const cut = [...loop].sort()[0] as string;
      parentOf.delete(cut);
      const name = (id: string) => byId.get(id)?.name || id;
      const from = loop.indexOf(cut);
      const ordered = [...loop.slice(from), ...loop.slice(0, from)];
      broken.push({ cycle: [...ordered.map(name), name(cut)], brokenAt: name(cut), id: cut });
    }
    for (const id of walk) state.set(id, 2);
  }
  const children = new Map<string, string[]>();
  for (const n of nodes) {
    const p = parentOf.get(n.id);
    if (p) (children.get(p) ?? (children.set(p, []).get(p) as string[])).push(n.id);
  }
  const order: string[] = [];
  const visit = (id: string) => {
    order.push(id);
    for (const c of children.get(id) ?? []) visit(c);
  };
  for (const n of nodes) if (!parentOf.has(n.id)) visit(n.id);
  return { order, broken };
}
