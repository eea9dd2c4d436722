/**
 * Ontraport's REST API as a SourceReader (shared/reference/sources.md §2.2, from
 * api.ontraport.com/doc): base https://api.ontraport.com/1, `Api-Key` + `Api-Appid` on every
 * request, the generic object interface `GET /objects?objectID=N` paged with `start`/`range`
 * (at most 50 a page), answers `{code: 0, data: [...]}`, 180 requests a minute per account on a
 * rolling window with `X-Rate-Limit-Limit/Remaining/Reset` and a 429 without Retry-After (the
 * toolkit waits for the reset the headers name). Field metadata from `GET /objects/meta`.
 *
 * What the rows need before the mapping reads them, done here so the mapping serves CSV and API
 * alike (every lookup table is read, and spooled, before the objects that use it):
 * - `owner` is a user id: the account's users (object 2) turn it into the user's email, which
 *   the mapping looks up among Odoo users (unknown ones wait in the owners queue);
 * - `contact_cat` holds tag ids between `*`/`*`: the tags (object 14) turn them into names;
 * - dropdown fields (a deal's `sales_stage`, custom dropdowns) hold option ids: the object's
 *   meta turns them into the option's label, and the stage's place among the options (the
 *   pipeline's order) becomes the deal's `stage_order`; a timestamp of 0 means "never" (empty);
 * - custom fields (`f1234`) are renamed to their label, so their custom field is named after it;
 * - the stored card fields (`ccNumber`, `ccType`, `ccExpiration*`) are dropped.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiClient, type ApiClientOptions } from '../api/http-client.js';
import {
  offsetPages,
  pagedReader,
  type ApiObject,
  type ApiRecord,
  type ExtractionProgress,
} from '../api/paged-reader.js';
import type { SourceReader, SourceRow, SourceTable } from '../reader.js';

export const ONTRAPORT_API = 'https://api.ontraport.com/1';
const NAME = 'Ontraport API';
/** documented maximum (and default) page size */
export const PAGE_SIZE = 50;
/** the account's documented limit: 180 requests per minute, rolling */
export const RATE = { limit: 180, intervalMs: 60_000 };
export const TAG_SEPARATOR = '*/*';
/** the contact's stored card (ccType, ccNumber, ccExpirationMonth...): never carried, not even in the staged source row */
const CARD_FIELD = /^cc[A-Z]/;

/** Ontraport's object type ids (Ontraport/SDK-PHP ObjectType.php; Deals and Companies: api.ontraport.com/doc#accessible-objects) */
export const OBJECT_ID = { contact: 0, task: 1, user: 2, tag: 14, deal: 149, company: 150 } as const;

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** a plural read: `{code: 0, data: [records]}` */
export const listAnswer = z.object({ code: z.literal(0), data: z.array(z.record(z.string(), cell)) });
const fieldMeta = z
  .object({
    alias: z.string(),
    type: z.string(),
    options: z.union([z.record(z.string(), z.string()), z.array(z.unknown())]).optional(),
  })
  .passthrough();
/** `GET /objects/meta?objectID=N&format=byId`: `{code: 0, data: {"N": {name, fields: {key: {alias, type, options?}}}}}` */
export const metaAnswer = z.object({
  code: z.literal(0),
  data: z.record(z.string(), z.object({ name: z.string().optional(), fields: z.record(z.string(), fieldMeta) })),
});

export interface OntraportReaderOptions {
  apiKey: string;
  appId: string;
  /** the extraction's spool folder */
  dir: string;
  resume?: boolean | undefined;
  onProgress?: ((p: ExtractionProgress) => void) | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
  /** tests: the stand-in's address and a quicker client */
  baseUrl?: string;
  client?: Partial<ApiClientOptions>;
}

/** one object's records, all pages */
function objectPages(objectId: number): Pick<ApiObject, 'first' | 'fetchPage'> {
  return offsetPages({
    path: 'objects',
    query: { objectID: objectId },
    startParam: 'start',
    sizeParam: 'range',
    size: PAGE_SIZE,
    schema: listAnswer,
    records: (a) => a.data,
  });
}

/** one object's field metadata, as one page of rows {field, alias, type, options} */
function metaPage(objectId: number): Pick<ApiObject, 'first' | 'fetchPage'> {
  return {
    first: 0,
    async fetchPage(client) {
      const answer = await client.json({
        path: 'objects/meta',
        query: { objectID: objectId, format: 'byId' },
        schema: metaAnswer,
      });
      const fields = answer.data[String(objectId)]?.fields ?? Object.values(answer.data)[0]?.fields ?? {};
      const rows: ApiRecord[] = Object.entries(fields).map(([field, m]) => ({
        field,
        alias: m.alias,
        type: m.type,
        options: m.options && !Array.isArray(m.options) ? m.options : null,
      }));
      return { rows, next: null };
    },
  };
}

interface FieldInfo {
  alias: string;
  type: string;
  options: Record<string, string> | null;
}

/** the objects read, in order: lookup tables first, then each data object after its meta */
function apiObjects(): (ApiObject & { role: 'users' | 'tags' | 'meta' | 'data'; of?: string })[] {
  return [
    { role: 'users', name: 'Users', object: 'user', ...objectPages(OBJECT_ID.user) },
    { role: 'tags', name: 'Tags', object: 'tag', ...objectPages(OBJECT_ID.tag) },
    { role: 'meta', of: 'Contacts', name: 'Contacts meta', object: 'contact', ...metaPage(OBJECT_ID.contact) },
    { role: 'data', name: 'Contacts', object: 'contact', ...objectPages(OBJECT_ID.contact) },
    { role: 'meta', of: 'Companies', name: 'Companies meta', object: 'company', ...metaPage(OBJECT_ID.company) },
    { role: 'data', name: 'Companies', object: 'company', ...objectPages(OBJECT_ID.company) },
    { role: 'meta', of: 'Deals', name: 'Deals meta', object: 'deal', ...metaPage(OBJECT_ID.deal) },
    { role: 'data', name: 'Deals', object: 'deal', ...objectPages(OBJECT_ID.deal) },
    // tasks (ApiTask: owner, contact_id, subject, details, type, date_due, date_complete, status 0/1/2) → activities on their contact
    { role: 'meta', of: 'Tasks', name: 'Tasks meta', object: 'task', ...metaPage(OBJECT_ID.task) },
    { role: 'data', name: 'Tasks', object: 'task', ...objectPages(OBJECT_ID.task) },
  ];
}

