import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { SIGNALING_PATH } from '../../../control-plane/protocol/signaling.ts';
import { type SessionContext, SignalingSession } from './SignalingSession.ts';

export interface SignalingPluginOptions {
  session: SessionContext;
  /** False while draining: new sockets are refused with 503, joined ones carry on. */
  accepting: () => boolean;
}

/** The signaling WebSocket endpoint. */
export async function signalingPlugin(app: FastifyInstance, opts: SignalingPluginOptions): Promise<void> {
  // ws closes (1009) frames above maxPayload before we see them; the session
  // answers frames between its own limit and this one with MESSAGE_TOO_LARGE.
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  app.get(
    SIGNALING_PATH,
    {
      websocket: true,
      preValidation: async (_request, reply) => {
        if (!opts.accepting())
          await reply.code(503).send({ code: 'UNAVAILABLE', message: 'edge is draining' });
      },
    },
    (socket) => {
      new SignalingSession(socket, opts.session);
    },
  );
}
