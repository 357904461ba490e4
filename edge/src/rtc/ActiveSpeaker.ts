import type { Source } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { LocalRoster } from './LocalRoster.ts';

export interface ActiveSpeakerOptions {
  local: LocalRoster;
  /** The participant publishing a stream of the room, if the stream is still there. */
  participantOf: (producerId: string) => string | undefined;
  /** Brings a stream to the router the observer lives on. */
  bringHome: (producerId: string) => Promise<unknown>;
  logger: Logger;
}

/**
 * Who speaks in the room, as mediasoup's active speaker observer on the home router
 * hears it from the microphones published on this node. Every local participant is
 * told when it changes; a joining one reads `current`.
 */
export class ActiveSpeaker {
  readonly #options: ActiveSpeakerOptions;
  readonly #observer: types.ActiveSpeakerObserver;
  #current: string | null = null;

  private constructor(observer: types.ActiveSpeakerObserver, options: ActiveSpeakerOptions) {
    this.#options = options;
    this.#observer = observer;
    observer.on('dominantspeaker', ({ producer }) => this.#set(producer.id));
  }

  /** An observer on `home` (it closes with that router). */
  static async create(home: types.Router, options: ActiveSpeakerOptions): Promise<ActiveSpeaker> {
    return new ActiveSpeaker(await home.createActiveSpeakerObserver({ interval: 300 }), options);
  }

  /** The participant who spoke last, or null. */
  get current(): string | null {
    return this.#current;
  }

  /** An audio stream published here: heard from now on. */
  observe(producerId: string): void {
    this.#options
      .bringHome(producerId)
      .then(() => this.#observer.addProducer({ producerId }))
      .catch((err) => {
        if (this.#options.participantOf(producerId) !== undefined)
          this.#options.logger.warn({ err, producerId }, 'active speaker: not observed');
      });
  }

  /** A stream published here closed: a speaker whose microphone went is no longer speaking. */
  streamClosed(participantId: string, source: Source): void {
    if (this.#current === participantId && source === 'microphone') this.#set(null);
  }

  #set(producerId: string | null): void {
    const participantId = producerId === null ? null : (this.#options.participantOf(producerId) ?? null);
    if (participantId === this.#current) return;
    this.#current = participantId;
    this.#options.local.notifyAll('activeSpeaker', { participantId });
  }
}
