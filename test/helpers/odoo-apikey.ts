/**
 * An API key for a user of a real Odoo 19, made the way a user makes one (Preferences → Account
 * Security → New API Key): a web session, `res.users.apikeys.description.make_key`, the
 * password re-checked by `res.users.identitycheck.run_check`; the key comes back in the
 * context of the "API Key Ready" action. Odoo refuses make_key outside an HTTP request, so this
 * goes through the web client's own JSON-RPC routes.
 */
import { z } from 'zod';

const rpcAnswer = z
  .object({
    result: z.unknown().optional(),
    error: z
      .object({ message: z.string(), data: z.object({ message: z.string() }).loose().optional() })
      .loose()
      .optional(),
  })
  .loose();
const keyAction = z.object({ context: z.object({ default_key: z.string().min(20) }).loose() }).loose();
const checkAction = z.object({ res_model: z.literal('res.users.identitycheck'), res_id: z.number().int() }).loose();

export async function createApiKey(
  url: string,
  db: string,
  login: string,
  password: string,
  name = 'crm-migration e2e',
): Promise<string> {
  let cookie = '';
  const rpc = async (path: string, params: Record<string, unknown>): Promise<unknown> => {
    const res = await fetch(new URL(path, url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params }),
      signal: AbortSignal.timeout(60_000),
    });
    const setCookie = res.headers.get('set-cookie');
    const session = setCookie && /session_id=[^;]+/.exec(setCookie);
    if (session) cookie = session[0];
    const answer = rpcAnswer.parse(await res.json());
    if (answer.error) throw new Error(`${path}: ${answer.error.data?.message ?? answer.error.message}`);
    return answer.result;
  };
  const kw = (model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
    rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs });
  await rpc('/web/session/authenticate', { db, login, password });
  // duration '1': one day (a key of the e2e run; Odoo removes it when it has expired)
  const descId = z
    .number()
    .int()
    .parse(await kw('res.users.apikeys.description', 'create', [{ name, duration: '1' }]));
  let action = await kw('res.users.apikeys.description', 'make_key', [[descId]]);
  const check = checkAction.safeParse(action);
  if (check.success) {
    action = await kw('res.users.identitycheck', 'run_check', [[check.data.res_id]], { context: { password } });
  }
  return keyAction.parse(action).context.default_key;
}
