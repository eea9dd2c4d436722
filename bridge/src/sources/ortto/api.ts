/**
 * Ortto's REST API as a SourceReader (shared/reference/sources.md §3, from help.ortto.com's
 * developer guide). Every read is a POST search with the `X-Api-Key` header, so every request is
 * marked idempotent (a read: retried like a GET); nothing is ever written to Ortto.
 *
 * Hosts (§3.1): `https://api.ap3api.com/v1` by default, `https://api.eu.ap3api.com/v1` and
 * `https://api.au.ap3api.com/v1` for instances in Europe and Australia.
 *
 * Endpoints read, and where their shape comes from:
 * - `person/get` (§3.2): `{limit ≤ 500, cursor_id, fields}` → `{contacts: [{id, fields}], cursor_id, has_more}`.
 *   With `audience_id` the same search lists an audience's members (parameter of the same page).
 * - `accounts/get` (§3.3, "previously organizations"): the same body → `{accounts: [{id, fields}], cursor_id, has_more}`
 *   (the answer's list key is not in the reference; `organizations` is read too).
 * - `tags/get` (§3.4): `{q}` → an array of `{id, name, source, count, ...}`.
 * - `person/get/activities` (§3.4): per person, `{person_id, limit ≤ 40, offset, timeframe: {type: "all"}}` →
 *   `{activities: [{activity_id, activity_name, timestamp, fields}], meta: {has_next}, next_offset}`; 1 request a second.
 * - `audiences/get` (§3.4): `{limit ≤ 40, offset, with_filter: true}` → an array of `{id, name, type, filter, created}`.
 * - `campaign/get-all` (§3.4): `{limit ≤ 50, offset}`; the answer's shape is not in the reference:
 *   read as `{campaigns: [{id, name, type, state, ...metrics}], has_more}`. Journeys are campaigns of type `journey`.
 * - Not in the reference (shapes assumed, named so in the README): `person/custom-field/get` and
 *   `accounts/custom-field/get` → `{fields: [{field: {id, name, display_type, values?}}]}`,
 *   `widgets/get` (capture widgets) → `{widgets: [...], has_more}`, `kb/get-articles` → `{articles: [...], has_more}`.
 *
 * Rate (§3.5): the plan's requests per 10 s (Free 20, Campaigns 100, Pro 200, Business 600,
 * Enterprise 600), of which we use 90 %; a 429's body names the wait (`try-in-seconds`), which the
 * client honours. **Bad-request limiter**: 15 bad requests within 15 s ban the IP, so the client
 * stops after 10 bad answers within 15 s (a guard shared by every Ortto client of the process, so
 * a resume right after a stop cannot add to the count) and the extraction reports and can be
 * resumed.
 *
 * What the rows become before the mapping reads them (so the mapping stays declarative):
 * built-in field ids (`str::first`, `geo::city` {name}, `phn::phone` {c, n}, `idt::o` the account)
 * become plain columns; custom fields (`str:cm:job-title`) become columns named by their label,
 * typed by the custom-field list (its rows are a schema table: text → char, large text → text,
 * integer → integer, decimal/currency → float, date → date, time → datetime, bool → boolean, single
 * select → selection); multi-select fields become tags ("Label: value"); aggregate fields are not
 * readable through the API: listed in the inventory, left out. Integers come ×1000 for decimals
 * (§3.2: `int` decimals stored ×1000) and are divided back. Audience memberships become tags
 * (dynamic) or categories under "Ortto static audiences" (static); campaigns a person received
 * (from the campaign id on their activities) become categories under "Ortto campaigns".
 * Activities are split by kind: calls → done call activities, meetings → calendar events,
 * everything else (notes, opens, clicks, custom events) → log notes with the event's name and
 * original time; all three keyed by person + a digest of the event, in feed order.
 */
import { createHash } from 'node:crypto';
import pThrottle from 'p-throttle';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiClient, type ApiClientOptions } from '../api/http-client.js';
import { pagedReader, type ApiObject, type ApiRecord, type ExtractionProgress } from '../api/paged-reader.js';
import type { Cursor, Json } from '../api/spool.js';
import type { SourceReader, SourceRow, SourceTable } from '../reader.js';

