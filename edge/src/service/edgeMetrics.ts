import { Counter, Gauge, type Registry } from 'prom-client';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { WorkerPool } from '../rtc/WorkerPool.ts';

/** The edge's own metrics: sessions and what its workers carry, read when scraped. */
export class EdgeMetrics {
  readonly joins: Counter<'result'>;
  readonly websockets: Gauge;

  constructor(registry: Registry, pool: WorkerPool, rooms: RoomManager) {
    this.joins = new Counter({
      name: 'kaskade_joins_total',
      help: 'Join requests on this edge by result (ok, unauthorized, error)',
      labelNames: ['result'],
      registers: [registry],
    });
    // Every label value present from the start: the series set never changes at run time.
    for (const result of ['ok', 'unauthorized', 'error']) this.joins.inc({ result }, 0);
    this.websockets = new Gauge({
      name: 'kaskade_websocket_connections',
      help: 'Open signaling WebSockets',
      registers: [registry],
    });
    new Gauge({
      name: 'kaskade_rooms',
      help: 'Rooms open on this node',
      registers: [registry],
      collect() {
        this.set(rooms.openRooms().length);
      },
    });
    new Gauge({
      name: 'kaskade_participants',
      help: 'Participants connected to this node',
      registers: [registry],
      collect() {
        this.set(rooms.openRooms().reduce((n, r) => n + r.participantCount, 0));
      },
    });
    new Gauge({
      name: 'kaskade_worker_consumers',
      help: 'Consumers per mediasoup worker',
      labelNames: ['worker'],
      registers: [registry],
      collect() {
        for (const w of pool.workers) this.set({ worker: String(w.index) }, w.consumers);
      },
    });
    new Gauge({
      name: 'kaskade_worker_routers',
      help: 'Routers per mediasoup worker',
      labelNames: ['worker'],
      registers: [registry],
      collect() {
        for (const w of pool.workers) this.set({ worker: String(w.index) }, w.routers.size);
      },
    });
  }
}
