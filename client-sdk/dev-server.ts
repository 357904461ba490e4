import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import {
  DisplayName,
  type ErrorBody,
  type HttpJoinReply,
  HttpJoinRequest,
  httpJoinPath,
  RoomName,
  SafeName,
  toSafeName,
} from '@kaskade/protocol';
import { JoinGrants, JoinTokenIssuer } from '@kaskade/server-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';

/** Where the demo sends participants: straight to one edge, or through the control plane. */
export type DemoBackend =
  | { kind: 'edge'; edgeUrl: string; jwtSecret: string }
  | { kind: 'control-plane'; url: string; appJwtSecret: string; regions: string[] };

export interface DemoServerOptions {
  host?: string;
  port?: number;
  backend: DemoBackend;
  /** Extra folder served at /extra/ (test pages). */
  extraRoot?: string;
}

const DemoJoinRequest = Type.Object(
  {
    room: RoomName,
    name: DisplayName,
    region: Type.Optional(Type.String({ maxLength: 64 })),
    subscribeOnly: Type.Optional(Type.Boolean()),
    /** The meeting's host: the token grants `moderate` (mute others, lobby, breakouts...). */
    host: Type.Optional(Type.Boolean()),
    /**
     * Stands in for the application's login: a page asking again (a reconnect) names the
     * identity it got the first time, so the edge lets it keep its participant id. Without
     * it every ticket is a new person. A demo hands any identity to anyone; an application
     * takes it from its own session.
     */
    identity: Type.Optional(SafeName),
    /** The SDK's edges to avoid (the ticket provider's argument), passed on to the control plane. */
    avoid: HttpJoinRequest.properties.avoid,
  },
  { additionalProperties: false },
);

/**
 * The local demo's web server: the demo page, the SDK bundle, and a join endpoint
 * standing in for the conference application's backend: it mints the application
 * token and, in a mesh, asks the control plane where to go. Development only: it
 * hands a token to anyone, which is the point of a demo and the opposite of production.
 */
export async function startDemoServer(options: DemoServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  await app.register(fastifyStatic, { root: here('./demo/'), prefix: '/' });
  await app.register(fastifyStatic, { root: here('./dist/'), prefix: '/sdk/', decorateReply: false });
  if (options.extraRoot) {
    await app.register(fastifyStatic, { root: options.extraRoot, prefix: '/extra/', decorateReply: false });
  }
  const { backend } = options;
  // Signs the tokens the way the application's backend would, with @kaskade/server-sdk:
  // for the edge itself, or for the control plane's join (which issues the edge token).
  const issuer = new JoinTokenIssuer({
    algorithm: 'HS256',
    secret: backend.kind === 'edge' ? backend.jwtSecret : backend.appJwtSecret,
  });
  app.get('/demo/config', async () => ({ regions: backend.kind === 'control-plane' ? backend.regions : [] }));
  app.post<{ Body: Static<typeof DemoJoinRequest> }>(
    '/demo/join',
    { schema: { body: DemoJoinRequest } },
    async (request, reply) => {
      const { room, name, region, subscribeOnly, host, avoid, identity } = request.body;
      const claims = {
        identity:
          identity ??
          `${toSafeName(name, { replacement: '', maxLength: 24 }) || 'guest'}-${randomUUID().slice(0, 8)}`,
        name,
        room,
        grants: host ? JoinGrants.host() : subscribeOnly ? JoinGrants.viewer() : JoinGrants.speaker(),
        ttlSeconds: 3600,
      };
      if (backend.kind === 'edge') {
        return { url: backend.edgeUrl, token: await issuer.mint(claims), identity: claims.identity };
      }
      const appToken = await issuer.mint(claims);
      const joinRequest: HttpJoinRequest = { token: appToken, region: region || undefined, avoid };
      const answer = await fetch(`${backend.url}${httpJoinPath(room)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(joinRequest),
      });
      const body: unknown = await answer.json();
      if (!answer.ok) return reply.code(answer.status).send(body as ErrorBody);
      const placed = body as HttpJoinReply;
      return {
        url: placed.edgeUrl,
        token: placed.edgeToken,
        nodeId: placed.nodeId,
        region: placed.region,
        identity: claims.identity,
      };
    },
  );
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return app;
}

export function serverUrl(app: FastifyInstance, hostname = 'localhost'): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://${hostname}:${address.port}`;
}
