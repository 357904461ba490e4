import { addressKey, type Rate, RateLimiter } from '@kaskade/node-toolkit';
import {
  BUS_CREDENTIALS_ROUTE,
  BusCredentialsReply,
  BusCredentialsRequest,
  type ErrorBody,
  KaskadeError,
} from '@kaskade/protocol';
import type { FastifyInstance } from 'fastify';
import type { BusCredentialIssuer } from './BusCredentialIssuer.ts';

export interface BusCredentialsPluginOptions {
  issuer: BusCredentialIssuer;
  /** Requests per source address, checked before the token is read. */
  perAddress: Rate;
  rateLimitKeys: number;
}

const BEARER = 'Bearer ';

/**
 * POST /v1/bus/credentials (protocol/bus-credentials.ts): the pod's service-account
 * token in the authorization header and its user public key in the body, a user JWT for
 * that key out (no secret: the pod's seed never crosses the network). Registered only when the
 * operator configured the issuer; elsewhere the route is unknown (404). The token is
 * never logged: refusals carry only the reason, and the listener logs no requests.
 */
export async function busCredentialsPlugin(
  app: FastifyInstance,
  opts: BusCredentialsPluginOptions,
): Promise<void> {
  const perAddress = new RateLimiter(opts.perAddress, { maxKeys: opts.rateLimitKeys });
  app.post<{ Body: BusCredentialsRequest; Reply: BusCredentialsReply | ErrorBody }>(
    BUS_CREDENTIALS_ROUTE,
    {
      bodyLimit: 1024,
      schema: { body: BusCredentialsRequest, response: { 200: BusCredentialsReply } },
      // Before any crypto: a flood from one address costs no verification.
      onRequest: async (request, reply) => {
        const waitMs = perAddress.take(addressKey(request.ip));
        if (waitMs > 0)
          return reply
            .code(429)
            .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
            .send({
              code: 'RATE_LIMITED',
              message: 'too many bus credential requests from this address; retry later',
            });
      },
      // Before the body's schema: a caller without a token learns nothing but that it needs one.
      preValidation: async (request, reply) => {
        const header = request.headers.authorization;
        if (!header?.startsWith(BEARER) || header.length === BEARER.length) {
          reply.header('www-authenticate', 'Bearer');
          throw new KaskadeError(
            'UNAUTHORIZED',
            "the pod's service-account token is required (authorization: Bearer <token>)",
          );
        }
      },
    },
    async (request, reply) => {
      const token = request.headers.authorization!.slice(BEARER.length).trim();
      const credentials = await opts.issuer.issue(token, request.body.publicKey).catch((error: unknown) => {
        // Our side failing (the cluster's keys unreadable) is the operator's to see; a bad token is not.
        if (error instanceof KaskadeError && error.code === 'UNAVAILABLE')
          request.log.warn({ reason: String((error.cause as Error | undefined)?.message) }, error.message);
        throw error;
      });
      request.log.info(
        { node: credentials.nodeId, role: credentials.role, expiresAt: credentials.expiresAt },
        'bus credentials issued',
      );
      reply.header('cache-control', 'no-store');
      return credentials;
    },
  );
}
