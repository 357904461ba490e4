import Type, { type Static, type TSchema } from 'typebox';
import { DisplayName, Id, RoomName, toSafeName } from './names.ts';
import type { RoomActionSchema } from './room-actions.ts';

/** Breakout rooms: the wire contracts. */

/** Most breakout rooms one main room opens at once. */
export const MAX_BREAKOUT_ROOMS = 20;
/** Most identities one plan assigns (a room's participants, with room to spare). */
export const MAX_BREAKOUT_ASSIGNMENTS = 5000;
/** Longest broadcast to the breakouts. */
export const MAX_BREAKOUT_BROADCAST_LENGTH = 1000;
/** Longest timer a moderator may set (a day). */
export const MAX_BREAKOUT_SECONDS = 86_400;

const Empty = Type.Object({}, { additionalProperties: false });

/** One breakout room: its room name (a safe name derived from the main room's), its label, who goes there. */
export const BreakoutRoom = Type.Object({
  room: RoomName,
  name: DisplayName,
  /** Participant identities (from their tokens): a reconnect or a return keeps the assignment. */
  identities: Type.Array(Id, { maxItems: MAX_BREAKOUT_ASSIGNMENTS }),
});
export type BreakoutRoom = Static<typeof BreakoutRoom>;

export const BreakoutStatus = Type.Union([
  Type.Literal('none'),
  Type.Literal('created'),
  Type.Literal('open'),
]);
export type BreakoutStatus = Static<typeof BreakoutStatus>;

/** A main room's breakouts: none, created (being assigned), or open (people are in them until endsAt, if set). */
export const BreakoutState = Type.Object({
  status: BreakoutStatus,
  rooms: Type.Array(BreakoutRoom, { maxItems: MAX_BREAKOUT_ROOMS }),
  /** When the breakouts close by themselves (ms since the epoch), or null: when a moderator closes them. */
  endsAt: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
});
export type BreakoutState = Static<typeof BreakoutState>;

/** The state when a room has no breakouts. */
export const NO_BREAKOUTS: BreakoutState = { status: 'none', rooms: [], endsAt: null };

export const MoveReason = Type.Union([Type.Literal('breakout'), Type.Literal('return')]);
export type MoveReason = Static<typeof MoveReason>;

const StateAnswer = Type.Object({ state: BreakoutState });

/** Signaling requests (besides the actions) a participant makes. */
export const BreakoutRequests = {
  /** The breakouts of the room this participant is in (its main room's, from a breakout); non-moderators see only their own room. */
  breakoutState: { request: Empty, response: BreakoutState },
  /** From inside a breakout: the main room's moderators get `helpRequested`. */
  askForHelp: { request: Empty, response: Empty },
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;

/** Signaling notifications the edge sends. */
export const BreakoutNotifications = {
  /** The breakouts changed (non-moderators see only their own room). */
  breakoutsChanged: BreakoutState,
  /**
   * Go to another room: join `room` at `url` with `token` (a single-use edge token, no
   * `resume`: it is another room), publish and subscribe there, then leave this one.
   */
  moveToRoom: Type.Object({
    room: RoomName,
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    reason: MoveReason,
  }),
  /** A moderator's message to every breakout. */
  breakoutBroadcast: Type.Object({ text: Type.String({ maxLength: MAX_BREAKOUT_BROADCAST_LENGTH }) }),
  /** To the main room's moderators: someone in breakout `room` asks for help. */
  helpRequested: Type.Object({ room: RoomName, participantId: Id, name: DisplayName }),
} as const satisfies Record<string, TSchema>;

const Assignment = Type.Object({ participantId: Id, room: RoomName }, { additionalProperties: false });

/** Room actions (see room-actions.ts): executed by the control plane. */
export const BreakoutActions = {
  createBreakouts: {
    request: Type.Object(
      {
        count: Type.Integer({ minimum: 1, maximum: MAX_BREAKOUT_ROOMS }),
        names: Type.Optional(Type.Array(DisplayName, { maxItems: MAX_BREAKOUT_ROOMS })),
      },
      { additionalProperties: false },
    ),
    response: StateAnswer,
    description:
      'Creates `count` breakout rooms of this room (replacing breakouts not yet opened), labelled `names` or "Room N"; nobody is assigned yet.',
  },
  assignBreakouts: {
    request: Type.Union([
      Type.Object(
        { assignments: Type.Array(Assignment, { maxItems: MAX_BREAKOUT_ASSIGNMENTS }) },
        { additionalProperties: false },
      ),
      Type.Object({ random: Type.Literal(true) }, { additionalProperties: false }),
    ]),
    response: StateAnswer,
    description:
      "Assigns participants of this room to breakout rooms: by hand (each participant's identity goes to the named breakout room), or at random (everyone who is not a moderator, balanced).",
  },
  openBreakouts: {
    request: Type.Object(
      { durationSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_BREAKOUT_SECONDS })) },
      { additionalProperties: false },
    ),
    response: StateAnswer,
    description:
      'Opens the breakouts: every assigned participant is moved to its breakout room (no lobby). With `durationSeconds`, they close by themselves then.',
  },
  broadcastToBreakouts: {
    request: Type.Object(
      { text: Type.String({ minLength: 1, maxLength: MAX_BREAKOUT_BROADCAST_LENGTH }) },
      { additionalProperties: false },
    ),
    response: Empty,
    description: 'Sends a message to everyone in every open breakout room.',
  },
  closeBreakouts: {
    request: Empty,
    response: Empty,
    description: 'Closes the breakouts: everyone in them is moved back to this room.',
  },
} as const satisfies Record<string, RoomActionSchema>;

const Move = Type.Object({ participantId: Id, room: RoomName, reason: MoveReason });

/** Room events (nats.ts RoomEvent members), from an edge or from the control plane. */
export const BreakoutEvents = [
  /** From the control plane, on the main room and on each breakout room: the plan now. */
  Type.Object({ type: Type.Literal('breakoutsChanged'), main: RoomName, state: BreakoutState }),
  /** From the control plane: the node hosting each participant moves it (it asks `breakout.place`). */
  Type.Object({
    type: Type.Literal('breakoutMoves'),
    moves: Type.Array(Move, { maxItems: MAX_BREAKOUT_ASSIGNMENTS }),
  }),
  /** From the control plane, on each breakout room. */
  Type.Object({
    type: Type.Literal('breakoutBroadcast'),
    text: Type.String({ maxLength: MAX_BREAKOUT_BROADCAST_LENGTH }),
  }),
  /**
   * From the edge hosting `participantId` in breakout `fromRoom`, on the MAIN room: the
   * receivers check the directory (the participant is on the sender, in a breakout of this
   * room) and take the name from there.
   */
  Type.Object({ type: Type.Literal('breakoutHelp'), participantId: Id, fromRoom: RoomName }),
] as const satisfies readonly TSchema[];

/**
 * The room name of breakout `index` (1-based) of `main`: `<main>-bo<index>-<session>`,
 * the main room's name cut so the whole stays a safe name (64 characters at most). The
 * session (a short random safe name per createBreakouts) keeps two mains that share a
 * long prefix, and an existing room named like a breakout, apart.
 */
export function breakoutRoomName(main: string, index: number, session: string): string {
  const tail = `-bo${index}-${toSafeName(session, { replacement: '' })}`;
  return `${main.slice(0, 64 - tail.length)}${tail}`;
}
