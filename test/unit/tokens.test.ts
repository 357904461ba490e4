import { ConfigError, issueToken, TokenVerifier } from '@kaskade/node-toolkit';
import { exportPKCS8, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { rejection } from '../helpers/errors.ts';

const secret = 's'.repeat(40);
const grants = { publish: true, publishSources: ['camera' as const], subscribe: true };
const claims = { identity: 'ada', name: 'Ada', room: 'r1', grants };

describe('join tokens', () => {
  it('round-trips HS256 claims and grants', async () => {
    const verifier = await TokenVerifier.create({ secret });
    const verified = await verifier.verify(await issueToken(claims, { secret }));
    expect(verified).toMatchObject({ sub: 'ada', name: 'Ada', room: 'r1', grants });
  });

  it('round-trips ES256 with a key pair, and refuses HS256 when only the public key is configured', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const verifier = await TokenVerifier.create({ publicKeyPem: await exportSPKI(publicKey) });
    const es = await issueToken(claims, { privateKeyPem: await exportPKCS8(privateKey) });
    expect((await verifier.verify(es)).sub).toBe('ada');
    const hs = await issueToken(claims, { secret });
    expect((await rejection(verifier.verify(hs))).message).toMatch(/HS256 is not accepted/);
  });

  it('refuses expired, tampered, foreign and malformed tokens as UNAUTHORIZED', async () => {
    const verifier = await TokenVerifier.create({ secret });
    const expired = await issueToken({ ...claims, ttlSeconds: -10 }, { secret });
    expect((await rejection(verifier.verify(expired))).message).toBe('token expired');
    const good = await issueToken(claims, { secret });
    const tampered = `${good.slice(0, -4)}AAAA`;
    expect((await rejection(verifier.verify(tampered))).code).toBe('UNAUTHORIZED');
    const foreign = await issueToken(claims, { secret: 'f'.repeat(40) });
    expect((await rejection(verifier.verify(foreign))).code).toBe('UNAUTHORIZED');
    expect((await rejection(verifier.verify('a.b.c'))).code).toBe('UNAUTHORIZED');
  });

  it('refuses a signed token whose claims do not fit the schema', async () => {
    const verifier = await TokenVerifier.create({ secret });
    const bad = await new SignJWT({ name: 'x', room: 'has spaces', grants: { publish: 'yes' } })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setAudience('kaskade')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect((await rejection(verifier.verify(bad))).message).toMatch(/claims invalid/);
    const noAudience = await new SignJWT({ name: 'x', room: 'r', grants })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    expect((await rejection(verifier.verify(noAudience))).code).toBe('UNAUTHORIZED');
  });

  it('fails at start-up on a bad public key', async () => {
    await expect(
      TokenVerifier.create({ publicKeyPem: '-----BEGIN PUBLIC KEY-----\nnope\n' }),
    ).rejects.toBeInstanceOf(ConfigError);
  });
});
