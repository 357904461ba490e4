import type { CopyAppData } from '@kaskade/media-node';
import { ALL_LAYERS, demandGrows, layersDemand, NOTHING, sameDemand } from '@kaskade/media-node';
import type { StreamDemand } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';

/** This edge's copy of a remote stream, made and closed by the pipe machinery. */
export type StreamCopy = types.Producer<CopyAppData>;

/** What each viewer's consumer carries: the stream it shows (the origin's producer id) and who watches. */
export interface ViewerAppData extends types.AppData {
  streamId: string;
  participantId: string;
}
export type ViewerConsumer = types.Consumer<ViewerAppData>;

/** What the feeds need from the mesh (the room's link). */
export interface FeedSource {
  /** A copy of a remote stream on the room's home router, over the path the tree names. */
  fetch(streamId: string, originNode: string): Promise<StreamCopy>;
  /** Nobody here consumes the stream any more (the copy may linger). */
  release(streamId: string): void;
  /** What the viewers here want of it: nothing (all paused: pause it upstream), or which layers. */
  setDemand(streamId: string, demand: StreamDemand): Promise<void>;
  /** A copy superseded by a move, now unwatched: close it. */
  retire(copy: StreamCopy): void;
}

export interface RemoteFeedsOptions {
  source: () => FeedSource | undefined;
  /** Tells a local viewer its stream moved to another copy (streamMoved). */
  tellMoved: (participantId: string, streamId: string) => void;
  logger: Logger;
}

interface Feed {
  origin: string;
  /** The copy new consumers take: the one over the path the tree names now. */
  current: StreamCopy | undefined;
  fetching: Promise<StreamCopy> | undefined;
  /** Local viewers' consumers, of the current copy or of one being retired. */
  consumers: Set<ViewerConsumer>;
  /** What was last told upstream (a new copy starts with everything), and a decision waiting. */
  demand: { told: StreamDemand; timer: NodeJS.Timeout | undefined };
  /**
   * Superseded copies whose viewers are moving. Retired as soon as the last one moved;
   * viewers that never do lose it at the machinery's superseded deadline.
   */
  retiring: Set<StreamCopy>;
}

/**
 * How the remote streams of one room reach this edge's viewers: one current copy per
 * stream on the home router, the viewers' consumers of it, and the demand they make.
 * A move (the tree changed, an upstream went silent) is make-before-break: the new
 * copy already carries media when it becomes current; viewers are told to consume
 * again, and the old copy closes once its last viewer moved (or at the pipe
 * machinery's superseded deadline).
 */
export class RemoteFeeds {
  readonly #options: RemoteFeedsOptions;
  readonly #feeds = new Map<string, Feed>();
  #closed = false;

  constructor(options: RemoteFeedsOptions) {
    this.#options = options;
  }

