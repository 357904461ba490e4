import type {
  BreakoutState,
  Grants,
  HandInfo,
  LobbyEntry,
  ParticipantInfo,
  Role,
  RoomSettings,
  Source,
} from '@kaskade/protocol';

/** The public shapes of the SDK (Room's options, events and objects), apart from Room itself. */

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';
export type Quality = 'low' | 'medium' | 'high';

/**
 * The size a remote video is shown at, which picks the simulcast layer the edge sends:
 * a thumbnail gets the lowest layer, the stage the highest.
 */
export type DisplaySize = 'thumbnail' | 'stage';

/** Why the edge does not forward a remote video. */
export type ForwardingReason =
  /** Outside this client's last N (see `Room.setLastN`); pinned participants are always in. */
  | 'notInLastN'
  /** Its sender paused it (a muted camera). */
  | 'pausedBySender'
  /** Forwarded, but no layer fits the bandwidth to this client right now. */
  | 'noBandwidth';

/** Whether the edge forwards a remote video to this client, and if not why. */
export interface VideoForwarding {
  readonly on: boolean;
  readonly reason?: ForwardingReason;
}

/** Where to join: an edge and a token for it (from the control plane's join, or minted by hand). */
export interface JoinTicket {
  url: string;
  token: string;
  /**
   * The edge's node id (the control plane's join answers it as `nodeId`). Optional; with it,
   * an edge that cannot be reached at all is avoided on the next attempt too.
   */
  node?: string;
}

/** What the SDK tells a ticket provider on each call. */
export interface TicketRequest {
  /**
   * Node ids of edges this client could not reach just now (the one it was on crashed or
   * went away): pass them to the control plane's join as `avoid`, so that placement does
   * not send the client back to a dead edge it still believes alive. Empty on a first join.
   */
  avoid: string[];
}

export type TicketProvider = (request: TicketRequest) => string | JoinTicket | Promise<string | JoinTicket>;

export interface ConnectOptions {
  /** Base URL of the edge, e.g. http://127.0.0.1:7880 (when `token` is not a ticket provider). */
  url?: string;
  /**
   * A join token, or a function called on every (re)connect that returns a fresh token or
   * a whole ticket: with a ticket, a reconnect may land on another edge (placement decides;
   * the function receives the edges to avoid). Edges in a mesh accept each edge token once,
   * so there a reconnect needs the function (it asks the control plane again); a fixed token
   * suits a standalone edge only.
   */
  token: string | TicketProvider;
  /** Receive every stream of the room as it appears (default true). */
  autoSubscribe?: boolean;
  /** ICE over TCP only, for networks that block UDP. */
  forceTcp?: boolean;
  /** Give up reconnecting after this long (default 60 s). */
  reconnectTimeoutMs?: number;
  /**
   * The room has a lobby and we wait in it: called with our place in the queue (1 = next),
   * again when it changes. `Room.connect` resolves once a moderator admits us, and rejects
   * with a FORBIDDEN RequestError when one denies us.
   */
  onLobby?: (position: number) => void;
}

export interface RemoteParticipant extends ParticipantInfo {}

/**
 * A stream of another participant, received as a MediaStreamTrack. It is the same object
 * for as long as the participant publishes that source: across a path change on the edge
 * (streamMoved), its migration to another edge, and our own reconnects or migrations, the
 * SDK switches the media inside it (make-before-break) and emits `trackReplaced`.
 */
export interface RemoteTrack {
  /** Stable key of the stream: participant id and source (`<participantId>/<source>`). */
  id: string;
  /** The producer that feeds it now; changes when the participant migrates or reconnects. */
  producerId: string;
  participant: RemoteParticipant;
  kind: 'audio' | 'video';
  source: Source;
  /** The current MediaStreamTrack; replaced on a switch (see `stream` and `trackReplaced`). */
  track: MediaStreamTrack;
  /** A MediaStream the SDK keeps holding the current track: attach it once (video.srcObject). */
  stream: MediaStream;
  /** The sender paused it (muted camera or microphone). */
  paused: boolean;
  /** The edge's score of what reaches us, 0-10. */
  score: number;
  /**
   * Whether the edge forwards it to us now, and if not why (last-N, the sender's pause, no
   * bandwidth). Until `Room.setLastN` every video is forwarded unless its sender paused it.
   * Changes come with the room's `videoForwarding` event.
   */
  readonly forwarding: VideoForwarding;
  /** The size the application last said it shows this video at (`setDisplaySize`). */
  readonly displaySize: DisplaySize | undefined;
  /**
   * Video: the size this track is shown at picks the layer the edge sends (thumbnail: the
   * lowest, stage: the highest). Kept for the track: its next consumers (a move, a
   * migration, a reconnect) get the same.
   */
  setDisplaySize(size: DisplaySize): Promise<void>;
}

