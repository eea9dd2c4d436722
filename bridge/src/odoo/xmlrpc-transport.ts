import xmlrpc from 'xmlrpc';
import { z } from 'zod';
import { OdooError, type OdooConnection, type OdooTransport } from './transport.js';

const versionSchema = z.object({ server_version: z.string() }).loose();

type Client = ReturnType<typeof xmlrpc.createClient>;

export class XmlRpcTransport implements OdooTransport {
  private readonly common: Client;
  private readonly object: Client;
  private uid: number | undefined;

  constructor(private readonly conn: OdooConnection) {
    const base = new URL(conn.url);
    const make = base.protocol === 'https:' ? xmlrpc.createSecureClient : xmlrpc.createClient;
    const opts = (path: string) => ({ host: base.hostname, port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)), path });
    this.common = make(opts('/xmlrpc/2/common'));
    this.object = make(opts('/xmlrpc/2/object'));
  }

  async version(): Promise<string> {
    return versionSchema.parse(await this.raw(this.common, 'version', [])).server_version;
  }

  async call(model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<unknown> {
    const uid = await this.login();
    return this.raw(this.object, 'execute_kw', [this.conn.db, uid, this.conn.password, model, method, args, kwargs]);
  }

  private async login(): Promise<number> {
    if (this.uid !== undefined) return this.uid;
    const uid = await this.raw(this.common, 'authenticate', [this.conn.db, this.conn.user, this.conn.password, {}]);
    if (typeof uid !== 'number' || uid <= 0) {
      throw new OdooError(`Odoo refused the login of "${this.conn.user}" on database "${this.conn.db}" at ${this.conn.url}`);
    }
    this.uid = uid;
    return uid;
  }

  private raw(client: Client, method: string, params: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      client.methodCall(method, params, (err: unknown, value: unknown) => {
        if (!err) return resolve(value);
        const fault = err as { faultString?: string; code?: string; message?: string };
        if (fault.faultString) return reject(new OdooError(lastLine(fault.faultString), fault.faultString));
        reject(new OdooError(`cannot reach Odoo at ${this.conn.url}: ${fault.code ?? fault.message ?? String(err)}`));
      });
    });
  }
}

/**
 * Odoo's fault text: a user-facing error (UserError, ValidationError) is the message itself,
 * possibly several lines; an unexpected error is a Python traceback whose last line says it.
 */
function lastLine(text: string): string {
  const trimmed = text.trim();
  if (!/Traceback \(most recent call last\)/.test(trimmed)) return trimmed;
  const lines = trimmed.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? trimmed;
}
