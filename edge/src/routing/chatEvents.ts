import type { ChatEvents } from '@kaskade/protocol';
import type { Static } from 'typebox';
import type { RoomEventRows } from './roomEvents.ts';

type ChatEventKind = Static<(typeof ChatEvents)[number]>['type'];

/** How the room events of chat change this node's rooms (rows of roomEvents.ts). */
export const chatEventRows: RoomEventRows<ChatEventKind> = {};
