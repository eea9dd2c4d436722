/**
 * Odoo 19's JSON-2 API: `POST /json/2/<model>/<method>` with `Authorization: bearer <API key>`,
 * the arguments all named (`ids` for the records, `context`, then the method's parameters).
 * Same behaviour as XmlRpcTransport: a timeout per call (long for a migration's long work), a
 * read tried once more after a dropped connection or a timeout, never a write.
 *
 * The bridge's calls are written positionally (execute_kw style); JSON2_PARAMS names the
 * parameters of each method it calls, so both transports serve the same MigrationClient.
 */
import { z } from 'zod';
import { OdooError, repeatOnce, type OdooConnection, type OdooTransport } from './transport.js';
import {
  DEFAULT_LONG_TIMEOUT_S,
  DEFAULT_TIMEOUT_S,
  LONG_CALLS,
  OdooTimeout,
  SAFE_TO_REPEAT,
} from './xmlrpc-transport.js';

/** How a method's positional arguments are named: `records` methods take the ids first. */
interface MethodParams {
  records: boolean;
  params: readonly string[];
}
const rec = (...params: string[]): MethodParams => ({ records: true, params });
const model = (...params: string[]): MethodParams => ({ records: false, params });

/** Parameter names (Odoo 19's signatures, and the addon's api_* methods) of every method the bridge calls. */
export const JSON2_PARAMS: Readonly<Record<string, MethodParams>> = {
  // ORM
  search_read: model('domain', 'fields', 'offset', 'limit', 'order'),
  search: model('domain', 'offset', 'limit', 'order'),
  search_count: model('domain', 'limit'),
  create: model('vals_list'),
  load: model('fields', 'data'),
  fields_get: model('allfields', 'attributes'),
  name_search: model('name', 'domain', 'operator', 'limit'),
  read: rec('fields', 'load'),
  write: rec('vals'),
  unlink: rec(),
  set_param: model('key', 'value'),
  get_param: model('key', 'default'),
  // crm.migration (odoo_addon/crm_migration): @api.model
  api_create: model('vals'),
  api_installed_apps: model('names'),
  // crm.migration: on the migration's record
  api_begin_upload: rec('vals'),
  api_discard_upload: rec(),
  api_stage: rec('records', 'batch'),
  api_stage_json: rec('json_text', 'batch'),
  api_stage_blob: rec('key', 'offset', 'chunk'),
  api_set_profile: rec('vals'),
  api_set_mapping: rec('lines'),
  api_finish_staging: rec(),
  api_start_delta: rec(),
  api_delta_resolve: rec('options'),
  api_delta_gone: rec('options'),
  api_commit: rec('options'),
  api_commit_plan: rec('options'),
  api_commit_chunk: rec('chunk'),
  api_commit_finish: rec('plan'),
  api_rollback: rec('options'),
  api_rollback_conflicts: rec(),
  api_sample_diff: rec(),
  api_sample_rollback: rec('options'),
  api_report: rec(),
  api_report_files: rec(),
  api_audit: rec('limit'),
  api_owners: rec(),
  api_resolve_owner: rec('value', 'user_id'),
  api_set_fallback_user: rec('user_id'),
  api_remove_unused_fields: rec(),
  api_job_progress: rec('vals'),
  action_confirm_mapping: rec(),
  action_commit: rec(),
  action_reset_job: rec(),
  // res.users.apikeys (tests create keys with it)
  make_key: rec('scope', 'expiration_date'),
};

/** The JSON body of a call: positional args named from JSON2_PARAMS, kwargs as they are. */
export function json2Body(
  modelName: string,
  method: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
): Record<string, unknown> {
  const spec = JSON2_PARAMS[method];
  if (!spec) {
    if (args.length) {
      throw new OdooError(
        `JSON-2 calls need named arguments: ${modelName}.${method} is not in JSON2_PARAMS (bridge/src/odoo/json2-transport.ts)`,
      );
    }
    return { ...kwargs };
  }
  const rest = [...args];
  const body: Record<string, unknown> = {};
  if (spec.records) {
    const ids = rest.shift() ?? [];
    body.ids = Array.isArray(ids) ? ids : [ids];
  }
  if (rest.length > spec.params.length) {
    throw new OdooError(
      `${modelName}.${method} takes ${spec.params.length} argument(s) besides its records, ${rest.length} given`,
    );
  }
  rest.forEach((value, i) => {
    body[spec.params[i] as string] = value;
  });
  return { ...body, ...kwargs };
}

