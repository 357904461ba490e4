import type { NotificationData, NotificationName, ParticipantInfo } from '@kaskade/protocol';
import type { Participant } from './Participant.ts';

/** Who a notification goes to. */
export type Recipients = (participant: Participant) => boolean;

const everyone: Recipients = () => true;

/**
 * The room's participants on this node, and the one way news reaches them. Every
 * collaborator of the room that tells local participants something (streams, stage,
 * active speaker, the mirror of other nodes) goes through here, so a feature added
 * later fans out the same way.
 */
export class LocalRoster {
  readonly #participants = new Map<string, Participant>();

  get size(): number {
    return this.#participants.size;
  }

  get(participantId: string): Participant | undefined {
    return this.#participants.get(participantId);
  }

  has(participantId: string): boolean {
    return this.#participants.has(participantId);
  }

  values(): IterableIterator<Participant> {
    return this.#participants.values();
  }

  /** The participant on this node with this identity, if any. */
  withIdentity(identity: string): Participant | undefined {
    return [...this.#participants.values()].find((p) => p.identity === identity);
  }

  infos(): ParticipantInfo[] {
    return [...this.#participants.values()].map((p) => p.info());
  }

  add(participant: Participant): void {
    this.#participants.set(participant.id, participant);
  }

  /** Removes `participant` if it still holds its id (a resumed session may hold it now); answers whether it did. */
  remove(participant: Participant): boolean {
    if (this.#participants.get(participant.id) !== participant) return false;
    this.#participants.delete(participant.id);
    return true;
  }

  notifyAll<N extends NotificationName>(name: N, data: NotificationData<N>, to: Recipients = everyone): void {
    for (const p of this.#participants.values()) if (to(p)) p.notify(name, data);
  }

  /** Tells everyone but `from` (the participant the news is about). */
  notifyOthers<N extends NotificationName>(
    from: Participant,
    name: N,
    data: NotificationData<N>,
    to: Recipients = everyone,
  ): void {
    this.notifyAll(name, data, (p) => p !== from && to(p));
  }
}