  add(streamId: string, origin: string): void {
    if (this.#feeds.has(streamId)) return;
    this.#feeds.set(streamId, {
      origin,
      current: undefined,
      fetching: undefined,
      consumers: new Set(),
      demand: { told: ALL_LAYERS, timer: undefined },
      retiring: new Set(),
    });
  }

  /** The stream is gone (its origin closed it or died): its copies go with it. */
  remove(streamId: string): void {
    const feed = this.#feeds.get(streamId);
    if (!feed) return;
    this.#feeds.delete(streamId);
    clearTimeout(feed.demand.timer);
    // The current copy too: when its origin died nobody else closes it (no close event
    // comes, and its viewers' consumers closing finds no feed to release).
    const copies = feed.current ? [feed.current, ...feed.retiring] : [...feed.retiring];
    for (const copy of copies) this.#options.source()?.retire(copy);
  }

  /** The id of the current copy on the home router, fetched on first need. */
  async localCopy(streamId: string): Promise<string | undefined> {
    const feed = this.#feeds.get(streamId);
    if (!feed) return undefined;
    if (feed.current && !feed.current.closed) return feed.current.id;
    const source = this.#options.source();
    if (!source) return undefined;
    feed.fetching ??= source.fetch(streamId, feed.origin).finally(() => {
      feed.fetching = undefined;
    });
    const copy = await feed.fetching;
    if (this.#feeds.get(streamId) !== feed) {
      // Removed while it came: nobody would release it (unless the stream is back meanwhile).
      if (!this.#feeds.has(streamId)) source.retire(copy);
      return undefined;
    }
    if (copy.closed) return undefined;
    if (!feed.current || feed.current.closed) this.#makeCurrent(feed, copy);
    return feed.current!.id;
  }

  /** Whether a local viewer consumes the stream. */
  watched(streamId: string): boolean {
    return (this.#feeds.get(streamId)?.consumers.size ?? 0) > 0;
  }

  /** Whether viewers of the stream are still moving off an older copy. */
  moving(streamId: string): boolean {
    return (this.#feeds.get(streamId)?.retiring.size ?? 0) > 0;
  }

  /**
   * Makes `copy` (already receiving) the stream's current copy; the viewers of the
   * previous one are told to move, and it is retired once they have.
   */
  move(streamId: string, copy: StreamCopy): void {
    const feed = this.#feeds.get(streamId);
    const source = this.#options.source();
    if (!feed || this.#closed) {
      source?.retire(copy);
      return;
    }
    const previous = feed.current;
    this.#makeCurrent(feed, copy);
    // The new upstream sends until told otherwise: what the viewers want is asked again.
    feed.demand.told = ALL_LAYERS;
    if (feed.consumers.size > 0) this.#demandChanged(streamId, feed);
    if (!previous || previous.closed) return;
    const viewers = [...feed.consumers].filter((c) => c.producerId === previous.id);
    if (viewers.length === 0) {
      source?.retire(previous);
      return;
    }
    feed.retiring.add(previous);
    for (const viewer of new Set(viewers.map((c) => c.appData.participantId)))
      this.#options.tellMoved(viewer, streamId);
  }

  consumerOpened(consumer: ViewerConsumer): void {
    const feed = this.#feeds.get(consumer.appData.streamId);
    if (!feed) return;
    feed.consumers.add(consumer);
    consumer.observer.on('pause', () => this.#demandChanged(consumer.appData.streamId, feed));
    consumer.observer.on('resume', () => this.#demandChanged(consumer.appData.streamId, feed));
    consumer.observer.on('layerschange', () => this.#demandChanged(consumer.appData.streamId, feed));
  }

  /** A viewer here prefers other layers of its stream: what crosses the link follows. */
  layersChanged(consumer: ViewerConsumer): void {
    const feed = this.#feeds.get(consumer.appData.streamId);
    if (feed?.consumers.has(consumer)) this.#demandChanged(consumer.appData.streamId, feed);
  }

  consumerClosed(consumer: ViewerConsumer): void {
    const { streamId } = consumer.appData;
    const feed = this.#feeds.get(streamId);
    if (!feed?.consumers.delete(consumer)) return;
    for (const copy of feed.retiring) {
      if (copy.id === consumer.producerId && ![...feed.consumers].some((c) => c.producerId === copy.id))
        this.#retire(feed, copy);
    }
    if (feed.consumers.size > 0) {
      this.#demandChanged(streamId, feed);
      return;
    }
    // A pending decision about the old viewers must not act on the next ones.
    clearTimeout(feed.demand.timer);
    feed.demand = { told: ALL_LAYERS, timer: undefined };
    this.#options.source()?.release(streamId);
  }

  close(): void {
    this.#closed = true;
    for (const streamId of [...this.#feeds.keys()]) this.remove(streamId);
  }

  #makeCurrent(feed: Feed, copy: StreamCopy): void {
    feed.current = copy;
    // The copy goes with its link or its origin; the next consume fetches it again.
    copy.observer.once('close', () => {
      if (feed.current === copy) feed.current = undefined;
      feed.retiring.delete(copy);
    });
  }

  #retire(feed: Feed, copy: StreamCopy): void {
    if (!feed.retiring.delete(copy)) return;
    this.#options.source()?.retire(copy);
  }

  /**
   * Demand-driven pipes: when every local viewer of a remote stream has paused it, or
   * none wants some of its layers any more, for a moment (so a quick toggle costs
   * nothing), the stream or those layers are paused upstream; when a viewer wants
   * something not coming it is asked for at once (a new speaker's video must not wait
   * for the timer), and when the stream was off the viewers get a key frame.
   */
  #demandChanged(streamId: string, feed: Feed): void {
    const demand = feed.demand;
    clearTimeout(demand.timer);
    demand.timer = undefined;
    const decide = (wanted = RemoteFeeds.#wants(feed)): void => {
      if (this.#closed || this.#feeds.get(streamId) !== feed || feed.demand !== demand) return;
      if (sameDemand(wanted, demand.told)) return;
      const was = demand.told;
      demand.told = wanted;
      this.#options
        .source()
        ?.setDemand(streamId, wanted)
        .then(() => {
          if (was.wanted || !wanted.wanted) return;
          for (const c of feed.consumers)
            if (!c.paused && !c.closed && c.kind === 'video') void c.requestKeyFrame();
        })
        .catch((err: unknown) =>
          this.#options.logger.warn({ err, producerId: streamId }, 'upstream demand not changed'),
        );
    };
    const now = RemoteFeeds.#wants(feed);
    if (demandGrows(demand.told, now)) decide(now);
    else demand.timer = setTimeout(() => decide(), 500); // what they want by then
  }

  /**
   * What the viewers here want of a stream: nothing if all paused it; of simulcast, the
   * spatial layer each prefers (none said: the best), and every layer up to it for a
   * viewer that does not receive it yet (its bandwidth may hold it below, on whichever
   * layer it can take). Layer 0 always comes along: mediasoup falls back to it.
   */
  static #wants(feed: Feed): StreamDemand {
    const viewing = [...feed.consumers].filter((c) => !c.paused && !c.closed);
    if (viewing.length === 0) return NOTHING;
    const count = feed.current?.rtpParameters.encodings?.length ?? 1;
    if (count < 2 || viewing.some((c) => c.type !== 'simulcast')) return ALL_LAYERS;
    const layers: number[] = [];
    for (const c of viewing) {
      const preferred = Math.min(c.preferredLayers?.spatialLayer ?? count - 1, count - 1);
      const current = c.currentLayers?.spatialLayer ?? -1;
      for (let l = current >= preferred ? preferred : 0; l <= preferred; l++) layers.push(l);
    }
    return layersDemand(layers);
  }
}
