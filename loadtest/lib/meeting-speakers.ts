import type { MeetingParticipant } from './meeting.ts';
import type { SpeakerSwitch } from './meeting-stats.ts';

export const SPEAKING_DBOV = -20;
export const SILENT_DBOV = -127;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A rotating few speak: every `periodMs` the speaker falls silent and, after a pause
 * longer than the edges' hold, the next one unmutes and speaks; the `unmuted` most
 * recent speakers stay unmuted (silent), the rest are muted. Speakers alternate between
 * regions, so every switch is news for the other region.
 */
export class SpeakerRotation {
  readonly switches: SpeakerSwitch[] = [];
  readonly #order: MeetingParticipant[];
  readonly #periodMs: number;
  readonly #unmuted: number;
  #running: Promise<void> | undefined;
  #stopped = false;
  #next = 0;

  constructor(
    participants: MeetingParticipant[],
    { periodMs, unmuted }: { periodMs: number; unmuted: number },
  ) {
    this.#order = interleaveRegions(participants);
    this.#periodMs = periodMs;
    this.#unmuted = Math.max(1, unmuted);
  }

  start(): void {
    this.#stopped = false;
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
  }

  /** Stops after the switch under way; the speaker falls silent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #run(): Promise<void> {
    const recent: MeetingParticipant[] = [];
    while (!this.#stopped) {
      const started = performance.now();
      const speaker = this.#order[this.#next++ % this.#order.length]!;
      recent.at(-1)?.bot.setAudioLevel(SILENT_DBOV);
      // Past the hold: the next speaker takes over at once; the random part samples
      // every phase of the edges' level intervals.
      await sleep(1000 + Math.random() * 250);
      await speaker.setMuted(false, SILENT_DBOV);
      speaker.bot.setAudioLevel(SPEAKING_DBOV);
      this.switches.push({ participantId: speaker.id, region: speaker.region, at: performance.now() });
      if (recent.includes(speaker)) recent.splice(recent.indexOf(speaker), 1);
      recent.push(speaker);
      while (recent.length > this.#unmuted) await recent.shift()!.setMuted(true);
      await sleep(Math.max(0, this.#periodMs - (performance.now() - started)));
    }
    recent.at(-1)?.bot.setAudioLevel(SILENT_DBOV);
  }
}

/** Participants in turns of region (eu, us, eu, us, ...), each region in join order. */
export function interleaveRegions<T extends { region: string }>(participants: T[]): T[] {
  const byRegion = new Map<string, T[]>();
  for (const p of participants) byRegion.set(p.region, [...(byRegion.get(p.region) ?? []), p]);
  const queues = [...byRegion.values()];
  const out: T[] = [];
  for (let i = 0; out.length < participants.length; i++)
    for (const queue of queues) if (i < queue.length) out.push(queue[i]!);
  return out;
}
