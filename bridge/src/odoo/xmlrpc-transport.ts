import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { z } from 'zod';
import { OdooError, repeatOnce, type OdooConnection, type OdooTransport } from './transport.js';
import { xmlRpcCall, type XmlRpcEndpoint } from './xmlrpc-call.js';

const versionSchema = z.object({ server_version: z.string() }).loose();

type Client = XmlRpcEndpoint;

/** Calls that only read: repeated once when the connection drops or Odoo does not answer in time. */
export const SAFE_TO_REPEAT = new Set([
  'search',
  'search_read',
  'read',
  'search_count',
  'fields_get',
  'api_report',
  'api_owners',
  'api_installed_apps',
  'api_sample_diff',
  'api_rollback_conflicts',
]);
/** Calls that do a migration's long work in one Odoo transaction: they get the long timeout. */
export const LONG_CALLS = new Set([
  'api_commit',
  'api_commit_plan',
  'api_commit_finish',
  'api_rollback',
  'api_sample_rollback',
  'api_finish_staging',
  'api_delta_resolve',
  'api_delta_gone',
  'api_stage_json',
]);
export const DEFAULT_TIMEOUT_S = 120;
export const DEFAULT_LONG_TIMEOUT_S = 3600;

/** A call Odoo did not answer in time (the connection was then closed). */
export class OdooTimeout extends OdooError {}

export class XmlRpcTransport implements OdooTransport {
  private common!: Client;
  private object!: Client;
  private agent!: HttpAgent;
  private uid: number | undefined;

  constructor(private readonly conn: OdooConnection) {
    this.connect();
  }

  /** Clients on an agent of their own, so that a call given up on can have its socket closed. */
  private connect(): void {
    const base = new URL(this.conn.url);
    const secure = base.protocol === 'https:';
    this.agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const make = (path: string): Client => ({
      host: base.hostname,
      port: Number(base.port || (secure ? 443 : 80)),
      path,
      secure,
      agent: this.agent,
    });
    this.common = make('/xmlrpc/2/common');
    this.object = make('/xmlrpc/2/object');
  }

  async version(): Promise<string> {
    return versionSchema.parse(await repeatOnce(() => this.raw(this.common, 'version', [], 'version'))).server_version;
  }

  async call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    const uid = await this.login();
    const send = () =>
      this.raw(
        this.object,
        'execute_kw',
        [this.conn.db, uid, this.conn.password, model, method, args, kwargs],
        `${model}.${method}`,
        LONG_CALLS.has(method),
      );
    return SAFE_TO_REPEAT.has(method) ? repeatOnce(send) : send();
  }

  private async login(): Promise<number> {
    if (this.uid !== undefined) return this.uid;
    const uid = await repeatOnce(() =>
      this.raw(this.common, 'authenticate', [this.conn.db, this.conn.user, this.conn.password, {}], 'login'),
    );
    if (typeof uid !== 'number' || uid <= 0) {
      throw new OdooError(
        `Odoo refused the login of "${this.conn.user}" on database "${this.conn.db}" at ${this.conn.url}`,
      );
    }
    this.uid = uid;
    return uid;
  }

  private raw(client: Client, method: string, params: unknown[], what: string, long = false): Promise<unknown> {
    const seconds = long
      ? (this.conn.longTimeoutSeconds ?? DEFAULT_LONG_TIMEOUT_S)
      : (this.conn.timeoutSeconds ?? DEFAULT_TIMEOUT_S);
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        const knob = long ? 'ODOO_LONG_TIMEOUT_SECONDS' : 'ODOO_TIMEOUT_SECONDS';
        const mayGoOn =
          SAFE_TO_REPEAT.has(what.split('.').pop() ?? '') || what === 'version' || what === 'login'
            ? ''
            : '; Odoo may still finish that work: look at the migration (crm-migrate report ID, or its form in Odoo) before running it again';
        reject(
          new OdooTimeout(`Odoo at ${this.conn.url} did not answer ${what} within ${seconds} s (${knob})${mayGoOn}`),
        );
        // close the connection of the call given up on; later calls use new ones
        this.agent.destroy();
        this.connect();
      }, seconds * 1000);
      xmlRpcCall(client, method, params, (err: unknown, value: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        if (!err) return resolve(value);
        const fault = err as { faultString?: string; code?: string; message?: string };
        if (fault.faultString) return reject(new OdooError(lastLine(fault.faultString), fault.faultString));
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- last resort: neither code nor message
        reject(new OdooError(`cannot reach Odoo at ${this.conn.url}: ${fault.code ?? fault.message ?? String(err)}`));
      });
    });
  }
}

/**
 * Odoo's fault text: a user-facing error (UserError, ValidationError) is the message itself,
 * possibly several lines; an unexpected error is a Python traceback whose last line says it.
 */
export function lastLine(text: string): string {
  const trimmed = text.trim();
  if (!/Traceback \(most recent call last\)/.test(trimmed)) return trimmed;
  const lines = trimmed
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? trimmed;
}
