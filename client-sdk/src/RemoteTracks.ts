import type { NotificationData, StreamInfo } from '@kaskade/protocol';
import type { Consumer, Transport } from 'mediasoup-client/types';
import type { EdgeSession } from './EdgeSession.ts';
import { ForwardingTracker } from './forwarding.ts';
import { RequestError } from './SignalingChannel.ts';
import { newestByKey, streamKey, waitUntilReceiving } from './switching.ts';
import type {
  DisplaySize,
  Quality,
  RemoteParticipant,
  RemoteTrack,
  RoomEvents,
  VideoForwarding,
} from './types.ts';

/** What feeds a RemoteTrack: one consumer on one edge session. */
interface Feed {
  consumer: Consumer;
  session: EdgeSession;
  producerId: string;
}

interface Track extends Omit<RemoteTrack, 'forwarding' | 'displaySize'> {
  forwarding: VideoForwarding;
  displaySize: DisplaySize | undefined;
  /** The spatial layer the application wants (a quality or a display size), given to each new consumer. */
  wantedLayer?: number;
  feed: Feed;
  /** A newer feed being switched to, once it receives. */
  pending?: Feed;
}

/** What the remote tracks need of their room. */
export interface RemoteTracksHost {
  /** The session that speaks for the room now (new consumers are made there only). */
  current(): EdgeSession | undefined;
  participant(id: string): RemoteParticipant | undefined;
  readonly autoSubscribe: boolean;
  /** The room's events (the tracks raise trackAdded, trackRemoved, trackReplaced, trackPaused, trackResumed, videoForwarding). */
  emit<E extends keyof RoomEvents>(event: E, ...args: RoomEvents[E]): void;
}

/** The simulcast layer the edge sends for each quality the application may prefer. */
const QUALITY_LAYER: Record<Quality, number> = { low: 0, medium: 1, high: 2 };

/** The layer for each display size: the stage asks for the top (the edge caps it at the highest the stream has). */
const DISPLAY_LAYER: Record<DisplaySize, number> = { thumbnail: 0, stage: 3 };

/** A consume the edge refused for a while (its pipe moving) is tried again this often, at most. */
const RESUBSCRIBE_ATTEMPTS = 20;

/**
 * The room's remote tracks, by stream key (participant + source), and the streams the room
 * offers now. Owns every consumer: a stream whose key has a track (its publisher came back
 * under a new producer, our own session changed, or the edge moved its path) is switched
 * into that same track make-before-break, so applications keep their objects and tiles.
 */
export class RemoteTracks {
  readonly #host: RemoteTracksHost;
  readonly #tracks = new Map<string, Track>();
  /** Streams the current session offers, by producer id. */
  readonly #streams = new Map<string, StreamInfo>();
  readonly #forwarding = new ForwardingTracker<EdgeSession>();

  constructor(host: RemoteTracksHost) {
    this.#host = host;
  }

  get all(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks;
  }

