import type { Transport } from 'mediasoup-client/types';
import type { SignalingChannel } from './SignalingChannel.ts';

/** A disconnected transport often recovers by itself; it is restarted only if it is still disconnected this much later. */
const DISCONNECTED_GRACE_MS = 2000;

/**
 * Restarts a transport's ICE over its session's signaling when its connection is lost:
 * at once when it failed, after a grace when it went disconnected. No rejoin: the session
 * and its producers and consumers carry on. `sessionClosed`: the transport's session was
 * closed (replaced), so nothing needs restarting any more.
 */
export function restartIceWhenLost(
  transport: Transport,
  channel: SignalingChannel,
  sessionClosed: () => boolean,
): void {
  const restart = () => {
    if (!channel.open) return; // the room's reconnect replaces this session
    channel
      .request('restartIce', { transportId: transport.id })
      .then(({ iceParameters }) => transport.restartIce({ iceParameters: iceParameters as never }))
      .catch((error) => {
        // A transport closed meanwhile (its session replaced) needs no restart: not worth a warning.
        if (!transport.closed && !sessionClosed()) console.warn('kaskade: ICE restart failed', error);
      });
  };
  transport.on('connectionstatechange', (state) => {
    if (transport.closed || sessionClosed()) return;
    if (state === 'failed') restart();
    if (state === 'disconnected') {
      setTimeout(() => {
        if (!transport.closed && transport.connectionState === 'disconnected') restart();
      }, DISCONNECTED_GRACE_MS);
    }
  });
}
