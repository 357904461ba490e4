import type { NatsService } from '@kaskade/local-mesh';
import {
  type LocalProducer,
  mediaCodecs,
  PipeMachinery,
  type PipeMachineryOptions,
} from '@kaskade/media-node';
import { Bus } from '@kaskade/node-toolkit';
import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import pino from 'pino';
import { Registry } from 'prom-client';

const logger = pino({ level: process.env.KASKADE_TEST_LOG_LEVEL ?? 'warn' });

/**
 * A media node reduced to what the pipe machinery needs, in this process: its own worker,
 * one router for the room, the bus under its own credentials, and the producers published
 * on it (what its pipe host offers to other nodes).
 */
export interface PipeNode {
  id: string;
  worker: types.Worker;
  router: types.Router;
  bus: Bus;
  pipes: PipeMachinery;
  producers: Map<string, LocalProducer>;
  metrics: Registry;
}

/** The machinery's options a test chooses; the rest (bus, host, logger, registry) come from here. */
export type PipeNodeOptions = Pick<PipeMachineryOptions, 'portRange' | 'lingerMs'> &
  Partial<Omit<PipeMachineryOptions, 'nodeId' | 'bus' | 'host' | 'logger' | 'registry'>>;

/** Starts a pipe node `id` serving `room`; nats must know `id` as an identity. */
export async function startPipeNode(
  nats: NatsService,
  id: string,
  room: string,
  options: PipeNodeOptions,
): Promise<PipeNode> {
  const worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({ mediaCodecs });
  const bus = await Bus.connect(nats.settingsFor(id), id, logger);
  const producers = new Map<string, LocalProducer>();
  const metrics = new Registry();
  const pipes: PipeMachinery = new PipeMachinery({
    nodeId: id,
    region: `region-of-${id}`,
    registry: metrics,
    bus,
    host: {
      routerFor: async (r) => (r === room ? router : undefined),
      producerFor: async (r, producerId, origin) => {
        if (r !== room) return undefined;
        const local = producers.get(producerId);
        if (local || !origin || !options.forwardDemand) return local;
        // A relay sends what it fetched from the origin.
        const copy = await pipes.fetch(r, origin, producerId);
        return { producer: copy, source: copy.appData.source, participantId: copy.appData.participantId };
      },
    },
    listenIp: '127.0.0.1',
    silenceMs: 1000,
    logger,
    ...options,
  });
  pipes.start();
  return { id, worker, router, bus, pipes, producers, metrics };
}

/** Closes each node's machinery, bus and worker. */
export async function stopPipeNodes(nodes: Iterable<PipeNode>): Promise<void> {
  for (const node of nodes) {
    node.pipes.close();
    await node.bus.close();
    node.worker.close();
  }
}
