import type { Logger } from 'pino';
import { Room, type RoomOptions } from './Room.ts';
import type { WorkerPool } from './WorkerPool.ts';

/** The rooms of this edge by name; concurrent first joins create one room. */
export class RoomManager {
  readonly #rooms = new Map<string, Promise<Room>>();
  readonly #open = new Map<string, Room>();
  readonly #pool: WorkerPool;
  readonly #timing: Pick<RoomOptions, 'emptyGraceMs' | 'keyFrameRequestDelayMs' | 'speakers' | 'chat'>;
  readonly #logger: Logger;
  /** Runs on every new room before its first participant joins (the mesh attaches it). */
  onCreate: ((room: Room) => Promise<void>) | undefined;

  constructor(
    pool: WorkerPool,
    timing: Pick<RoomOptions, 'emptyGraceMs' | 'keyFrameRequestDelayMs' | 'speakers' | 'chat'>,
    logger: Logger,
  ) {
    this.#pool = pool;
    this.#timing = timing;
    this.#logger = logger;
  }

  async getOrCreate(name: string): Promise<Room> {
    const existing = this.#rooms.get(name);
    if (existing) {
      const room = await existing;
      if (!room.closed) return room;
    }
    const created = this.#create(name);
    this.#rooms.set(name, created);
    created.catch(() => this.#rooms.get(name) === created && this.#rooms.delete(name));
    return created;
  }

  /** A room that exists on this node now, without waiting for one being created. */
  get(name: string): Room | undefined {
    return this.#open.get(name);
  }

  /** The rooms ready on this node now. */
  openRooms(): Room[] {
    return [...this.#open.values()];
  }

  async rooms(): Promise<Room[]> {
    const settled = await Promise.allSettled(this.#rooms.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** Participants in the rooms open now (rooms still being created not included). */
  get connectedParticipants(): number {
    return this.openRooms().reduce((n, r) => n + r.participantCount, 0);
  }

  async participantCount(): Promise<number> {
    return (await this.rooms()).reduce((n, r) => n + r.participantCount, 0);
  }

  async closeAll(): Promise<void> {
    for (const room of await this.rooms()) room.close('shutdown');
  }

  async #create(name: string): Promise<Room> {
    const room = await Room.create(name, {
      pool: this.#pool,
      ...this.#timing,
      logger: this.#logger,
    });
    this.#open.set(name, room);
    room.observer.once('close', () => {
      if (this.#open.get(name) === room) this.#open.delete(name);
      const entry = this.#rooms.get(name);
      void entry?.then((r) => r === room && this.#rooms.get(name) === entry && this.#rooms.delete(name));
    });
    try {
      await this.onCreate?.(room);
    } catch (error) {
      room.close();
      throw error;
    }
    // Its first join clears this; a join abandoned before then leaves a room that closes.
    room.closeWhenIdle();
    return room;
  }
}
