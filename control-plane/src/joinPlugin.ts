import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { KaskadeError } from '../common/errors.ts';
import { issueToken, type TokenVerifier } from '../common/tokens.ts';
import type { Directory } from '../directory/Directory.ts';
import { Region, RoomName } from '../protocol/media.ts';
import type { ControlPlaneMetrics } from './controlPlaneMetrics.ts';
import type { NodeRegistry } from './NodeRegistry.ts';
import { place } from './placement.ts';

export const JoinParams = Type.Object({ room: RoomName });
export const JoinBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    region: Type.Optional(Region),
  },
  { additionalProperties: false },
);
export const JoinReply = Type.Object({
  edgeUrl: Type.String(),
  edgeToken: Type.String(),
  nodeId: Type.String(),
  region: Type.String(),
});

export interface JoinPluginOptions {
  appTokens: TokenVerifier;
  edgeJwtSecret: string;
  edgeTokenTtlSeconds: number;
  registry: NodeRegistry;
  directory: Directory;
  metrics: ControlPlaneMetrics;
}

const httpStatus: Record<string, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
  BAD_REQUEST: 400,
};

/**
 * POST /v1/rooms/:room/join: the participant's application token in, the edge to
 * use and a short-lived token for that edge out. Stateless: any replica answers.
 */
export async function joinPlugin(app: FastifyInstance, opts: JoinPluginOptions): Promise<void> {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof KaskadeError) {
      return reply.code(httpStatus[error.code] ?? 500).send({ code: error.code, message: error.message });
    }
    if ((error as { validation?: unknown }).validation) {
      return reply.code(400).send({ code: 'BAD_REQUEST', message: (error as Error).message });
    }
    app.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
  });

  // Every answer is counted, whichever path produced it (handler, validation, error handler).
  app.addHook('onResponse', async (_request, reply) => opts.metrics.joinAnswered(reply.statusCode));

  app.post<{ Params: Static<typeof JoinParams>; Body: Static<typeof JoinBody> }>(
    '/v1/rooms/:room/join',
    { schema: { params: JoinParams, body: JoinBody, response: { 200: JoinReply } } },
    async (request) => {
      const { room } = request.params;
      const claims = await opts.appTokens.verify(request.body.token);
      if (claims.room !== room) throw new KaskadeError('FORBIDDEN', `the token is for room ${claims.room}`);
      const roomNodes = new Set(
        (await opts.directory.room(room).catch(() => ({ nodes: [] as string[] }))).nodes,
      );
      const placement = place({ nodes: opts.registry.nodes(), roomNodes, region: request.body.region });
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
