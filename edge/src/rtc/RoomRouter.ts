import type { types } from 'mediasoup';
import type { MediaWorker } from './WorkerPool.ts';

/** One router of a room, on one worker of this node. */
export interface RoomRouter {
  router: types.Router;
  worker: MediaWorker;
}