/** String() of a JSON value, except an object or array: its JSON text rather than "[object Object]". */
function jsonText(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export const ORTTO_HOSTS = {
  default: 'https://api.ap3api.com/v1',
  eu: 'https://api.eu.ap3api.com/v1',
  au: 'https://api.au.ap3api.com/v1',
} as const;
export type OrttoRegion = keyof typeof ORTTO_HOSTS;

/** requests per 10 s by plan (§3.5, current table) */
export const PLAN_RATE = { free: 20, campaigns: 100, pro: 200, business: 600, enterprise: 600 } as const;
export type OrttoPlan = keyof typeof PLAN_RATE;
/** below the documented 15 bad requests in 15 s */
export const GUARD = { maxBad: 10, windowMs: 15_000 };
export const PERSON_PAGE = 500;
export const ACTIVITY_PAGE = 40;
export const AUDIENCE_PAGE = 40;
export const CAMPAIGN_PAGE = 50;
/** feed requests per spooled page of the activities object */
export const FEED_BATCH = 25;
const NAME = 'Ortto API';

const fieldValue: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(fieldValue), z.record(z.string(), fieldValue)]),
);
const record = z.record(z.string(), fieldValue);
const entity = z.object({ id: z.string(), fields: record.default({}) });
export const peopleAnswer = z.object({
  contacts: z.array(entity).nullable().default([]),
  cursor_id: z.string().nullish(),
  has_more: z.boolean().default(false),
});
export const accountsAnswer = z.object({
  accounts: z.array(entity).nullish(),
  organizations: z.array(entity).nullish(),
  cursor_id: z.string().nullish(),
  has_more: z.boolean().default(false),
});
export const tagsAnswer = z.array(z.object({ id: z.union([z.string(), z.number()]), name: z.string() }).passthrough());
export const activitiesAnswer = z.object({
  activities: z
    .array(
      z
        .object({
          activity_id: z.string(),
          activity_name: z.string().default(''),
          timestamp: z.string(),
          fields: record.nullish(),
        })
        .passthrough(),
    )
    .nullable()
    .default([]),
  meta: z
    .object({ has_next: z.boolean().default(false) })
    .passthrough()
    .optional(),
  next_offset: z.number().int().nullish(),
});
export const audiencesAnswer = z.array(
  z
    .object({ id: z.string(), name: z.string().default(''), type: z.string().nullish(), filter: fieldValue.optional() })
    .passthrough(),
);
const listOf = (key: string) =>
  z.object({ [key]: z.array(record).nullable().default([]), has_more: z.boolean().default(false) }).passthrough();
export const campaignsAnswer = listOf('campaigns');
export const widgetsAnswer = listOf('widgets');
export const articlesAnswer = listOf('articles');
export const customFieldsAnswer = z.object({
  fields: z
    .array(
      z
        .object({
          field: z
            .object({
              id: z.string(),
              name: z.string(),
              display_type: z.string(),
              values: z.array(z.string()).nullish(),
            })
            .passthrough(),
        })
        .passthrough(),
    )
    .default([]),
});

export interface OrttoReaderOptions {
  apiKey: string;
  region?: OrttoRegion | undefined;
  plan?: OrttoPlan | undefined;
  /** the extraction's spool folder */
  dir: string;
  resume?: boolean | undefined;
  onProgress?: ((p: ExtractionProgress) => void) | undefined;
  log?: Pick<Logger, 'info' | 'warn'> | undefined;
  /** tests and the demo only: the stand-in's address instead of the region's host */
  baseUrl?: string | undefined;
  client?: Partial<ApiClientOptions>;
  /** the activity feed's own limit: 1 request a second (tests go faster) */
  activityRate?: { limit: number; intervalMs: number };
}

/** One spooled object: how to read it, and what it is for. */
type Role =
  | 'person_fields'
  | 'account_fields'
  | 'tags'
  | 'audiences'
  | 'members'
  | 'campaigns'
  | 'widgets'
  | 'articles'
  | 'accounts'
  | 'people'
  | 'activities';
type OrttoObject = ApiObject & { role: Role };

/** What pass 1 learns from the lookup objects and the people, for shaping and the inventory. */
interface Learned {
  personFields: FieldDef[];
  accountFields: FieldDef[];
  tags: ApiRecord[];
  audiences: { id: string; name: string; kind: 'dynamic' | 'static'; filter: Json; members: number }[];
  /** person id → audience ids */
  memberOf: Map<string, string[]>;
  campaigns: ApiRecord[];
  /** person id → campaign ids seen on their activities */
  reached: Map<string, Set<string>>;
  widgets: ApiRecord[];
  articles: ApiRecord[];
  owners: Set<string>;
  activities: { calls: number; meetings: number; events: number };
}

export interface FieldDef {
  id: string;
  name: string;
  type: string;
  values: string[];
}

/** what an Ortto custom field becomes, by its display type: a column (typed by the schema table), tags (multi-select), or nothing (aggregate: reported) */
export function fieldKind(displayType: string): 'tags' | 'aggregate' | 'field' {
  const t = displayType.toLowerCase().replace(/[^a-z]/g, '');
  if (t === 'multiselect' || t === 'multicheckbox') return 'tags';
  if (t.includes('aggregate') || t === 'formula' || t === 'calculated') return 'aggregate';
  return 'field';
}

const cmLabel = (f: FieldDef) => f.name.trim() || f.id;

