import { addressKey, constantTimeEqual, type Rate, RateLimiter } from '@kaskade/node-toolkit';
import { API_AUTH_SCHEME, KaskadeError } from '@kaskade/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface ApiAuthOptions {
  /** The application's API keys: the current one and, during a rotation, the previous one. None: the API is off. */
  keys: readonly string[];
  /** Requests per source address (checked first, before the key or the body). */
  perAddress: Rate;
  rateLimitKeys: number;
}

/** The onRequest hook every route of the application's API passes first. */
export type ApiAuthenticator = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const BEARER = `${API_AUTH_SCHEME} `;

/**
 * The application API's gate, one for all its routes (room API, capacity API), so an
 * address has one rate budget over them: in order, the rate limit of the address (429),
 * then the API key (401; 503 when the operator set none).
 */
export function apiAuthenticator(opts: ApiAuthOptions): ApiAuthenticator {
  const perAddress = new RateLimiter(opts.perAddress, { maxKeys: opts.rateLimitKeys });
  const keys = opts.keys.filter((k) => k.length > 0);
  return async (request, reply) => {
    const waitMs = perAddress.take(addressKey(request.ip));
    if (waitMs > 0) {
      return reply
        .code(429)
        .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
        .send({ code: 'RATE_LIMITED', message: 'too many API requests from this address; retry later' });
    }
    if (keys.length === 0)
      throw new KaskadeError('UNAVAILABLE', 'the application API is off: KASKADE_APP_API_KEY is not set');
    const header = request.headers.authorization;
    const offered = header?.startsWith(BEARER) ? header.slice(BEARER.length) : '';
    // Every key is compared, whichever matched: the time taken says nothing about which.
    let valid = false;
    for (const key of keys) valid = constantTimeEqual(offered, key) || valid;
    if (!valid) {
      reply.header('www-authenticate', API_AUTH_SCHEME);
      throw new KaskadeError('UNAUTHORIZED', 'a valid API key is required (authorization: Bearer <key>)');
    }
  };
}