export interface PublishOptions {
  source: Source;
  /** Three layers for a camera (default true for camera, false otherwise). */
  simulcast?: boolean;
}

/** A local track this client publishes; survives reconnects. */
export interface LocalPublication {
  readonly source: Source;
  readonly track: MediaStreamTrack;
  /** The stream id others see; changes after a reconnect. */
  readonly id: string | undefined;
  readonly paused: boolean;
}

export interface RoomEvents extends Record<string, unknown[]> {
  connectionStateChanged: [state: ConnectionState];
  /** A reconnect attempt is about to start (1, 2, ...). */
  reconnecting: [attempt: number, reason: string];
  reconnected: [];
  /** The room is closed for good: left, replaced, refused, or reconnect gave up. */
  disconnected: [reason: string];
  participantJoined: [participant: RemoteParticipant];
  participantLeft: [participant: RemoteParticipant];
  trackAdded: [track: RemoteTrack];
  trackRemoved: [track: RemoteTrack];
  /** The media inside a RemoteTrack switched to a new MediaStreamTrack (`stream` already holds it). */
  trackReplaced: [track: RemoteTrack, previous: MediaStreamTrack];
  /** The edge drained and the SDK moved to another one (nobody else saw it leave). */
  migrated: [];
  trackPaused: [track: RemoteTrack];
  trackResumed: [track: RemoteTrack];
  activeSpeaker: [participant: RemoteParticipant | null, isSelf: boolean];
  /** The room's recent speakers as participant ids (ours included), most relevant first. */
  speakerOrder: [participantIds: readonly string[]];
  /**
   * Which remote videos the edge forwards now, by RemoteTrack id (every remote video
   * track of the room), whenever one of them changes; also `RemoteTrack.forwarding`.
   */
  videoForwarding: [state: ReadonlyMap<string, VideoForwarding>];
  /** A moderator moved this participant to the stage or the audience; grants follow at once. */
  roleChanged: [role: Role, grants: Grants];
  /** Another participant's role changed (outside lecture mode; in a lecture the roster changes instead). */
  participantRoleChanged: [participant: RemoteParticipant];
  /** Lecture mode: how many are in the room. */
  participantCount: [count: number];
  /** To moderators: someone raised or lowered a hand. */
  handRaised: [hand: HandInfo];
  handLowered: [participantId: string];
  /**
   * A moderator muted what we publish of `source` (a screen share is stopped: the
   * publication is gone). `forbidUnmute`: we may not unmute it until asked.
   */
  mutedByModerator: [source: Source, forbidUnmute: boolean];
  /** A moderator asks us to unmute `source` (any forbid is lifted). */
  unmuteRequested: [source: Source];
  /** A moderator removed us (then `disconnected`; no reconnect). */
  removed: [reason: string, banned: boolean];
  /** A moderator ended the meeting for everyone (then `disconnected`). */
  meetingEnded: [];
  /** The room's lock or policies changed. */
  settingsChanged: [settings: RoomSettings];
  /** To moderators: who waits in the lobby now. */
  lobbyChanged: [waiting: readonly LobbyEntry[]];
  /**
   * We are in another room now (a breakout, or back in the main room): `room.name` is it;
   * the roster and the tracks became that room's (participantLeft/Joined, trackRemoved/Added
   * told the difference), our publications are there, the old room is left.
   */
  roomSwitched: [room: string];
  /** The breakouts changed (a participant sees only its own breakout room). */
  breakoutsChanged: [state: BreakoutState];
  /** A moderator's message to every breakout room. */
  breakoutBroadcast: [text: string];
  /** To the main room's moderators: someone in a breakout asks for help. */
  helpRequested: [help: { room: string; participantId: string; name: string }];
}
