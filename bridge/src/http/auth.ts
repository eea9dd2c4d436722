/** Bearer-token check for every route that is not public; constant-time comparison. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export function tokenGuard(expected: string) {
  const want = createHash('sha256').update(expected).digest();
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const got = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (!match || !timingSafeEqual(want, got)) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'a valid "Authorization: Bearer <token>" header is required' });
    }
  };
}

/** the OpenAPI security scheme of the routes that need `Authorization: Bearer <BRIDGE_TOKEN>` */
export const BEARER = 'bearer';
/** what a route that needs the token declares in its schema (the README's auth column is read
 *  from it, and test/unit/openapi.test.ts proves each such route answers 401 without the token) */
export const bearer = [{ [BEARER]: [] }];
