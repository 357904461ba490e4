import type { BreakoutEvents } from '@kaskade/protocol';
import type { Static } from 'typebox';
import type { RoomEventRows } from './roomEvents.ts';

type BreakoutEventKind = Static<(typeof BreakoutEvents)[number]>['type'];

/**
 * How the room events of breakout rooms change this node's rooms (rows of roomEvents.ts).
 * The plan, the moves and the broadcasts are the control plane's word only (room control:
 * a node cannot send anyone anywhere); a help request comes from the node hosting the
 * asker, and Breakouts checks it against the directory before any moderator hears it.
 */
export const breakoutEventRows: RoomEventRows<BreakoutEventKind> = {
  breakoutsChanged: {
    apply: (room, { main, state }, _sender, origin) => {
      if (origin === 'control-plane') room.breakouts.changed(main, state);
    },
  },
  breakoutMoves: {
    apply: (room, { moves }, _sender, origin) => {
      if (origin === 'control-plane') room.breakouts.move(moves);
    },
  },
  breakoutBroadcast: {
    apply: (room, { text }, _sender, origin) => {
      if (origin === 'control-plane') room.breakouts.broadcast(text);
    },
  },
  breakoutHelp: {
    ownToo: true,
    apply: (room, { participantId, fromRoom }, sender, origin) => {
      if (origin === 'node') room.breakouts.helpAsked(participantId, fromRoom, sender);
    },
  },
};
