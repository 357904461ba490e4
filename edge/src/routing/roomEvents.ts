import type { Directory } from '@kaskade/directory';
import type { RoomEvent } from '@kaskade/protocol';
import type { Room } from '../rtc/Room.ts';
import { breakoutEventRows } from './breakoutEvents.ts';
import { chatEventRows } from './chatEvents.ts';
import { moderationEventRows } from './moderationEvents.ts';

/**
 * Room sync as one table: for each kind of room event, what this node writes to the
 * directory before it tells the others, and how an event from another node changes
 * this node's mirror of the room. Adding a kind of event is adding a row (the mapped
 * type makes a missing row a type error); RoomSync does the rest alike for every kind.
 */

export type RoomEventKind = RoomEvent['type'];
export type EventOf = { [E in RoomEvent as E['type']]: E };

/**
 * Where an event came from: a node of the mesh (on Subjects.roomEvents), or the control
 * plane (on Subjects.roomControl, which only control-plane credentials may publish: the
 * room actions it executed, so a row may take such an event as the control plane's word).
 */
export type EventOrigin = 'node' | 'control-plane';

/** The rows of one feature's events, kept in that feature's module beside this table. */
export type RoomEventRows<K extends RoomEventKind> = { [Kind in K]: RoomEventRow<Kind> };

/** What a directory write for an event this node announces is made from. */
export interface WriteContext {
  directory: Directory;
  room: Room;
  /** This node: the entries it writes are its own. */
  nodeId: string;
}

export interface RoomEventRow<K extends RoomEventKind> {
  /**
   * The directory write that goes before the event is published (a reader that
   * subscribed and then read misses neither). None, or undefined: the event lives in the
   * rooms' memory only and goes out at once.
   */
  write?(context: WriteContext, event: EventOf[K]): Promise<unknown> | undefined;
  /** Whether the event goes out once written; without, always (a failed write too: resync repairs it). */
  publishIf?(written: unknown): boolean;
  /**
   * Applies the event from node `sender` (the subject's last token, fixed by its bus
   * credentials) to this node's mirror of the room. Anything about a participant or a
   * stream is taken only from the node hosting it, as the mirror knows it: a node cannot
   * make up, remove or pause what lives on another, nor change someone's role unless it
   * hosts the moderator who asked (it verified the grant) or, once applied, the participant.
   */
  apply(room: Room, event: EventOf[K], sender: string, origin: EventOrigin): void;
  /**
   * Also applied when this node sent it: an event one room of this node publishes on
   * another room (a help request from a breakout here to its main room, maybe here too).
   */
  ownToo?: boolean;
}

const hosts = (room: Room, sender: string, participantId: string) =>
  room.mesh.remoteHostOf(participantId) === sender;
const originates = (room: Room, sender: string, producerId: string) =>
  room.mesh.remoteOriginOf(producerId) === sender;

const coreRows = {
  participantJoined: {
    write: ({ directory, room, nodeId }, { participant }) =>
      directory.addParticipant(room.name, { ...participant, node: nodeId }),
    // A participant of the sender's own: it lives where it says by construction. One
    // known on another node (or here) moved to the sender; a node moves people only to
    // itself, and the old host's later participantLeft is ignored (hosts() is the sender now).
    apply: (room, { participant }, sender) =>
      room.mesh.addRemoteParticipant({ ...participant, node: sender }),
  },
  participantLeft: {
    // Only this node's own entry goes; one that moved elsewhere (a migration, a
    // reconnect) is the new node's, and nobody is told it left.
    write: ({ directory, room, nodeId }, { participantId }) =>
      directory.removeParticipant(room.name, participantId, nodeId),
    publishIf: (removed) => removed !== false,
    apply: (room, { participantId }, sender) => {
      if (hosts(room, sender, participantId)) room.mesh.removeRemoteParticipant(participantId);
    },
  },
  streamAdded: {
    write: ({ directory, room, nodeId }, { stream }) =>
      directory.addStream(room.name, { ...stream, node: nodeId }),
    apply: (room, { stream }, sender) => {
      if (hosts(room, sender, stream.participantId)) room.mesh.addRemoteStream({ ...stream, node: sender });
    },
  },
  streamClosed: {
    write: ({ directory, room }, { producerId }) => directory.removeStream(room.name, producerId),
    apply: (room, { producerId }, sender) => {
      if (originates(room, sender, producerId)) room.mesh.removeRemoteStream(producerId);
    },
  },
  streamPaused: {
    write: ({ directory, room }, { producerId }) => directory.setStreamPaused(room.name, producerId, true),
    apply: (room, { producerId }, sender) => {
      if (originates(room, sender, producerId)) room.mesh.setRemoteStreamPaused(producerId, true);
    },
  },
  streamResumed: {
    write: ({ directory, room }, { producerId }) => directory.setStreamPaused(room.name, producerId, false),
    apply: (room, { producerId }, sender) => {
      if (originates(room, sender, producerId)) room.mesh.setRemoteStreamPaused(producerId, false);
    },
  },
  handRaised: {
    apply: (room, { hand }, sender) => {
      if (hosts(room, sender, hand.participantId)) room.mesh.addRemoteHand(hand);
    },
  },
  handLowered: {
    // Any node may lower a hand: a moderator there lowered it (at worst a hand goes down).
    apply: (room, { participantId }) => room.mesh.removeRemoteHand(participantId),
  },
  roleChanged: {
    // A request goes out as it is; an announcement (no `by`) follows the hosting node's
    // record of the new role in the directory.
    write: ({ directory, room, nodeId }, { participantId, by }) => {
      if (by !== undefined) return undefined;
      const local = [...room.participants()].find((p) => p.id === participantId);
      return local
        ? directory.addParticipant(room.name, { ...local.info(), node: nodeId })
        : Promise.resolve();
    },
    apply: (room, { participantId, role, by }, sender) => {
      if (by !== undefined) {
        // A request: only from the node hosting the moderator, acted on where the participant lives.
        if (hosts(room, sender, by) && room.hostsLocally(participantId))
          room.mesh.onRemoteRoleChanged(participantId, role);
      } else if (hosts(room, sender, participantId)) {
        // The hosting node's announcement of a change it applied.
        room.mesh.onRemoteRoleChanged(participantId, role);
      }
    },
  },
  speakerLevels: {
    // Memory only, at once; the room keeps only levels of microphones originating on the sender.
    apply: (room, { levels }, sender) => room.mesh.onRemoteSpeakerLevels(sender, levels),
  },
} satisfies Partial<RoomEventRows<RoomEventKind>>;

const roomEvents: RoomEventRows<RoomEventKind> = {
  ...coreRows,
  ...moderationEventRows,
  ...chatEventRows,
  ...breakoutEventRows,
};

/** The row for an event's kind (one generic lookup, so each row sees its own event type). */
export function rowFor<K extends RoomEventKind>(event: EventOf[K] & { type: K }): RoomEventRow<K> {
  return roomEvents[event.type];
}
