import Type, { type Static } from 'typebox';
import { NodeId } from './names.ts';

/**
 * The control plane's bus credential issuer (public listener, when the operator
 * configured it): a pod proves who it is with its Kubernetes projected service-account
 * token (`authorization: Bearer <token>`, no body) and gets a NATS user of its own,
 * named after its pod, with the permissions of its role (bus-permissions.ts). Refusals
 * are the usual typed error bodies: 401 UNAUTHORIZED (no token, a bad signature, the
 * wrong audience or issuer, expired), 403 FORBIDDEN (another namespace or service
 * account, a pod name that is no node id), 429 RATE_LIMITED, 404 NOT_FOUND when the
 * issuer is not configured.
 */
export const BUS_CREDENTIALS_ROUTE = '/v1/bus/credentials';

export const BusCredentialsReply = Type.Object(
  {
    /** The node id the credentials speak as: the pod's name, from the verified token. */
    nodeId: NodeId,
    role: Type.Union([Type.Literal('edge'), Type.Literal('relay')]),
    /** When the user JWT expires (ISO 8601); nats-server closes its connections then. */
    expiresAt: Type.String({ minLength: 1 }),
    /** The NATS `.creds` file: the user JWT and the user's nkey seed (a secret). */
    creds: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type BusCredentialsReply = Static<typeof BusCredentialsReply>;
