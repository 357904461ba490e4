import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import Type from 'typebox';
import { issueToken } from '../control-plane/common/tokens.ts';
import { DisplayName, RoomName } from '../control-plane/protocol/media.ts';

export interface DemoServerOptions {
  host?: string;
  port?: number;
  /** The edge the demo sends participants to. */
  edgeUrl: string;
  /** Secret the edge verifies tokens with; the demo mints tokens for anyone who asks. */
  jwtSecret: string;
  /** Extra folders served at /extra/ (test pages). */
  extraRoot?: string;
}

const TokenRequest = Type.Object(
  { room: RoomName, name: DisplayName, subscribeOnly: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

/**
 * The local demo's web server: the demo page, the SDK bundle, and a token endpoint
 * that stands in for the conference application. Development only: it hands a
 * token to anyone, which is the point of a demo and the opposite of production.
 */
export async function startDemoServer(options: DemoServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
  await app.register(fastifyStatic, { root: here('./demo/'), prefix: '/' });
  await app.register(fastifyStatic, { root: here('./dist/'), prefix: '/sdk/', decorateReply: false });
  if (options.extraRoot) {
    await app.register(fastifyStatic, { root: options.extraRoot, prefix: '/extra/', decorateReply: false });
  }
  app.post<{ Body: { room: string; name: string; subscribeOnly?: boolean } }>(
    '/demo/token',
    { schema: { body: TokenRequest } },
    async (request) => {
      const { room, name, subscribeOnly } = request.body;
      const token = await issueToken(
        {
          identity: `${name.replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 24) || 'guest'}-${randomUUID().slice(0, 8)}`,
          name,
          room,
          grants: { publish: !subscribeOnly, subscribe: true },
        },
        { secret: options.jwtSecret },
      );
      return { token, edgeUrl: options.edgeUrl };
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
