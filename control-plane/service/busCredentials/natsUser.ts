import { type BusIdentity, busPermissions } from '@kaskade/protocol';
import { createUser, encodeUser, fmtCreds, fromSeed, type KeyPair } from '@nats-io/jwt';

/** The account signing key a bus user is minted with, and the account it signs for. */
export interface AccountSigner {
  /** A signing key of the account (seed SA..., public key A...), listed in the account JWT's signing_keys. */
  signingKey: KeyPair;
  /** The account's own public key (A...): the user's issuer_account. */
  account: string;
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
 * A NATS user (JWT mode) for one node identity: a fresh user nkey, named after the
 * node, allowed exactly busPermissions({ id, role }) (the same lists the static users
 * of the local mesh get), answering requests once each (allow_responses), until
 * `expiresAt`. Signed by the account's signing key, so nats-server trusts it through
 * the account JWT without the issuer ever holding the account's own key.
 */
export async function mintBusUser(
  signer: AccountSigner,
  identity: BusIdentity,
  lifetimeSeconds: number,
  now = Date.now(),
): Promise<MintedBusUser> {
  const user = createUser();
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
  return { creds: new TextDecoder().decode(fmtCreds(jwt, user)), expiresAt: new Date(exp * 1000) };
}
