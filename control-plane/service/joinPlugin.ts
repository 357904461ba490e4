import { type Directory, refusalOf } from '@kaskade/directory';
import { addressKey, issueToken, type Rate, RateLimiter, type TokenVerifier } from '@kaskade/node-toolkit';
import {
  HTTP_JOIN_ROUTE,
  HttpJoinParams,
  HttpJoinReply,
  HttpJoinRequest,
  KaskadeError,
} from '@kaskade/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ControlPlaneMetrics } from './controlPlaneMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import { place } from './placement.ts';

export interface JoinPluginOptions {
  appTokens: TokenVerifier;
  edgeJwtSecret: string;
  edgeTokenTtlSeconds: number;
  registry: NodeRegistry;
  directory: Directory;
  metrics: ControlPlaneMetrics;
  /** Largest body accepted (413 past it). */
  maxBodyBytes: number;
  /** Join rates per source address (checked first, before any work) and per verified identity. */
  perAddress: Rate;
  perIdentity: Rate;
  /** Addresses and identities each limiter remembers. */
  rateLimitKeys: number;
}

function refuseRateLimited(reply: FastifyReply, waitMs: number, what: string) {
  return reply
    .code(429)
    .header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))))
    .send({ code: 'RATE_LIMITED', message: `too many joins ${what}; retry later` });
}

/**
 * The public join (HTTP_JOIN_ROUTE, contract in the protocol's http-join.ts): the
 * participant's application token in, the edge to use and a short-lived token for that
 * edge out. Stateless: any replica answers.
 */
export async function joinPlugin(app: FastifyInstance, opts: JoinPluginOptions): Promise<void> {
  const perAddress = new RateLimiter(opts.perAddress, { maxKeys: opts.rateLimitKeys });
  const perIdentity = new RateLimiter(opts.perIdentity, { maxKeys: opts.rateLimitKeys });

  // Refusals are answered by the listener's error handler (HttpListener): typed, client-caused at debug.
  // Every answer is counted, whichever path produced it (handler, validation, error handler).
  app.addHook('onResponse', async (_request, reply) => opts.metrics.joinAnswered(reply.statusCode));

  app.post<{ Params: HttpJoinParams; Body: HttpJoinRequest; Reply: HttpJoinReply }>(
    HTTP_JOIN_ROUTE,
    {
      bodyLimit: opts.maxBodyBytes,
      schema: { params: HttpJoinParams, body: HttpJoinRequest, response: { 200: HttpJoinReply } },
      // Before the body is read: a flood from one address costs no parsing or crypto.
      onRequest: async (request, reply) => {
        const waitMs = perAddress.take(addressKey(request.ip));
        if (waitMs > 0) return refuseRateLimited(reply, waitMs, 'from this address');
      },
    },
    async (request, reply) => {
      const { room } = request.params;
      const claims = await opts.appTokens.verify(request.body.token);
      // Keyed on the verified identity only: an unverified claim could name anyone.
      const waitMs = perIdentity.take(claims.sub);
      if (waitMs > 0) return refuseRateLimited(reply, waitMs, 'for this identity');
      if (claims.room !== room) throw new KaskadeError('FORBIDDEN', `the token is for room ${claims.room}`);
      // Bans and the lock refuse here already (the edge checks again; the lobby is the edge's).
      const admission = await opts.directory.governance
        .admission(room, claims.sub)
        .catch((error: unknown) => {
          throw new KaskadeError('UNAVAILABLE', 'the room state cannot be read now; retry', { cause: error });
        });
      const refusal = refusalOf(admission, claims.grants.moderate === true);
      if (refusal) throw refusal;
      const roomNodes = new Set(await opts.directory.roomNodes(room).catch(() => [] as string[]));
      const placement = place({
        nodes: opts.registry.nodes(),
        liveness: opts.registry.liveness(),
        roomNodes,
        region: request.body.region,
        avoid: new Set(request.body.avoid),
      });
      opts.metrics.placed(placement);
      if (!placement.ok)
        throw new KaskadeError('UNAVAILABLE', `no edge can take the join (${placement.reason})`);
      const { node } = placement;
      opts.registry.placed(node.nodeId);
      const edgeToken = await issueToken(
        {
          identity: claims.sub,
          name: claims.name,
          room,
          grants: claims.grants,
          ttlSeconds: opts.edgeTokenTtlSeconds,
          node: node.nodeId,
          role: claims.role,
          lecture: claims.lecture,
        },
        { secret: opts.edgeJwtSecret },
      );
      request.log.debug({ room, node: node.nodeId, reason: placement.reason }, 'join placed');
      return { edgeUrl: node.url, edgeToken, nodeId: node.nodeId, region: node.region };
    },
  );
}
