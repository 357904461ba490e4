import type { NotificationData, RequestData } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { ALL_VIDEO, inLastN, type LastNChoice, lastNParticipants, type VideoCandidate } from './LastNRule.ts';
import type { ViewerConsumer } from './RemoteFeeds.ts';

export interface LastNOptions {
  /** The room's recent speakers, most relevant first (the same on every node). */
  speakerOrder: () => readonly string[];
  notify: (data: NotificationData<'videoForwarding'>) => void;
}

/** A video consumer of the viewer, and who wants it paused. */
interface Video {
  candidate: VideoCandidate;
  /** The client's own pause (consumers start paused until the client resumes them). */
  clientPaused: boolean;
  /** Whether the consumer was last told to forward: pause/resume are sent only on a change. */
  forwarding: boolean;
  /** It forwarded a layer since it last began forwarding (a resumed consumer has none until a key frame). */
  layered: boolean;
  /** It forwarded a layer, then lost every layer while nobody paused it: no bandwidth (or no media) for it. */
  starved: boolean;
}

/**
 * One viewer's last-N: which of its video consumers the edge forwards. A consumer
 * forwards only while the client wants it (its pause/resume requests) and last-N
 * chooses it (LastNRule.ts): the rest are paused here, in mediasoup, so their packets
 * never leave the edge. Recomputed when the speaker order, the viewer's choice or its
 * consumers change; once the viewer has chosen, it is told what is on and off, and why.
 * Its consumers close with the participant's transports, so close() only stops it.
 */
export class LastN {
  readonly #options: LastNOptions;
  readonly #videos = new Map<ViewerConsumer, Video>();
  #choice: LastNChoice = ALL_VIDEO;
  /** The last news sent, so an unchanged state is not sent again. */
  #told = '';
  #closed = false;

  constructor(options: LastNOptions) {
    this.#options = options;
  }

  /** A new video consumer (created paused): the client resumes it, last-N decides whether it forwards. */
  add(consumer: ViewerConsumer, candidate: VideoCandidate): void {
    const video: Video = {
      candidate,
      clientPaused: true,
      forwarding: !consumer.paused,
      layered: false,
      starved: false,
    };
    this.#videos.set(consumer, video);
    consumer.observer.once('close', () => {
      this.#videos.delete(consumer);
      this.#tell();
    });
    const senderPausedOrResumed = () => {
      video.layered = video.starved = false;
      this.#tell();
    };
    consumer.on('producerpause', senderPausedOrResumed);
    consumer.on('producerresume', senderPausedOrResumed);
    consumer.on('layerschange', (layers) => this.#layersChanged(consumer, video, layers));
    this.#apply(false);
    // Told once the consume is answered, so the client knows the consumer it hears of.
    setImmediate(() => this.#tell());
  }

  has(consumer: ViewerConsumer): boolean {
    return this.#videos.has(consumer);
  }

  /** The client pauses or resumes one of its video consumers. */
  async setClientPaused(consumer: ViewerConsumer, paused: boolean): Promise<void> {
    const video = this.#videos.get(consumer);
    if (!video) return;
    video.clientPaused = paused;
    await this.#applyTo(consumer, video, this.#chosen());
  }

  /** The viewer's choice; `n` is already within the edge's maximum. */
  set({ n, pinned }: RequestData<'setLastN'>): void {
    this.#choice = { n, pinned: [...new Set(pinned)] };
    this.#told = ''; // the viewer asked: tell it, even if nothing changed
    this.#apply();
  }

  /** The room's speaker order changed. */
  speakerOrderChanged(): void {
    if (this.#choice !== ALL_VIDEO) this.#apply();
  }

  close(): void {
    this.#closed = true;
    this.#videos.clear();
  }

  /** Simulcast only: layers lost while forwarding, and neither side paused it, is a want of bandwidth. */
  #layersChanged(consumer: ViewerConsumer, video: Video, layers: types.ConsumerLayers | undefined): void {
    if (layers) video.layered = true;
    video.starved = !layers && video.layered && video.forwarding && !consumer.producerPaused;
    this.#tell();
  }

  #chosen(): Set<string> {
    const candidates = [...this.#videos.values()].map((v) => v.candidate);
    return lastNParticipants(candidates, this.#options.speakerOrder(), this.#choice);
  }

  #apply(tell = true): void {
    if (this.#closed) return;
    const chosen = this.#chosen();
    for (const [consumer, video] of this.#videos)
      this.#applyTo(consumer, video, chosen).catch(() => undefined); // closed meanwhile: nothing to pause
    if (tell) this.#tell(chosen);
  }

  /** Pauses or resumes one consumer if what it should do changed (mediasoup keeps the order of requests). */
  async #applyTo(consumer: ViewerConsumer, video: Video, chosen: ReadonlySet<string>): Promise<void> {
    const forward = !video.clientPaused && inLastN(video.candidate, chosen);
    if (forward === video.forwarding || consumer.closed) return;
    video.forwarding = forward;
    video.layered = video.starved = false;
    await (forward ? consumer.resume() : consumer.pause());
  }

  /** `chosen` when the caller has it; else computed, only once the viewer has chosen (layer changes call this often). */
  #tell(given?: ReadonlySet<string>): void {
    if (this.#closed || this.#choice === ALL_VIDEO) return;
    const chosen = given ?? this.#chosen();
    const news: NotificationData<'videoForwarding'> = {
      on: [],
      notInLastN: [],
      pausedBySender: [],
      noBandwidth: [],
    };
    for (const [consumer, video] of this.#videos) {
      if (!inLastN(video.candidate, chosen)) news.notInLastN.push(consumer.id);
      else if (consumer.producerPaused) news.pausedBySender.push(consumer.id);
      else if (video.starved) news.noBandwidth.push(consumer.id);
      else news.on.push(consumer.id);
    }
    const text = JSON.stringify(news);
    if (text === this.#told) return;
    this.#told = text;
    this.#options.notify(news);
  }
}
