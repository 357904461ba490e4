import type { RequestData, ResponseData, RoomActionName } from '@kaskade/protocol';
import type { EdgeSession } from './EdgeSession.ts';
import type { SignalingChannel } from './SignalingChannel.ts';

/**
 * A room action (control-plane/protocol/room-actions.ts) by name: each is a signaling
 * request of the same name, which the edge checks for the `moderate` grant and the
 * control plane executes. The SDK's named moderation, chat and breakout calls wrap it.
 */
export type Act = <N extends RoomActionName>(name: N, params: RequestData<N>) => Promise<ResponseData<N>>;

/** The channel of the session that speaks for the room now, or a clear error between sessions. */
export function channelOf(current: () => EdgeSession | undefined): SignalingChannel {
  const session = current();
  if (!session) throw new Error('not connected');
  return session.channel;
}

/** `act` on whichever session speaks for the room when it is called. */
export function actOn(current: () => EdgeSession | undefined): Act {
  return (name, params) => channelOf(current).request(name, params);
}
