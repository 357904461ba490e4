import { type BusIdentity, busPermissions } from '@kaskade/protocol';
import { createUser, decode, encodeUser, fmtCreds, fromPublic, fromSeed, type KeyPair } from '@nats-io/jwt';

/** The account signing key a bus user is minted with, and the account it signs for. */
export interface AccountSigner {
  /** A signing key of the account (seed SA..., public key A...), listed in the account JWT's signing_keys. */
  signingKey: KeyPair;
  /** The account's own public key (A...): the user's issuer_account. */
  account: string;
}

export interface SignedBusUser {
  /** The user JWT (public: it names the user's public key, and only the seed's holder can use it). */
  jwt: string;
  expiresAt: Date;
}

export interface MintedBusUser {
  /** The `.creds` file text: the user JWT and the user's fresh nkey seed. */
  creds: string;
  expiresAt: Date;
}

/** An account signing key from its seed (the text of the seed file), or why it is none. */
export function accountSigner(seed: string, account: string): AccountSigner {
  const signingKey = fromSeed(new TextEncoder().encode(seed.trim()));
  if (!signingKey.getPublicKey().startsWith('A'))
    throw new Error('the bus signing key seed is no account key (it must start with SA)');
  return { signingKey, account };
}

/**
 * A NATS user JWT (JWT mode) for one node identity and the user public key its holder
 * generated: named after the node, allowed exactly busPermissions({ id, role }) (the
 * same lists the static users of the local mesh get), answering requests once each
 * (allow_responses), until `expiresAt`. Signed by the account's signing key, so
 * nats-server trusts it through the account JWT without the issuer ever holding the
 * account's own key — nor the user's seed. Throws on a key that is no user public key.
 */
export async function signBusUser(
  signer: AccountSigner,
  identity: BusIdentity,
  userPublicKey: string,
  lifetimeSeconds: number,
  now = Date.now(),
): Promise<SignedBusUser> {
  // fromPublic checks the key's checksum and that it is a public key, not a seed.
  const user = fromPublic(userPublicKey);
  if (!user.getPublicKey().startsWith('U')) throw new Error('the key is no user public key (U...)');
  const permissions = busPermissions(identity);
  const exp = Math.floor(now / 1000) + lifetimeSeconds;
  const jwt = await encodeUser(
    identity.id,
    user,
    signer.account,
    {
      pub: { allow: permissions.publish, deny: [] },
      sub: { allow: permissions.subscribe, deny: [] },
      // Like allow_responses: true in a static config (one reply per request, the server's default window).
      ...(permissions.allowResponses ? { resp: { max: 1, ttl: 0 } } : {}),
    },
    { signer: signer.signingKey, exp },
  );
  return { jwt, expiresAt: new Date(exp * 1000) };
}

/** A fresh user key pair, whose seed stays with the caller: the public key goes out, the seed into credsFile. */
export function newBusUserKey(): KeyPair {
  return createUser();
}

/**
 * The `.creds` file text of a user JWT and the seed of its user key; throws when the JWT
 * is for another key (nats-server would refuse the pair, later and less clearly).
 */
export function credsFile(jwt: string, user: KeyPair): string {
  if (decode(jwt).sub !== user.getPublicKey()) throw new Error('the user JWT is for another key');
  return new TextDecoder().decode(fmtCreds(jwt, user));
}

/** A bus user minted whole where the signing key lives (a control-plane pod's own): nothing crosses a network. */
export async function mintBusUser(
  signer: AccountSigner,
  identity: BusIdentity,
  lifetimeSeconds: number,
  now = Date.now(),
): Promise<MintedBusUser> {
  const user = newBusUserKey();
  const signed = await signBusUser(signer, identity, user.getPublicKey(), lifetimeSeconds, now);
  return { creds: credsFile(signed.jwt, user), expiresAt: signed.expiresAt };
}
