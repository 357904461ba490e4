import Type, { type Static } from 'typebox';
import { NodeId } from './names.ts';

/**
 * The control plane's bus credential issuer (public listener, when the operator
 * configured it): a pod proves who it is with its Kubernetes projected service-account
 * token (`authorization: Bearer <token>`), sends the public key of a user nkey pair it
 * generated itself, and gets a user JWT for that key, named after its pod, with the
 * permissions of its role (bus-permissions.ts). No secret comes back: the pod writes the
 * `.creds` file from the JWT and its own seed, which never leaves it. Refusals are the
 * usual typed error bodies: 400 BAD_REQUEST (no public key, or one that is no user
 * public key — a seed included), 401 UNAUTHORIZED (no token, a bad signature, the wrong
 * audience or issuer, expired), 403 FORBIDDEN (another namespace or service account, a
 * pod name that is no node id), 429 RATE_LIMITED, 404 NOT_FOUND when the issuer is not
 * configured.
 */
export const BUS_CREDENTIALS_ROUTE = '/v1/bus/credentials';

/** An nkey user public key: `U` and 55 base32 characters (a seed, `SU...`, is 58 and refused). */
export const UserPublicKey = Type.String({ pattern: '^U[A-Z2-7]{55}$', minLength: 56, maxLength: 56 });

export const BusCredentialsRequest = Type.Object(
  {
    /** The public key of the user nkey pair the pod generated; the JWT is issued for it. */
    publicKey: UserPublicKey,
  },
  { additionalProperties: false },
);
export type BusCredentialsRequest = Static<typeof BusCredentialsRequest>;

export const BusCredentialsReply = Type.Object(
  {
    /** The node id the credentials speak as: the pod's name, from the verified token. */
    nodeId: NodeId,
    role: Type.Union([Type.Literal('edge'), Type.Literal('relay')]),
    /** When the user JWT expires (ISO 8601); nats-server closes its connections then. */
    expiresAt: Type.String({ minLength: 1 }),
    /** The NATS user JWT for the request's public key (public data: useless without the pod's seed). */
    jwt: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type BusCredentialsReply = Static<typeof BusCredentialsReply>;
