import type { Directory } from '@kaskade/directory';
import { RoomName } from '@kaskade/protocol';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import type { NodeRegistry } from './NodeRegistry.ts';

export interface AdminPluginOptions {
  registry: NodeRegistry;
  directory: Directory;
}

/** Read-only views for operators: rooms, a room's participants and streams, nodes. */
export async function adminPlugin(app: FastifyInstance, opts: AdminPluginOptions): Promise<void> {
  // With each node, how long its liveness in Redis lasted past the last read (negative:
  // lapsed); none when not known (no record, or Redis away).
  app.get('/v1/nodes', async () => {
    const liveness = opts.registry.liveness();
    return {
      nodes: opts.registry.nodes().map((n) => {
        const expiry = liveness?.expiries.get(n.nodeId);
        return expiry === undefined ? n : { ...n, livenessLeftMs: expiry - liveness!.now };
      }),
    };
  });
  app.get('/v1/rooms', async () => ({ rooms: await opts.directory.rooms() }));
  app.get<{ Params: Static<typeof Params> }>(
    '/v1/rooms/:room/participants',
    { schema: { params: Params } },
    async (request) => {
      const state = await opts.directory.room(request.params.room);
      return { participants: state.participants, streams: state.streams, nodes: state.nodes };
    },
  );
}

const Params = Type.Object({ room: RoomName });
