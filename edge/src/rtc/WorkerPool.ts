import { EventEmitter } from 'node:events';
import { WorkerCensus, withoutSignalHandlers } from '@kaskade/media-node';
import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import type { Logger } from 'pino';

export interface WorkerPoolOptions {
  count: number;
  listenIp: string;
  announcedAddress?: string;
  portBase: number;
  enableTcp: boolean;
  maxConsumers: number;
  /** Offer plain RTP transports (bots, load tests) on the listen IP. */
  allowPlainRtp: boolean;
  /** UDP ports plain transports take theirs from, so a firewall can name them. */
  plainPortRange: types.TransportPortRange;
  /** Seconds without ICE consent from a client before its transport counts as disconnected. */
  iceConsentTimeoutSeconds: number;
  logger: Logger;
}

/** One mediasoup worker with its WebRtcServer and a live count of what it carries. */
export class MediaWorker {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  /** Where plain RTP transports listen, or undefined when they are not allowed. */
  readonly plainRtpListenInfo: types.TransportListenInfo | undefined;
  /** What the worker carries, counted through mediasoup's observers (pipes included). */
  readonly census: WorkerCensus;
  readonly iceConsentTimeoutSeconds: number;

  constructor(
    index: number,
    worker: types.Worker,
    webRtcServer: types.WebRtcServer,
    iceConsentTimeoutSeconds: number,
    plainRtpListenInfo?: types.TransportListenInfo,
  ) {
    this.index = index;
    this.worker = worker;
    this.webRtcServer = webRtcServer;
    this.iceConsentTimeoutSeconds = iceConsentTimeoutSeconds;
    this.plainRtpListenInfo = plainRtpListenInfo;
    this.census = new WorkerCensus(worker);
  }

  /** The routers alive on this worker. */
  get routers(): ReadonlySet<types.Router> {
    return this.census.routers;
  }

  get consumers(): number {
    return this.census.consumers.size;
  }

  get pid(): number {
    return this.worker.pid;
  }
}

interface WorkerPoolEvents {
  /** A worker died and was replaced; its routers are closed. */
  workerdied: [index: number, error: Error];
}

/**
 * N mediasoup workers, each with one WebRtcServer on port base+i (UDP and TCP), so a
 * deployment opens a few fixed ports instead of a range. A dead worker is replaced
 * on the same port; rooms that lived on it close and their clients reconnect.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #workers: MediaWorker[] = [];
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    super();
    this.#options = options;
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      for (let i = 0; i < options.count; i++) pool.#workers.push(await pool.#spawn(i));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get workers(): readonly MediaWorker[] {
    return this.#workers;
  }

  /** Consumers on all workers (pipe sends included). */
  get consumers(): number {
    return this.#workers.reduce((n, w) => n + w.consumers, 0);
  }

  /** How much of the node's consumer budget (workers x per-worker budget) is in use. */
  get consumerShare(): number {
    return this.consumers / (this.#workers.length * this.#options.maxConsumers);
  }

  /** The worker with the fewest consumers, optionally among some only. */
  leastLoaded(among: readonly MediaWorker[] = this.#workers): MediaWorker {
    const [first, ...rest] = among;
    if (!first) throw new Error('WorkerPool has no workers');
    return rest.reduce((best, w) => (w.consumers < best.consumers ? w : best), first);
  }

  hasCapacity(worker: MediaWorker): boolean {
    return worker.consumers < this.#options.maxConsumers;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.worker.close();
  }

  async #spawn(index: number): Promise<MediaWorker> {
    const { listenIp, announcedAddress, portBase, enableTcp, logger } = this.#options;
    const worker = await withoutSignalHandlers(() =>
      mediasoup.createWorker({ logLevel: 'warn', appData: { index } }),
    );
    const port = portBase + index;
    const listenInfos: types.TransportListenInfo[] = [
      { protocol: 'udp', ip: listenIp, announcedAddress, port },
    ];
    if (enableTcp) listenInfos.push({ protocol: 'tcp', ip: listenIp, announcedAddress, port });
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({ listenInfos });
    } catch (error) {
      worker.close();
      throw new Error(`worker ${index}: cannot listen on ${listenIp}:${port}: ${(error as Error).message}`);
    }
    worker.on('died', (error) => {
      logger.error({ err: error, worker: index, pid: worker.pid }, 'mediasoup worker died');
      if (this.#closed) return;
      this.emit('workerdied', index, error);
      this.#spawn(index).then(
        (replacement) => {
          if (this.#closed) return replacement.worker.close();
          this.#workers[index] = replacement;
          logger.info({ worker: index, pid: replacement.pid }, 'mediasoup worker replaced');
        },
        (err) => logger.error({ err, worker: index }, 'could not replace dead mediasoup worker'),
      );
    });
    logger.info({ worker: index, pid: worker.pid, port, tcp: enableTcp }, 'mediasoup worker ready');
    const plain = this.#options.allowPlainRtp
      ? ({
          protocol: 'udp',
          ip: listenIp,
          announcedAddress,
          portRange: this.#options.plainPortRange,
        } as const)
      : undefined;
    return new MediaWorker(index, worker, webRtcServer, this.#options.iceConsentTimeoutSeconds, plain);
  }
}
