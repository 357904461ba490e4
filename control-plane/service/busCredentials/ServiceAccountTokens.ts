import { readFileSync } from 'node:fs';
import { httpsRequest } from '@kaskade/node-toolkit';
import { KaskadeError } from '@kaskade/protocol';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

/** A key set larger than this is refused (a cluster has a few keys). */
const JWKS_MAX_BYTES = 1_048_576;
/** jose's own timeout (its signal) bounds the fetch too; this bounds it without one. */
const JWKS_TIMEOUT_MS = 5000;

/** Where the cluster's token keys come from: a JWKS file, or a URL (with the CA and bearer token it needs). */
export type JwksSource = { file: string } | { url: string; caFile?: string; tokenFile?: string };

export interface ServiceAccountTokenOptions {
  keys: JwksSource;
  /** The audience the projected tokens are made for (aud must contain it). */
  audience: string;
  /** The cluster's issuer (iss); unset: any. */
  issuer?: string;
}

/**
 * The claims of a bound (projected) service-account token that matter here: Kubernetes
 * puts the pod it is bound to, its namespace and service account under `kubernetes.io`.
 * Legacy service-account Secrets' tokens name no pod and are refused.
 */
const KubernetesClaims = Type.Object({
  'kubernetes.io': Type.Object({
    namespace: Type.String({ minLength: 1, maxLength: 253 }),
    pod: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 253 }),
      uid: Type.String({ minLength: 1, maxLength: 64 }),
    }),
    serviceaccount: Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) }),
  }),
});
const checkKubernetesClaims = Compile(KubernetesClaims);

export interface PodIdentity {
  namespace: string;
  serviceAccount: string;
  pod: { name: string; uid: string };
}

/** Asymmetric algorithms the API server signs tokens with (RS256 by default, ES256 with an EC key). */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'];

/**
 * Verifies Kubernetes service-account tokens offline, against the cluster's JWKS (the
 * API server's `/openid/v1/jwks`, read with the control plane's own service-account
 * token and the cluster CA, cached and refetched for a key id it does not know, at most
 * every 30 s), and reads which pod the token is bound to. Every refusal is a typed
 * error whose message names the reason, never the token.
 */
export class ServiceAccountTokens {
  readonly #keys: JWTVerifyGetKey;
  readonly #audience: string;
  readonly #issuer: string | undefined;

  constructor(options: ServiceAccountTokenOptions) {
    this.#keys = keySet(options.keys);
    this.#audience = options.audience;
    this.#issuer = options.issuer;
  }

  async verify(token: string): Promise<PodIdentity> {
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        audience: this.#audience,
        issuer: this.#issuer,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      throw refusal(error);
    }
    if (!checkKubernetesClaims.Check(payload))
      throw new KaskadeError('FORBIDDEN', 'the token is no pod-bound service-account token');
    const claims = (payload as Static<typeof KubernetesClaims>)['kubernetes.io'];
    return {
      namespace: claims.namespace,
      serviceAccount: claims.serviceaccount.name,
      pod: { name: claims.pod.name, uid: claims.pod.uid },
    };
  }
}

/** What is wrong with the token itself (anything else is our key source failing). */
const TOKEN_FAULTS = [
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
];

/** A verification failure as the typed refusal it is: the caller's token (401), or our key source (503). */
function refusal(error: unknown): KaskadeError {
  if (error instanceof errors.JWTExpired) return new KaskadeError('UNAUTHORIZED', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed)
    return new KaskadeError('UNAUTHORIZED', `the token's ${error.claim} claim is not accepted here`);
  if (TOKEN_FAULTS.some((fault) => error instanceof fault))
    return new KaskadeError(
      'UNAUTHORIZED',
      `the token is not accepted (${(error as { code: string }).code})`,
    );
  // The JWKS URL unreachable, slow, or answering no key set.
  return new KaskadeError('UNAVAILABLE', 'the cluster token keys cannot be read now; retry', {
    cause: error,
  });
}

function keySet(source: JwksSource): JWTVerifyGetKey {
  if ('file' in source) return createLocalJWKSet(JSON.parse(readFileSync(source.file, 'utf8')));
  const ca = source.caFile ? readFileSync(source.caFile) : undefined;
  const { tokenFile } = source;
  return createRemoteJWKSet(new URL(source.url), {
    cooldownDuration: 30_000,
    cacheMaxAge: 600_000,
    // node:https, for the cluster CA and the bearer token (reread: the kubelet rotates it).
    [customFetch]: (url: string, init: { headers: Headers; signal: AbortSignal }) => {
      const headers = Object.fromEntries(init.headers);
      if (tokenFile) headers.authorization = `Bearer ${readFileSync(tokenFile, 'utf8').trim()}`;
      if (!url.startsWith('https:')) return fetch(url, { headers, signal: init.signal, redirect: 'manual' });
      return httpsRequest(new URL(url), {
        method: 'GET',
        headers,
        ...(ca ? { ca } : {}),
        timeoutMs: JWKS_TIMEOUT_MS,
        maxBytes: JWKS_MAX_BYTES,
        signal: init.signal,
      }).then((answer) => new Response(new Uint8Array(answer.body), { status: answer.status }));
    },
  });
}
