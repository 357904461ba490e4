import type { MeshParticipant, ParticipantInfo, Role } from '@kaskade/protocol';

/**
 * This node's mirror of the room's participants on other nodes, and of the local ones
 * that moved to another node. It holds what the mesh and the directory said, nothing
 * more: telling local participants about it is the room's (through the stage, which
 * decides who is announced).
 */
export class RemoteRoster {
  readonly #participants = new Map<string, MeshParticipant>();
  /**
   * Local participants that joined again on another node (a migration or a reconnect):
   * participant id -> that node. When the session here ends they stay in the room as
   * remote participants, with no leave told to anyone.
   */
  readonly #movedAway = new Map<string, string>();

  get size(): number {
    return this.#participants.size;
  }

  has(participantId: string): boolean {
    return this.#participants.has(participantId);
  }

  values(): MeshParticipant[] {
    return [...this.#participants.values()];
  }

  /** What the room's participants see of them (no node). */
  infos(): ParticipantInfo[] {
    return [...this.#participants.values()].map(withoutNode);
  }

  /** The identity of a participant of another node. */
  identityOf(participantId: string): string | undefined {
    return this.#participants.get(participantId)?.identity;
  }

  /** The node hosting a participant of another node, or the one a local participant moved to. */
  hostOf(participantId: string): string | undefined {
    return this.#participants.get(participantId)?.node ?? this.#movedAway.get(participantId);
  }

  /**
   * Adds a participant of another node and answers whether it is new; one known already
   * has moved to `participant.node`, and only its host changes.
   */
  add(participant: MeshParticipant): boolean {
    const known = this.#participants.get(participant.id);
    if (known) {
      known.node = participant.node;
      return false;
    }
    this.#participants.set(participant.id, participant);
    return true;
  }

  remove(participantId: string): MeshParticipant | undefined {
    const participant = this.#participants.get(participantId);
    this.#participants.delete(participantId);
    return participant;
  }

  /** Notes a new role; answers the participant as announced when its role changed. */
  setRole(participantId: string, role: Role): ParticipantInfo | undefined {
    const participant = this.#participants.get(participantId);
    if (!participant || participant.role === role) return undefined;
    participant.role = role;
    return withoutNode(participant);
  }

  /** A participant hosted here joined again on `node`. */
  movedAway(participantId: string, node: string): void {
    this.#movedAway.set(participantId, node);
  }

  /** A session here ended: the node its participant moved to, if it did (forgotten now). */
  takeMovedAway(participantId: string): string | undefined {
    const node = this.#movedAway.get(participantId);
    this.#movedAway.delete(participantId);
    return node;
  }

  /** A participant joined here: whatever was known of it elsewhere goes. Answers whether it was known. */
  takeOver(participantId: string): boolean {
    this.#movedAway.delete(participantId);
    return this.#participants.delete(participantId);
  }
}

function withoutNode({ node: _node, ...info }: MeshParticipant): ParticipantInfo {
  return info;
}
