import { randomUUID } from 'node:crypto';
import {
  cleanDisplayName,
  type JoinClaims,
  JoinClaims as JoinClaimsSchema,
  KaskadeError,
  TOKEN_AUDIENCE,
} from '@kaskade/protocol';
import { type CryptoKey, errors, importPKCS8, importSPKI, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { Compile } from 'typebox/compile';
import { ConfigError } from './config-error.ts';

const checkClaims = Compile(JoinClaimsSchema);

export interface TokenKeys {
  /** HS256 shared secret. */
  secret?: string;
  /** ES256 public key, SPKI PEM. */
  publicKeyPem?: string;
  /** The keys being rotated out: still accepted, so a rotation never refuses a good token. */
  previous?: { secret?: string; publicKeyPem?: string };
}

/** The keys of one generation: an HS256 secret, an ES256 public key, or both. */
interface KeySet {
  secret?: Uint8Array;
  publicKey?: CryptoKey;
}

async function importKeySet(secret: string | undefined, publicKeyPem: string | undefined): Promise<KeySet> {
  let publicKey: CryptoKey | undefined;
  if (publicKeyPem) {
    try {
      publicKey = await importSPKI(publicKeyPem, 'ES256');
    } catch (error) {
      throw new ConfigError([
        `the token public key is not an ES256 SPKI PEM key: ${(error as Error).message}`,
      ]);
    }
  }
  return { secret: secret ? new TextEncoder().encode(secret) : undefined, publicKey };
}

/** A generation of keys holds none for the token's algorithm (the next generation may). */
class AlgorithmNotAccepted extends KaskadeError {
  constructor(alg: string | undefined) {
    super('UNAUTHORIZED', `token algorithm ${alg} is not accepted here`);
  }
}

/** A signature that did not match this generation's keys: the next generation may still match. */
const wrongKey = (error: unknown) =>
  error instanceof errors.JWSSignatureVerificationFailed || error instanceof AlgorithmNotAccepted;

export interface VerifierOptions {
  /**
   * Longest lifetime accepted (exp minus iat, or minus now without iat): a leaked token
   * must not stay good for years. Without it, any lifetime.
   */
  maxLifetimeSeconds?: number;
}

/** Verifies join tokens signed with HS256 (shared secret) or ES256 (key pair), by the current or the previous keys. */
export class TokenVerifier {
  readonly #generations: KeySet[];
  readonly #maxLifetimeSeconds: number;

  private constructor(generations: KeySet[], maxLifetime: number) {
    this.#generations = generations;
    this.#maxLifetimeSeconds = maxLifetime;
  }

  /** Imports the keys up front, so a bad key fails at start-up as a ConfigError. */
  static async create(keys: TokenKeys, options: VerifierOptions = {}): Promise<TokenVerifier> {
    if (!keys.secret && !keys.publicKeyPem)
      throw new ConfigError(['a token secret or public key is required']);
    const generations = [await importKeySet(keys.secret, keys.publicKeyPem)];
    if (keys.previous?.secret || keys.previous?.publicKeyPem)
      generations.push(await importKeySet(keys.previous.secret, keys.previous.publicKeyPem));
    return new TokenVerifier(generations, options.maxLifetimeSeconds ?? Number.POSITIVE_INFINITY);
  }

  /** The token's payload, verified by the first generation of keys whose signature matches. */
  async #verifySignature(token: string): Promise<JWTPayload> {
    for (const [i, keys] of this.#generations.entries()) {
      try {
        const { payload } = await jwtVerify(
          token,
          async (header) => {
            if (header.alg === 'HS256' && keys.secret) return keys.secret;
            if (header.alg === 'ES256' && keys.publicKey) return keys.publicKey;
            throw new AlgorithmNotAccepted(header.alg);
          },
          { audience: TOKEN_AUDIENCE, requiredClaims: ['exp', 'sub'] },
        );
        return payload;
      } catch (error) {
        if (!wrongKey(error) || i === this.#generations.length - 1) throw error;
      }
    }
    throw new KaskadeError('UNAUTHORIZED', 'no token keys'); // unreachable: create() requires one
  }

  /** Returns the token's claims, or throws KaskadeError UNAUTHORIZED saying why. */
  async verify(token: string): Promise<JoinClaims> {
    let payload: JWTPayload;
    try {
      payload = await this.#verifySignature(token);
    } catch (error) {
      if (error instanceof KaskadeError) throw error;
      if (error instanceof errors.JWTExpired) throw new KaskadeError('UNAUTHORIZED', 'token expired');
      if (error instanceof errors.JOSEError) {
        throw new KaskadeError('UNAUTHORIZED', `token rejected: ${error.code}`);
      }
      throw new KaskadeError('UNAUTHORIZED', 'token is not a JWT');
    }
    const { aud: _aud, ...claims } = payload;
    if (!checkClaims.Check(claims)) {
      const first = checkClaims.Errors(claims)[0];
      throw new KaskadeError(
        'UNAUTHORIZED',
        `token claims invalid: ${first?.instancePath || '/'} ${first?.message ?? ''}`.trim(),
      );
    }
    // An iat in the future must not shorten the lifetime: count from now at the latest.
    const now = Math.floor(Date.now() / 1000);
    const lifetime = claims.exp - Math.min(claims.iat ?? now, now);
    if (lifetime > this.#maxLifetimeSeconds) {
      throw new KaskadeError(
        'UNAUTHORIZED',
        `token lifetime ${lifetime} s exceeds the maximum of ${this.#maxLifetimeSeconds} s`,
      );
    }
    const name = cleanDisplayName(claims.name);
    if (!name)
      throw new KaskadeError('UNAUTHORIZED', 'token claims invalid: /name has no printable characters');
    return { ...claims, name };
  }
}

export interface IssueOptions {
  identity: string;
  name: string;
  room: string;
  grants: JoinClaims['grants'];
  /** Lifetime in seconds. */
  ttlSeconds?: number;
  /** Binds the token to one edge (edge tokens from the control plane). */
  node?: string;
  role?: JoinClaims['role'];
  lecture?: boolean;
}

/**
 * Issues a join token: HS256 with a secret, or ES256 with a PKCS#8 PEM private key.
 * Every token carries a random `jti`, so a mesh edge can accept it once only.
 */
export async function issueToken(options: IssueOptions, key: { secret: string } | { privateKeyPem: string }) {
  const jwt = new SignJWT({
    name: options.name,
    room: options.room,
    grants: options.grants,
    ...(options.node ? { node: options.node } : {}),
    ...(options.role ? { role: options.role } : {}),
    ...(options.lecture ? { lecture: true } : {}),
  })
    .setSubject(options.identity)
    .setJti(randomUUID())
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 3600));
  if ('secret' in key) {
    return jwt.setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(key.secret));
  }
  return jwt.setProtectedHeader({ alg: 'ES256' }).sign(await importPKCS8(key.privateKeyPem, 'ES256'));
}
