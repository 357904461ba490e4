import { Directory } from '@kaskade/directory';
import {
  Heartbeat,
  type LocalProducer,
  MediaMetrics,
  mediaCodecs,
  type PipeHost,
  PipeMachinery,
  WorkerCensus,
  withoutSignalHandlers,
} from '@kaskade/media-node';
import {
  Bus,
  createMetricsRegistry,
  HttpListener,
  livenessTtlMs,
  metricsPlugin,
  OperatorListener,
  pipeAddresses,
} from '@kaskade/node-toolkit';
import { NodeDead, Subjects } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RelayConfig } from './config.ts';

/** How often a draining relay looks whether the edges took their streams elsewhere. */
const DRAIN_POLL_MS = 50;

/**
 * A media node with no participants: it carries streams from their origin to the
 * edges of its region, so a stream enters the region once. A room gets a router here
 * when a link for it first opens and loses it when its last link closes; every
 * stream it forwards is a copy fetched from the origin on first request. It is the
 * pipe machinery's host: the router per room, and copies as what it sends.
 */
export class RelayNode implements PipeHost {
  readonly pipes: PipeMachinery;
  readonly media: MediaMetrics;
  readonly #config: RelayConfig;
  readonly #worker: types.Worker;
  readonly #bus: Bus;
  readonly #http: HttpListener;
  readonly #routers = new Map<string, Promise<types.Router>>();
  readonly #heartbeat: Heartbeat;
  #operator: OperatorListener | undefined;
  /** Where the relay's liveness goes (no room keys: a relay carries no participants). */
  #directory: Directory | undefined;

  private constructor(
    config: RelayConfig,
    worker: types.Worker,
    bus: Bus,
    http: HttpListener,
    logger: Logger,
    registry: Registry,
  ) {
    this.#config = config;
    const workers = [{ index: 0, census: new WorkerCensus(worker) }];
    this.media = new MediaMetrics({
      registry,
      region: config.region,
      workers: () => workers,
      intervalMs: config.statsIntervalMs,
      maxStatsPerRound: config.statsMaxPerRound,
      maxBitrateBps: config.maxBitrateBps,
      loadShares: () => ({}),
      logger,
    });
    this.#worker = worker;
    this.#bus = bus;
    this.#http = http;
    this.pipes = new PipeMachinery({
      nodeId: config.nodeId,
      region: config.region,
      registry,
      bus,
      host: this,
      ...pipeAddresses(config),
      portRange: { min: config.pipePortMin, max: config.pipePortMax },
      socketBufferBytes: config.pipeSocketBufferBytes,
      lingerMs: config.pipeLingerMs,
      silenceMs: config.pipeSilenceMs,
      keyFrameRequestDelayMs: config.keyFrameRequestDelayMs,
      // What the edges below want passes up to the origin.
      forwardDemand: true,
      logger,
    });
    this.#heartbeat = new Heartbeat({
      nodeId: config.nodeId,
      kind: 'relay',
      region: config.region,
      bus,
      intervalMs: config.heartbeatMs,
      media: this.media,
      holdings: () => {
        const links = this.pipes.links();
        return {
          url: '',
          workers: 1,
          participants: 0,
          consumers: links.reduce((n, l) => n + l.sends, 0),
          producers: links.reduce((n, l) => n + l.copies, 0),
          capacity: 0,
          rooms: [...this.#routers.keys()],
        };
      },
      refreshLiveness: () => this.#directory?.refresh([], config.nodeId),
      logger,
    });
  }

  /** PipeHost: the room's router here, made when its first link opens. */
  routerFor(room: string): Promise<types.Router> {
    let router = this.#routers.get(room);
    if (!router) {
      router = this.#worker.createRouter({ mediaCodecs, appData: { room } });
      this.#routers.set(room, router);
      router.catch(() => this.#routers.delete(room));
    }
    return router;
  }

  /** PipeHost: nothing originates on a relay; what it sends is a copy fetched from the origin. */
  async producerFor(room: string, producerId: string, origin?: string): Promise<LocalProducer | undefined> {
    if (!origin) return undefined;
    const copy = await this.pipes.fetch(room, origin, producerId);
    return { producer: copy, source: copy.appData.source, participantId: copy.appData.participantId };
  }

  static async start(config: RelayConfig, logger: Logger): Promise<RelayNode> {
    const worker = await withoutSignalHandlers(() => mediasoup.createWorker({ logLevel: 'warn' }));
    worker.on('died', (err) => {
      logger.fatal({ err }, 'relay worker died');
      process.exit(1);
    });
    const registry = createMetricsRegistry({ node: config.nodeId, region: config.region, kind: 'relay' });
    const bus = await Bus.connect(config, config.nodeId, logger, registry);
    const http = new HttpListener({
      logger,
      notReadyReason: (): string | null =>
        node.#heartbeat.state === 'serving' ? null : node.#heartbeat.state,
    });
    const node = new RelayNode(config, worker, bus, http, logger, registry);
    if (config.redisUrl)
      node.#directory = new Directory(config.redisUrl, logger, {
        livenessTtlMs: livenessTtlMs(config),
        caFile: config.redisCaFile,
        registry,
      });
    node.media.start();
    node.pipes.start();
    node.pipes.on('roomidle', (room) => node.#closeRoom(room));
    bus.subscribe(Subjects.nodeDead, NodeDead, ({ nodeId }) => node.pipes.closeNode(nodeId), {
      senderInSubject: false,
    });
    // Before the public listener: once /readyz answers, the operator API does too.
    node.#operator = await OperatorListener.start({
      settings: config,
      logger,
      routes: async (operator) => {
        await operator.register(metricsPlugin, { registry });
        operator.get('/v1/node', async () => ({
          nodeId: config.nodeId,
          kind: 'relay',
          links: await node.pipes.census(),
        }));
      },
    });
    await http.listen({ host: config.httpHost, port: config.httpPort });
    node.#heartbeat.start();
    return node;
  }

  /**
   * Drains, then closes: the heartbeat says 'draining', so the edges' trees skip this
   * relay and each edge moves its streams to another path make-before-break (the new
   * copy receives before the one from here is retired). Once nobody takes a stream from
   * here any more, or at the shutdown deadline, the links close.
   */
  async stop(): Promise<void> {
    this.#heartbeat.drain();
    const deadline = Date.now() + this.#config.shutdownTimeoutMs;
    while (this.pipes.links().some((l) => l.sends > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    this.#heartbeat.close();
    this.media.stop();
    this.pipes.close();
    await this.#http.close();
    await this.#operator?.close();
    await this.#bus.close();
    await this.#directory?.close();
    this.#worker.close();
  }

  /** http://host:port of the operator API. */
  get operatorUrl(): string {
    if (!this.#operator) throw new Error('relay is not listening');
    return this.#operator.url;
  }

  #closeRoom(room: string): void {
    const router = this.#routers.get(room);
    this.#routers.delete(room);
    void router?.then((r) => r.close());
  }
}
