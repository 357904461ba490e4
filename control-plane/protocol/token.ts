import Type, { type Static } from 'typebox';
import { Role, Source } from './media.ts';
import { DisplayName, Id, NodeId, RoomName } from './names.ts';

/**
 * Grants a join token carries. The edge enforces them: a participant without
 * `publish` gets no send transport, one with `publishSources` may produce only those.
 */
export const Grants = Type.Object(
  {
    publish: Type.Boolean(),
    publishSources: Type.Optional(Type.Array(Source, { maxItems: 4, uniqueItems: true })),
    subscribe: Type.Boolean(),
    moderate: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type Grants = Static<typeof Grants>;

/** The claims of a Kaskade join token (JWT, HS256 or ES256). */
export const JoinClaims = Type.Object({
  sub: Id, // participant identity, unique within the room
  name: DisplayName,
  room: RoomName,
  grants: Grants,
  exp: Type.Integer(),
  iat: Type.Optional(Type.Integer()),
  iss: Type.Optional(Type.String({ maxLength: 256 })),
  /** The participant's role; without it, stage when the grants allow publishing, else audience. */
  role: Type.Optional(Role),
  /** The room is a lecture: no presence per audience member, a count instead (set by the application). */
  lecture: Type.Optional(Type.Boolean()),
  /** Set on edge tokens the control plane issues: only that edge accepts the token. */
  node: Type.Optional(NodeId),
  /** The token's id: a mesh edge remembers it until exp and refuses a second use. */
  jti: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});
export type JoinClaims = Static<typeof JoinClaims>;

export const TOKEN_AUDIENCE = 'kaskade';