export function orttoApiReader(options: OrttoReaderOptions): SourceReader {
  const host = options.baseUrl ?? ORTTO_HOSTS[options.region ?? 'default'];
  const perTen = PLAN_RATE[options.plan ?? 'pro'];
  const client = new ApiClient({
    name: NAME,
    baseUrl: host,
    headers: { 'X-Api-Key': options.apiKey },
    rate: { limit: Math.max(1, Math.floor(perTen * 0.9)), intervalMs: 10_000 },
    guard: { ...GUARD, shared: `ortto:${host}` },
    retryAfterFromBody: (body) => {
      const parsed = z.object({ error: z.object({ 'try-in-seconds': z.number() }) }).safeParse(body);
      return parsed.success ? parsed.data.error['try-in-seconds'] : undefined;
    },
    log: options.log,
    ...options.client,
  });
  const activityRate = options.activityRate ?? { limit: 1, intervalMs: 1000 };
  const activityGate = pThrottle({ limit: activityRate.limit, interval: activityRate.intervalMs, strict: true })(
    async () => undefined,
  );

  // filled while pass 1 reads the objects before them: whose activities, which audiences' members
  let personIds: string[] = [];
  let audienceIds: string[] = [];

  const objects: OrttoObject[] = [
    {
      role: 'person_fields',
      name: 'Person custom fields',
      object: 'person_field',
      ...fieldList('person/custom-field/get'),
    },
    {
      role: 'account_fields',
      name: 'Account custom fields',
      object: 'account_field',
      ...fieldList('accounts/custom-field/get'),
    },
    {
      role: 'tags',
      name: 'Tags',
      object: 'tag',
      first: 0,
      async fetchPage(c) {
        const answer = await c.json({
          method: 'POST',
          path: 'tags/get',
          body: { q: '' },
          idempotent: true,
          schema: tagsAnswer,
        });
        return {
          rows: answer.map((t) => ({
            id: String(t.id),
            name: t.name,
            source: typeof t.source === 'string' ? t.source : null,
            count: typeof t.count === 'number' ? t.count : null,
          })),
          next: null,
        };
      },
    },
    {
      role: 'audiences',
      name: 'Audiences',
      object: 'audience',
      first: 0,
      async fetchPage(c, cursor) {
        const offset = Number(cursor);
        const answer = await c.json({
          method: 'POST',
          path: 'audiences/get',
          body: { limit: AUDIENCE_PAGE, offset, with_filter: true },
          idempotent: true,
          schema: audiencesAnswer,
        });
        const rows: ApiRecord[] = answer.map((a) => ({
          id: a.id,
          name: a.name,
          type: a.type ?? null,
          filter: a.filter ?? null,
        }));
        return { rows, next: answer.length < AUDIENCE_PAGE ? null : offset + AUDIENCE_PAGE };
      },
    },
    {
      // an audience's members: person/get with audience_id, cursor paged, audience after audience
      role: 'members',
      name: 'Audience members',
      object: 'audience_member',
      columns: ['audience_id', 'person_id'],
      first: { a: 0, c: null },
      async fetchPage(c, cursor) {
        const at = cursorOf(cursor, { a: 0, c: null as string | null });
        const audience = audienceIds[at.a];
        if (audience === undefined) return { rows: [], next: null };
        const answer = await c.json({
          method: 'POST',
          path: 'person/get',
          idempotent: true,
          schema: peopleAnswer,
          body: {
            audience_id: audience,
            limit: PERSON_PAGE,
            fields: ['str::email'],
            ...(at.c ? { cursor_id: at.c } : {}),
          },
        });
        const rows = (answer.contacts ?? []).map((p) => ({ audience_id: audience, person_id: p.id }));
        const next =
          answer.has_more && answer.cursor_id
            ? { a: at.a, c: answer.cursor_id }
            : at.a + 1 < audienceIds.length
              ? { a: at.a + 1, c: null }
              : null;
        return { rows, next };
      },
    },
    {
      role: 'campaigns',
      name: 'Campaigns',
      object: 'campaign',
      first: 0,
      async fetchPage(c, cursor) {
        const offset = Number(cursor);
        const answer = await c.json({
          method: 'POST',
          path: 'campaign/get-all',
          body: { limit: CAMPAIGN_PAGE, offset },
          idempotent: true,
          schema: campaignsAnswer,
        });
        const rows = (answer.campaigns as ApiRecord[] | null) ?? [];
        return {
          rows,
          next: answer.has_more === true || rows.length === CAMPAIGN_PAGE ? offset + CAMPAIGN_PAGE : null,
        };
      },
    },
    {
      role: 'widgets',
      name: 'Capture widgets',
      object: 'widget',
      ...offsetList('widgets/get', 'widgets', widgetsAnswer),
    },
    {
      role: 'articles',
      name: 'Knowledge base articles',
      object: 'article',
      ...offsetList('kb/get-articles', 'articles', articlesAnswer),
    },
    {
      role: 'accounts',
      name: 'Accounts',
      object: 'account',
      ...entityPages('accounts/get', (a) => [...(a.accounts ?? []), ...(a.organizations ?? [])], accountsAnswer),
    },
    {
      role: 'people',
      name: 'People',
      object: 'person',
      ...entityPages('person/get', (a) => a.contacts ?? [], peopleAnswer),
    },
    {
      // per person, offset paged (40 at most), at 1 request a second: the feed's own limit
      role: 'activities',
      name: 'Activities',
      object: 'activity',
      columns: ['person_id', 'position', 'activity_id', 'activity_name', 'timestamp', 'fields'],
      first: { p: 0, o: 0 },
      async fetchPage(c, cursor) {
        // one spooled page holds the feed pages of several people (up to FEED_BATCH requests or
        // a page's worth of events): fewer files to re-read, and a resume repeats at most one batch
        const rows: ApiRecord[] = [];
        let at: { p: number; o: number } | null = cursorOf(cursor, { p: 0, o: 0 });
        for (let asked = 0; at && asked < FEED_BATCH && rows.length < ACTIVITY_PAGE; asked += 1) {
          const person: string | undefined = personIds[at.p];
          if (person === undefined) {
            at = null;
            break;
          }
          await activityGate();
          const answer: z.output<typeof activitiesAnswer> = await c.json({
            method: 'POST',
            path: 'person/get/activities',
            idempotent: true,
            schema: activitiesAnswer,
            body: { person_id: person, limit: ACTIVITY_PAGE, offset: at.o, timeframe: { type: 'all' } },
          });
          const list = answer.activities ?? [];
          const offset = at.o;
          rows.push(
            ...list.map((a, i) => ({
              person_id: person,
              position: offset + i,
              activity_id: a.activity_id,
              activity_name: a.activity_name,
              timestamp: a.timestamp,
              fields: a.fields ?? {},
            })),
          );
          const more: boolean = answer.meta?.has_next === true && list.length > 0;
          at = more
            ? { p: at.p, o: answer.next_offset ?? at.o + list.length }
            : at.p + 1 < personIds.length
              ? { p: at.p + 1, o: 0 }
              : null;
        }
        return { rows, next: at };
      },
    },
  ];
  const roles = new Map(objects.map((o) => [o.name, o.role]));
  const paged = pagedReader({
    name: NAME,
    client,
    objects,
    spoolDir: options.dir,
    resume: options.resume,
    onProgress: options.onProgress,
  });

  let learned: Learned | undefined;

  /** Pass 1: every object read to the end (fetched once, spooled), lookups learned. */
  async function learn(): Promise<Learned> {
    personIds = [];
    audienceIds = [];
    const l: Learned = {
      personFields: [],
      accountFields: [],
      tags: [],
      audiences: [],
      memberOf: new Map(),
      campaigns: [],
      reached: new Map(),
      widgets: [],
      articles: [],
      owners: new Set(),
      activities: { calls: 0, meetings: 0, events: 0 },
    };
    const campaignIds = new Set<string>();
    for await (const table of paged.tables()) {
      const role = roles.get(table.name);
      for await (const { cells } of table.rows) {
        const r = parsed(cells);
        if (role === 'person_fields' || role === 'account_fields') {
          const def: FieldDef = {
            id: jsonText(r.id ?? ''),
            name: jsonText(r.name ?? ''),
            type: jsonText(r.display_type ?? ''),
            values: Array.isArray(r.values) ? r.values.map(String) : [],
          };
          (role === 'person_fields' ? l.personFields : l.accountFields).push(def);
        } else if (role === 'tags') l.tags.push(r);
        else if (role === 'audiences') {
          const id = jsonText(r.id);
          audienceIds.push(id);
          const type = jsonText(r.type ?? '').toLowerCase();
          const kind = type === 'static' || type === 'dynamic' ? type : isEmptyFilter(r.filter) ? 'static' : 'dynamic';
          l.audiences.push({ id, name: jsonText(r.name || id), kind, filter: r.filter ?? null, members: 0 });
        } else if (role === 'members') {
          const person = jsonText(r.person_id);
          const list = l.memberOf.get(person) ?? [];
          list.push(jsonText(r.audience_id));
          l.memberOf.set(person, list);
          const a = l.audiences.find((x) => x.id === r.audience_id);
          if (a) a.members += 1;
        } else if (role === 'campaigns') {
          l.campaigns.push(r);
          campaignIds.add(jsonText(r.id));
        } else if (role === 'widgets') l.widgets.push(r);
        else if (role === 'articles') l.articles.push(r);
        else if (role === 'people' || role === 'accounts') {
          if (role === 'people') personIds.push(jsonText(r.id));
          const owner = ownerOf(r.fields);
          if (owner) l.owners.add(owner);
        } else if (role === 'activities') {
          const kind = activityKind(jsonText(r.activity_id), jsonText(r.activity_name));
          l.activities[kind === 'call' ? 'calls' : kind === 'meeting' ? 'meetings' : 'events'] += 1;
          const campaign = campaignOf(r.fields);
          if (campaign) {
            const set = l.reached.get(jsonText(r.person_id)) ?? new Set<string>();
            set.add(campaign);
            l.reached.set(jsonText(r.person_id), set);
          }
        }
      }
    }
    learned = l;
    return l;
  }

  return {
    describe: () => NAME,
    async *tables() {
      const l = await learn();
      const personShape = shaper(l.personFields);
      const accountShape = shaper(l.accountFields);
      const audiences = new Map(l.audiences.map((a) => [a.id, a]));
      const campaigns = new Map(l.campaigns.map((c) => [jsonText(c.id), c]));
      const tagNames = new Map(l.tags.map((t) => [jsonText(t.id), jsonText(t.name)]));
      // pass 2: from the spool (nothing fetched), shaped for the mapping
      for await (const table of paged.tables()) {
        const role = roles.get(table.name);
        if (role === 'person_fields' || role === 'account_fields') {
          yield schemaTable(
            table.name,
            role === 'person_fields' ? 'person_field' : 'account_field',
            role === 'person_fields' ? l.personFields : l.accountFields,
          );
        } else if (role === 'accounts') {
          yield shapedTable(table, 'account', accountShape.header(ACCOUNT_COLUMNS), (r) => ({
            ...accountRow(r),
            ...accountShape.custom(r.fields),
          }));
        } else if (role === 'people') {
          yield shapedTable(table, 'person', personShape.header(PERSON_COLUMNS), (r) => {
            const id = jsonText(r.id);
            const row = { ...personRow(r, tagNames), ...personShape.custom(r.fields) };
            const memberships = (l.memberOf.get(id) ?? []).map((a) => audiences.get(a)).filter((a) => a !== undefined);
            row.dynamic_audiences = memberships
              .filter((a) => a.kind === 'dynamic')
              .map((a) => a.name)
              .join(SEP);
            row.static_audiences = memberships
              .filter((a) => a.kind === 'static')
              .map((a) => a.name)
              .join(SEP);
            row.campaigns = [...(l.reached.get(id) ?? [])].map((c) => jsonText(campaigns.get(c)?.name ?? c)).join(SEP);
            row.tags = [row.tags, personShape.tags(r.fields)].filter((x) => x).join(SEP);
            return row;
          });
        } else if (role === 'activities') {
          for (const kind of ['call', 'meeting', 'event'] as const) {
            // each kind is one table over the same spooled pages (read again, never fetched again)
            const source = kind === 'call' ? table : await activitiesAgain();
            if (!source) break;
            yield activityTable(source, kind);
          }
        }
      }
    },
    async inventory() {
      return orttoInventory(learned ?? (await learn()));
    },
  };

  async function activitiesAgain(): Promise<SourceTable | undefined> {
    for await (const t of paged.tables()) if (roles.get(t.name) === 'activities') return t;
    return undefined;
  }
}

