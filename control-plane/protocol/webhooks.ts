import Type, { type Static, type TSchema } from 'typebox';
import { BreakoutRoom, BreakoutState } from './breakouts.ts';
import { Role } from './media.ts';
import { Reason } from './moderation.ts';
import { DisplayName, Id, NodeId, RoomName } from './names.ts';

/**
 * Webhooks: what the control plane POSTs to the conference application's
 * KASKADE_WEBHOOK_URL. Each is a WebhookEvent as JSON, signed (see the headers below):
 * the receiver checks the signature over the raw body and refuses a timestamp older than
 * WEBHOOK_TOLERANCE_SECONDS. Delivery is at least once: `id` tells a retry from a new event.
 */

/** The webhook headers (lower case, as HTTP/2 and Node give them). */
export const WebhookHeaders = {
  /** The event's id (the body's `id`): the same on every attempt. */
  id: 'kaskade-webhook-id',
  /** Unix seconds when this attempt was signed. */
  timestamp: 'kaskade-webhook-timestamp',
  /**
   * `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; during a rotation one per
   * secret, space-separated (the current secret's first): any one that verifies will do.
   */
  signature: 'kaskade-webhook-signature',
} as const;

/** The signature scheme's version tag (`v1=` in the signature header). */
export const WEBHOOK_SIGNATURE_VERSION = 'v1';

/** A receiver refuses a webhook signed longer ago than this (a replayed capture). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const WebhookParticipant = Type.Object({
  participantId: Id,
  identity: Id,
  name: DisplayName,
  role: Role,
  /** The edge it is on. */
  node: NodeId,
});

/**
 * The webhook types and what each carries in `data`. A feature that emits its own adds
 * a row here (and emits it with ActionContext.webhook in its action handler).
 */
export const WebhookData = {
  /** The room got its first participant (again, after it had ended). */
  roomStarted: Type.Object({}),
  /** The room's last participant left, or a moderator (or the application) ended the meeting. */
  roomEnded: Type.Object({}),
  participantJoined: Type.Object({ participant: WebhookParticipant }),
  participantLeft: Type.Object({ participantId: Id }),
  /** A join waits in the lobby for a moderator to admit it (once per wait). */
  lobbyWaiting: Type.Object({ participantId: Id, identity: Id, name: DisplayName }),
  /** A moderator (or the application) removed a participant; `banned`: its identity may not come back. */
  participantRemoved: Type.Object({
    participantId: Id,
    identity: Id,
    reason: Reason,
    banned: Type.Boolean(),
  }),
  /** A moderator (or the application) ended the meeting for everyone (roomEnded follows). */
  meetingEnded: Type.Object({}),
  /** A moderator (or the application) opened the room's breakouts; `endsAt`: their timer (ms), or null. */
  breakoutsOpened: Type.Object({ rooms: Type.Array(BreakoutRoom), endsAt: BreakoutState.properties.endsAt }),
  /** The room's open breakouts closed (by a moderator, the application or their timer): everyone is moved back. */
  breakoutsClosed: Type.Object({ rooms: Type.Array(BreakoutRoom.properties.room) }),
} as const satisfies Record<string, TSchema>;

export type WebhookType = keyof typeof WebhookData;
export const WEBHOOK_TYPES = Object.keys(WebhookData) as WebhookType[];
export type WebhookDataOf<T extends WebhookType> = Static<(typeof WebhookData)[T]>;

/** The envelope of one event of type `T` (its schema, for documentation and receivers). */
export function webhookEventSchema<T extends WebhookType>(type: T) {
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
