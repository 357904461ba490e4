import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { BreakoutEvents } from './breakouts.ts';
import { ChatEvents } from './chat.ts';
import { MediaKind, Role, Source } from './media.ts';
import { ModerationEvents } from './moderation.ts';
import { Id, NodeId, Region, RoomName } from './names.ts';
import { ROOM_ACTION_NAMES, type RoomActionName } from './room-actions.ts';
import { HandInfo, ParticipantInfo, RtpParametersSchema, StreamInfo } from './signaling.ts';
import { Grants } from './token.ts';

/**
 * NATS subjects and message schemas, version 1. Every subject is built here and
 * nowhere else; every message is validated against its schema on receipt.
 */
const V = 'kaskade.v1';

/**
 * Every subject a node publishes on ends with the SENDER's node id, and nats-server
 * lets each node's credentials publish only subjects ending with its own id
 * (bus-permissions.ts writes those permissions from these builders). A
 * receiver takes the sender from the subject (senderOf), never from the payload.
 * `*` in place of an id builds the wildcard a subscriber or a permission uses.
 */
export const Subjects = {
  /** Request/reply to node `to` from node `from`. */
  nodeRpc: (to: string, method: NodeRpcMethod, from: string) => `${V}.node.${to}.rpc.${method}.${from}`,
  /**
   * Request/reply to the control plane from node `from`: every replica listens in one
   * queue group, one of them answers.
   */
  controlRpc: (method: ControlRpcMethod, from: string) => `${V}.control.rpc.${method}.${from}`,
  /** Events about pipes, sent by the origin node `from` to node `to` that holds copies. */
  nodePipeEvents: (to: string, from: string) => `${V}.node.${to}.pipe-events.${from}`,
  /** Room events, from node `from` to every node carrying the room. */
  roomEvents: (room: string, from: string) => `${V}.room.${room}.events.${from}`,
  /**
   * Room events from the control plane `from` (the room actions it executed): only
   * control-plane credentials may publish here, so an edge applies what arrives on it
   * as the control plane's word.
   */
  roomControl: (room: string, from: string) => `${V}.room.${room}.control.${from}`,
  /** Every node reports itself here every few seconds. */
  heartbeat: (from: string) => `${V}.nodes.heartbeat.${from}`,
  /** The control plane declares a node dead here (only control-plane credentials may publish it). */
  nodeDead: `${V}.nodes.dead`,
  /**
   * The inbox prefix of a node: replies to its requests arrive under it, and only its
   * credentials may subscribe there, so an answer (an SRTP key) reaches only the node
   * the request's subject names.
   */
  inboxPrefix: (nodeId: string) => `_INBOX_${nodeId}`,
} as const;

/** The sender of a message: the last token of its subject, if it is a valid node id. */
export function senderOf(subject: string): string | undefined {
  const sender = subject.slice(subject.lastIndexOf('.') + 1);
  return isNodeId(sender) ? sender : undefined;
}

/** Whether a reply subject lies under `nodeId`'s inbox (where only that node can listen). */
export function isInboxOf(reply: string | undefined, nodeId: string): boolean {
  return reply?.startsWith(`${Subjects.inboxPrefix(nodeId)}.`) === true;
}

const nodeIdCheck = Compile(NodeId);
const isNodeId = (value: string) => nodeIdCheck.Check(value);

const SrtpParameters = Type.Object({
  cryptoSuite: Type.Union([
    Type.Literal('AEAD_AES_256_GCM'),
    Type.Literal('AEAD_AES_128_GCM'),
    Type.Literal('AES_CM_128_HMAC_SHA1_80'),
    Type.Literal('AES_CM_128_HMAC_SHA1_32'),
  ]),
  keyBase64: Type.String({ minLength: 1, maxLength: 256 }),
});