const SEP = '|';

function cursorOf<T extends Record<string, Json>>(cursor: Cursor, fallback: T): T {
  return cursor && typeof cursor === 'object' && !Array.isArray(cursor) ? { ...fallback, ...(cursor as T) } : fallback;
}

/** cells are text (lists and objects as JSON): the reader's own objects need their JSON back */
function parsed(cells: Record<string, string>): ApiRecord {
  const out: ApiRecord = {};
  for (const [k, v] of Object.entries(cells)) {
    if (v.startsWith('{') || v.startsWith('[')) {
      try {
        out[k] = JSON.parse(v) as Json;
        continue;
      } catch {
        // text that only looks like JSON
      }
    }
    out[k] = v;
  }
  return out;
}

function isEmptyFilter(f: Json | undefined): boolean {
  return f === undefined || f === null || f === '' || (typeof f === 'object' && Object.keys(f).length === 0);
}

function fieldList(path: string): Pick<ApiObject, 'first' | 'fetchPage' | 'columns'> {
  return {
    columns: ['id', 'name', 'display_type', 'values'],
    first: 0,
    async fetchPage(c) {
      const answer = await c.json({ method: 'POST', path, body: {}, idempotent: true, schema: customFieldsAnswer });
      return {
        rows: answer.fields.map(({ field }) => ({
          id: field.id,
          name: field.name,
          display_type: field.display_type,
          values: field.values ?? [],
        })),
        next: null,
      };
    },
  };
}

