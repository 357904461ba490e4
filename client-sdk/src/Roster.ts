import type { ParticipantInfo, ResponseData, Role } from '@kaskade/protocol';
import type { RemoteParticipant, RoomEvents } from './types.ts';

/** What the roster needs of its room. */
export interface RosterHost {
  /** This participant's id (once joined): the active speaker may be us. */
  selfId(): string | undefined;
  /** A participant left: its remote tracks go with it. */
  left(participantId: string): void;
  /** The room's events (the roster raises participantJoined, participantLeft, activeSpeaker, speakerOrder, participantCount, participantRoleChanged). */
  emit<E extends keyof RoomEvents>(event: E, ...args: RoomEvents[E]): void;
}

/**
 * Who else is in the room, as the session that speaks for the room tells it: the other
 * participants (in a lecture, the stage only), who spoke last, and how many are there.
 * A participant keeps its object while it stays, across our reconnects and migrations.
 */
export class Roster {
  readonly #host: RosterHost;
  readonly #participants = new Map<string, RemoteParticipant>();
  #activeSpeakerId: string | null = null;
  #speakerOrder: readonly string[] = [];
  #lecture = false;
  #count = 0;

  constructor(host: RosterHost) {
    this.#host = host;
  }

  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#participants;
  }

  get activeSpeakerId(): string | null {
    return this.#activeSpeakerId;
  }

  /** The room's recent speakers (participant ids, ours included), most relevant first. */
  get speakerOrder(): readonly string[] {
    return this.#speakerOrder;
  }

  get lecture(): boolean {
    return this.#lecture;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * A session joined: its picture of the room is the truth now. Those it does not list left
   * while we were away; those we did not know joined.
   */
  joined({
    participants,
    activeSpeaker,
    speakerOrder,
    lecture,
    participantCount,
  }: ResponseData<'join'>): void {
    this.#lecture = lecture;
    this.#count = participantCount;
    const ids = new Set(participants.map((p) => p.id));
    for (const id of [...this.#participants.keys()]) if (!ids.has(id)) this.participantLeft(id);
    for (const p of participants) {
      if (this.#participants.has(p.id)) continue;
      this.#participants.set(p.id, p);
      this.#host.emit('participantJoined', p);
    }
    this.speaker(activeSpeaker);
    const order = speakerOrder ?? [];
    const same =
      order.length === this.#speakerOrder.length && order.every((id, i) => this.#speakerOrder[i] === id);
    if (!same) this.speakersOrdered(order);
  }

  /** The room's speaker order changed. */
  speakersOrdered(participantIds: string[]): void {
    this.#speakerOrder = participantIds;
    this.#host.emit('speakerOrder', participantIds);
  }

  participantJoined(p: ParticipantInfo): void {
    const known = this.#participants.has(p.id);
    this.#participants.set(p.id, p);
    if (!known) this.#host.emit('participantJoined', p);
  }

  participantLeft(participantId: string): void {
    const p = this.#participants.get(participantId);
    if (!p) return;
    this.#participants.delete(participantId);
    this.#host.left(participantId);
    this.#host.emit('participantLeft', p);
  }

  /** Someone (possibly us) spoke last; a participant we do not know yet is not announced. */
  speaker(participantId: string | null): void {
    this.#activeSpeakerId = participantId;
    const isSelf = participantId !== null && participantId === this.#host.selfId();
    const participant =
      participantId === null || isSelf ? null : (this.#participants.get(participantId) ?? null);
    if (participantId !== null && !isSelf && !participant) return;
    this.#host.emit('activeSpeaker', participant, isSelf);
  }

  countChanged(count: number): void {
    this.#count = count;
    this.#host.emit('participantCount', count);
  }

  /** Another participant's role changed (our own is the room's business). */
  roleChanged(participantId: string, role: Role): void {
    const participant = this.#participants.get(participantId);
    if (!participant) return;
    participant.role = role;
    this.#host.emit('participantRoleChanged', participant);
  }
}
