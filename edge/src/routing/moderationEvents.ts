import type { ModerationEvents } from '@kaskade/protocol';
import type { Static } from 'typebox';
import type { RoomEventRows } from './roomEvents.ts';

type ModerationEventKind = Static<(typeof ModerationEvents)[number]>['type'];

/**
 * How the room events of moderation (the control plane executed a room action) change this
 * node's rooms (rows of roomEvents.ts). Every effect is taken only as the control plane's
 * word (origin 'control-plane': only its credentials publish there), and applied to the
 * participants this node hosts; the directory writes were the control plane's.
 * `lobbyChanged` is a nudge without data (the queue is read from the directory), so a
 * node's (a join came to wait there) is taken too.
 */
export const moderationEventRows: RoomEventRows<ModerationEventKind> = {
  moderationMute: {
    apply: (room, { participantId, source, forbidUnmute }, _sender, origin) => {
      if (origin === 'control-plane') room.rules.mute(participantId, source, forbidUnmute);
    },
  },
  moderationMuteEveryone: {
    apply: (room, { source, forbidUnmute }, _sender, origin) => {
      if (origin === 'control-plane') room.rules.muteEveryone(source, forbidUnmute);
    },
  },
  moderationAskToUnmute: {
    apply: (room, { participantId, source }, _sender, origin) => {
      if (origin === 'control-plane') room.rules.askToUnmute(participantId, source);
    },
  },
  moderationRemove: {
    apply: (room, { participantId, reason, banned }, _sender, origin) => {
      if (origin === 'control-plane') room.rules.remove(participantId, reason, banned);
    },
  },
  settingsChanged: {
    apply: (room, { settings }, _sender, origin) => {
      if (origin !== 'control-plane') return;
      room.rules.settingsChanged(settings);
      room.lobby.settingsChanged();
    },
  },
  lobbyAdmitted: {
    apply: (room, { participantId, identity }, _sender, origin) => {
      if (origin === 'control-plane') room.lobby.admitted(identity, participantId);
    },
  },
  lobbyDenied: {
    apply: (room, { participantId, identity, reason }, _sender, origin) => {
      if (origin === 'control-plane') room.lobby.denied(identity, participantId, reason);
    },
  },
  lobbyChanged: {
    apply: (room) => void room.lobby.tellModerators(),
  },
  meetingEnded: {
    apply: (room, _event, _sender, origin) => {
      if (origin !== 'control-plane') return;
      room.lobby.close();
      room.rules.endMeeting();
    },
  },
};
