import Type, { type Static, type TSchema } from 'typebox';
import { Id, MediaKind, NodeId, Region, Role, RoomName, Source } from './media.ts';
import { HandInfo, ParticipantInfo, RtpParametersSchema, StreamInfo } from './signaling.ts';

/**
 * NATS subjects and message schemas, version 1. Every subject is built here and
 * nowhere else; every message is validated against its schema on receipt.
 */
const V = 'kaskade.v1';

export { NodeId, Region };

export const Subjects = {
  /** Request/reply to one node. */
  nodeRpc: (nodeId: string, method: NodeRpcMethod) => `${V}.node.${nodeId}.rpc.${method}`,
  /** Events about pipes, sent by the origin node to one node that holds copies. */
  nodePipeEvents: (nodeId: string) => `${V}.node.${nodeId}.pipe-events`,
  /** Room events, to every node carrying the room. */
  roomEvents: (room: string) => `${V}.room.${room}.events`,
  /** Every node reports itself here every few seconds. */
  heartbeat: `${V}.nodes.heartbeat`,
  /** The control plane declares a node dead here. */
  nodeDead: `${V}.nodes.dead`,
} as const;

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

const Empty = Type.Object({});

export const NodeRpc = {
  /** Sent by the node that wants streams to their origin: open (or reuse) the origin's end of the link. */
  'pipe.openLink': {
    request: Type.Object({ room: RoomName, fromNode: NodeId, region: Region, endpoint: LinkEndpoint }),
    response: Type.Object({ endpoint: LinkEndpoint, region: Region }),
  },
  /** Start sending one producer over the link; the answer lets the caller produce the copy. */
  'pipe.consume': {
    /** `origin` names where the producer originates, so a relay node can fetch it from there. */
    request: Type.Object({ room: RoomName, fromNode: NodeId, producerId: Id, origin: Type.Optional(NodeId) }),
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
    request: Type.Object({ room: RoomName, fromNode: NodeId, producerId: Id }),
    response: Empty,
  },
  /** Whether the caller wants the producer now (all its viewers paused it: no). */
  'pipe.demand': {
    request: Type.Object({ room: RoomName, fromNode: NodeId, producerId: Id, wanted: Type.Boolean() }),
    response: Empty,
  },
  /** The caller closed its end of the link. */
  'pipe.closeLink': {
    request: Type.Object({ room: RoomName, fromNode: NodeId }),
    response: Empty,
  },
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;
export type NodeRpcMethod = keyof typeof NodeRpc;

export const PipeEvent = Type.Object({
  room: RoomName,
  fromNode: NodeId,
  producerId: Id,
  event: Type.Union([Type.Literal('pause'), Type.Literal('resume'), Type.Literal('close')]),
});
export type PipeEvent = Static<typeof PipeEvent>;

/** A participant or stream as the directory and other nodes know it: with the node it is on. */
export const RemoteParticipant = Type.Object({ ...ParticipantInfo.properties, node: NodeId });
export type RemoteParticipant = Static<typeof RemoteParticipant>;

export const RemoteStream = Type.Object({ ...StreamInfo.properties, node: NodeId });
export type RemoteStream = Static<typeof RemoteStream>;

/** What happened in a room on one node, told to the others carrying it. */
export const RoomEvent = Type.Union([
  Type.Object({ type: Type.Literal('participantJoined'), participant: RemoteParticipant }),
  Type.Object({ type: Type.Literal('participantLeft'), participantId: Id, node: NodeId }),
  Type.Object({ type: Type.Literal('streamAdded'), stream: RemoteStream }),
  Type.Object({ type: Type.Literal('streamClosed'), producerId: Id, node: NodeId }),
  Type.Object({ type: Type.Literal('streamPaused'), producerId: Id, node: NodeId }),
  Type.Object({ type: Type.Literal('streamResumed'), producerId: Id, node: NodeId }),
  Type.Object({ type: Type.Literal('handRaised'), hand: HandInfo, node: NodeId }),
  Type.Object({ type: Type.Literal('handLowered'), participantId: Id, node: NodeId }),
  /** Sent by the moderator's node; the node hosting the participant applies it. */
  Type.Object({ type: Type.Literal('roleChanged'), participantId: Id, role: Role, node: NodeId }),
]);
export type RoomEvent = Static<typeof RoomEvent>;

export const NodeState = Type.Union([Type.Literal('serving'), Type.Literal('draining')]);
export type NodeState = Static<typeof NodeState>;

export const NodeHeartbeat = Type.Object({
  nodeId: NodeId,
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
  ts: Type.Integer(),
});
export type NodeHeartbeat = Static<typeof NodeHeartbeat>;

export const NodeDead = Type.Object({ nodeId: NodeId, reason: Type.String({ maxLength: 200 }) });
export type NodeDead = Static<typeof NodeDead>;

/** Every reply on the bus: a result or a typed error. */
export type RpcReply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };
