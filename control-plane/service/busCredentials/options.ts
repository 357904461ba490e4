import { option, Type } from '@kaskade/node-toolkit';
import { SAFE_NAME_PATTERN } from '@kaskade/protocol';

/** Where the cluster publishes the keys its service-account tokens are signed with. */
export const IN_CLUSTER_JWKS_URL = 'https://kubernetes.default.svc/openid/v1/jwks';

/** A path to a file, unset by default. */
const fileOption = (env: string, description: string) =>
  Type.Optional(option(Type.String({ minLength: 1 }), { env, description }));

const SERVICE_ACCOUNT_NAME = Type.String({ pattern: '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$' });

/**
 * The bus credential issuer (POST /v1/bus/credentials): pods of the edges and relays
 * trade their projected service-account token for a NATS user of their own. On when
 * KASKADE_BUS_ISSUER_SIGNING_KEY_FILE is set; then the account, the namespace and the
 * two service accounts are needed too (busIssuerProblems).
 */
export function busIssuerOptions() {
  return {
    busIssuerSigningKeyFile: fileOption(
      'KASKADE_BUS_ISSUER_SIGNING_KEY_FILE',
      'file holding a signing key seed (SA...) of the bus account (nats-server in JWT mode); set: the bus credential issuer is on (unset: POST /v1/bus/credentials answers 404)',
    ),
    busIssuerAccount: Type.Optional(
      option(Type.String({ pattern: '^A[A-Z2-7]{55}$' }), {
        env: 'KASKADE_BUS_ISSUER_ACCOUNT',
        description: 'public key (A...) of the bus account the signing key belongs to',
      }),
    ),
    busIssuerNamespace: Type.Optional(
      option(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }), {
        env: 'KASKADE_BUS_ISSUER_NAMESPACE',
        description: 'the only Kubernetes namespace whose pods get bus credentials',
      }),
    ),
    busIssuerEdgeServiceAccount: Type.Optional(
      option(SERVICE_ACCOUNT_NAME, {
        env: 'KASKADE_BUS_ISSUER_EDGE_SERVICE_ACCOUNT',
        description: 'the service account of the edge pods: its tokens get edge credentials',
      }),
    ),
    busIssuerRelayServiceAccount: Type.Optional(
      option(SERVICE_ACCOUNT_NAME, {
        env: 'KASKADE_BUS_ISSUER_RELAY_SERVICE_ACCOUNT',
        description: 'the service account of the relay pods: its tokens get relay credentials',
      }),
    ),
    busIssuerAudience: option(Type.String({ pattern: `^${SAFE_NAME_PATTERN}$`, default: 'kaskade-bus' }), {
      env: 'KASKADE_BUS_ISSUER_AUDIENCE',
      description: "the audience the pods' projected service-account tokens are made for",
    }),
    busIssuerTokenIssuer: Type.Optional(
      option(Type.String({ minLength: 1, maxLength: 2048 }), {
        env: 'KASKADE_BUS_ISSUER_TOKEN_ISSUER',
        description:
          "the cluster's service-account token issuer (iss, e.g. https://kubernetes.default.svc.cluster.local); unset: any issuer the JWKS keys sign for",
      }),
    ),
    busIssuerJwksUrl: option(Type.String({ pattern: '^https?://[^\\s]+$', default: IN_CLUSTER_JWKS_URL }), {
      env: 'KASKADE_BUS_ISSUER_JWKS_URL',
      description:
        "where the cluster's service-account token keys are read (refetched for an unknown key id)",
    }),
    busIssuerJwksFile: fileOption(
      'KASKADE_BUS_ISSUER_JWKS_FILE',
      'a JWKS file to verify the tokens with instead of KASKADE_BUS_ISSUER_JWKS_URL',
    ),
    busIssuerJwksCaFile: fileOption(
      'KASKADE_BUS_ISSUER_JWKS_CA_FILE',
      'CA certificate(s) the JWKS URL is verified with (in a pod: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt)',
    ),
    busIssuerJwksTokenFile: fileOption(
      'KASKADE_BUS_ISSUER_JWKS_TOKEN_FILE',
      'bearer token the JWKS URL is read with, reread each fetch (in a pod: its own service-account token, /var/run/secrets/kubernetes.io/serviceaccount/token)',
    ),
    busIssuerCredentialTtlSeconds: option(
      Type.Integer({ minimum: 60, maximum: 2_592_000, default: 86_400 }),
      {
        env: 'KASKADE_BUS_ISSUER_CREDENTIAL_TTL_S',
        description:
          'lifetime of a minted bus user; nats-server closes its connection then, so the pod renews before (deploy/image/bus-credentials.ts --renew)',
      },
    ),
    busIssuerRequestsPerSecondPerAddress: option(
      Type.Number({ minimum: 0.1, maximum: 1_000_000, default: 5 }),
      {
        env: 'KASKADE_BUS_ISSUER_REQUESTS_PER_S_PER_ADDRESS',
        description: 'bus credential requests per second one source address may make (429 past it)',
      },
    ),
    busIssuerBurstPerAddress: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 50 }), {
      env: 'KASKADE_BUS_ISSUER_BURST_PER_ADDRESS',
      description: 'bus credential requests one source address may make at once (a scale-up)',
    }),
  };
}

type BusIssuerSettings = {
  [K in keyof ReturnType<typeof busIssuerOptions>]?: unknown;
};

/** Options the issuer needs once it is on, and options that mean nothing without it. */
export function busIssuerProblems(config: BusIssuerSettings): string[] {
  if (!config.busIssuerSigningKeyFile) return [];
  const needed = [
    ['busIssuerAccount', 'KASKADE_BUS_ISSUER_ACCOUNT'],
    ['busIssuerNamespace', 'KASKADE_BUS_ISSUER_NAMESPACE'],
    ['busIssuerEdgeServiceAccount', 'KASKADE_BUS_ISSUER_EDGE_SERVICE_ACCOUNT'],
    ['busIssuerRelayServiceAccount', 'KASKADE_BUS_ISSUER_RELAY_SERVICE_ACCOUNT'],
  ] as const;
  const problems = needed
    .filter(([key]) => !config[key])
    .map(([, env]) => `KASKADE_BUS_ISSUER_SIGNING_KEY_FILE needs ${env}`);
  if (
    config.busIssuerEdgeServiceAccount &&
    config.busIssuerEdgeServiceAccount === config.busIssuerRelayServiceAccount
  )
    problems.push(
      'the edges and the relays need service accounts of their own (their bus permissions differ)',
    );
  return problems;
}
