/**
 * The one way the bridge talks to Odoo. XML-RPC today (Odoo 16–19); Odoo 19's JSON-2 API can be
 * a second implementation of the same interface.
 */
export interface OdooConnection {
  url: string;
  db: string;
  user: string;
  /** password or API key */
  password: string;
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
  constructor(message: string, readonly faultString?: string) {
    super(message);
    this.name = 'OdooError';
  }
}
