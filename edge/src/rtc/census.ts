import type { MediaWorker } from './WorkerPool.ts';

/** What one worker holds, by its own dump. */
export interface WorkerCounts {
  index: number;
  pid: number;
  routers: number;
  transports: number;
  producers: number;
  consumers: number;
}

/**
 * Counts what each worker really holds, from the worker's own dump (not from our
 * bookkeeping), so leaks in our bookkeeping show up.
 */
export async function takeCensus(workers: readonly MediaWorker[]): Promise<WorkerCounts[]> {
  return Promise.all(
    workers.map(async (w) => {
      const counts = { routers: 0, transports: 0, producers: 0, consumers: 0 };
      const dump = await w.worker.dump();
      counts.routers = dump.routerIds.length;
      for (const router of w.routers) {
        const r = await router.dump();
        counts.transports += r.transportIds.length;
        counts.producers += r.mapProducerIdConsumerIds.length;
        counts.consumers += r.mapConsumerIdProducerId.length;
      }
      return { index: w.index, pid: w.pid, ...counts };
    }),
  );
}
