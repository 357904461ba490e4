import type { SpeakerLevel } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { LocalRoster } from './LocalRoster.ts';
import { MicrophoneLevels } from './MicrophoneLevels.ts';
import {
  type HeardLevel,
  NO_SPEAKERS,
  nextSpeakers,
  type SpeakerRules,
  type Speakers,
  sameOrder,
} from './SpeakerOrder.ts';

/** What the room's speaker levels tell the other nodes. */
export interface SpeakerLink {
  speakerLevels(levels: SpeakerLevel[]): void;
}

/** How speakers are measured and decided (edge configuration). */
export interface SpeakerSettings extends Omit<SpeakerRules, 'staleMs' | 'maxOrder'> {
  /** How often each microphone's level is averaged and reported (mediasoup takes 250 ms at least). */
  intervalMs: number;
}

/** Most participants the speaker order names (the notification's bound is larger). */
const MAX_ORDER = 32;

export interface ActiveSpeakerOptions {
  local: LocalRoster;
  settings: SpeakerSettings;
  /** A stream of the room: its participant and source, and its origin node if it is remote. */
  streamOf: (producerId: string) => { participantId: string; source: string; node?: string } | undefined;
  /** Whether a participant still has a microphone in the room. */
  hasMicrophone: (participantId: string) => boolean;
  /** Brings a stream to the router the observer lives on. */
  bringHome: (producerId: string) => Promise<unknown>;
  link: () => SpeakerLink | undefined;
  /** After local participants were told a new speaker order (last-N follows it). */
  orderChanged: () => void;
  logger: Logger;
}

/** Where levels measured here are kept among those of other nodes. */
const HERE = '';

/**
 * Who speaks in the room, across the mesh. Level meters on the home router
 * (MicrophoneLevels) average the microphones published here; each report goes to the other nodes (only
 * while someone speaks here, and once when it falls silent) and joins theirs. Every node
 * applies the same rule (SpeakerOrder.ts) to the levels it hears, so all agree on the
 * dominant speaker and the recent-speaker order, which every local participant is told.
 */
export class ActiveSpeaker {
  readonly #options: ActiveSpeakerOptions;
  readonly #rules: SpeakerRules;
  #levels!: MicrophoneLevels;
  /** The latest level of every microphone heard, by producer id, with the node that reported it. */
  readonly #heard = new Map<string, HeardLevel & { node: string }>();
  #speakers: Speakers = NO_SPEAKERS;
  /** Re-applies the rule while levels are held, so old ones expire without news. */
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: ActiveSpeakerOptions) {
    this.#options = options;
    const { intervalMs } = options.settings;
    // A reading lives past the sparse meter's window, so one renewed only by it does not lapse between reports.
    const staleMs = MicrophoneLevels.windowMs(intervalMs) + intervalMs;
    this.#rules = { ...options.settings, staleMs, maxOrder: MAX_ORDER };
  }

  /** Level meters on `home` (they close with that router). */
  static async create(home: types.Router, options: ActiveSpeakerOptions): Promise<ActiveSpeaker> {
    const speaker = new ActiveSpeaker(options);
    speaker.#levels = await MicrophoneLevels.create(home, options.settings, (levels) =>
      speaker.#report(levels),
    );
    return speaker;
  }

  /** The participant who spoke last, or null. */
  get current(): string | null {
    return this.#speakers.dominant;
  }

  /** The room's recent speakers, most relevant first. */
  get order(): readonly string[] {
    return this.#speakers.order;
  }

  /** A microphone published here: heard from now on. */
  observe(producerId: string): void {
    this.#options
      .bringHome(producerId)
      .then(() => this.#levels.add(producerId))
      .catch((err) => {
        if (this.#options.streamOf(producerId) !== undefined)
          this.#options.logger.warn({ err, producerId }, 'active speaker: not observed');
      });
  }

  /**
   * Levels another node reports: only for microphones that originate on it, as this
   * node's mirror of the room knows them (never what the report says of itself).
   */
  heardOn(node: string, levels: SpeakerLevel[]): void {
    this.#take(
      node,
      levels.filter(({ producerId }) => {
        const stream = this.#options.streamOf(producerId);
        return stream?.node === node && stream.source === 'microphone';
      }),
    );
  }

  /** A stream closed (here or elsewhere): a speaker whose microphone went is no longer speaking. */
  streamClosed(producerId: string): void {
    if (this.#heard.delete(producerId) || this.#speakers.dominant !== null) this.#decide();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #report(levels: SpeakerLevel[]): void {
    this.#options.link()?.speakerLevels(levels);
    this.#take(HERE, levels);
  }

  /** A node's report replaces what it said before: a microphone it no longer lists is silent. */
  #take(node: string, levels: SpeakerLevel[]): void {
    for (const [producerId, heard] of this.#heard) if (heard.node === node) this.#heard.delete(producerId);
    const now = performance.now();
    for (const { producerId, level } of levels) {
      const participantId = this.#options.streamOf(producerId)?.participantId;
      if (participantId !== undefined) this.#heard.set(producerId, { participantId, level, at: now, node });
    }
    this.#decide();
  }

  #decide(): void {
    const now = performance.now();
    for (const [producerId, heard] of this.#heard)
      if (now - heard.at > this.#rules.staleMs) this.#heard.delete(producerId);
    const previous = this.#speakers;
    const next = nextSpeakers(previous, this.#heard.values(), now, this.#rules, (id) =>
      this.#options.hasMicrophone(id),
    );
    this.#speakers = next;
    if (next.dominant !== previous.dominant)
      this.#options.local.notifyAll('activeSpeaker', { participantId: next.dominant });
    if (!sameOrder(next.order, previous.order)) {
      this.#options.local.notifyAll('speakerOrder', { participantIds: [...next.order] });
      this.#options.orderChanged();
    }
    if (this.#heard.size > 0) {
      this.#timer ??= setInterval(() => this.#decide(), this.#options.settings.intervalMs);
    } else {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
