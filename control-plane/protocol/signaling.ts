import Type, { type Static, type TSchema } from 'typebox';
import { BreakoutNotifications, BreakoutRequests } from './breakouts.ts';
import { ChatNotifications, ChatRequests } from './chat.ts';
import type { ErrorBody } from './errors.ts';
import { MediaKind, Role, Source } from './media.ts';
import { ModerationNotifications, ModerationRequests, RoomSettings } from './moderation.ts';
import { DisplayName, Id, NodeId } from './names.ts';
import { RoomActions } from './room-actions.ts';
import type {
  DtlsParameters,
  IceCandidate,
  IceParameters,
  RtpCapabilities,
  RtpParameters,
  SctpParameters,
} from './rtp-types.ts';
import { MAX_PINNED } from './signaling-constants.ts';
import { Grants } from './token.ts';

/**
 * The edge signaling protocol, version 1: JSON text frames over one WebSocket.
 *   client -> edge   { id, method, data }               a request
 *   edge -> client   { id, ok: true, data }             its response
 *                    { id, ok: false, error }           or its failure
 *   edge -> client   { notification, data }             an event
 * The schemas below validate every frame on the edge and type the SDK.
 */

// mediasoup's parameter objects are validated structurally here (bounded sizes,
// required fields); mediasoup itself checks their semantics and its TypeErrors are
// turned into BAD_REQUEST. Unsafe keeps mediasoup's own TypeScript types.
const Loose = { additionalProperties: true } as const;
const RtpCodec = Type.Object(
  {
    mimeType: Type.String({ maxLength: 64 }),
    payloadType: Type.Integer({ minimum: 0, maximum: 127 }),
    clockRate: Type.Integer({ minimum: 1 }),
  },
  Loose,
);
export const RtpParametersSchema = Type.Unsafe<RtpParameters>(
  Type.Object(
    {
      codecs: Type.Array(RtpCodec, { minItems: 1, maxItems: 16 }),
      encodings: Type.Optional(Type.Array(Type.Object({}, Loose), { maxItems: 8 })),
      headerExtensions: Type.Optional(Type.Array(Type.Object({}, Loose), { maxItems: 32 })),
    },
    Loose,
  ),
);
export const RtpCapabilitiesSchema = Type.Unsafe<RtpCapabilities>(
  Type.Object(
    {
      codecs: Type.Array(Type.Object({ mimeType: Type.String({ maxLength: 64 }) }, Loose), { maxItems: 64 }),
      headerExtensions: Type.Optional(Type.Array(Type.Object({}, Loose), { maxItems: 64 })),
    },
    Loose,
  ),
);
export const DtlsParametersSchema = Type.Unsafe<DtlsParameters>(
  Type.Object(
    {
      role: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('client'), Type.Literal('server')])),
      fingerprints: Type.Array(
        Type.Object({ algorithm: Type.String({ maxLength: 16 }), value: Type.String({ maxLength: 256 }) }),
        { minItems: 1, maxItems: 8 },
      ),
    },
    Loose,
  ),
);

export const Direction = Type.Union([Type.Literal('send'), Type.Literal('recv')]);
export type Direction = Static<typeof Direction>;

export const ParticipantInfo = Type.Object({
  id: Id,
  identity: Id,
  name: DisplayName,
  role: Role,
});
export type ParticipantInfo = Static<typeof ParticipantInfo>;

/** A stream the participant may consume: one producer of another participant. */
export const StreamInfo = Type.Object({
  producerId: Id,
  participantId: Id,
  kind: MediaKind,
  source: Source,
  paused: Type.Boolean(),
  simulcast: Type.Boolean(),
});
export type StreamInfo = Static<typeof StreamInfo>;

const Empty = Type.Object({}, { additionalProperties: false });
export const HandInfo = Type.Object({ participantId: Id, name: DisplayName, raisedAt: Type.Integer() });
export type HandInfo = Static<typeof HandInfo>;
const TransportRef = Type.Object({ transportId: Id }, { additionalProperties: false });
const ProducerRef = Type.Object({ producerId: Id }, { additionalProperties: false });
const ConsumerRef = Type.Object({ consumerId: Id }, { additionalProperties: false });

/** Requests: method -> { request, response } schemas. */
export const Requests = {
  /** Allowed before join: the codecs every router of this edge uses. */
  getRouterRtpCapabilities: {
    request: Empty,
    response: Type.Object({ rtpCapabilities: RtpCapabilitiesSchema }),
  },
  join: {
    request: Type.Object(
      {
        token: Type.String({ minLength: 1, maxLength: 8192 }),
        rtpCapabilities: RtpCapabilitiesSchema,
        /** The client is coming back after losing its connection (counted, nothing else changes). */
        reconnect: Type.Optional(Type.Boolean()),
        /**
         * The participant id this client had in the room (a reconnect or a migration). Kept
         * only when the directory still gives the token's identity to that participant id,
         * so others see the same participant carry on, not a leave and a join.
         */
        resume: Type.Optional(Id),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({
      self: ParticipantInfo,
      room: Type.String(),
      grants: Grants,
      participants: Type.Array(ParticipantInfo),
      streams: Type.Array(StreamInfo),
      activeSpeaker: Type.Union([Id, Type.Null()]),
      /** The room's recent speakers, most relevant first (later changes: `speakerOrder`). */
      speakerOrder: Type.Optional(Type.Array(Id, { maxItems: 64 })),
      /** Lecture mode: `participants` lists the stage only; `participantCount` counts everyone. */
      lecture: Type.Boolean(),
      participantCount: Type.Integer({ minimum: 0 }),
      /** The edge's node id: a client whose edge goes away asks the control plane to avoid it. */
      node: NodeId,
      /** The room's lock and policies (later changes: `settingsChanged`). */
      settings: RoomSettings,
      /** The sources a moderator forbade this participant to unmute (until `unmuteRequested`). */
      forbidden: Type.Array(Source, { maxItems: 4 }),
    }),
  },
  createTransport: {
    request: Type.Object(
      { direction: Direction, forceTcp: Type.Optional(Type.Boolean()) },
      { additionalProperties: false },
    ),
    response: Type.Object({
      id: Id,
      iceParameters: Type.Unsafe<IceParameters>(Type.Object({}, Loose)),
      iceCandidates: Type.Unsafe<IceCandidate[]>(Type.Array(Type.Object({}, Loose))),
      dtlsParameters: DtlsParametersSchema,
      sctpParameters: Type.Optional(Type.Unsafe<SctpParameters>(Type.Object({}, Loose))),
    }),
  },
  /**
   * Plain RTP (no ICE, no DTLS, no encryption), for media bots and load tests on
   * trusted networks. The edge accepts it only when KASKADE_ALLOW_PLAIN_RTP is on.
   */
  createPlainTransport: {
    request: Type.Object({ direction: Direction }, { additionalProperties: false }),
    response: Type.Object({ id: Id, ip: Type.String(), port: Type.Integer() }),
  },
  connectPlainTransport: {
    request: Type.Object(
      {
        transportId: Id,
        ip: Type.String({ maxLength: 64 }),
        port: Type.Integer({ minimum: 1, maximum: 65535 }),
      },
      { additionalProperties: false },
    ),
    response: Empty,
  },
  connectTransport: {
    request: Type.Object(
      { transportId: Id, dtlsParameters: DtlsParametersSchema },
      { additionalProperties: false },
    ),
    response: Empty,
  },
  restartIce: {
    request: TransportRef,
    response: Type.Object({ iceParameters: Type.Unsafe<IceParameters>(Type.Object({}, Loose)) }),
  },
  produce: {
    request: Type.Object(
      {
        transportId: Id,
        kind: MediaKind,
        source: Source,
        rtpParameters: RtpParametersSchema,
        paused: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ producerId: Id }),
  },
  pauseProducer: { request: ProducerRef, response: Empty },
  resumeProducer: { request: ProducerRef, response: Empty },
  closeProducer: { request: ProducerRef, response: Empty },
  /** Consumers start paused; the client resumes once its track is wired up. */
  consume: {
    request: Type.Object({ producerId: Id }, { additionalProperties: false }),
    response: Type.Object({
      consumerId: Id,
      producerId: Id,
      participantId: Id,
      kind: MediaKind,
      source: Source,
      rtpParameters: RtpParametersSchema,
      producerPaused: Type.Boolean(),
    }),
  },
  pauseConsumer: { request: ConsumerRef, response: Empty },
  resumeConsumer: { request: ConsumerRef, response: Empty },
  closeConsumer: { request: ConsumerRef, response: Empty },
  setPreferredLayers: {
    request: Type.Object(
      {
        consumerId: Id,
        spatialLayer: Type.Integer({ minimum: 0, maximum: 3 }),
        temporalLayer: Type.Optional(Type.Integer({ minimum: 0, maximum: 3 })),
      },
      { additionalProperties: false },
    ),
    response: Empty,
  },
  /**
   * Last-N: receive the cameras of only `n` remote participants (pinned ones first, then
   * the room's recent speakers; screen shares always), the others paused at the edge.
   * `n` is capped at the edge's maximum; the answer says the `n` in force. Until this is
   * sent every video is forwarded. Which videos are on: `videoForwarding`.
   */
  setLastN: {
    request: Type.Object(
      {
        n: Type.Integer({ minimum: 0, maximum: 1000 }),
        pinned: Type.Array(Id, { maxItems: MAX_PINNED }),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ n: Type.Integer({ minimum: 0 }) }),
  },
  /** Audience: ask to speak. */
  raiseHand: { request: Empty, response: Empty },
  /** Lower one's own hand, or (moderators) someone else's. */
  lowerHand: {
    request: Type.Object({ participantId: Type.Optional(Id) }, { additionalProperties: false }),
    response: Empty,
  },
  /** Moderators: raised hands, oldest first. */
  listHands: { request: Empty, response: Type.Object({ hands: Type.Array(HandInfo) }) },
  /** Moderators: promote to the stage or demote to the audience; takes effect live. */
  setRole: {
    request: Type.Object({ participantId: Id, role: Role }, { additionalProperties: false }),
    response: Empty,
  },
  /** Moderators: everyone in the room, a page at a time (ordered by id). */
  listParticipants: {
    request: Type.Object(
      { after: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
      { additionalProperties: false },
    ),
    response: Type.Object({ participants: Type.Array(ParticipantInfo), next: Type.Union([Id, Type.Null()]) }),
  },
  leave: { request: Empty, response: Empty },
  // Issue 13's features, each in its own module; every room action is a request too (moderators).
  ...ModerationRequests,
  ...ChatRequests,
  ...BreakoutRequests,
  ...RoomActions,
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;

export type Method = keyof typeof Requests;
export type RequestData<M extends Method> = Static<(typeof Requests)[M]['request']>;
export type ResponseData<M extends Method> = Static<(typeof Requests)[M]['response']>;

/** Notifications: name -> data schema. */
export const Notifications = {
  participantJoined: ParticipantInfo,
  participantLeft: Type.Object({ participantId: Id }),
  streamAdded: StreamInfo,
  streamClosed: Type.Object({ producerId: Id }),
  streamPaused: Type.Object({ producerId: Id }),
  streamResumed: Type.Object({ producerId: Id }),
  consumerClosed: Type.Object({ consumerId: Id }),
  consumerLayersChanged: Type.Object({
    consumerId: Id,
    spatialLayer: Type.Union([Type.Integer(), Type.Null()]),
    temporalLayer: Type.Union([Type.Integer(), Type.Null()]),
  }),
  consumerScore: Type.Object({ consumerId: Id, score: Type.Integer(), producerScore: Type.Integer() }),
  /** Lecture mode: how many are in the room (sent when it changes, at most once a second). */
  participantCount: Type.Object({ count: Type.Integer({ minimum: 0 }) }),
  /** To moderators. */
  handRaised: HandInfo,
  handLowered: Type.Object({ participantId: Id }),
  /** A participant's role changed; to the participant itself with its new grants. */
  roleChanged: Type.Object({ participantId: Id, role: Role, grants: Type.Optional(Grants) }),
  /** The loudest participant of the room, or null in silence. */
  activeSpeaker: Type.Object({ participantId: Type.Union([Id, Type.Null()]) }),
  /**
   * The room's recent speakers, most relevant first (the dominant speaker, then those
   * speaking now, then by how recently they spoke); the same order on every edge.
   */
  speakerOrder: Type.Object({ participantIds: Type.Array(Id, { maxItems: 64 }) }),
  /**
   * Last-N (after `setLastN`): the viewer's video consumers that the edge forwards, and
   * those it holds paused and why (outside the last N, or the sender paused its stream),
   * and those it would forward but cannot: `noBandwidth`, a simulcast consumer that
   * forwarded a layer and has none now (no layer fits the estimate to the viewer, or none
   * arrives from the sender) while neither side paused it.
   * Sent whole whenever one of them changes; consumers the client paused itself are
   * listed as the edge would have them.
   */
  videoForwarding: Type.Object({
    on: Type.Array(Id, { maxItems: 100_000 }),
    notInLastN: Type.Array(Id, { maxItems: 100_000 }),
    pausedBySender: Type.Array(Id, { maxItems: 100_000 }),
    noBandwidth: Type.Array(Id, { maxItems: 100_000 }),
  }),
  /**
   * The stream now reaches this edge over another path (make-before-break): consume it
   * again, switch to the new consumer once it receives, then close the old one. The edge
   * closes the old consumer itself after a deadline.
   */
  streamMoved: Type.Object({ producerId: Id }),
  /**
   * This edge is draining: join the room again at `url` with `token` (and `resume` set to
   * this participant's id), publish and subscribe there, and only then leave this edge.
   * This edge closes the session at its deadline, `deadlineMs` from now.
   */
  migrate: Type.Object({
    url: Type.String({ maxLength: 2048 }),
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    deadlineMs: Type.Integer({ minimum: 0 }),
  }),
  ...ModerationNotifications,
  ...ChatNotifications,
  ...BreakoutNotifications,
} as const satisfies Record<string, TSchema>;

export type NotificationName = keyof typeof Notifications;
export type NotificationData<N extends NotificationName> = Static<(typeof Notifications)[N]>;

export const RequestFrame = Type.Object(
  {
    id: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    method: Type.String({ maxLength: 64 }),
    data: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type RequestFrame = Static<typeof RequestFrame>;

/** id is null when the frame it answers had no readable id (not JSON, too large). */
export type ResponseFrame =
  | { id: number; ok: true; data: unknown }
  | { id: number | null; ok: false; error: ErrorBody };
export interface NotificationFrame {
  notification: NotificationName;
  data: unknown;
}
