import type { Source } from '@kaskade/protocol';
import type { EdgeSession } from './EdgeSession.ts';
import type { LocalPublication, PublishOptions } from './types.ts';

/**
 * A local track the application published. It outlives sessions: each session the room
 * joins produces it again, so its id is the producer of the session that speaks now.
 */
export class Publication implements LocalPublication {
  readonly source: Source;
  readonly track: MediaStreamTrack;
  readonly simulcast: boolean;
  paused = false;
  readonly #current: () => EdgeSession | undefined;

  constructor(track: MediaStreamTrack, options: PublishOptions, current: () => EdgeSession | undefined) {
    this.source = options.source;
    this.track = track;
    this.simulcast = options.simulcast ?? options.source === 'camera';
    this.#current = current;
  }

  get id(): string | undefined {
    return this.#current()?.producer(this.source)?.id;
  }
}

/**
 * What this client publishes, one publication per source. The list is the room's, not a
 * session's: whichever session speaks for the room produces all of it (again after a
 * reconnect or a migration), and a publication made while no session is open waits for one.
 */
export class Publications {
  readonly #current: () => EdgeSession | undefined;
  readonly #bySource = new Map<Source, Publication>();

  /** `current`: the session that speaks for the room now. */
  constructor(current: () => EdgeSession | undefined) {
    this.#current = current;
  }

  get list(): LocalPublication[] {
    return [...this.#bySource.values()];
  }

  async publish(track: MediaStreamTrack, options: PublishOptions): Promise<LocalPublication> {
    if (this.#bySource.has(options.source)) throw new Error(`${options.source} is published already`);
    const publication = new Publication(track, options, this.#current);
    this.#bySource.set(options.source, publication);
    const session = this.#current();
    // Without an open session it is published on the next (re)connect.
    if (!session?.channel.open) return publication;
    try {
      await session.produce(publication);
    } catch (error) {
      this.#bySource.delete(options.source);
      throw error;
    }
    return publication;
  }

  async unpublish(source: Source): Promise<void> {
    if (!this.#bySource.delete(source)) return;
    await this.#current()?.unpublish(source);
  }

  async setPaused(source: Source, paused: boolean): Promise<void> {
    const publication = this.#bySource.get(source);
    if (!publication) throw new Error(`${source} is not published`);
    publication.paused = paused;
    await this.#current()?.setPaused(source, paused);
  }

  stats(source: Source): Promise<RTCStatsReport> {
    const producer = this.#current()?.producer(source);
    if (!producer) throw new Error(`${source} is not published`);
    return producer.getStats();
  }

  /** A session that just joined publishes everything there is, one after the other. */
  async produceAll(session: EdgeSession): Promise<void> {
    for (const publication of this.#bySource.values()) await session.produce(publication);
  }

  /**
   * A moderator paused (microphone, camera: it stays published, paused) or closed (screen:
   * the share is over) what we publish of `source` at the edge; our side follows.
   */
  heldByModerator(source: Source): void {
    const publication = this.#bySource.get(source);
    if (!publication) return;
    if (source === 'screen') {
      this.#bySource.delete(source);
      this.#current()?.closedByModerator(source);
      return;
    }
    publication.paused = true;
    this.#current()?.pausedByModerator(source);
  }

  /** Moved to the audience: the edge closed what we published; nothing is published any more. */
  stopAll(): void {
    this.#bySource.clear();
    this.#current()?.stopPublishing();
  }
}
