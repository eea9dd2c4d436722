/**
 * Apto's Salesforce org read through the REST API, as a SourceReader (salesforce.ts for the
 * client, shape.ts for what the rows become). Every object is a paged table of the toolkit's
 * pagedReader, so every page is spooled and a stopped extraction resumes where it stopped:
 *
 * 1. `GET sobjects` (the org's objects: the package namespace is discovered from them), users,
 *    record types (a deal's pipeline), workflow rules (Tooling API, for the inventory);
 * 2. per data object its describe (`GET sobjects/{o}/describe`: the SELECT list, the custom
 *    fields' types and picklist values), then its records: SOQL with queryMore for most, the
 *    Bulk API 2.0 once an object holds more than `bulkThreshold` records (`SELECT COUNT()` first);
 * 3. Account (hierarchy ordered), Contact, the pipeline objects (Proposal, Listing, Project, Comp
 *    with the org's namespace), Task (emails apart), Event, Attachment and ContentVersion (their
 *    bytes downloaded into `<spool>/files/`, which the reader names as its files folder) and the
 *    ContentDocumentLinks of those documents (batches of ids: Salesforce answers that object only
 *    filtered by document or record).
 */
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiError } from '../api/http-client.js';
import { pagedReader, type ApiObject, type ApiRecord, type ExtractionProgress } from '../api/paged-reader.js';
import type { Cursor, Json } from '../api/spool.js';
import type { SourceReader } from '../reader.js';
import { OrgShaper, STAGE_OBJECTS, STANDARD_FIELDS, discoverNamespace, type RawTable } from './shape.js';
import { SalesforceClient, sfRecord, type SalesforceOptions } from './salesforce.js';

/** String() of a JSON value, except an object or array: its JSON text rather than "[object Object]". */
function jsonText(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const NAME = 'Apto (Salesforce API)';
/** objects with more records than this are read with the Bulk API 2.0 */
export const BULK_THRESHOLD = 10_000;
const BULK_PAGE = 10_000;
/** longer SOQL goes to the Bulk API: a GET's URL stays well under the 16,384 characters Salesforce takes */
const MAX_GET_SOQL = 12_000;
/** ids per ContentDocumentLink query (the SOQL text stays well under its 100,000 characters) */
const LINK_BATCH = 200;

const catalogAnswer = z.object({
  sobjects: z.array(
    z
      .object({
        name: z.string(),
        label: z.string(),
        keyPrefix: z.string().nullish(),
        custom: z.boolean(),
        queryable: z.boolean().optional(),
      })
      .passthrough(),
  ),
});
const describeAnswer = z.object({
  name: z.string(),
  label: z.string().optional(),
  fields: z.array(
    z
      .object({
        name: z.string(),
        label: z.string(),
        type: z.string(),
        custom: z.boolean(),
        referenceTo: z.array(z.string()).default([]),
        picklistValues: z
          .array(z.object({ value: z.string(), active: z.boolean().default(true) }).passthrough())
          .default([]),
      })
      .passthrough(),
  ),
});

export interface AptoReaderOptions extends Pick<
  SalesforceOptions,
  'auth' | 'version' | 'budgetShare' | 'pollMs' | 'client'
> {
  dir: string;
  resume?: boolean | undefined;
  onProgress?: ((p: ExtractionProgress) => void) | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
  bulkThreshold?: number;
  bulkPageSize?: number;
}

/** a record as the spool keeps it: `attributes` off, values as they came */
function plain(r: Record<string, unknown>): ApiRecord {
  const out: ApiRecord = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'attributes') continue;
    out[k] = v === undefined ? null : ((typeof v === 'object' && v !== null ? JSON.stringify(v) : v) as Json);
  }
  return out;
}

