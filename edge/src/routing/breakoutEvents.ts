import type { BreakoutEvents } from '@kaskade/protocol';
import type { Static } from 'typebox';
import type { RoomEventRows } from './roomEvents.ts';

type BreakoutEventKind = Static<(typeof BreakoutEvents)[number]>['type'];

/** How the room events of breakout rooms change this node's rooms (rows of roomEvents.ts). */
export const breakoutEventRows: RoomEventRows<BreakoutEventKind> = {};
