import Type, { type Static, type TSchema } from 'typebox';
import { Source } from './media.ts';
import { DisplayName, Id } from './names.ts';
import type { RoomActionSchema } from './room-actions.ts';

/** Moderation, the lobby and the room settings (lock, policies, bans): the wire contracts. */

const Everyone = Type.Union([Type.Literal('everyone'), Type.Literal('moderators')]);

/** Who may do what in a room; moderators (`grants.moderate`) may always. */
export const RoomPolicies = Type.Object(
  {
    /** Joins of identities not yet admitted wait in the lobby until a moderator admits them. */
    lobby: Type.Boolean(),
    chat: Everyone,
    /** Lecture mode: the audience may chat (Q&A is always allowed). */
    audienceChat: Type.Boolean(),
    video: Everyone,
    screen: Everyone,
    /** A participant a moderator muted may unmute itself (false: only after askToUnmute). */
    selfUnmute: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type RoomPolicies = Static<typeof RoomPolicies>;

export const DEFAULT_POLICIES: RoomPolicies = {
  lobby: false,
  chat: 'everyone',
  audienceChat: true,
  video: 'everyone',
  screen: 'everyone',
  selfUnmute: true,
};

export const RoomSettings = Type.Object(
  {
    /** Only identities admitted before (and moderators) may join. */
    locked: Type.Boolean(),
    policies: RoomPolicies,
  },
  { additionalProperties: false },
);
export type RoomSettings = Static<typeof RoomSettings>;

export const DEFAULT_SETTINGS: RoomSettings = { locked: false, policies: DEFAULT_POLICIES };

/** Most joins that wait in one room's lobby; one more is refused UNAVAILABLE. */
export const MAX_LOBBY_WAITING = 500;

/** A join waiting in the lobby (`since`: when it first asked, ms; its place survives a reconnect). */
export const LobbyEntry = Type.Object({
  participantId: Id,
  identity: Id,
  name: DisplayName,
  since: Type.Integer({ minimum: 0 }),
});
export type LobbyEntry = Static<typeof LobbyEntry>;

const Empty = Type.Object({}, { additionalProperties: false });
export const Reason = Type.String({ maxLength: 200 });
/** What a moderator may mute everyone's of. */
const EveryoneSource = Type.Union([Type.Literal('microphone'), Type.Literal('camera')]);
const Waiting = Type.Object({ waiting: Type.Array(LobbyEntry, { maxItems: MAX_LOBBY_WAITING }) });

/** Signaling requests (besides the actions) a participant makes. */
export const ModerationRequests = {
  /** Anyone: the room's lock and policies. */
  roomSettings: { request: Empty, response: RoomSettings },
  /** Moderators: the joins waiting in the lobby, first come first. */
  listLobby: { request: Empty, response: Waiting },
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;

/** Signaling notifications the edge sends. */
export const ModerationNotifications = {
  /** A moderator muted (microphone, camera: paused at the server) or stopped (screen) a source of yours. */
  mutedByModerator: Type.Object({ source: Source, forbidUnmute: Type.Boolean() }),
  /** A moderator asks you to unmute (and lifted a forbid on it). */
  unmuteRequested: Type.Object({ source: Source }),
  /** A moderator removed you; the socket closes next (CloseCodes.removed). */
  removedFromRoom: Type.Object({ reason: Reason, banned: Type.Boolean() }),
  /** A moderator ended the meeting; the socket closes next (CloseCodes.meetingEnded). */
  meetingEnded: Empty,
  /** The room's lock or policies changed (to everyone). */
  settingsChanged: RoomSettings,
  /** The lobby changed (to moderators). */
  lobbyChanged: Waiting,
  /**
   * Your join waits in the lobby at `position` (1 first); its answer comes once a
   * moderator admits you (a join refused FORBIDDEN if denied, then the socket closes).
   */
  lobbyWaiting: Type.Object({ position: Type.Integer({ minimum: 1 }) }),
} as const satisfies Record<string, TSchema>;

/** Room actions (see room-actions.ts): executed by the control plane. */
export const ModerationActions = {
  muteParticipant: {
    request: Type.Object(
      { participantId: Id, source: Source, forbidUnmute: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Empty,
    description:
      "Mutes a participant's microphone or camera (the server pauses the producer) or stops its screen share; with forbidUnmute it may not unmute until asked to",
  },
  muteEveryone: {
    request: Type.Object(
      { source: EveryoneSource, forbidUnmute: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Empty,
    description: 'Mutes the microphone or camera of everyone but the moderators',
  },
  askToUnmute: {
    request: Type.Object({ participantId: Id, source: Source }, { additionalProperties: false }),
    response: Empty,
    description: 'Lifts a forbid to unmute and asks the participant to unmute',
  },
  removeParticipant: {
    request: Type.Object(
      { participantId: Id, reason: Type.Optional(Reason), ban: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Empty,
    description: "Removes a participant; with ban its identity may not join again for the room's life",
  },
  unbanIdentity: {
    request: Type.Object({ identity: Id }, { additionalProperties: false }),
    response: Empty,
    description: 'Lets a banned identity join again',
  },
  lockRoom: {
    request: Type.Object({ locked: Type.Boolean() }, { additionalProperties: false }),
    response: Empty,
    description: 'Locks the room (only identities admitted before and moderators may join) or unlocks it',
  },
  setPolicies: {
    request: Type.Object({ policies: Type.Partial(RoomPolicies) }, { additionalProperties: false }),
    response: Type.Object({ settings: RoomSettings }),
    description: 'Changes some of the room policies; answers the settings in force',
  },
  admitFromLobby: {
    request: Type.Object({ participantId: Id }, { additionalProperties: false }),
    response: Empty,
    description: 'Admits a join waiting in the lobby',
  },
  denyFromLobby: {
    request: Type.Object(
      { participantId: Id, reason: Type.Optional(Reason) },
      { additionalProperties: false },
    ),
    response: Empty,
    description: 'Refuses a join waiting in the lobby',
  },
  endMeeting: {
    request: Empty,
    response: Empty,
    description: "Ends the meeting for everyone, on every edge, and deletes the room's state",
  },
} as const satisfies Record<string, RoomActionSchema>;

/**
 * Room events (nats.ts RoomEvent members) the control plane publishes on room control
 * once it executed a moderation action: each edge applies them to its own participants.
 */
export const ModerationEvents = [
  Type.Object({
    type: Type.Literal('moderationMute'),
    participantId: Id,
    source: Source,
    forbidUnmute: Type.Boolean(),
  }),
  Type.Object({
    type: Type.Literal('moderationMuteEveryone'),
    source: EveryoneSource,
    forbidUnmute: Type.Boolean(),
  }),
  Type.Object({ type: Type.Literal('moderationAskToUnmute'), participantId: Id, source: Source }),
  Type.Object({
    type: Type.Literal('moderationRemove'),
    participantId: Id,
    reason: Reason,
    banned: Type.Boolean(),
  }),
  Type.Object({ type: Type.Literal('settingsChanged'), settings: RoomSettings }),
  Type.Object({ type: Type.Literal('lobbyAdmitted'), participantId: Id, identity: Id }),
  Type.Object({ type: Type.Literal('lobbyDenied'), participantId: Id, identity: Id, reason: Reason }),
  /** The lobby changed: edges read it again and tell their moderators. */
  Type.Object({ type: Type.Literal('lobbyChanged') }),
  Type.Object({ type: Type.Literal('meetingEnded') }),
] as const satisfies readonly TSchema[];
