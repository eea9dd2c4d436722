/**
 * The one way the bridge talks to Odoo: XML-RPC (xmlrpc-transport.ts, Odoo 17–19) or Odoo 19's
 * JSON-2 API (json2-transport.ts); createTransport (auto-transport.ts) picks one from the server's version.
 */
export interface OdooConnection {
  url: string;
  db: string;
  user: string;
  /** password or API key (XML-RPC) */
  password: string;
  /** API key for Odoo 19's JSON-2 API (`Authorization: bearer`); without one, XML-RPC is used on 19 too */
  apiKey?: string;
  /** auto (default): JSON-2 on Odoo 19+ when apiKey is set, else XML-RPC; or force one */
  transport?: 'auto' | 'xmlrpc' | 'json2';
  /** seconds to wait for an answer to an ordinary call (default 120) */
  timeoutSeconds?: number;
  /** seconds to wait for a call that does a migration's long work: commit, rollback, finish staging (default 3600) */
  longTimeoutSeconds?: number;
}

export interface OdooTransport {
  /** server version string, e.g. "18.0" */
  version(): Promise<string>;
  /** model.method(*args, **kwargs) as the authenticated user */
  call(model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown>;
}

export class OdooError extends Error {
  constructor(
    message: string,
    readonly faultString?: string,
  ) {
    super(message);
    this.name = 'OdooError';
  }
}

/** A read: once more after a dropped connection or a timeout, never after Odoo's own answer (a fault). */
export async function repeatOnce<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (!(err instanceof OdooError) || err.faultString !== undefined) throw err;
    return send();
  }
}
