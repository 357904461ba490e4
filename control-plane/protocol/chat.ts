import type { TSchema } from 'typebox';
import type { RoomActionSchema } from './room-actions.ts';

/** Chat: room chat, private messages, named channels, lecture Q&A: the wire contracts. */

/** Signaling requests (besides the actions) a participant makes. */
export const ChatRequests = {} as const satisfies Record<string, { request: TSchema; response: TSchema }>;

/** Signaling notifications the edge sends. */
export const ChatNotifications = {} as const satisfies Record<string, TSchema>;

/** Room actions (see room-actions.ts): executed by the control plane. */
export const ChatActions = {} as const satisfies Record<string, RoomActionSchema>;

/** Room events (nats.ts RoomEvent members), from an edge or from the control plane. */
export const ChatEvents = [] as const satisfies readonly TSchema[];