function offsetList<S extends z.ZodType<Record<string, unknown>>>(
  path: string,
  key: string,
  schema: S,
): Pick<ApiObject, 'first' | 'fetchPage'> {
  return {
    first: 0,
    async fetchPage(c, cursor) {
      const offset = Number(cursor);
      const answer = await c.json({
        method: 'POST',
        path,
        body: { limit: CAMPAIGN_PAGE, offset },
        idempotent: true,
        schema,
      });
      const rows = (answer[key] as ApiRecord[] | null) ?? [];
      return { rows, next: answer.has_more === true ? offset + rows.length : null };
    },
  };
}

function entityPages<S extends z.ZodType>(
  path: string,
  list: (a: z.output<S>) => { id: string; fields: Record<string, Json> }[],
  schema: S,
): Pick<ApiObject, 'first' | 'fetchPage' | 'columns'> {
  return {
    columns: ['id', 'fields'],
    first: null,
    async fetchPage(c, cursor) {
      const answer = await c.json({
        method: 'POST',
        path,
        idempotent: true,
        schema,
        body: { limit: PERSON_PAGE, ...(typeof cursor === 'string' && cursor !== '' ? { cursor_id: cursor } : {}) },
      });
      const a = answer as { has_more: boolean; cursor_id?: string | null };
      return {
        rows: list(answer).map((e) => ({ id: e.id, fields: e.fields })),
        next: a.has_more && a.cursor_id ? a.cursor_id : null,
      };
    },
  };
}

// ------------------------------------------------------------------------------ shaping rows

const PERSON_COLUMNS = [
  'id',
  'first_name',
  'last_name',
  'email',
  'phone',
  'city',
  'region',
  'country',
  'postal',
  'birthday',
  'external_id',
  'email_permission',
  'sms_permission',
  'account_id',
  'owner',
  'lifecycle_stage',
  'created',
  'tags',
  'dynamic_audiences',
  'static_audiences',
  'campaigns',
];
const ACCOUNT_COLUMNS = [
  'id',
  'name',
  'website',
  'industry',
  'employees',
  'phone',
  'address',
  'city',
  'region',
  'country',
  'postal',
  'contact_count',
  'owner',
  'created',
];

type Fields = Record<string, Json>;
const fieldsOf = (r: ApiRecord): Fields =>
  r.fields && typeof r.fields === 'object' && !Array.isArray(r.fields) ? r.fields : {};

/** a field's value as text: geo objects by name, phones {c, n} as +c n, birthdays {year, month, day}, lists joined */
export function text(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v))
    return v
      .map(text)
      .filter((x) => x !== '')
      .join(SEP);
  if (typeof v.name === 'string') return v.name;
  if (v.n !== undefined) return `${v.c ? `+${text(v.c)} ` : ''}${text(v.n)}`;
  if (v.year !== undefined && v.month !== undefined && v.day !== undefined)
    return `${text(v.year)}-${String(text(v.month)).padStart(2, '0')}-${String(text(v.day)).padStart(2, '0')}`;
  return JSON.stringify(v);
}