export function ontraportApiReader(options: OntraportReaderOptions): SourceReader {
  const objects = apiObjects();
  const roles = new Map(objects.map((o) => [o.name, o]));
  const paged = pagedReader({
    name: NAME,
    client: new ApiClient({
      name: NAME,
      baseUrl: options.baseUrl ?? ONTRAPORT_API,
      headers: { 'Api-Key': options.apiKey, 'Api-Appid': options.appId },
      rate: RATE,
      // stop well before a run of failures could look like abuse; a long wait stops (resume later)
      guard: { maxBad: 10, windowMs: 15_000 },
      log: options.log,
      ...options.client,
    }),
    objects,
    spoolDir: options.dir,
    resume: options.resume,
    onProgress: options.onProgress,
  });
  return {
    describe: () => NAME,
    async *tables() {
      const users = new Map<string, string>();
      const tags = new Map<string, string>();
      const meta = new Map<string, Map<string, FieldInfo>>();
      for await (const table of paged.tables()) {
        const spec = roles.get(table.name);
        if (spec?.role === 'users') {
          for await (const { cells } of table.rows) {
            const email = cells.email?.trim();
            if (cells.id && email) users.set(cells.id, email);
          }
        } else if (spec?.role === 'tags') {
          for await (const { cells } of table.rows) {
            const id = cells.tag_id ?? cells.id;
            if (id && cells.tag_name) tags.set(id, cells.tag_name);
          }
        } else if (spec?.role === 'meta') {
          const fields = new Map<string, FieldInfo>();
          for await (const { cells } of table.rows) {
            if (!cells.field) continue;
            fields.set(cells.field, {
              alias: cells.alias ?? cells.field,
              type: cells.type ?? '',
              options: cells.options ? optionsOf(cells.options) : null,
            });
          }
          meta.set(spec.of ?? '', fields);
        } else {
          yield shaped(table, { users, tags, fields: meta.get(table.name) ?? new Map<string, FieldInfo>() });
        }
      }
    },
  };
}

function optionsOf(json: string): Record<string, string> | null {
  const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(json));
  return parsed.success ? parsed.data : null;
}

/** custom field keys (`f1234`) become their label; a label that collides with a field keeps the key */
function headerNames(header: string[], fields: Map<string, FieldInfo>): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set(header);
  for (const h of header) {
    const alias = /^f\d+$/.test(h) ? fields.get(h)?.alias.trim() : undefined;
    if (alias && !taken.has(alias)) {
      names.set(h, alias);
      taken.add(alias);
    } else names.set(h, h);
  }
  return names;
}

/** a deal's stage dropdown lists the stages in their pipeline order: that position becomes `stage_order` */
const STAGE_FIELD = 'sales_stage';
const STAGE_ORDER = 'stage_order';

function shaped(
  table: SourceTable,
  lookups: { users: Map<string, string>; tags: Map<string, string>; fields: Map<string, FieldInfo> },
): SourceTable {
  const names = headerNames(table.header, lookups.fields);
  const stageOptions =
    table.header.includes(STAGE_FIELD) && !table.header.includes(STAGE_ORDER)
      ? (lookups.fields.get(STAGE_FIELD)?.options ?? null)
      : null;
  const stagePosition = new Map(Object.keys(stageOptions ?? {}).map((id, i) => [id, String(i + 1)]));
  const value = (key: string, raw: string): string => {
    if (raw === '') return raw;
    if (key === 'owner') return lookups.users.get(raw) ?? raw;
    if (key === 'contact_cat') {
      return raw
        .split(TAG_SEPARATOR)
        .map((id) => id.trim())
        .filter((id) => id !== '')
        .map((id) => lookups.tags.get(id) ?? id)
        .join(TAG_SEPARATOR);
    }
    const info = lookups.fields.get(key);
    if (!info) return raw;
    if (info.type === 'timestamp' || info.type === 'fulldate') return raw === '0' || raw === '-1' ? '' : raw;
    if (info.options && (info.type === 'drop' || info.type === 'list')) {
      const ids = info.type === 'list' ? raw.split(TAG_SEPARATOR).filter((v) => v !== '') : [raw];
      return ids.map((id) => info.options?.[id] ?? id).join(TAG_SEPARATOR);
    }
    return raw;
  };
  return {
    name: table.name,
    header: [
      ...table.header.filter((h) => !CARD_FIELD.test(h)).map((h) => names.get(h) ?? h),
      ...(stageOptions ? [STAGE_ORDER] : []),
    ],
    ...(table.object === undefined ? {} : { object: table.object }),
    rows: (async function* (): AsyncGenerator<SourceRow> {
      for await (const { row, cells } of table.rows) {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(cells)) if (!CARD_FIELD.test(k)) out[names.get(k) ?? k] = value(k, v);
        if (stageOptions) out[STAGE_ORDER] = stagePosition.get(cells[STAGE_FIELD] ?? '') ?? '';
        yield { row, cells: out };
      }
    })(),
  };
}
