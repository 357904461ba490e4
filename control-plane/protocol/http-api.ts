import Type, { type Static } from 'typebox';
import { NodeId, RoomName, SafeName } from './names.ts';
import { MeshParticipant, RemoteStream } from './nats.ts';

/**
 * The control plane's API for the conference application, on its public listener,
 * authenticated by `authorization: Bearer <KASKADE_APP_API_KEY>` (API_AUTH_SCHEME). A
 * refusal is an ErrorBody (errors.ts) with the HTTP status of its code.
 */
export const API_AUTH_SCHEME = 'Bearer';

/** `POST` a room action (room-actions.ts): body its parameters, 200 its answer. */
export const ROOM_ACTION_ROUTE = '/v1/rooms/:room/actions/:name';

/** `GET` what a room is now (RoomSummary). */
export const ROOM_SUMMARY_ROUTE = '/v1/rooms/:room';

export function roomActionPath(room: string, action: string): string {
  return ROOM_ACTION_ROUTE.replace(':room', encodeURIComponent(room)).replace(
    ':name',
    encodeURIComponent(action),
  );
}

export function roomSummaryPath(room: string): string {
  return ROOM_SUMMARY_ROUTE.replace(':room', encodeURIComponent(room));
}

export const RoomRouteParams = Type.Object({ room: RoomName });
export const RoomActionRouteParams = Type.Object({ room: RoomName, name: SafeName });

/**
 * The parts of a room's summary, each read from Redis by the control plane (a part
 * added here without its reader in control-plane/service/roomSummary.ts does not
 * type-check). Features add theirs: settings, lobby, breakouts.
 */
export const RoomSummaryParts = {
  participants: Type.Array(MeshParticipant),
  streams: Type.Array(RemoteStream),
  /** The edges carrying the room. */
  nodes: Type.Array(NodeId),
} as const;

export const RoomSummary = Type.Object({ room: RoomName, ...RoomSummaryParts });
export type RoomSummary = Static<typeof RoomSummary>;