const first = (f: Fields, ...ids: string[]): string => {
  for (const id of ids) {
    const v = text(f[id]);
    if (v !== '') return v;
  }
  return '';
};

/** the owner's email: a built-in `str::owner` (or the account's `str:o:owner`) field */
function ownerOf(fields: Json | undefined): string {
  const f = fields && typeof fields === 'object' && !Array.isArray(fields) ? fields : {};
  return first(f, 'str::owner', 'str::owner-email', 'str:o:owner', 'str:o:owner-email').toLowerCase();
}

function personRow(r: ApiRecord, tagNames: Map<string, string>): Record<string, string> {
  const f = fieldsOf(r);
  const tagIds = Array.isArray(f['u4s::t'])
    ? f['u4s::t'].map((t) => tagNames.get(jsonText(t)) ?? '').filter((t) => t !== '')
    : [];
  const tags = Array.isArray(f.tags) ? f.tags.map(text) : tagIds;
  return {
    id: jsonText(r.id),
    first_name: first(f, 'str::first'),
    last_name: first(f, 'str::last'),
    email: first(f, 'str::email'),
    phone: first(f, 'phn::phone'),
    city: first(f, 'geo::city'),
    region: first(f, 'geo::region'),
    country: first(f, 'geo::country'),
    postal: first(f, 'str::postal'),
    birthday: first(f, 'dtz::b'),
    external_id: first(f, 'str::ei'),
    email_permission: first(f, 'bol::p'),
    sms_permission: first(f, 'bol::sp'),
    account_id: first(f, 'idt::o', 'str::o'),
    owner: ownerOf(f),
    lifecycle_stage: first(f, 'str::lifecycle-stage', 'str::ls', 'str:cm:lifecycle-stage'),
    created: first(f, 'tme::c', 'dtz::c', 'str::created'),
    tags: [...new Set(tags.filter((t) => t !== ''))].join(SEP),
  };
}

function accountRow(r: ApiRecord): Record<string, string> {
  const f = fieldsOf(r);
  return {
    id: jsonText(r.id),
    name: first(f, 'str:o:name', 'str::name'),
    website: first(f, 'str:o:website', 'str:o:domain', 'str:o:url'),
    industry: first(f, 'str:o:industry'),
    employees: first(f, 'int:o:employees'),
    phone: first(f, 'phn:o:phone', 'str:o:phone'),
    address: first(f, 'str:o:address'),
    city: first(f, 'geo:o:city'),
    region: first(f, 'geo:o:region'),
    country: first(f, 'geo:o:country'),
    postal: first(f, 'str:o:postal'),
    contact_count: first(f, 'int:o:contacts', 'int:o:people', 'int:o:contact-count'),
    owner: ownerOf(f),
    created: first(f, 'tme:o:created', 'tme:o:c', 'str:o:created'),
  };
}

/** custom fields (`cm` namespace) as columns named by their label; multi-select as tags; aggregates left out */
function shaper(defs: FieldDef[]) {
  const byId = new Map(defs.map((d) => [d.id, d]));
  const columns = defs.filter((d) => fieldKind(d.type) === 'field');
  return {
    header: (base: string[]) => [...base, ...columns.map(cmLabel).filter((l) => !base.includes(l))],
    custom(fields: Json | undefined): Record<string, string> {
      const out: Record<string, string> = {};
      const f = fields && typeof fields === 'object' && !Array.isArray(fields) ? fields : {};
      for (const d of columns) {
        const v = f[d.id];
        if (v === undefined) continue;
        // `int` fields hold decimals ×1000 (§3.2): a decimal/currency field is divided back
        out[cmLabel(d)] =
          typeof v === 'number' && d.id.startsWith('int:') && /decimal|currency|price/i.test(d.type)
            ? String(v / 1000)
            : text(v);
      }
      return out;
    },
    tags(fields: Json | undefined): string {
      const f = fields && typeof fields === 'object' && !Array.isArray(fields) ? fields : {};
      const out: string[] = [];
      for (const [id, v] of Object.entries(f)) {
        const d = byId.get(id);
        if (!d || fieldKind(d.type) !== 'tags') continue;
        const values = Array.isArray(v) ? v.map(text) : text(v).split(SEP);
        for (const value of values) if (value.trim() !== '') out.push(`${cmLabel(d)}: ${value.trim()}`);
      }
      return out.join(SEP);
    },
  };
}

/** the custom-field list as a schema table (identifier = the label the data columns carry) */
function schemaTable(name: string, object: string, defs: FieldDef[]): SourceTable {
  const rows = defs.filter((d) => fieldKind(d.type) === 'field');
  return {
    name,
    object,
    header: ['identifier', 'label', 'type', 'options'],
    rows: (async function* (): AsyncGenerator<SourceRow> {
      let row = 0;
      for (const d of rows)
        yield {
          row: (row += 1),
          cells: { identifier: cmLabel(d), label: cmLabel(d), type: d.type, options: d.values.join(SEP) },
        };
    })(),
  };
}

