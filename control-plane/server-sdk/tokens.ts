import { randomUUID } from 'node:crypto';
import { type Grants, JoinClaims, type Role, type Source, TOKEN_AUDIENCE } from '@kaskade/protocol';
import { type CryptoKey, importPKCS8, SignJWT } from 'jose';
import { Compile } from 'typebox/compile';

const checkClaims = Compile(JoinClaims);

/**
 * The key join tokens are signed with: the HS256 secret the control plane (or a standalone
 * edge) is configured with (`KASKADE_APP_JWT_SECRET` / `KASKADE_JWT_SECRET`), or an ES256
 * private key (PKCS#8 PEM) whose public key the server holds.
 */
export type JoinTokenKey =
  | { algorithm: 'HS256'; secret: string }
  | { algorithm: 'ES256'; privateKeyPem: string; keyId?: string };

/** What one participant may do, as the token's `grants` claim carries it. */
export const JoinGrants = {
  /** Publishes, subscribes and moderates: a meeting's host, a lecture's lecturer. */
  host: (): Grants => ({ publish: true, subscribe: true, moderate: true }),
  /** Publishes (only the `sources` given, when given) and subscribes. */
  speaker: (sources?: readonly Source[]): Grants => ({
    publish: true,
    subscribe: true,
    ...(sources ? { publishSources: [...sources] } : {}),
  }),
  /** Watches and listens only: no send transport until a moderator promotes them. */
  viewer: (): Grants => ({ publish: false, subscribe: true }),
} as const;

export interface JoinTokenRequest {
  room: string;
  /** The application's stable id of the person: rejoins with the same identity are the same participant. */
  identity: string;
  /** Shown to the others. */
  name: string;
  /** Default: `JoinGrants.speaker()`. */
  grants?: Grants;
  /** `audience` joins a lecture watching; without it, stage when the grants allow publishing. */
  role?: Role;
  /** The room is a lecture: the audience is counted, not listed (the same on every token of the room). */
  lecture?: boolean;
  /** Lifetime; default the issuer's. The control plane refuses tokens living longer than its maximum. */
  ttlSeconds?: number;
}

export interface JoinTokenIssuerOptions {
  /** Default lifetime of a token in seconds (600: a reconnect asks the application for a new one). */
  ttlSeconds?: number;
  /** The `iss` claim, when the application names itself. */
  issuer?: string;
}

/** The claims were refused before signing: the edge would refuse them too. */
export class InvalidJoinClaimsError extends Error {
  override readonly name = 'InvalidJoinClaimsError';
}

/**
 * Mints Kaskade join tokens (JWT) with the claims the edge and the control plane verify
 * (JoinClaims): audience `kaskade`, subject = identity, a random `jti` (a mesh edge
 * accepts each token once), `iat` and `exp`. Claims are checked against the same schema
 * the servers use, so a bad room name fails here with a reason, not later at the join.
 */
export class JoinTokenIssuer {
  readonly #key: JoinTokenKey;
  readonly #ttlSeconds: number;
  readonly #issuer: string | undefined;
  #signingKey: Promise<Uint8Array | CryptoKey> | undefined;

  constructor(key: JoinTokenKey, options: JoinTokenIssuerOptions = {}) {
    if (key.algorithm === 'HS256' ? !key.secret : !key.privateKeyPem) {
      throw new TypeError(`JoinTokenIssuer: the ${key.algorithm} key is empty`);
    }
    this.#key = key;
    this.#ttlSeconds = options.ttlSeconds ?? 600;
    this.#issuer = options.issuer;
  }

  async mint(request: JoinTokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: JoinClaims = {
      sub: request.identity,
      name: request.name,
      room: request.room,
      grants: request.grants ?? JoinGrants.speaker(),
      iat: now,
      exp: now + (request.ttlSeconds ?? this.#ttlSeconds),
      jti: randomUUID(),
      ...(this.#issuer ? { iss: this.#issuer } : {}),
      ...(request.role ? { role: request.role } : {}),
      ...(request.lecture ? { lecture: true } : {}),
    };
    if (!checkClaims.Check(claims)) {
      const first = checkClaims.Errors(claims)[0];
      throw new InvalidJoinClaimsError(
        `join token claims invalid: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(),
      );
    }
    const header =
      this.#key.algorithm === 'HS256'
        ? { alg: 'HS256' }
        : { alg: 'ES256', ...(this.#key.keyId ? { kid: this.#key.keyId } : {}) };
    return new SignJWT({ ...claims })
      .setProtectedHeader(header)
      .setAudience(TOKEN_AUDIENCE)
      .sign(await this.#signingKeyOnce());
  }

  /** The key imported once: a bad PEM fails the first mint, and every one after it. */
  #signingKeyOnce(): Promise<Uint8Array | CryptoKey> {
    const key = this.#key;
    this.#signingKey ??=
      key.algorithm === 'HS256'
        ? Promise.resolve(new TextEncoder().encode(key.secret))
        : importPKCS8(key.privateKeyPem, 'ES256');
    return this.#signingKey;
  }
}