/** One side of a pipe link: where it listens and its SRTP key. */
export const LinkEndpoint = Type.Object({
  ip: Type.String({ minLength: 1, maxLength: 253 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  srtpParameters: SrtpParameters,
});
export type LinkEndpoint = Static<typeof LinkEndpoint>;

/** Spatial layers a demand may name: simulcast senders have 3; the bound only limits input. */
const MAX_SPATIAL_LAYER = 15;

/**
 * What a node wants of a stream it takes over a link: nothing (wanted false), all of
 * it (no spatialLayers: also what a node that knows no layers says), or only these
 * simulcast spatial layers (0 = lowest), which the sender forwards over that link alone.
 */
export const StreamDemand = Type.Object({
  wanted: Type.Boolean(),
  spatialLayers: Type.Optional(
    Type.Array(Type.Integer({ minimum: 0, maximum: MAX_SPATIAL_LAYER }), { minItems: 1, maxItems: 16 }),
  ),
});
export type StreamDemand = Static<typeof StreamDemand>;

const Empty = Type.Object({});

export const NodeRpc = {
  /** Sent by the node that wants streams to their origin: open (or reuse) the origin's end of the link. */
  'pipe.openLink': {
    request: Type.Object({ room: RoomName, region: Region, endpoint: LinkEndpoint }),
    response: Type.Object({ endpoint: LinkEndpoint, region: Region }),
  },
  /** Start sending one producer over the link; the answer lets the caller produce the copy. */
  'pipe.consume': {
    /** `origin` names where the producer originates, so a relay node can fetch it from there. */
    request: Type.Object({ room: RoomName, producerId: Id, origin: Type.Optional(NodeId) }),
    response: Type.Object({
      producerId: Id,
      kind: MediaKind,
      rtpParameters: RtpParametersSchema,
      paused: Type.Boolean(),
      source: Source,
      participantId: Id,
    }),
  },
  /** The caller no longer needs this producer (no local viewers after the linger). */
  'pipe.release': {
    request: Type.Object({ room: RoomName, producerId: Id }),
    response: Empty,
  },
  /**
   * What the caller wants of the producer now: nothing (all its viewers paused it), or
   * the simulcast spatial layers its viewers want (absent: all of them, as before layers).
   */
  'pipe.demand': {
    request: Type.Object({ room: RoomName, producerId: Id, ...StreamDemand.properties }),
    response: Empty,
  },
  /**
   * The caller closed its end of the link: `linkId` names that end (PipeLink.linkId), so
   * a close that arrives after a newer link replaced it closes nothing (absent, from an
   * older node during a rolling upgrade: whatever link there is).
   */
  'pipe.closeLink': {
    request: Type.Object({
      room: RoomName,
      linkId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })),
    }),
    response: Empty,
  },
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;
export type NodeRpcMethod = keyof typeof NodeRpc;

/** The queue group the control-plane replicas answer ControlRpc requests in. */
export const CONTROL_QUEUE = 'kaskade-control-plane';

/** Who an edge asks a ticket for (migration.place, breakout.place): its participant, with the grants and lecture flag it verified. */
const MoveRequest = Type.Object({
  room: RoomName,
  participantId: Id,
  grants: Grants,
  lecture: Type.Boolean(),
});
/** A ticket into a room: the edge to go to and a single-use edge token for it. */
const EdgeTicketAnswer = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  token: Type.String({ minLength: 1, maxLength: 8192 }),
  nodeId: NodeId,
});

