import { mediaCodecs } from '@kaskade/media-node';
import type { Logger } from 'pino';
import type { RoomRouter } from './RoomRouter.ts';
import type { WorkerPool } from './WorkerPool.ts';

export interface RoomRoutersOptions {
  room: string;
  pool: WorkerPool;
  logger: Logger;
  /** A worker holding one of the routers died: the room cannot go on. */
  onWorkerClose: () => void;
}

/**
 * The routers of one room on this node and how the room spreads over the workers. The
 * first (home) router lives on the least loaded worker; when that worker's consumer
 * budget is spent, newcomers go to a router of the same room on another worker, and
 * streams cross with pipeToRouter (the same-host case of the mesh).
 */
export class RoomRouters {
  readonly #options: RoomRoutersOptions;
  readonly #routers: RoomRouter[] = [];
  /** One pipe per (router, producer), even under concurrent consumes. */
  readonly #pipes = new Map<string, Promise<void>>();
  #placement: Promise<unknown> = Promise.resolve();

  constructor(options: RoomRoutersOptions) {
    this.#options = options;
  }

  /** Creates the home router, on the least loaded worker. */
  async openHome(): Promise<RoomRouter> {
    return this.#add(this.#options.pool.leastLoaded());
  }

  /** The router other nodes' pipe links attach to, and where remote streams arrive. */
  get home(): RoomRouter {
    return this.#routers[0]!;
  }

  /** The router a newcomer goes to. Decisions run one at a time so concurrent joins see each other's routers. */
  forNewcomer(): Promise<RoomRouter> {
    const next = this.#placement.then(
      () => this.#pick(),
      () => this.#pick(),
    );
    this.#placement = next.catch(() => undefined);
    return next;
  }

  /** Makes producer `producerId` of router `source` available on `target` too (once, however many ask). */
  async pipe(producerId: string, source: RoomRouter, target: RoomRouter): Promise<void> {
    if (source === target) return;
    const key = `${target.router.id}:${producerId}`;
    let pipe = this.#pipes.get(key);
    if (!pipe) {
      pipe = source.router.pipeToRouter({ producerId, router: target.router, enableSctp: false }).then(
        ({ pipeProducer }) => {
          // The copy closes with its origin (mediasoup wires that); forget it then.
          pipeProducer?.observer.once('close', () => this.#pipes.delete(key));
        },
        (error) => {
          this.#pipes.delete(key);
          throw error;
        },
      );
      this.#pipes.set(key, pipe);
    }
    await pipe;
  }

  close(): void {
    for (const { router } of this.#routers) router.close();
  }

  async #pick(): Promise<RoomRouter> {
    const { pool } = this.#options;
    const open = this.#routers.find((r) => pool.hasCapacity(r.worker));
    if (open) return open;
    const fresh = pool.workers.filter(
      (w) => pool.hasCapacity(w) && !this.#routers.some((r) => r.worker === w),
    );
    if (fresh.length > 0) return this.#add(pool.leastLoaded(fresh));
    // Every worker is past its budget: keep the room on the least loaded of its own.
    const least = pool.leastLoaded(this.#routers.map((r) => r.worker));
    return this.#routers.find((r) => r.worker === least)!;
  }

  async #add(worker: RoomRouter['worker']): Promise<RoomRouter> {
    const { room, logger } = this.#options;
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { room } });
    const roomRouter = { router, worker };
    this.#routers.push(roomRouter);
    router.on('workerclose', () => {
      logger.error({ worker: worker.index }, 'worker of this room died; closing the room');
      this.#options.onWorkerClose();
    });
    if (this.#routers.length > 1) logger.info({ worker: worker.index }, 'room spread to another worker');
    return roomRouter;
  }
}
