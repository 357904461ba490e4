import type { ChatEvents } from '@kaskade/protocol';
import type { Static } from 'typebox';
import type { RoomEventRows } from './roomEvents.ts';

type ChatEventKind = Static<(typeof ChatEvents)[number]>['type'];

/**
 * How the room events of chat change this node's rooms (rows of roomEvents.ts). None
 * writes the directory here: the author's or voter's edge stored the message or vote
 * before it answered, and the control plane wrote what it executed before it published.
 * A message or a vote is taken only from the node hosting its author or voter; deletions,
 * channel lists and answered marks only from the control plane.
 */
export const chatEventRows: RoomEventRows<ChatEventKind> = {
  chatMessage: {
    apply: (room, { message }, sender) => {
      if (room.mesh.remoteHostOf(message.from.participantId) === sender) room.chat.deliver(message);
    },
  },
  chatDeleted: {
    apply: (room, { channel, messageId }, _sender, origin) => {
      if (origin === 'control-plane') room.chat.deleted(channel, messageId);
    },
  },
  chatChannels: {
    apply: (room, { channels }, _sender, origin) => {
      if (origin === 'control-plane') room.chat.channelsChanged(channels);
    },
  },
  chatQuestion: {
    apply: (room, { channel, messageId, votes, answered, by }, sender, origin) => {
      const fromVoter = origin === 'node' && by !== undefined && room.mesh.remoteHostOf(by) === sender;
      if (origin === 'control-plane' || fromVoter)
        room.chat.questionChanged({ channel, messageId, votes, answered });
    },
  },
};
