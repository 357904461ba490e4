import type { RoomEvent } from '@kaskade/protocol';
import type { Room } from '../rtc/Room.ts';

/**
 * Applies a room event from node `sender` (the subject's last token, fixed by its bus
 * credentials) to this node's mirror of the room. Anything about a participant or a
 * stream is taken only from the node hosting it, as the mirror knows it: a node cannot
 * make up, remove or pause what lives on another, nor change someone's role unless it
 * hosts the moderator who asked (it verified the grant) or, once applied, the participant.
 */
export function applyRoomEvent(room: Room, event: RoomEvent, sender: string): void {
  const hosts = (participantId: string) => room.remoteHostOf(participantId) === sender;
  const originates = (producerId: string) => room.remoteOriginOf(producerId) === sender;
  switch (event.type) {
    case 'participantJoined':
      // A participant of the sender's own: it lives where it says by construction. One
      // known on another node (or here) moved to the sender; a node moves people only to
      // itself, and the old host's later participantLeft is ignored (hosts() is the sender now).
      room.addRemoteParticipant({ ...event.participant, node: sender });
      break;
    case 'participantLeft':
      if (hosts(event.participantId)) room.removeRemoteParticipant(event.participantId);
      break;
    case 'streamAdded':
      if (hosts(event.stream.participantId)) room.addRemoteStream({ ...event.stream, node: sender });
      break;
    case 'streamClosed':
      if (originates(event.producerId)) room.removeRemoteStream(event.producerId);
      break;
    case 'streamPaused':
    case 'streamResumed':
      if (originates(event.producerId))
        room.setRemoteStreamPaused(event.producerId, event.type === 'streamPaused');
      break;
    case 'handRaised':
      if (hosts(event.hand.participantId)) room.addRemoteHand(event.hand);
      break;
    case 'handLowered':
      // Any node may lower a hand: a moderator there lowered it (at worst a hand goes down).
      room.removeRemoteHand(event.participantId);
      break;
    case 'roleChanged':
      if (event.by !== undefined) {
        // A request: only from the node hosting the moderator, acted on where the participant lives.
        if (hosts(event.by) && room.hostsLocally(event.participantId))
          room.onRemoteRoleChanged(event.participantId, event.role);
      } else if (hosts(event.participantId)) {
        // The hosting node's announcement of a change it applied.
        room.onRemoteRoleChanged(event.participantId, event.role);
      }
      break;
  }
}
