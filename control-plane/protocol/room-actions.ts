import type { TSchema } from 'typebox';
import { BreakoutActions } from './breakouts.ts';
import { ChatActions } from './chat.ts';
import { ModerationActions } from './moderation.ts';

/** One action on a room: its parameters, its answer, and what it does (for the API's documentation). */
export interface RoomActionSchema {
  request: TSchema;
  response: TSchema;
  description: string;
}

/**
 * Everything a moderator (over signaling, with the `moderate` grant) or the conference
 * application (over the control plane's HTTP API, with its API credential) may do to a
 * room: action name -> parameters and answer. Each action is also a signaling request
 * of the same name, and a route `POST /v1/rooms/{room}/actions/{name}` of the API;
 * either way the control plane executes it (one place), writes what must survive to
 * Redis and tells the edges carrying the room on Subjects.roomControl.
 */
export const RoomActions = {
  ...ModerationActions,
  ...ChatActions,
  ...BreakoutActions,
} as const satisfies Record<string, RoomActionSchema>;

export type RoomActionName = keyof typeof RoomActions;
export const ROOM_ACTION_NAMES = Object.keys(RoomActions) as RoomActionName[];
