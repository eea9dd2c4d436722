/**
 * createTransport: the transport for a connection, chosen from the server's version on the first
 * call. Odoo 19+ with an API key (ODOO_API_KEY): JSON-2 (XML-RPC is deprecated from 19 on);
 * otherwise XML-RPC (Odoo 17, 18, and 19 without an API key). ODOO_TRANSPORT=xmlrpc|json2 forces one.
 */
import { type OdooConnection, type OdooTransport } from './transport.js';
import { Json2Transport, serverVersion } from './json2-transport.js';
import { XmlRpcTransport } from './xmlrpc-transport.js';

export type TransportKind = 'xmlrpc' | 'json2';

/** The major version of a server_version string ("19.0", "saas~18.3", "17.0+e"), NaN when none. */
export function majorVersion(version: string): number {
  const m = /(\d+)(?:\.\d+)?/.exec(version);
  return m ? Number(m[1]) : Number.NaN;
}

export function pickTransport(version: string, conn: OdooConnection): TransportKind {
  if (conn.transport === 'xmlrpc' || conn.transport === 'json2') return conn.transport;
  return majorVersion(version) >= 19 && conn.apiKey ? 'json2' : 'xmlrpc';
}

export class AutoTransport implements OdooTransport {
  private chosen: Promise<{ kind: TransportKind; transport: OdooTransport }> | undefined;

  constructor(private readonly conn: OdooConnection) {}

  /** Which transport serves this connection (asks the server's version once). */
  async kind(): Promise<TransportKind> {
    return (await this.choose()).kind;
  }

  async version(): Promise<string> {
    return (await this.choose()).transport.version();
  }

  async call(model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown> {
    return (await this.choose()).transport.call(model, method, args, kwargs);
  }

  private choose(): Promise<{ kind: TransportKind; transport: OdooTransport }> {
    this.chosen ??= (async () => {
      const kind =
        this.conn.transport === 'xmlrpc' || this.conn.transport === 'json2'
          ? this.conn.transport
          : pickTransport(await serverVersion(this.conn.url, this.conn.timeoutSeconds), this.conn);
      return { kind, transport: kind === 'json2' ? new Json2Transport(this.conn) : new XmlRpcTransport(this.conn) };
    })();
    // a failed probe (Odoo down) is tried again on the next call
    this.chosen.catch(() => {
      this.chosen = undefined;
    });
    return this.chosen;
  }
}

export function createTransport(conn: OdooConnection): AutoTransport {
  return new AutoTransport(conn);
}