  /**
   * A session just joined and offers these streams: tracks it does not offer any more went
   * while we were away. Synchronous, so that streams announced while the session sets up
   * build on this picture.
   */
  offer(streams: StreamInfo[]): void {
    this.#streams.clear();
    for (const stream of streams) this.#streams.set(stream.producerId, stream);
    const offered = newestByKey(streams);
    for (const key of [...this.#tracks.keys()]) if (!offered.has(key)) this.drop(key);
  }

  /**
   * Receives what the current session offers (once it can receive): the newest stream of each
   * key switches into its track or becomes a new one. One stream the edge will not give (a
   * consumer cap, a rate limit) must not fail the join: the rest still come.
   */
  async subscribe(): Promise<void> {
    await Promise.all(
      [...newestByKey([...this.#streams.values()]).values()]
        .filter((s) => this.#host.autoSubscribe || this.#tracks.has(streamKey(s)))
        .map((s) => this.#consumeOrRetry(s)),
    );
  }

  // --- Notifications. Those about streams count from the current session only; a session
  // being left still retires its own consumers.

  streamAdded(stream: StreamInfo): void {
    this.#streams.set(stream.producerId, stream);
    // A stream with the key of a track we have is that track coming back (its publisher
    // migrated or reconnected): switched inside the same RemoteTrack.
    if (this.#host.autoSubscribe || this.#tracks.has(streamKey(stream))) void this.#consumeOrRetry(stream);
  }

  /** The edge reaches the stream over another path now: a new consumer, switched to once it receives. */
  streamMoved(producerId: string): void {
    const stream = this.#streams.get(producerId);
    if (stream) void this.#consumeOrRetry(stream, true);
  }

  streamClosed(session: EdgeSession, producerId: string): void {
    if (session === this.#host.current()) this.#streams.delete(producerId);
    for (const t of [...this.#tracks.values()]) {
      if (t.pending?.producerId === producerId && t.pending.session === session) this.#cancelPending(t);
      if (t.feed.producerId !== producerId || t.feed.session !== session) continue;
      // Switching to its successor already: the old feed just retires with the switch.
      if (!t.pending) this.drop(t.id);
    }
  }

  consumerClosed(session: EdgeSession, consumerId: string): void {
    for (const t of [...this.#tracks.values()]) {
      if (t.pending?.consumer.id === consumerId) this.#cancelPending(t);
      if (t.feed.consumer.id !== consumerId || t.pending) continue;
      t.feed.consumer.close(); // gone on the edge: no media will come through it
      // The stream lives on (its pipe or relay went away): take it again shortly, into the same track.
      void this.#resubscribe(t.id, session);
    }
  }

  setPaused(producerId: string, paused: boolean): void {
    const track = [...this.#tracks.values()].find((t) => t.producerId === producerId);
    if (!track || track.paused === paused) return;
    track.paused = paused;
    this.#host.emit(paused ? 'trackPaused' : 'trackResumed', track);
    this.#refreshForwarding();
  }

  /** A session's edge says which of our video consumers it forwards (the whole picture). */
  videoForwarding(session: EdgeSession, news: NotificationData<'videoForwarding'>): void {
    this.#forwarding.told(session, news);
    this.#refreshForwarding();
  }

  setScore(consumerId: string, score: number): void {
    for (const track of this.#tracks.values()) if (track.feed.consumer.id === consumerId) track.score = score;
  }

  // --- Removal

  dropParticipant(participantId: string): void {
    for (const t of [...this.#tracks.values()]) if (t.participant.id === participantId) this.drop(t.id);
  }

  drop(trackId: string): void {
    const track = this.#tracks.get(trackId);
    if (!track) return;
    track.feed.consumer.close();
    this.#cancelPending(track);
    this.#tracks.delete(trackId);
    this.#host.emit('trackRemoved', track);
    this.#refreshForwarding();
  }

  dropAll(): void {
    for (const trackId of [...this.#tracks.keys()]) this.drop(trackId);
    this.#streams.clear();
  }

  // --- What the application asks of a track: on the consumer feeding it now, and on its edge.

  async setEnabled(trackId: string, enabled: boolean): Promise<void> {
    const { consumer, session } = this.#feedOf(trackId);
    if (enabled) consumer.resume();
    else consumer.pause();
    await session.channel.request(enabled ? 'resumeConsumer' : 'pauseConsumer', { consumerId: consumer.id });
  }

  setPreferredQuality(trackId: string, quality: Quality): Promise<void> {
    return this.#want(trackId, QUALITY_LAYER[quality]);
  }

  async setDisplaySize(trackId: string, size: DisplaySize): Promise<void> {
    const track = this.#tracks.get(trackId);
    if (track?.kind !== 'video') throw new Error(`no remote video ${trackId}`);
    track.displaySize = size;
    await this.#want(trackId, DISPLAY_LAYER[size]);
  }

  /** The layer the application wants: asked of the consumer now, and of each that feeds the track later. */
  async #want(trackId: string, spatialLayer: number): Promise<void> {
    const { consumer, session } = this.#feedOf(trackId);
    this.#tracks.get(trackId)!.wantedLayer = spatialLayer;
    await session.channel.request('setPreferredLayers', { consumerId: consumer.id, spatialLayer });
  }

  /** A new consumer feeds the track: it gets the layer the application wanted of the one before. */
  #reapplyLayer(track: Track): void {
    const { wantedLayer, feed } = track;
    if (wantedLayer === undefined || track.kind !== 'video' || !feed.session.channel.open) return;
    void feed.session.channel
      .request('setPreferredLayers', { consumerId: feed.consumer.id, spatialLayer: wantedLayer })
      .catch(() => undefined); // gone meanwhile: its successor gets it
  }

  /** Recomputes each track's forwarding state; the room hears when one changed. */
  #refreshForwarding(): void {
    for (const track of this.#tracks.values()) track.forwarding = this.#forwarding.stateOf(track);
    const changed = this.#forwarding.update(this.#tracks.values());
    if (changed) this.#host.emit('videoForwarding', changed);
  }

  stats(trackId: string): Promise<RTCStatsReport> {
    return this.#feedOf(trackId).consumer.getStats();
  }

  /** The consumer feeding a track now, with the session it belongs to (for requests about it). */
  #feedOf(trackId: string): Feed {
    const feed = this.#tracks.get(trackId)?.feed;
    if (!feed) throw new Error(`no remote track ${trackId}`);
    return feed;
  }

  /**
   * Receives a stream on the current session. A stream whose key has no track yet becomes
   * a new RemoteTrack; one whose key has a track (or `again`: the edge moved it) is switched
   * into that track: the new consumer takes over once it receives.
   */
  async #consume(stream: StreamInfo, again = false): Promise<void> {
    const participant = this.#host.participant(stream.participantId);
    const session = this.#host.current();
    const recv = session?.recv;
    if (!session || !recv || !participant) return;
    const key = streamKey(stream);
    const existing = this.#tracks.get(key);
    const fedBy = (feed: Feed | undefined) =>
      feed?.producerId === stream.producerId && feed.session === session;
    if (existing && !again && (fedBy(existing.feed) || fedBy(existing.pending))) return;
    const answer = await session.channel.request('consume', { producerId: stream.producerId });
    const consumer = await recv.consume({
      id: answer.consumerId,
      producerId: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as Parameters<Transport['consume']>[0]['rtpParameters'],
    });
    const feed: Feed = { consumer, session, producerId: stream.producerId };
    const track = this.#tracks.get(key);
    if (track) {
      if (track.pending) this.#retire(track.pending);
      track.pending = feed;
    }
    try {
      await session.channel.request('resumeConsumer', { consumerId: consumer.id });
    } catch (error) {
      consumer.close();
      if (!(error instanceof RequestError && error.code === 'NOT_FOUND')) throw error;
      // Closed under us already (its pipe moved), maybe before we knew its id: take it again.
      if (track?.pending === feed) track.pending = undefined;
      void this.#resubscribe(key, session, stream.producerId);
      return;
    }
    if (!track) {
      if (this.#tracks.has(key) || session !== this.#host.current()) return void consumer.close();
      const created: Track = {
        id: key,
        producerId: stream.producerId,
        participant,
        kind: answer.kind,
        source: answer.source,
        track: consumer.track,
        stream: new MediaStream([consumer.track]),
        paused: answer.producerPaused,
        score: 10,
        forwarding: { on: true },
        displaySize: undefined,
        setDisplaySize: (size) => this.setDisplaySize(key, size),
        feed,
      };
      created.forwarding = this.#forwarding.stateOf(created);
      this.#tracks.set(key, created);
      this.#host.emit('trackAdded', created);
      this.#refreshForwarding();
      return;
    }
    const superseded = () => track.pending !== feed || this.#tracks.get(key) !== track;
    await waitUntilReceiving(() => consumer.getStats() as never, answer.kind, { cancelled: superseded });
    if (superseded()) return;
    const previous = track.feed;
    track.feed = feed;
    track.pending = undefined;
    track.producerId = stream.producerId;
    track.paused = answer.producerPaused;
    const old = track.track;
    track.stream.removeTrack(old);
    track.stream.addTrack(consumer.track);
    track.track = consumer.track;
    this.#retire(previous);
    this.#reapplyLayer(track);
    this.#host.emit('trackReplaced', track, old);
    this.#refreshForwarding();
  }

  /** Closes a feed that was switched away from (on its edge too, if that session is still open). */
  #retire(feed: Feed): void {
    if (feed.consumer.closed) return;
    feed.consumer.close();
    if (feed.session.channel.open)
      void feed.session.channel
        .request('closeConsumer', { consumerId: feed.consumer.id })
        .catch(() => undefined);
  }

  #cancelPending(track: Track): void {
    if (track.pending) track.pending.consumer.close();
    track.pending = undefined;
  }

  /**
   * #consume, and when the edge could not give the stream just now (NOT_FOUND: the path it
   * came over closed under it, as when a link is replaced; UNAVAILABLE), a few tries more.
   * Any other refusal (a cap, a rate limit, a grant) is the answer: logged, not retried.
   */
  async #consumeOrRetry(stream: StreamInfo, again = false): Promise<void> {
    const session = this.#host.current();
    try {
      await this.#consume(stream, again);
    } catch (error) {
      const transient =
        error instanceof RequestError && (error.code === 'NOT_FOUND' || error.code === 'UNAVAILABLE');
      if (transient && session) void this.#resubscribe(streamKey(stream), session, stream.producerId);
      else console.warn('kaskade: consume failed', error);
    }
  }

  async #resubscribe(trackId: string, session: EdgeSession, producerId?: string): Promise<void> {
    for (let attempt = 0; attempt < RESUBSCRIBE_ATTEMPTS; attempt++) {
      await new Promise((r) => setTimeout(r, 300 + attempt * 200));
      const id = producerId ?? this.#tracks.get(trackId)?.producerId;
      const stream = id === undefined ? undefined : this.#streams.get(id);
      if (!stream || session !== this.#host.current()) return;
      const track = this.#tracks.get(trackId);
      if (track && !track.feed.consumer.closed && track.feed.session === session) return;
      try {
        await this.#consume(stream, true);
        return;
      } catch {
        // its new path is not ready yet
      }
    }
  }
}
