import type { Grants, HandInfo, ParticipantInfo, Role, Source } from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { LocalRoster } from './LocalRoster.ts';
import type { Participant } from './Participant.ts';
import type { RemoteRoster } from './RemoteRoster.ts';

/** What a promotion lets a participant publish when its token grants no publishing of its own. */
export const STAGE_SOURCES: readonly Source[] = ['camera', 'microphone', 'screen'];

/**
 * The room's stage policy, the one place it is written: on stage a participant
 * publishes what its token grants; one whose token grants no publishing, once
 * promoted, publishes the sources its token names in publishSources, or else
 * STAGE_SOURCES, never more.
 */
export function stageGrants(token: Grants): Grants {
  if (token.publish) return token;
  return { ...token, publish: true, publishSources: token.publishSources ?? [...STAGE_SOURCES] };
}

/** What the stage tells the other nodes of the room. */
export interface StageLink {
  handRaised(hand: HandInfo): void;
  handLowered(participantId: string): void;
  /**
   * A role change: asked by moderator `by` of the node hosting the participant, or
   * (no `by`) announced by that node once applied.
   */
  roleChanged(participantId: string, role: Role, by: string | undefined): void;
}

export interface StageOptions {
  local: LocalRoster;
  remote: RemoteRoster;
  link: () => StageLink | undefined;
}

/**
 * Stage and audience: who is on stage, the raised hands, moderators moving people
 * between the two (and paging through everyone to find them), and how presence is
 * announced. In lecture mode (any lecture token turns it on) only the stage is
 * announced one by one; the audience comes and goes as a head count, sent at most
 * once a second, instead of a notification to everyone per member.
 */
export class Stage {
  readonly #options: StageOptions;
  #lecture = false;
  readonly #hands = new Map<string, HandInfo>();
  #countTimer: NodeJS.Timeout | undefined;
  #lastCount = -1;
  #closed = false;

  constructor(options: StageOptions) {
    this.#options = options;
  }

  get lecture(): boolean {
    return this.#lecture;
  }

  startLecture(): void {
    this.#lecture = true;
  }

  /** In a lecture only the stage is announced one by one; the audience is a count. */
  announced(p: { role: Role }): boolean {
    return !this.#lecture || p.role === 'stage';
  }

  /** Everyone in the room, on every node. */
  get headCount(): number {
    return this.#options.local.size + this.#options.remote.size;
  }

  /** Everyone else in the room a participant is told of, on this node or another. */
  announcedTo(participant: Participant): ParticipantInfo[] {
    return this.#everyone().filter((p) => p.id !== participant.id && this.announced(p));
  }

  /** Moderators page through everyone (ordered by id): in a lecture, how they find the audience. */
  listParticipants(by: Participant, after: string | undefined, limit = 100) {
    if (!by.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators list the participants');
    const all = this.#everyone()
      .filter((p) => after === undefined || p.id > after)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const page = all.slice(0, limit);
    return { participants: page, next: all.length > limit ? page[page.length - 1]!.id : null };
  }

  /** Someone came into the room (told before a local participant is in the roster). */
  arrived(info: ParticipantInfo): void {
    if (this.announced(info)) this.#options.local.notifyAll('participantJoined', info);
    this.headCountChanged();
  }

  /** Someone went out of the room (told once it is out of the roster; its hand is the caller's). */
  departed(info: ParticipantInfo): void {
    if (this.announced(info)) this.#options.local.notifyAll('participantLeft', { participantId: info.id });
    this.headCountChanged();
  }

  /** The count of everyone in the room, sent in a lecture at most once a second. */
  headCountChanged(): void {
    if (!this.#lecture || this.#countTimer || this.#closed) return;
    this.#countTimer = setTimeout(() => {
      this.#countTimer = undefined;
      const count = this.headCount;
      if (count === this.#lastCount) return;
      this.#lastCount = count;
      this.#options.local.notifyAll('participantCount', { count });
    }, 1000);
  }

  raiseHand(participant: Participant): void {
    if (participant.role !== 'audience')
      throw new KaskadeError('INVALID_STATE', 'only the audience raises hands');
    if (this.#hands.has(participant.id)) return;
    const hand = { participantId: participant.id, name: participant.name, raisedAt: Date.now() };
    this.#addHand(hand);
    this.#options.link()?.handRaised(hand);
  }

  lowerHand(by: Participant, participantId = by.id): void {
    if (participantId !== by.id && !by.grants.moderate) {
      throw new KaskadeError('FORBIDDEN', "only moderators lower someone else's hand");
    }
    this.dropHand(participantId, true);
  }

  hands(by: Participant): HandInfo[] {
    if (!by.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators see the raised hands');
    return [...this.#hands.values()].sort((a, b) => a.raisedAt - b.raisedAt);
  }

  addRemoteHand(hand: HandInfo): void {
    if (this.#options.local.has(hand.participantId) || this.#hands.has(hand.participantId)) return;
    this.#addHand(hand);
  }

  /** A hand goes down (`tellOthers`: this node speaks for the participant). */
  dropHand(participantId: string, tellOthers: boolean): void {
    if (!this.#hands.delete(participantId)) return;
    this.#options.local.notifyAll('handLowered', { participantId }, (p) => Boolean(p.grants.moderate));
    if (tellOthers) this.#options.link()?.handLowered(participantId);
  }

  /** A moderator promotes or demotes someone, on this node or another. */
  setRole(by: Participant, participantId: string, role: Role): void {
    if (!by.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators change roles');
    const local = this.#options.local.get(participantId);
    if (local) {
      this.#applyRole(local, role);
      return;
    }
    if (!this.#options.remote.has(participantId)) {
      throw new KaskadeError('NOT_FOUND', `no participant ${participantId}`);
    }
    this.#options.link()?.roleChanged(participantId, role, by.id);
  }

  /** A role change from another node: applied here if the participant is here, else noted and announced. */
  onRemoteRoleChanged(participantId: string, role: Role): void {
    const local = this.#options.local.get(participantId);
    if (local) {
      this.#applyRole(local, role);
      return;
    }
    const info = this.#options.remote.setRole(participantId, role);
    if (!info) return;
    this.dropHand(participantId, false);
    this.#announceRole(info, undefined);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#countTimer);
  }

  #everyone(): ParticipantInfo[] {
    return [...this.#options.local.infos(), ...this.#options.remote.infos()];
  }

  #addHand(hand: HandInfo): void {
    this.#hands.set(hand.participantId, hand);
    this.#options.local.notifyAll('handRaised', hand, (p) => Boolean(p.grants.moderate));
  }

  #applyRole(participant: Participant, role: Role): void {
    if (participant.role === role) return;
    participant.setRole(role);
    this.dropHand(participant.id, true);
    this.#announceRole(participant.info(), participant);
    this.#options.link()?.roleChanged(participant.id, role, undefined);
  }

  /** Tells the room about a role change: in a lecture, as the stage roster changing. */
  #announceRole(info: ParticipantInfo, except: Participant | undefined): void {
    for (const p of this.#options.local.values()) {
      if (p === except) continue;
      if (!this.#lecture) p.notify('roleChanged', { participantId: info.id, role: info.role });
      else if (info.role === 'stage') p.notify('participantJoined', info);
      else p.notify('participantLeft', { participantId: info.id });
    }
  }
}
