import type { TSchema } from 'typebox';
import type { RoomActionSchema } from './room-actions.ts';

/** Breakout rooms: the wire contracts. */

/** Signaling requests (besides the actions) a participant makes. */
export const BreakoutRequests = {} as const satisfies Record<string, { request: TSchema; response: TSchema }>;

/** Signaling notifications the edge sends. */
export const BreakoutNotifications = {} as const satisfies Record<string, TSchema>;

/** Room actions (see room-actions.ts): executed by the control plane. */
export const BreakoutActions = {} as const satisfies Record<string, RoomActionSchema>;

/** Room events (nats.ts RoomEvent members), from an edge or from the control plane. */
export const BreakoutEvents = [] as const satisfies readonly TSchema[];
