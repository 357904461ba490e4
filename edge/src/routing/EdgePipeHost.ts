import type { LocalProducer, PipeHost } from '@kaskade/media-node';
import type { types } from 'mediasoup';
import type { RoomManager } from '../rtc/RoomManager.ts';

/**
 * The edge as the pipe machinery's host: links attach to a room's home router, and
 * what the edge sends other nodes is what originates here (an edge never forwards a
 * copy: that is a relay's work).
 */
export class EdgePipeHost implements PipeHost {
  readonly #rooms: RoomManager;

  constructor(rooms: RoomManager) {
    this.#rooms = rooms;
  }

  async routerFor(room: string): Promise<types.Router | undefined> {
    return this.#rooms.get(room)?.homeRouter;
  }

  async producerFor(room: string, producerId: string): Promise<LocalProducer | undefined> {
    return this.#rooms.get(room)?.localProducer(producerId);
  }
}
