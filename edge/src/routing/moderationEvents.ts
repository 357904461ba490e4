import type { ModerationEvents } from '@kaskade/protocol';
import type { Static } from 'typebox';
import type { RoomEventRows } from './roomEvents.ts';

type ModerationEventKind = Static<(typeof ModerationEvents)[number]>['type'];

/** How the room events of moderation (the control plane executed a room action) change this node's rooms (rows of roomEvents.ts). */
export const moderationEventRows: RoomEventRows<ModerationEventKind> = {};
