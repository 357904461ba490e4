import Type, { type Static, type TSchema } from 'typebox';
import { Id, MediaKind, RoomName, Source } from './media.ts';
import { RtpParametersSchema } from './signaling.ts';

/**
 * NATS subjects and message schemas, version 1. Every subject is built here and
 * nowhere else; every message is validated against its schema on receipt.
 */
const V = 'kaskade.v1';
export const NodeId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });

export const Subjects = {
  /** Request/reply to one node. */
  nodeRpc: (nodeId: string, method: NodeRpcMethod) => `${V}.node.${nodeId}.rpc.${method}`,
  /** Events about pipes, sent by the origin node to one node that holds copies. */
  nodePipeEvents: (nodeId: string) => `${V}.node.${nodeId}.pipe-events`,
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
    request: Type.Object({ room: RoomName, fromNode: NodeId, endpoint: LinkEndpoint }),
    response: Type.Object({ endpoint: LinkEndpoint }),
  },
  /** Start sending one producer over the link; the answer lets the caller produce the copy. */
  'pipe.consume': {
    request: Type.Object({ room: RoomName, fromNode: NodeId, producerId: Id }),
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

/** Every reply on the bus: a result or a typed error. */
export type RpcReply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };
