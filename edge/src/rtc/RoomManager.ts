import type { Logger } from 'pino';
import { Room } from './Room.ts';
import type { WorkerPool } from './WorkerPool.ts';

/** The rooms of this edge by name; concurrent first joins create one room. */
export class RoomManager {
  readonly #rooms = new Map<string, Promise<Room>>();
  readonly #pool: WorkerPool;
  readonly #emptyGraceMs: number;
  readonly #logger: Logger;

  constructor(pool: WorkerPool, emptyGraceMs: number, logger: Logger) {
    this.#pool = pool;
    this.#emptyGraceMs = emptyGraceMs;
    this.#logger = logger;
  }

  async getOrCreate(name: string): Promise<Room> {
    const existing = this.#rooms.get(name);
    if (existing) {
      const room = await existing;
      if (!room.closed) return room;
    }
    const created = Room.create(name, {
      pool: this.#pool,
      emptyGraceMs: this.#emptyGraceMs,
      logger: this.#logger,
    });
    this.#rooms.set(name, created);
    created.then(
      (room) =>
        room.observer.once('close', () => this.#rooms.get(name) === created && this.#rooms.delete(name)),
      () => this.#rooms.delete(name),
    );
    return created;
  }

  async rooms(): Promise<Room[]> {
    const settled = await Promise.allSettled(this.#rooms.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  async participantCount(): Promise<number> {
    return (await this.rooms()).reduce((n, r) => n + r.participantCount, 0);
  }

  async closeAll(): Promise<void> {
    for (const room of await this.rooms()) room.close('shutdown');
  }
}
