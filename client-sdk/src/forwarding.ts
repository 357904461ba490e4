import type { NotificationData } from '@kaskade/protocol';
import type { ForwardingReason, VideoForwarding } from './types.ts';

/**
 * Which remote videos the edge forwards to us, by the SDK's own track identity. The edge
 * speaks of consumer ids (its `videoForwarding` notification, sent whole on every change
 * once last-N is chosen); a track's consumer changes across make-before-break moves, so
 * each track's state is looked up under the consumer that feeds it now, in the news of
 * the session that consumer belongs to. Pure apart from remembering the latest news.
 */

/** The state of each consumer the notification names. */
export function consumerStates(news: NotificationData<'videoForwarding'>): Map<string, VideoForwarding> {
  const states = new Map<string, VideoForwarding>();
  const off = (ids: readonly string[], reason: ForwardingReason) => {
    for (const id of ids) states.set(id, { on: false, reason });
  };
  for (const id of news.on) states.set(id, { on: true });
  off(news.noBandwidth, 'noBandwidth');
  off(news.pausedBySender, 'pausedBySender');
  off(news.notInLastN, 'notInLastN');
  return states;
}

/**
 * A consumer's state: as its edge last told, or, when the edge said nothing of it (last-N
 * not chosen there, or the news not in yet), forwarded unless its sender paused it.
 */
export function forwardingOf(
  told: ReadonlyMap<string, VideoForwarding> | undefined,
  consumerId: string,
  senderPaused: boolean,
): VideoForwarding {
  // Fresh objects, never one shared: WebDriver BiDi (Firefox tests) reads a repeated object back as undefined.
  return told?.get(consumerId) ?? (senderPaused ? { on: false, reason: 'pausedBySender' } : { on: true });
}

export function sameForwarding(a: VideoForwarding | undefined, b: VideoForwarding): boolean {
  return a !== undefined && a.on === b.on && a.reason === b.reason;
}

/** What the tracker needs to know of one remote track. */
export interface ForwardedTrack<S> {
  readonly id: string;
  readonly kind: 'audio' | 'video';
  readonly paused: boolean;
  /** The consumer feeding the track now, and the session (edge) it belongs to. */
  readonly feed: { readonly consumer: { readonly id: string }; readonly session: S };
}

/**
 * The latest news of each session, and the state of the room's video tracks computed
 * from it: `update` answers the whole map when any track's state changed, else undefined.
 */
export class ForwardingTracker<S extends object> {
  readonly #told = new WeakMap<S, Map<string, VideoForwarding>>();
  #states = new Map<string, VideoForwarding>();

  /** A session's edge sent its news (the whole picture: it replaces the previous one). */
  told(session: S, news: NotificationData<'videoForwarding'>): void {
    this.#told.set(session, consumerStates(news));
  }

  /** The state of any remote track (audio: forwarded unless its sender paused it). */
  stateOf(track: ForwardedTrack<S>): VideoForwarding {
    const told = track.kind === 'video' ? this.#told.get(track.feed.session) : undefined;
    return forwardingOf(told, track.feed.consumer.id, track.paused);
  }

  /** The video tracks' states, when one of them changed (or a track came or went) since the last call. */
  update(tracks: Iterable<ForwardedTrack<S>>): ReadonlyMap<string, VideoForwarding> | undefined {
    const next = new Map<string, VideoForwarding>();
    for (const track of tracks) if (track.kind === 'video') next.set(track.id, this.stateOf(track));
    const changed =
      next.size !== this.#states.size ||
      [...next].some(([id, state]) => !sameForwarding(this.#states.get(id), state));
    if (!changed) return undefined;
    this.#states = next;
    return next;
  }
}
