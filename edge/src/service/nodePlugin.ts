import type { FastifyInstance } from 'fastify';
import type { LinkCensus } from '../../../relay/src/pipe/index.ts';
import { takeCensus } from '../rtc/census.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { WorkerPool } from '../rtc/WorkerPool.ts';

export interface NodePluginOptions {
  nodeId: string;
  pool: WorkerPool;
  rooms: RoomManager;
  /** The pipe links of this node (mesh mode). */
  links?: () => Promise<LinkCensus[]>;
}

/** GET /v1/node: what this node carries, counted from the workers' own dumps. */
export async function nodePlugin(app: FastifyInstance, opts: NodePluginOptions): Promise<void> {
  app.get('/v1/node', async () => {
    const rooms = await opts.rooms.rooms();
    return {
      nodeId: opts.nodeId,
      rooms: rooms.length,
      participants: rooms.reduce((n, r) => n + r.participantCount, 0),
      workers: await takeCensus(opts.pool.workers),
      links: (await opts.links?.()) ?? [],
    };
  });
}
