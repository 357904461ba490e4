import type { HandInfo, MeshParticipant, RemoteStream, Role, SpeakerLevel } from '@kaskade/protocol';
import type { ActiveSpeaker } from './ActiveSpeaker.ts';
import type { LocalRoster } from './LocalRoster.ts';
import type { RemoteFeeds, StreamCopy } from './RemoteFeeds.ts';
import type { RemoteRoster } from './RemoteRoster.ts';
import type { RoomStreams } from './RoomStreams.ts';
import type { Stage } from './Stage.ts';

export interface MeshMirrorOptions {
  local: LocalRoster;
  remote: RemoteRoster;
  stage: Stage;
  streams: RoomStreams;
  feeds: RemoteFeeds;
  /** The room's active speaker (made after the mirror, once the home router is open). */
  speaker: () => ActiveSpeaker;
}

/**
 * A room's mirror of the other nodes: their participants, streams, hands, roles and
 * speaker levels, as the mesh's events and the directory tell them. The routing layer
 * feeds it (room.mesh); it hands each piece of news to the collaborator it concerns.
 */
export class MeshMirror {
  readonly #options: MeshMirrorOptions;

  constructor(options: MeshMirrorOptions) {
    this.#options = options;
  }

  /** What the directory knows of the other nodes when the room attaches to the mesh. */
  load(participants: MeshParticipant[], streams: RemoteStream[]): void {
    for (const p of participants) this.addRemoteParticipant(p);
    for (const s of streams) this.addRemoteStream(s);
  }

  remoteParticipants(): MeshParticipant[] {
    return this.#options.remote.values();
  }

  remoteHostOf(participantId: string): string | undefined {
    return this.#options.remote.hostOf(participantId);
  }

  /**
   * A participant of another node. One already known on a third node, or hosted here, has
   * moved to `participant.node` (it joined there with `resume`): only its host changes,
   * nobody is told. Callers pass the node the news came from (the event's sender, or the
   * directory), so a node only ever moves a participant to itself.
   */
  addRemoteParticipant(participant: MeshParticipant): void {
    const { local, remote, stage } = this.#options;
    if (local.has(participant.id)) remote.movedAway(participant.id, participant.node);
    else if (remote.add(participant)) {
      const { node: _node, ...info } = participant;
      stage.arrived(info);
    }
  }

  removeRemoteParticipant(participantId: string): void {
    const { remote, stage } = this.#options;
    const participant = remote.remove(participantId);
    if (!participant) return;
    stage.dropHand(participantId, false);
    stage.departed(participant);
  }

  remoteStreams(): { producerId: string; node: string; paused: boolean }[] {
    return this.#options.streams.remote();
  }

  remoteOriginOf(producerId: string): string | undefined {
    return this.#options.streams.originOf(producerId);
  }

  addRemoteStream(remote: RemoteStream): void {
    this.#options.streams.addRemote(remote);
  }

  removeRemoteStream(producerId: string): void {
    this.#options.streams.removeRemote(producerId);
    this.#options.speaker().streamClosed(producerId);
  }

  /** Speaker levels node `sender` measured (see ActiveSpeaker.heardOn). */
  onRemoteSpeakerLevels(sender: string, levels: SpeakerLevel[]): void {
    this.#options.speaker().heardOn(sender, levels);
  }

  setRemoteStreamPaused(producerId: string, paused: boolean): void {
    this.#options.streams.setRemotePaused(producerId, paused);
  }

  /** A node died: its participants and streams are gone. */
  removeNode(nodeId: string): void {
    for (const s of this.remoteStreams()) if (s.node === nodeId) this.removeRemoteStream(s.producerId);
    for (const p of this.remoteParticipants()) if (p.node === nodeId) this.removeRemoteParticipant(p.id);
  }

  /** Make-before-break: see RemoteFeeds.move. */
  moveRemoteStream(producerId: string, copy: StreamCopy): void {
    this.#options.feeds.move(producerId, copy);
  }

  /** Whether a local viewer watches a remote stream, and whether one is still moving to a new copy. */
  remoteStreamViewing(producerId: string): { watched: boolean; moving: boolean } {
    const { feeds } = this.#options;
    return { watched: feeds.watched(producerId), moving: feeds.moving(producerId) };
  }

  addRemoteHand(hand: HandInfo): void {
    this.#options.stage.addRemoteHand(hand);
  }

  removeRemoteHand(participantId: string): void {
    this.#options.stage.dropHand(participantId, false);
  }

  onRemoteRoleChanged(participantId: string, role: Role): void {
    this.#options.stage.onRemoteRoleChanged(participantId, role);
  }
}