function shapedTable(
  table: SourceTable,
  object: string,
  header: string[],
  shape: (r: ApiRecord) => Record<string, string>,
): SourceTable {
  return {
    name: table.name,
    object,
    header,
    rows: (async function* (): AsyncGenerator<SourceRow> {
      for await (const { row, cells } of table.rows) yield { row, cells: shape(parsed(cells)) };
    })(),
  };
}

export type ActivityKind = 'call' | 'meeting' | 'event';

/** calls and meetings are custom activities named so (`act:cm:call-logged`, "Meeting booked"); everything else is an event */
export function activityKind(activityId: string, name: string): ActivityKind {
  const words = `${activityId} ${name}`.toLowerCase();
  if (/\bcall(s|ed)?\b|phone[- ]call/.test(words)) return 'call';
  if (/\bmeeting|appointment|calendar\b/.test(words)) return 'meeting';
  return 'event';
}

function campaignOf(fields: Json | undefined): string {
  const f = fields && typeof fields === 'object' && !Array.isArray(fields) ? fields : {};
  for (const [k, v] of Object.entries(f)) if (/campaign[-_]?id$/i.test(k) && text(v) !== '') return text(v);
  return '';
}

/** an activity attribute by its name's last part (`str:cm:subject`, `str::subject` → subject) */
function attr(f: Fields, ...names: string[]): string {
  for (const name of names) {
    for (const [k, v] of Object.entries(f)) {
      if ((k.split(':').pop() ?? k).toLowerCase().replace(/_/g, '-') === name && text(v) !== '') return text(v);
    }
  }
  return '';
}

const ACTIVITY_COLUMNS = [
  'key',
  'person_id',
  'activity',
  'name',
  'timestamp',
  'subject',
  'body',
  'end',
  'duration_minutes',
  'location',
  'owner',
  'details',
];

/** one kind of the feed as a table; rows in feed order, keyed by person + a digest of the event */
function activityTable(table: SourceTable, kind: ActivityKind): SourceTable {
  const names = { call: 'Activities: calls', meeting: 'Activities: meetings', event: 'Activities: notes and events' };
  return {
    name: names[kind],
    object: `activity_${kind}`,
    header: ACTIVITY_COLUMNS,
    rows: (async function* (): AsyncGenerator<SourceRow> {
      let row = 0;
      for await (const { cells } of table.rows) {
        const r = parsed(cells);
        const activityId = jsonText(r.activity_id ?? '');
        const name = jsonText(r.activity_name ?? '');
        if (activityKind(activityId, name) !== kind) continue;
        const f = fieldsOf(r);
        const details = Object.entries(f)
          .map(([k, v]) => `${k.split(':').pop()}: ${text(v)}`)
          .join('\n');
        const digest = createHash('sha256')
          .update(JSON.stringify([activityId, r.timestamp, f]))
          .digest('hex')
          .slice(0, 16);
        const minutes = attr(f, 'duration-minutes', 'duration');
        const start = Date.parse(jsonText(r.timestamp ?? ''));
        // a meeting without an end lasts its duration (else 30 minutes)
        const end =
          attr(f, 'end', 'end-time', 'ends-at') ||
          (Number.isNaN(start)
            ? ''
            : new Date(start + (Number(minutes) > 0 ? Number(minutes) : 30) * 60_000).toISOString());
        yield {
          row: (row += 1),
          cells: {
            key: `${jsonText(r.person_id)}:${digest}`,
            person_id: jsonText(r.person_id),
            activity: activityId,
            name: name || activityId,
            timestamp: jsonText(r.timestamp ?? ''),
            subject: attr(f, 'subject', 'title') || name || activityId,
            body: attr(f, 'notes', 'note', 'body', 'description', 'text'),
            end,
            duration_minutes: minutes,
            location: attr(f, 'location'),
            owner: attr(f, 'owner', 'owner-email', 'user-email').toLowerCase(),
            details: `${name || activityId} (${activityId})${details ? `\n${details}` : ''}`,
          },
        };
      }
    })(),
  };
}

// ------------------------------------------------------------------------------ inventory