export function aptoApiReader(
  options: AptoReaderOptions,
): SourceReader & { client: SalesforceClient; shaper: () => OrgShaper | null } {
  const sf = new SalesforceClient({ ...options });
  const filesDir = join(options.dir, 'files');
  const bulkThreshold = options.bulkThreshold ?? BULK_THRESHOLD;
  // what the objects read so far tell the ones after them (rebuilt from the spool on a resume)
  const org = {
    names: [] as string[],
    namespace: null as string | null,
    fields: new Map<string, string[]>(),
    documents: [] as string[],
  };
  const has = (name: string) => org.names.some((n) => n.toLowerCase() === name.toLowerCase());
  const stageName = (i: number) => `${org.namespace ?? ''}${STAGE_OBJECTS[i]}`;

  /** SOQL over one object: REST with queryMore, or the Bulk API 2.0 for a large one */
  const soqlPages = (
    object: () => string | null,
    soql: () => string,
    where = '',
  ): Pick<ApiObject, 'first' | 'fetchPage'> => ({
    first: null,
    async fetchPage(_client, cursor: Cursor): Promise<{ rows: ApiRecord[]; next: Cursor }> {
      const name = object();
      if (!name) return { rows: [], next: null };
      const c = (cursor ?? {}) as { url?: string; job?: string; locator?: string | null };
      if (c.job) {
        const page = await sf.bulkResults(c.job, c.locator ?? null, options.bulkPageSize ?? BULK_PAGE);
        return { rows: page.rows, next: page.next ? { job: c.job, locator: page.next } : null };
      }
      if (c.url) {
        const answer = await sf.query('', c.url);
        return { rows: answer.records.map(plain), next: answer.nextRecordsUrl ? { url: answer.nextRecordsUrl } : null };
      }
      // a large object, or a SELECT list too long for a GET's URL (an object with hundreds of fields), goes through the Bulk API (the query in a POST body)
      const count =
        soql().length > MAX_GET_SOQL ? Infinity : (await sf.query(`SELECT COUNT() FROM ${name}${where}`)).totalSize;
      if (count > bulkThreshold) {
        const job = await sf.bulkQuery(soql());
        const page = await sf.bulkResults(job, null, options.bulkPageSize ?? BULK_PAGE);
        return { rows: page.rows, next: page.next ? { job, locator: page.next } : null };
      }
      const answer = await sf.query(soql());
      return { rows: answer.records.map(plain), next: answer.nextRecordsUrl ? { url: answer.nextRecordsUrl } : null };
    },
  });

  /** the SELECT list: the standard fields the mapping reads that the org has, and every custom field */
  const selectOf = (object: string, kind: string) => {
    const described = org.fields.get(object.toLowerCase());
    const standard = STANDARD_FIELDS[kind] ?? [];
    const fields = described
      ? [...standard.filter((f) => described.includes(f)), ...described.filter((f) => /__c$/i.test(f))]
      : standard;
    return `SELECT ${[...new Set(fields)].join(', ')} FROM ${object}`;
  };

  const describe = (object: () => string | null): Pick<ApiObject, 'first' | 'fetchPage'> => ({
    first: null,
    async fetchPage() {
      const name = object();
      if (!name) return { rows: [], next: null };
      const d = await sf.json(`${sf.dataPath}/sobjects/${name}/describe`, describeAnswer);
      return {
        rows: d.fields.map((f) => ({
          name: f.name,
          label: f.label,
          type: f.type,
          custom: f.custom,
          referenceTo: f.referenceTo.join(','),
          options: f.picklistValues.map((p) => p.value).join('|'),
        })),
        next: null,
      };
    },
  });

  /** the object's records, their blob field downloaded into the files folder (skipped when a resumed run has it already) */
  const withFiles = (
    kind: 'Attachment' | 'ContentVersion',
    field: string,
    pages: Pick<ApiObject, 'first' | 'fetchPage'>,
  ): Pick<ApiObject, 'first' | 'fetchPage'> => ({
    first: pages.first,
    async fetchPage(client, cursor) {
      const page = await pages.fetchPage(client, cursor);
      for (const row of page.rows) {
        const id = jsonText(row.Id ?? '');
        if (!/^[A-Za-z0-9]{15,18}$/.test(id)) continue;
        const rel = `${kind}/${id}`;
        const size = Number(row.BodyLength ?? row.ContentSize ?? NaN);
        const there = await stat(join(filesDir, rel)).catch(() => null);
        if (!there || (Number.isFinite(size) && there.size !== size))
          await sf.download(kind, id, field, join(filesDir, rel));
        row.file_path = rel;
      }
      return page;
    },
  });

  const objects: ApiObject[] = [
    {
      name: 'catalog',
      object: 'catalog',
      first: null,
      async fetchPage() {
        const a = await sf.json(`${sf.dataPath}/sobjects`, catalogAnswer);
        return {
          rows: a.sobjects.map((o) => ({
            name: o.name,
            label: o.label,
            keyPrefix: o.keyPrefix ?? null,
            custom: o.custom,
          })),
          next: null,
        };
      },
    },
    {
      name: 'User',
      object: 'User',
      ...soqlPages(
        () => 'User',
        () => selectOf('User', 'User'),
      ),
    },
    {
      name: 'RecordType',
      object: 'RecordType',
      ...soqlPages(
        () => 'RecordType',
        () => selectOf('RecordType', 'RecordType'),
      ),
    },
    {
      name: 'WorkflowRule',
      object: 'WorkflowRule',
      first: null,
      async fetchPage(_client, cursor: Cursor) {
        try {
          const a = await sf.query(
            'SELECT Id, Name, TableEnumOrId FROM WorkflowRule',
            typeof cursor === 'string' ? cursor : undefined,
            true,
          );
          return { rows: a.records.map(plain), next: a.nextRecordsUrl ?? null };
        } catch (err) {
          // the Tooling API needs "View Setup": without it the rules are listed as not read
          if (
            !(err instanceof ApiError) ||
            err.status === null ||
            err.status < 400 ||
            err.status >= 500 ||
            err.status === 429
          )
            throw err;
          options.log?.warn({ api: NAME, err: err.message }, 'workflow rules not readable (Tooling API)');
          return {
            rows: [
              {
                Id: '',
                Name: '(workflow rules could not be read: the user needs "View Setup and Configuration")',
                TableEnumOrId: '',
              },
            ],
            next: null,
          };
        }
      },
    },
    { name: 'describe:Account', object: 'describe', ...describe(() => 'Account') },
    {
      name: 'Account',
      object: 'company',
      ...soqlPages(
        () => 'Account',
        () => selectOf('Account', 'Account'),
      ),
    },
    { name: 'describe:Contact', object: 'describe', ...describe(() => 'Contact') },
    {
      name: 'Contact',
      object: 'contact',
      ...soqlPages(
        () => 'Contact',
        () => selectOf('Contact', 'Contact'),
      ),
    },
    ...STAGE_OBJECTS.flatMap((_, i): ApiObject[] => [
      { name: `describe:stage${i}`, object: 'describe', ...describe(() => (has(stageName(i)) ? stageName(i) : null)) },
      {
        name: `stage${i}`,
        object: 'deal',
        ...soqlPages(
          () => (has(stageName(i)) ? stageName(i) : null),
          () => selectOf(stageName(i), 'stage'),
        ),
      },
    ]),
    {
      name: 'Task',
      object: 'task',
      ...soqlPages(
        () => 'Task',
        () => `${selectOf('Task', 'Task')} WHERE TaskSubtype != 'Email'`,
        " WHERE TaskSubtype != 'Email'",
      ),
    },
    {
      name: 'Task:email',
      object: 'email',
      ...soqlPages(
        () => 'Task',
        () => `${selectOf('Task', 'Task')} WHERE TaskSubtype = 'Email'`,
        " WHERE TaskSubtype = 'Email'",
      ),
    },
    {
      name: 'Event',
      object: 'event',
      ...soqlPages(
        () => 'Event',
        () => selectOf('Event', 'Event'),
      ),
    },
    {
      name: 'Attachment',
      object: 'file',
      ...withFiles(
        'Attachment',
        'Body',
        soqlPages(
          () => 'Attachment',
          () => selectOf('Attachment', 'Attachment'),
        ),
      ),
    },
    {
      name: 'ContentVersion',
      object: 'file',
      ...withFiles(
        'ContentVersion',
        'VersionData',
        soqlPages(
          () => 'ContentVersion',
          () => `${selectOf('ContentVersion', 'ContentVersion')} WHERE IsLatest = true`,
          ' WHERE IsLatest = true',
        ),
      ),
    },
    {
      name: 'ContentDocumentLink',
      object: 'file',
      first: { batch: 0 },
      async fetchPage(_client, cursor: Cursor): Promise<{ rows: ApiRecord[]; next: Cursor }> {
        const c = cursor as { batch: number; url?: string };
        const ids = org.documents.slice(c.batch * LINK_BATCH, (c.batch + 1) * LINK_BATCH);
        if (ids.length === 0) return { rows: [], next: null };
        const a = await sf.query(
          `SELECT Id, ContentDocumentId, LinkedEntityId FROM ContentDocumentLink WHERE ContentDocumentId IN (${ids.map((id) => `'${id.replace(/[^A-Za-z0-9]/g, '')}'`).join(', ')})`,
          c.url,
        );
        const more = (c.batch + 1) * LINK_BATCH < org.documents.length;
        return {
          rows: a.records.map(plain),
          next: a.nextRecordsUrl ? { batch: c.batch, url: a.nextRecordsUrl } : more ? { batch: c.batch + 1 } : null,
        };
      },
    },
  ];

  const budget = () => (sf.usage ? `API requests today: ${sf.usage.used} of ${sf.usage.max}` : undefined);
  const paged = pagedReader({
    name: NAME,
    client: sf.api,
    objects,
    spoolDir: options.dir,
    resume: options.resume,
    onProgress: (p) => {
      const message = budget();
      options.onProgress?.({ ...p, ...(message ? { message } : {}) });
    },
  });

  /** the paged tables as the shaper's raw tables (stage tables named by their object), noting what later objects need */
  async function* raw(): AsyncGenerator<RawTable> {
    for await (const table of paged.tables()) {
      if (table.name === 'catalog') {
        const rows: Record<string, string>[] = [];
        for await (const r of table.rows) rows.push(r.cells);
        org.names = rows.map((r) => r.name ?? '');
        org.namespace = discoverNamespace(org.names);
        yield {
          name: 'catalog',
          rows: (async function* () {
            yield* rows;
          })(),
        };
        continue;
      }
      const describeOf = /^describe:(.*)$/.exec(table.name)?.[1];
      if (describeOf !== undefined) {
        const object = /^stage(\d)$/.test(describeOf) ? stageName(Number(describeOf.slice(5))) : describeOf;
        const rows: Record<string, string>[] = [];
        for await (const r of table.rows) rows.push(r.cells);
        org.fields.set(
          object.toLowerCase(),
          rows.map((r) => r.name ?? ''),
        );
        yield {
          name: `describe:${object}`,
          rows: (async function* () {
            yield* rows;
          })(),
        };
        continue;
      }
      const name = /^stage\d$/.test(table.name) ? stageName(Number(table.name.slice(5))) : table.name;
      const rows = (async function* () {
        for await (const r of table.rows) {
          if (name === 'ContentVersion' && r.cells.ContentDocumentId) org.documents.push(r.cells.ContentDocumentId);
          yield r.cells;
        }
      })();
      yield { name, rows };
    }
  }

  let shaper: OrgShaper | null = null;
  return {
    client: sf,
    shaper: () => shaper,
    filesDir,
    describe: () => NAME,
    notMigratable: () => [
      ...(shaper?.inventory() ?? []),
      ...(sf.usage
        ? [
            {
              what: `Salesforce API budget: ${sf.usage.used} of ${sf.usage.max} daily requests used after this extraction`,
              why: 'counted from the Sforce-Limit-Info header of every answer (for the record; nothing to rebuild)',
            },
          ]
        : []),
    ],
    async *tables() {
      org.documents = [];
      shaper = new OrgShaper((kind, id) => `${kind}/${id}`);
      yield* shaper.tables(raw());
      options.log?.info(
        { api: NAME, usage: sf.usage, logins: sf.logins, requests: sf.api.stats.requests },
        'Apto extraction read',
      );
    },
  };
}

export { sfRecord };
