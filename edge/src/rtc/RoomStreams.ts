import type { RemoteStream, Source, StreamInfo } from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { LocalRoster } from './LocalRoster.ts';
import type { Participant, StreamDirectory } from './Participant.ts';
import type { RemoteFeeds, ViewerConsumer } from './RemoteFeeds.ts';
import type { RoomRouter } from './RoomRouter.ts';
import type { RoomRouters } from './RoomRouters.ts';

export interface Stream {
  info: StreamInfo;
  /** The router holding the local producer (remote streams reach the home router through RemoteFeeds). */
  router?: RoomRouter;
  /** The local producer, for streams that originate on this node. */
  producer?: types.Producer;
  /** The origin node, for streams that originate elsewhere. */
  node?: string;
}

/** What the room's streams tell the other nodes. */
export interface StreamLink {
  streamAdded(stream: StreamInfo): void;
  streamClosed(producerId: string): void;
  streamPaused(producerId: string, paused: boolean): void;
}

export interface RoomStreamsOptions {
  local: LocalRoster;
  /** The remote streams' copies and demand: a remote stream's entry here and its feed come and go together. */
  feeds: RemoteFeeds;
  routers: RoomRouters;
  link: () => StreamLink | undefined;
}

/**
 * The streams of the room, those published here and those of other nodes, in one list;
 * their news (a stream published here is told to the local participants and the mesh,
 * one of another node, as the mesh tells it, to the local participants); and bringing
 * any of them to any router of the room, which makes it the participants' directory.
 */
export class RoomStreams implements StreamDirectory {
  readonly #options: RoomStreamsOptions;
  readonly #streams = new Map<string, Stream>();

  constructor(options: RoomStreamsOptions) {
    this.#options = options;
  }

  stream(producerId: string): Stream | undefined {
    return this.#streams.get(producerId);
  }

  /** Streams a participant may receive: everyone else's. */
  visibleTo(participant: Participant): StreamInfo[] {
    if (!participant.grants.subscribe) return [];
    return [...this.#streams.values()].map((s) => s.info).filter((s) => s.participantId !== participant.id);
  }

  /** Streams that originate on this node. */
  local(): StreamInfo[] {
    return [...this.#streams.values()].flatMap((s) => (s.producer ? [s.info] : []));
  }

  remote(): { producerId: string; node: string; paused: boolean }[] {
    return [...this.#streams.values()].flatMap((s) =>
      s.node ? [{ producerId: s.info.producerId, node: s.node, paused: s.info.paused }] : [],
    );
  }

  /** Whether a participant (of this node or another) has a stream of `source` in the room. */
  has(participantId: string, source: Source): boolean {
    for (const s of this.#streams.values())
      if (s.info.participantId === participantId && s.info.source === source) return true;
    return false;
  }

  /** The node a remote stream originates on. */
  originOf(producerId: string): string | undefined {
    return this.#streams.get(producerId)?.node;
  }

  /**
   * Brings a stream to `target` and answers the id it has there: the producer's own for
   * a local stream, the current copy's for a remote one (fetched through the mesh).
   */
  async bringToRouter(producerId: string, target: RoomRouter): Promise<string> {
    const { feeds, routers } = this.#options;
    const stream = this.#streams.get(producerId);
    if (!stream) throw new KaskadeError('NOT_FOUND', `no stream ${producerId}`);
    const localId = stream.producer ? producerId : await feeds.localCopy(producerId);
    const source = stream.producer ? stream.router : routers.home;
    // The copy went again while we waited (its pipe moved): the client may retry.
    if (localId === undefined || !source)
      throw new KaskadeError('UNAVAILABLE', `stream ${producerId} is moving; try again`);
    await routers.pipe(localId, source, target);
    return localId;
  }

  /** A stream that originates here, on the home router (brought there if needed), for the relay. */
  async localProducer(producerId: string) {
    const stream = this.#streams.get(producerId);
    if (!stream?.producer) return undefined;
    await this.bringToRouter(producerId, this.#options.routers.home);
    return {
      producer: stream.producer,
      source: stream.info.source,
      participantId: stream.info.participantId,
    };
  }

  /** A viewer here consumes a stream: a remote stream's demand follows its viewers. */
  consumerOpened(consumer: ViewerConsumer): void {
    this.#options.feeds.consumerOpened(consumer);
  }

  consumerClosed(consumer: ViewerConsumer): void {
    this.#options.feeds.consumerClosed(consumer);
  }

  consumerLayersChanged(consumer: ViewerConsumer): void {
    this.#options.feeds.layersChanged(consumer);
  }

  /** A stream a participant here published; it stays listed until its producer closes. */
  publish(owner: Participant, producer: types.Producer, source: Source): void {
    const { local, link } = this.#options;
    const info: StreamInfo = {
      producerId: producer.id,
      participantId: owner.id,
      kind: producer.kind,
      source,
      paused: producer.paused,
      simulcast: producer.type === 'simulcast',
    };
    this.#streams.set(producer.id, { info, router: owner.router, producer });
    local.notifyOthers(owner, 'streamAdded', info, (p) => p.grants.subscribe);
    link()?.streamAdded(info);
    producer.observer.on('pause', () => {
      info.paused = true;
      local.notifyOthers(owner, 'streamPaused', { producerId: producer.id });
      link()?.streamPaused(producer.id, true);
    });
    producer.observer.on('resume', () => {
      info.paused = false;
      local.notifyOthers(owner, 'streamResumed', { producerId: producer.id });
      link()?.streamPaused(producer.id, false);
    });
    producer.observer.once('close', () => {
      this.#streams.delete(producer.id);
      local.notifyOthers(owner, 'streamClosed', { producerId: producer.id });
      link()?.streamClosed(producer.id);
    });
  }

  addRemote(remote: RemoteStream): void {
    if (this.#streams.has(remote.producerId)) return;
    const { node, ...info } = remote;
    this.#streams.set(remote.producerId, { info, node });
    this.#options.feeds.add(remote.producerId, node);
    // Not to its own publisher's old session here (it moved to the stream's node).
    this.#options.local.notifyAll(
      'streamAdded',
      info,
      (p) => p.grants.subscribe && p.id !== info.participantId,
    );
  }

  removeRemote(producerId: string): void {
    const stream = this.#streams.get(producerId);
    if (!stream?.node) return;
    this.#streams.delete(producerId);
    this.#options.feeds.remove(producerId);
    this.#options.local.notifyAll('streamClosed', { producerId });
  }

  setRemotePaused(producerId: string, paused: boolean): void {
    const stream = this.#streams.get(producerId);
    if (!stream?.node || stream.info.paused === paused) return;
    stream.info.paused = paused;
    this.#options.local.notifyAll(paused ? 'streamPaused' : 'streamResumed', { producerId });
  }
}