/** Odoo's answer to a failed call (`{name, message, arguments, context, debug}`). */
const errorSchema = z.object({ name: z.string(), message: z.string(), debug: z.string().optional() }).loose();
const versionInfoSchema = z
  .object({ result: z.object({ server_version: z.string(), server_version_info: z.array(z.unknown()) }).loose() })
  .loose();

/** The server's version, e.g. "19.0", from `/web/webclient/version_info` (no login; Odoo 17, 18 and 19). */
export async function serverVersion(url: string, timeoutSeconds = DEFAULT_TIMEOUT_S): Promise<string> {
  let res: Response;
  try {
    res = await fetch(new URL('/web/webclient/version_info', url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: {} }),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
  } catch (err) {
    if (isTimeout(err))
      throw new OdooTimeout(`Odoo at ${url} did not answer version within ${timeoutSeconds} s (ODOO_TIMEOUT_SECONDS)`);
    throw new OdooError(`cannot reach Odoo at ${url}: ${describe(err)}`);
  }
  if (!res.ok) throw new OdooError(`Odoo at ${url} answered ${res.status} to /web/webclient/version_info`);
  return versionInfoSchema.parse(await res.json()).result.server_version;
}

export class Json2Transport implements OdooTransport {
  private readonly key: string;

  constructor(private readonly conn: OdooConnection) {
    if (!conn.apiKey)
      throw new OdooError('Odoo JSON-2 needs an API key (ODOO_API_KEY): Preferences → Account Security → New API Key');
    this.key = conn.apiKey;
  }

  version(): Promise<string> {
    return repeatOnce(() => serverVersion(this.conn.url, this.conn.timeoutSeconds ?? DEFAULT_TIMEOUT_S));
  }

  async call(
    modelName: string,
    method: string,
    args: unknown[],
    kwargs: Record<string, unknown> = {},
  ): Promise<unknown> {
    const body = json2Body(modelName, method, args, kwargs);
    const send = () => this.post(modelName, method, body);
    const answer = await (SAFE_TO_REPEAT.has(method) ? repeatOnce(send) : send());
    // JSON-2 answers a recordset with its ids; XML-RPC's create of one dict answers the id: same here
    if (method === 'create' && !Array.isArray(args[0]) && Array.isArray(answer) && answer.length === 1)
      return answer[0];
    return answer;
  }

  private async post(modelName: string, method: string, body: Record<string, unknown>): Promise<unknown> {
    const long = LONG_CALLS.has(method);
    const seconds = long
      ? (this.conn.longTimeoutSeconds ?? DEFAULT_LONG_TIMEOUT_S)
      : (this.conn.timeoutSeconds ?? DEFAULT_TIMEOUT_S);
    const what = `${modelName}.${method}`;
    let res: Response;
    let text: string;
    try {
      // the abort closes the connection of a call given up on; later calls use new ones
      res = await fetch(
        new URL(`/json/2/${encodeURIComponent(modelName)}/${encodeURIComponent(method)}`, this.conn.url),
        {
          method: 'POST',
          headers: {
            Authorization: `bearer ${this.key}`,
            'Content-Type': 'application/json; charset=utf-8',
            'X-Odoo-Database': this.conn.db,
            'User-Agent': 'crm-migration-bridge',
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(seconds * 1000),
        },
      );
      text = await res.text();
    } catch (err) {
      if (isTimeout(err)) {
        const knob = long ? 'ODOO_LONG_TIMEOUT_SECONDS' : 'ODOO_TIMEOUT_SECONDS';
        const mayGoOn = SAFE_TO_REPEAT.has(method)
          ? ''
          : '; Odoo may still finish that work: look at the migration (crm-migrate report ID, or its form in Odoo) before running it again';
        throw new OdooTimeout(
          `Odoo at ${this.conn.url} did not answer ${what} within ${seconds} s (${knob})${mayGoOn}`,
        );
      }
      throw new OdooError(`cannot reach Odoo at ${this.conn.url}: ${describe(err)}`);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      throw new OdooError(
        `Odoo at ${this.conn.url} answered ${what} with ${res.status} and no JSON: ${text.slice(0, 200)}`,
        text,
      );
    }
    if (res.ok) return parsed;
    const fault = errorSchema.safeParse(parsed);
    if (!fault.success) throw new OdooError(`Odoo at ${this.conn.url} answered ${what} with ${res.status}`, text);
    if (res.status === 401) {
      throw new OdooError(
        `Odoo refused the API key of "${this.conn.user}" on database "${this.conn.db}" at ${this.conn.url}: ${fault.data.message}`,
        fault.data.debug ?? fault.data.message,
      );
    }
    // faultString set: Odoo's own answer, never repeated
    throw new OdooError(fault.data.message.trim(), fault.data.debug ?? fault.data.message);
  }
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
