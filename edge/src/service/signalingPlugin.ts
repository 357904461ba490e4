import websocket from '@fastify/websocket';
import { addressKey } from '@kaskade/node-toolkit';
import { SIGNALING_PATH } from '@kaskade/protocol';
import type { FastifyInstance } from 'fastify';
import { type SessionContext, SignalingSession } from './SignalingSession.ts';

export interface SignalingPluginOptions {
  session: SessionContext;
  /** False while draining: new sockets are refused with 503, joined ones carry on. */
  accepting: () => boolean;
  /** Sockets one source address may hold at once; more are refused with 429 before the upgrade. */
  maxSocketsPerAddress: number;
}

/** The signaling WebSocket endpoint. */
export async function signalingPlugin(app: FastifyInstance, opts: SignalingPluginOptions): Promise<void> {
  // ws closes (1009) frames above maxPayload before we see them; the session
  // answers frames between its own limit and this one with MESSAGE_TOO_LARGE.
  await app.register(websocket, { options: { maxPayload: 1024 * 1024 } });
  // Open sockets per source address (the address only counts; it is never logged).
  const perAddress = new Map<string, number>();
  app.get(
    SIGNALING_PATH,
    {
      websocket: true,
      preValidation: async (request, reply) => {
        if (!opts.accepting())
          return reply.code(503).send({ code: 'UNAVAILABLE', message: 'edge is draining' });
        const address = addressKey(request.ip);
        if ((perAddress.get(address) ?? 0) >= opts.maxSocketsPerAddress) {
          request.log.debug('signaling socket refused: too many from one address');
          opts.session.metrics.refused('per_address');
          return reply
            .code(429)
            .header('retry-after', '5')
            .send({ code: 'RATE_LIMITED', message: 'too many signaling sockets from this address' });
        }
        // Counted before the upgrade, so upgrades arriving together cannot overshoot the cap,
        // and uncounted when the TCP connection goes, whether or not the upgrade happened.
        perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
        request.raw.socket.once('close', () => {
          const left = (perAddress.get(address) ?? 1) - 1;
          if (left > 0) perAddress.set(address, left);
          else perAddress.delete(address);
        });
      },
    },
    (socket) => {
      new SignalingSession(socket, opts.session);
    },
  );
}