function md(s: unknown): string {
  return jsonText(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

function metric(c: ApiRecord, ...keys: string[]): string {
  for (const k of keys) {
    const v = c[k];
    if (v !== undefined && v !== null && v !== '') return text(v);
  }
  return '';
}

export function orttoInventory(l: Learned): string {
  const out: string[] = ['# Ortto: what the API lists beyond the records', ''];
  const add = (...x: string[]) => out.push(...x);
  add(
    '## Audiences (segment inventory)',
    '',
    'Dynamic audiences became tags (`res.partner.category` named after the audience) on their members; static ones categories under "Ortto static audiences". Odoo does not re-evaluate a dynamic audience: rebuild its rule as a saved filter or in a marketing app from the definition below.',
    '',
  );
  if (l.audiences.length === 0) add('No audience.', '');
  else {
    add('| audience | kind | members migrated | definition (Ortto filter) |', '| --- | --- | --- | --- |');
    for (const a of l.audiences)
      add(
        `| ${md(a.name)} | ${a.kind} | ${a.members} | ${isEmptyFilter(a.filter) ? '— (a static list)' : `\`${md(JSON.stringify(a.filter))}\``} |`,
      );
    add('');
  }
  const journeys = l.campaigns.filter((c) => /journey|playbook|automation/i.test(jsonText(c.type ?? '')));
  const campaigns = l.campaigns.filter((c) => !journeys.includes(c));
  add(
    '## Campaigns (campaign inventory)',
    '',
    'Each person the activity feed shows a campaign reached carries a category under "Ortto campaigns" named after it. The performance below is what Ortto reported; Odoo CRM has no campaign object (Email Marketing is a separate app).',
    '',
  );
  if (campaigns.length === 0) add('No campaign.', '');
  else {
    add(
      '| campaign | type | state | sent | delivered | opened | clicked | open rate | click rate | people tagged |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const c of campaigns) {
      const tagged = [...l.reached.values()].filter((s) => s.has(jsonText(c.id))).length;
      add(
        `| ${md(c.name)} | ${md(c.type)} | ${md(metric(c, 'state', 'status'))} | ${metric(c, 'sent', 'sends')} | ${metric(c, 'delivered', 'deliveries')} | ${metric(c, 'opened', 'opens')} | ${metric(c, 'clicked', 'clicks')} | ${metric(c, 'open_rate')} | ${metric(c, 'click_rate')} | ${tagged} |`,
      );
    }
    add('');
  }
  add(
    '## Journeys (automation inventory: not migrated)',
    '',
    'Ortto journeys cannot be exported as logic: rebuild each in Odoo (automated actions, Studio on paid editions, or Marketing Automation) from this list and the journey canvas in Ortto.',
    '',
  );
  if (journeys.length === 0) add('No journey listed by the API.', '');
  else {
    add('| journey | state | trigger | created | sent | goal reached |', '| --- | --- | --- | --- | --- | --- |');
    for (const j of journeys)
      add(
        `| ${md(j.name)} | ${md(metric(j, 'state', 'status'))} | ${md(metric(j, 'trigger', 'entry_trigger'))} | ${md(metric(j, 'created_at', 'created'))} | ${metric(j, 'sent', 'sends')} | ${metric(j, 'conversions', 'goal_reached')} |`,
      );
    add('');
  }
  add(
    '## Capture widgets (form inventory: rebuild in Odoo Website)',
    '',
    "The API gives each widget's fields; templates, copy and styling are not readable and are rebuilt by hand.",
    '',
  );
  if (l.widgets.length === 0) add('No capture widget listed by the API.', '');
  else {
    add('| widget | type | state | fields (name: type, required) |', '| --- | --- | --- | --- |');
    for (const w of l.widgets) {
      const fields = Array.isArray(w.fields)
        ? w.fields
            .map((f) =>
              f && typeof f === 'object' && !Array.isArray(f)
                ? `${text(f.label ?? f.name ?? f.id)}: ${text(f.type)}${f.required === true ? ', required' : ''}`
                : text(f),
            )
            .join('; ')
        : '';
      add(`| ${md(w.name)} | ${md(w.type)} | ${md(metric(w, 'state', 'status'))} | ${md(fields)} |`);
    }
    add('');
  }
  add(
    '## Knowledge base articles',
    '',
    'Odoo Knowledge is an Enterprise app: this migration lists the articles here instead of creating them. Rich media and embedded videos need manual adjustment after they are moved.',
    '',
  );
  if (l.articles.length === 0) add('No article listed by the API.', '');
  else {
    add('| article | category | state | updated | words | media to adjust |', '| --- | --- | --- | --- | --- | --- |');
    for (const a of l.articles) {
      const html = text(a.html ?? a.body ?? a.content);
      const words = html
        .replace(/<[^>]*>/g, ' ')
        .split(/\s+/)
        .filter((w) => w !== '').length;
      const media = (html.match(/<(img|iframe|video|embed)\b/gi) ?? []).length;
      add(
        `| ${md(a.title ?? a.name)} | ${md(a.category ?? a.category_name)} | ${md(metric(a, 'state', 'status'))} | ${md(metric(a, 'updated_at', 'updated'))} | ${words} | ${media} |`,
      );
    }
    add('');
  }
  const aggregates = [
    ...l.personFields.map((f) => ['person', f] as const),
    ...l.accountFields.map((f) => ['account', f] as const),
  ].filter(([, f]) => fieldKind(f.type) === 'aggregate');
  const multi = [...l.personFields, ...l.accountFields].filter((f) => fieldKind(f.type) === 'tags');
  add('## Custom fields', '');
  if (multi.length > 0)
    add(`Multi-select fields became tags named "field: value": ${multi.map((f) => md(cmLabel(f))).join(', ')}.`, '');
  if (aggregates.length > 0) {
    add(
      "Aggregate fields are not readable through Ortto's API and were **not migrated**: recreate them in Odoo (a computed field or a report).",
      '',
      '| object | field | id |',
      '| --- | --- | --- |',
    );
    for (const [o, f] of aggregates) add(`| ${o} | ${md(cmLabel(f))} | \`${md(f.id)}\` |`);
    add('');
  } else add('No aggregate field.', '');
  add(
    '## Activities read',
    '',
    `${l.activities.calls} call(s) → done call activities, ${l.activities.meetings} meeting(s) → calendar events, ${l.activities.events} note(s) and event(s) → log notes with their name and original time.`,
    '',
  );
  if (l.owners.size > 0)
    add(
      '## Owners found',
      '',
      `${l.owners.size} distinct owner email(s) on people and accounts; each is matched to an Odoo user by email, the rest wait in **Owners to reconcile**.`,
      '',
    );
  return `${out.join('\n')}\n`;
}
