import {
  accountSigner,
  credsFile,
  loadControlPlaneConfig,
  mintBusUser,
  newBusUserKey,
  signBusUser,
} from '@kaskade/control-plane';
import { busPermissions } from '@kaskade/protocol';
import { createAccount, createOperator, createUser, decode, parseCreds } from '@nats-io/jwt';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_BASE_ENV } from '../helpers/config-env.ts';

const account = createAccount();
const signingKey = createAccount();
const seed = new TextDecoder().decode(signingKey.getSeed());

describe('minted bus users', () => {
  it('carry exactly the permissions of the identity, signed by the signing key for the account, until their expiry', async () => {
    const now = Date.UTC(2026, 0, 1);
    const minted = await mintBusUser(
      accountSigner(seed, account.getPublicKey()),
      { id: 'pod-a', role: 'edge' },
      3600,
      now,
    );
    const { jwt, uc } = await parseCreds(new TextEncoder().encode(minted.creds));
    // decode verifies the signature against the issuer the JWT names.
    expect(decode(jwt).iss).toBe(signingKey.getPublicKey());
    expect(uc.sub.startsWith('U')).toBe(true);
    expect(uc.name).toBe('pod-a');
    expect(uc.exp).toBe(now / 1000 + 3600);
    expect(minted.expiresAt.getTime()).toBe(now + 3_600_000);
    const permissions = busPermissions({ id: 'pod-a', role: 'edge' });
    expect(uc.nats).toMatchObject({
      issuer_account: account.getPublicKey(),
      type: 'user',
      pub: { allow: permissions.publish },
      sub: { allow: permissions.subscribe },
      resp: { max: 1 },
    });
  });

  it('each has its own user key', async () => {
    const signer = accountSigner(seed, account.getPublicKey());
    const minted = await Promise.all(
      [1, 2].map(() => mintBusUser(signer, { id: 'pod-a', role: 'relay' }, 60)),
    );
    const users = await Promise.all(
      minted.map(async (m) => (await parseCreds(new TextEncoder().encode(m.creds))).uc.sub),
    );
    expect(new Set(users).size).toBe(2);
  });

  it('signed for a public key hold no seed, name that key, and make a creds file only with its own seed', async () => {
    const signer = accountSigner(seed, account.getPublicKey());
    const user = newBusUserKey();
    const signed = await signBusUser(signer, { id: 'pod-b', role: 'edge' }, user.getPublicKey(), 600);
    expect(decode(signed.jwt).sub).toBe(user.getPublicKey());
    expect(signed.jwt).not.toContain(new TextDecoder().decode(user.getSeed()));
    const { uc } = await parseCreds(new TextEncoder().encode(credsFile(signed.jwt, user)));
    expect(uc.sub).toBe(user.getPublicKey());
    expect(() => credsFile(signed.jwt, createUser())).toThrow(/another key/);
  });

  it('refuse to sign for what is no user public key', async () => {
    const signer = accountSigner(seed, account.getPublicKey());
    const user = createUser();
    const publicKey = user.getPublicKey();
    const broken = `${publicKey.slice(0, 10)}${publicKey[10] === 'A' ? 'B' : 'A'}${publicKey.slice(11)}`;
    for (const key of [new TextDecoder().decode(user.getSeed()), account.getPublicKey(), broken, 'U'])
      await expect(signBusUser(signer, { id: 'pod-b', role: 'edge' }, key, 600)).rejects.toThrow();
  });

  it('refuse a seed that is no account key', () => {
    const operatorSeed = new TextDecoder().decode(createOperator().getSeed());
    expect(() => accountSigner(operatorSeed, account.getPublicKey())).toThrow(/no account key/);
  });
});

describe('bus issuer options', () => {
  const base = CONTROL_PLANE_BASE_ENV;

  it('are off without a signing key, and need the account, the namespace and two service accounts with one', () => {
    expect(loadControlPlaneConfig(base).busIssuerSigningKeyFile).toBeUndefined();
    expect(() => loadControlPlaneConfig({ ...base, KASKADE_BUS_ISSUER_SIGNING_KEY_FILE: '/k' })).toThrow(
      /KASKADE_BUS_ISSUER_ACCOUNT[\s\S]*KASKADE_BUS_ISSUER_NAMESPACE[\s\S]*EDGE_SERVICE_ACCOUNT[\s\S]*RELAY_SERVICE_ACCOUNT/,
    );
    const on = {
      ...base,
      KASKADE_BUS_ISSUER_SIGNING_KEY_FILE: '/k',
      KASKADE_BUS_ISSUER_ACCOUNT: account.getPublicKey(),
      KASKADE_BUS_ISSUER_NAMESPACE: 'kaskade',
      KASKADE_BUS_ISSUER_EDGE_SERVICE_ACCOUNT: 'kaskade-edge',
      KASKADE_BUS_ISSUER_RELAY_SERVICE_ACCOUNT: 'kaskade-relay',
    };
    expect(loadControlPlaneConfig(on)).toMatchObject({
      busIssuerAudience: 'kaskade-bus',
      busIssuerJwksUrl: 'https://kubernetes.default.svc/openid/v1/jwks',
      busIssuerCredentialTtlSeconds: 86_400,
    });
    expect(() =>
      loadControlPlaneConfig({ ...on, KASKADE_BUS_ISSUER_RELAY_SERVICE_ACCOUNT: 'kaskade-edge' }),
    ).toThrow(/service accounts of their own/);
    expect(() => loadControlPlaneConfig({ ...on, KASKADE_BUS_ISSUER_ACCOUNT: 'not-a-key' })).toThrow(
      /KASKADE_BUS_ISSUER_ACCOUNT/,
    );
  });
});
