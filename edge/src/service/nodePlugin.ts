import type { LinkCensus } from '@kaskade/media-node';
import type { FastifyInstance } from 'fastify';
import { takeCensus } from '../rtc/census.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { WorkerPool } from '../rtc/WorkerPool.ts';

export interface NodePluginOptions {
  nodeId: string;
  pool: WorkerPool;
  rooms: RoomManager;
  /** The pipe links of this node (mesh mode). */
  links?: () => Promise<LinkCensus[]>;
  /** Starts the drain that moves people (Edge.drain); the node exits once empty or at its deadline. */
  drain: () => Promise<{ deadline: number; notified: number; unplaced: number }>;
}

/** GET /v1/node: what this node carries, counted from the workers' own dumps; POST /v1/drain. */
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

  /** POST /v1/drain: the node takes no more joins and moves its participants elsewhere, then exits. */
  app.post('/v1/drain', async () => {
    const { deadline, notified, unplaced } = await opts.drain();
    return { draining: true, notified, unplaced, deadlineMs: Math.max(0, deadline - Date.now()) };
  });
}
