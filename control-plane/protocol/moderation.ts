import type { TSchema } from 'typebox';
import type { RoomActionSchema } from './room-actions.ts';

/** Moderation, the lobby and the room settings (lock, policies, bans): the wire contracts. */

/** Signaling requests (besides the actions) a participant makes. */
export const ModerationRequests = {} as const satisfies Record<
  string,
  { request: TSchema; response: TSchema }
>;

/** Signaling notifications the edge sends. */
export const ModerationNotifications = {} as const satisfies Record<string, TSchema>;

/** Room actions (see room-actions.ts): executed by the control plane. */
export const ModerationActions = {} as const satisfies Record<string, RoomActionSchema>;

/** Room events (nats.ts RoomEvent members), from an edge or from the control plane. */
export const ModerationEvents = [] as const satisfies readonly TSchema[];
