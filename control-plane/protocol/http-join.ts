import Type, { type Static } from 'typebox';
import { NodeId, Region, RoomName } from './names.ts';

/**
 * The control plane's public join over HTTP: `POST` the participant's application token to
 * a room's join path; the answer names the edge to use and carries a short-lived token for
 * that edge. A refusal is an ErrorBody (errors.ts) with the HTTP status of its code.
 */
export const HTTP_JOIN_ROUTE = '/v1/rooms/:room/join';

/** The join path of one room: HTTP_JOIN_ROUTE with the room filled in. */
export function httpJoinPath(room: string): string {
  return HTTP_JOIN_ROUTE.replace(':room', encodeURIComponent(room));
}

/** The most edges one join may ask to avoid. */
export const HTTP_JOIN_MAX_AVOID = 8;

export const HttpJoinParams = Type.Object({ room: RoomName });
export type HttpJoinParams = Static<typeof HttpJoinParams>;

export const HttpJoinRequest = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    region: Type.Optional(Region),
    /**
     * Edges this client could not reach just now (the one it was on went away): chosen only
     * when no other edge can take the join. It only steers the asker's own placement.
     */
    avoid: Type.Optional(Type.Array(NodeId, { maxItems: HTTP_JOIN_MAX_AVOID })),
  },
  { additionalProperties: false },
);
export type HttpJoinRequest = Static<typeof HttpJoinRequest>;

export const HttpJoinReply = Type.Object({
  /** The edge's base URL (its signaling is at SIGNALING_PATH there). */
  edgeUrl: Type.String(),
  /** A token for that edge only, valid once and briefly. */
  edgeToken: Type.String(),
  /** The edge's node id: what a client that loses this edge passes as `avoid`. */
  nodeId: Type.String(),
  region: Type.String(),
});
export type HttpJoinReply = Static<typeof HttpJoinReply>;