export const ControlRpc = {
  /**
   * A draining edge asks where one of its participants goes on: the control plane
   * answers only for a participant the directory has on the asking node (the sender,
   * from the subject), with a single-use edge token for another edge carrying the
   * participant's identity, name and role as the directory has them. Grants and the
   * lecture flag come from the asking edge, which verified them (the directory does
   * not hold them).
   */
  'migration.place': {
    request: Type.Object({ ...MoveRequest.properties }),
    response: EdgeTicketAnswer,
  },
  /**
   * The edge hosting a participant moves it to another room of a breakout plan (into
   * its breakout room, or back to the main room): the control plane answers only for a
   * participant the directory has on the asking node, in `room`, and a `target` the plan
   * allows for that identity (its breakout of `room` while open, or `room`'s main room
   * when `room` is a breakout), with a single-use edge token for `target` on an edge
   * placement picks. Grants and the lecture flag come from the asking edge, as for
   * migration.place.
   */
  'breakout.place': {
    request: Type.Object({ ...MoveRequest.properties, target: RoomName }),
    response: EdgeTicketAnswer,
  },
  /**
   * An edge carrying a room with open breakouts (the main room or one of them) saw their
   * timer run out: the control plane closes them if they are still open and due (once,
   * whoever asks first; the others find them closed).
   */
  'breakout.due': {
    request: Type.Object({ main: RoomName }),
    response: Type.Object({ closed: Type.Boolean() }),
  },
  /**
   * A moderator of the asking edge (`by`, hosted there: checked against the directory;
   * the edge verified its `moderate` grant) performs a room action (room-actions.ts);
   * `params` is validated against the action's schema by the control plane.
   */
  'room.act': {
    request: Type.Object({
      room: RoomName,
      by: Id,
      // Typed as the names' union (a union built from an array has no static type of its own).
      action: Type.Unsafe<RoomActionName>(Type.Union(ROOM_ACTION_NAMES.map((name) => Type.Literal(name)))),
      params: Type.Unknown(),
    }),
    response: Type.Unknown(),
  },
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;
export type ControlRpcMethod = keyof typeof ControlRpc;

export const PipeEvent = Type.Object({
  room: RoomName,
  producerId: Id,
  event: Type.Union([Type.Literal('pause'), Type.Literal('resume'), Type.Literal('close')]),
});
export type PipeEvent = Static<typeof PipeEvent>;

/** A participant or stream as the directory and other nodes know it: with the node it is on. */
export const MeshParticipant = Type.Object({ ...ParticipantInfo.properties, node: NodeId });
export type MeshParticipant = Static<typeof MeshParticipant>;

export const RemoteStream = Type.Object({ ...StreamInfo.properties, node: NodeId });
export type RemoteStream = Static<typeof RemoteStream>;

/** Most entries one speaker-levels event carries (the loudest streams of one node). */
export const MAX_SPEAKER_LEVELS = 16;

/** One microphone's average level (dBov, -127 silence to 0 loudest) over the sender's last interval. */
export const SpeakerLevel = Type.Object({
  producerId: Id,
  level: Type.Integer({ minimum: -127, maximum: 0 }),
});
export type SpeakerLevel = Static<typeof SpeakerLevel>;

/**
 * What happened in a room on one node, told to the others carrying it. The node it
 * happened on is the sender (the subject's last token): a receiver accepts an event
 * about a participant or stream only from the node hosting it.
 */
export const RoomEvent = Type.Union([
  Type.Object({ type: Type.Literal('participantJoined'), participant: ParticipantInfo }),
  Type.Object({ type: Type.Literal('participantLeft'), participantId: Id }),
  Type.Object({ type: Type.Literal('streamAdded'), stream: StreamInfo }),
  Type.Object({ type: Type.Literal('streamClosed'), producerId: Id }),
  Type.Object({ type: Type.Literal('streamPaused'), producerId: Id }),
  Type.Object({ type: Type.Literal('streamResumed'), producerId: Id }),
  Type.Object({ type: Type.Literal('handRaised'), hand: HandInfo }),
  Type.Object({ type: Type.Literal('handLowered'), participantId: Id }),
  /**
   * With `by` (the moderator's participant id): a request from the node hosting that
   * moderator, which verified the grant; the node hosting the participant applies it.
   * Without: that hosting node announces the change it applied.
   */
  Type.Object({ type: Type.Literal('roleChanged'), participantId: Id, role: Role, by: Type.Optional(Id) }),
  /**
   * The microphones heard above the threshold on the sender in its last interval, loudest
   * first (empty: silence there now). Sent a few times a second while someone speaks
   * there; receivers take only streams originating on the sender.
   */
  Type.Object({
    type: Type.Literal('speakerLevels'),
    levels: Type.Array(SpeakerLevel, { maxItems: MAX_SPEAKER_LEVELS }),
  }),
  // Issue 13's features, each in its own module.
  ...ModerationEvents,
  ...ChatEvents,
  ...BreakoutEvents,
]);
export type RoomEvent = Static<typeof RoomEvent>;

export const NodeState = Type.Union([Type.Literal('serving'), Type.Literal('draining')]);
export type NodeState = Static<typeof NodeState>;

/** What a node says of itself; who it is comes from the subject (see NodeReport). */
export const NodeHeartbeat = Type.Object({
  kind: Type.Union([Type.Literal('edge'), Type.Literal('relay')]),
  region: Region,
  /** Base URL clients use for signaling (edges). */
  url: Type.String({ maxLength: 256 }),
  state: NodeState,
  workers: Type.Integer({ minimum: 0 }),
  participants: Type.Integer({ minimum: 0 }),
  consumers: Type.Integer({ minimum: 0 }),
  producers: Type.Integer({ minimum: 0 }),
  /** 0..1: the largest of worker CPU, bandwidth, consumer budget and participant capacity shares. */
  load: Type.Number({ minimum: 0 }),
  /** Bits per second over all the node's transports, from its stats sampling loop. */
  bitrateBps: Type.Object({ in: Type.Number({ minimum: 0 }), out: Type.Number({ minimum: 0 }) }),
  /** Participants this node takes at most. */
  capacity: Type.Integer({ minimum: 0 }),
  rooms: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000 }),
  /**
   * Joins this node has admitted since it started (edges): the control plane counts the
   * joins it placed here as redeemed by the difference between two heartbeats.
   */
  admitted: Type.Optional(Type.Integer({ minimum: 0 })),
  ts: Type.Integer(),
});
export type NodeHeartbeat = Static<typeof NodeHeartbeat>;
/** A heartbeat with the id of the node that sent it, as receivers keep it. */
export type NodeReport = NodeHeartbeat & { nodeId: string };

export const NodeDead = Type.Object({ nodeId: NodeId, reason: Type.String({ maxLength: 200 }) });
export type NodeDead = Static<typeof NodeDead>;

/** Every reply on the bus: a result or a typed error. */
export type RpcReply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };
