import { DisplayName, Id, NodeId, Role, RoomName } from '@kaskade/protocol';
import Type, { type Static, type TSchema } from 'typebox';

// The webhook envelope and the room summary, as the contract of issue 13 ("HTTP API and
// webhooks") fixes them. They belong in @kaskade/protocol (webhooks.ts, http-api.ts),
// which was being written beside this package: when they are there, this file becomes
// re-exports of them and nothing else in the package changes.

/** The webhook headers (lower case, as Node gives them). */
export const WebhookHeaders = {
  id: 'kaskade-webhook-id',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'kaskade-webhook-timestamp',
  /** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, space-separated during a rotation. */
  signature: 'kaskade-webhook-signature',
} as const;

export const WEBHOOK_SIGNATURE_VERSION = 'v1';

/** A receiver refuses a webhook signed longer ago than this (a replayed capture). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const WebhookParticipant = Type.Object({
  participantId: Id,
  identity: Id,
  name: DisplayName,
  role: Role,
  node: NodeId,
});

/** The webhook types and what each carries in `data`. */
export const WebhookData = {
  roomStarted: Type.Object({}),
  roomEnded: Type.Object({}),
  participantJoined: Type.Object({ participant: WebhookParticipant }),
  participantLeft: Type.Object({ participantId: Id }),
  lobbyWaiting: Type.Object({ participantId: Id, identity: Id, name: DisplayName }),
} as const satisfies Record<string, TSchema>;

export type WebhookType = keyof typeof WebhookData;
const WEBHOOK_TYPES = Object.keys(WebhookData) as WebhookType[];

function webhookEventSchema<T extends WebhookType>(type: T) {
  return Type.Object({
    id: Id,
    type: Type.Literal(type),
    room: RoomName,
    /** When the event happened (ms since the epoch). */
    createdAt: Type.Integer({ minimum: 0 }),
    data: WebhookData[type],
  });
}

/** Any webhook body. */
export const WebhookEvent = Type.Union(WEBHOOK_TYPES.map((type) => webhookEventSchema(type)));
export type WebhookEvent = {
  [T in WebhookType]: Static<ReturnType<typeof webhookEventSchema<T>>>;
}[WebhookType];

/** `GET /v1/rooms/{room}`: what the room is now, read from Redis by the control plane. */
export interface RoomSummary {
  room: string;
  [part: string]: unknown;
}

export function roomActionPath(room: string, action: string): string {
  return `/v1/rooms/${encodeURIComponent(room)}/actions/${encodeURIComponent(action)}`;
}

export function roomSummaryPath(room: string): string {
  return `/v1/rooms/${encodeURIComponent(room)}`;
}
