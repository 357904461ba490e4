import { issueToken, OperatorListener, TokenVerifier } from '@kaskade/node-toolkit';
import { exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { rejection } from '../helpers/errors.ts';

const grants = { publish: true, subscribe: true };
const claims = { identity: 'ada', name: 'Ada', room: 'r1', grants };
const [oldSecret, newSecret, strangerSecret] = ['o', 'n', 'x'].map((c) => c.repeat(40)) as [
  string,
  string,
  string,
];

/** The message of the UNAUTHORIZED error a verification ends with. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await rejection(promise);
  expect(error.code).toBe('UNAUTHORIZED');
  return error.message;
}

describe('rotating token keys', () => {
  it('accepts tokens of the current and of the previous secret, and nobody else’s', async () => {
    const verifier = await TokenVerifier.create({ secret: newSecret, previous: { secret: oldSecret } });
    expect((await verifier.verify(await issueToken(claims, { secret: newSecret }))).sub).toBe('ada');
    expect((await verifier.verify(await issueToken(claims, { secret: oldSecret }))).sub).toBe('ada');
    expect(await refusal(verifier.verify(await issueToken(claims, { secret: strangerSecret })))).toMatch(
      /signature/i,
    );
  });

  it('once the previous secret is removed, its tokens are refused', async () => {
    const verifier = await TokenVerifier.create({ secret: newSecret });
    await refusal(verifier.verify(await issueToken(claims, { secret: oldSecret })));
  });

  it('a previous key does not revive an expired token or lift the lifetime limit', async () => {
    const verifier = await TokenVerifier.create(
      { secret: newSecret, previous: { secret: oldSecret } },
      { maxLifetimeSeconds: 3600 },
    );
    expect(
      await refusal(verifier.verify(await issueToken({ ...claims, ttlSeconds: -10 }, { secret: oldSecret }))),
    ).toMatch(/expired/);
    expect(
      await refusal(
        verifier.verify(await issueToken({ ...claims, ttlSeconds: 7200 }, { secret: oldSecret })),
      ),
    ).toMatch(/lifetime/);
  });

  it('moves from an HS256 secret to an ES256 key pair without refusing either during the change', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const verifier = await TokenVerifier.create({
      publicKeyPem: await exportSPKI(publicKey),
      previous: { secret: oldSecret },
    });
    const es = await issueToken(claims, { privateKeyPem: await exportPKCS8(privateKey) });
    expect((await verifier.verify(es)).sub).toBe('ada');
    expect((await verifier.verify(await issueToken(claims, { secret: oldSecret }))).sub).toBe('ada');
  });
});

describe('rotating the operator token', () => {
  it('the operator API accepts the current and the previous token, and refuses any other', async () => {
    const [current, previous, other] = ['c', 'p', 'z'].map((c) => c.repeat(32)) as [string, string, string];
    const operator = await OperatorListener.start({
      settings: {
        operatorHost: '127.0.0.1',
        operatorPort: 0,
        operatorToken: current,
        operatorPreviousToken: previous,
      },
      logger: pino({ level: 'silent' }),
      routes: async (app) => {
        app.get('/v1/probe', async () => ({ ok: true }));
      },
    });
    try {
      const status = async (token: string) =>
        (await fetch(`${operator.url}/v1/probe`, { headers: { authorization: `Bearer ${token}` } })).status;
      expect(await status(current)).toBe(200);
      expect(await status(previous)).toBe(200);
      expect(await status(other)).toBe(401);
    } finally {
      await operator.close();
    }
  });
});
