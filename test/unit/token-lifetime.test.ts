import { issueToken, TokenVerifier } from '@kaskade/node-toolkit';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { rejection } from '../helpers/errors.ts';

const secret = 's'.repeat(40);
const grants = { publish: true, subscribe: true };
const DAY = 86_400;

/** A token with exactly the exp and iat given (seconds from now; iat omitted when undefined). */
function signed(expFromNow: number, iatFromNow?: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ name: 'Ada', room: 'r1', grants })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('ada')
    .setAudience('kaskade')
    .setExpirationTime(now + expFromNow);
  if (iatFromNow !== undefined) jwt.setIssuedAt(now + iatFromNow);
  return jwt.sign(new TextEncoder().encode(secret));
}

describe('token lifetime and id', () => {
  it('accepts a lifetime up to the maximum and refuses one above it, with or without iat', async () => {
    const verifier = await TokenVerifier.create({ secret }, { maxLifetimeSeconds: DAY });
    expect((await verifier.verify(await signed(DAY, 0))).sub).toBe('ada');
    expect((await verifier.verify(await signed(DAY - 5))).sub).toBe('ada'); // no iat: counted from now
    const hundredYears = await rejection(verifier.verify(await signed(100 * 365 * DAY, 0)));
    expect(hundredYears.code).toBe('UNAUTHORIZED');
    expect(hundredYears.message).toMatch(/lifetime .* exceeds the maximum of 86400 s/);
    expect((await rejection(verifier.verify(await signed(DAY + 60)))).code).toBe('UNAUTHORIZED');
  });

  it('does not let an iat in the future shorten the lifetime', async () => {
    const verifier = await TokenVerifier.create({ secret }, { maxLifetimeSeconds: DAY });
    // exp - iat is an hour, but the token is good for ten days from now.
    const sneaky = await signed(10 * DAY, 10 * DAY - 3600);
    expect((await rejection(verifier.verify(sneaky))).message).toMatch(/exceeds the maximum/);
  });

  it('an old iat with a near exp is fine: only the total lifetime counts', async () => {
    const verifier = await TokenVerifier.create({ secret }, { maxLifetimeSeconds: DAY });
    expect((await verifier.verify(await signed(600, -3600))).sub).toBe('ada');
    expect((await rejection(verifier.verify(await signed(600, -DAY)))).code).toBe('UNAUTHORIZED');
  });

  it('without a maximum any lifetime passes (the edge default is set in its config)', async () => {
    const verifier = await TokenVerifier.create({ secret });
    expect((await verifier.verify(await signed(100 * 365 * DAY, 0))).sub).toBe('ada');
  });

  it('issued tokens carry a fresh jti each, valid as a Redis key part', async () => {
    const verifier = await TokenVerifier.create({ secret });
    const one = await verifier.verify(
      await issueToken({ identity: 'a', name: 'A', room: 'r', grants }, { secret }),
    );
    const two = await verifier.verify(
      await issueToken({ identity: 'a', name: 'A', room: 'r', grants }, { secret }),
    );
    expect(one.jti).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(two.jti).not.toBe(one.jti);
  });

  it('takes any application jti up to 256 characters (the edge hashes it into its Redis key), not longer', async () => {
    const verifier = await TokenVerifier.create({ secret });
    const withJti = (jti: string) =>
      new SignJWT({ name: 'Ada', room: 'r1', grants })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('ada')
        .setAudience('kaskade')
        .setJti(jti)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
    expect((await verifier.verify(await withJti('onrtac:x}:used{y/+='))).jti).toBe('onrtac:x}:used{y/+=');
    expect((await rejection(verifier.verify(await withJti('j'.repeat(257))))).message).toMatch(
      /claims invalid: \/jti/,
    );
  });
});
