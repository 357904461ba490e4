import { TokenVerifier } from '@kaskade/node-toolkit';
import {
  InvalidJoinClaimsError,
  JoinGrants,
  JoinTokenIssuer,
  KaskadeApi,
  KaskadeApiError,
  signWebhook,
  verifyWebhook,
  WebhookHeaders,
  WebhookVerificationError,
} from '@kaskade/server-sdk';
import Fastify, { type FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader, exportPKCS8, exportSPKI, generateKeyPair } from 'jose';
import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../helpers/errors.ts';

const secret = 's'.repeat(40);

/** What a promise rejects with (fails the test when it resolves). */
const failure = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );

describe('server SDK: join tokens', () => {
  it('mints HS256 tokens the edge verifies, with the documented claims', async () => {
    const issuer = new JoinTokenIssuer({ algorithm: 'HS256', secret }, { ttlSeconds: 120, issuer: 'my-app' });
    const token = await issuer.mint({
      room: 'lecture-1',
      identity: 'prof@uni',
      name: 'Prof. Ada',
      grants: JoinGrants.host(),
      role: 'stage',
      lecture: true,
    });
    const claims = await (await TokenVerifier.create({ secret }, { maxLifetimeSeconds: 120 })).verify(token);
    expect(claims).toMatchObject({
      sub: 'prof@uni',
      name: 'Prof. Ada',
      room: 'lecture-1',
      grants: { publish: true, subscribe: true, moderate: true },
      role: 'stage',
      lecture: true,
      iss: 'my-app',
    });
    expect(claims.exp - claims.iat!).toBe(120);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(token).aud).toBe('kaskade');
    // Every token is another jti: a mesh edge accepts each one once.
    const again = await issuer.mint({ room: 'lecture-1', identity: 'prof@uni', name: 'Prof. Ada' });
    expect(decodeJwt(again).jti).not.toBe(claims.jti);
    expect(decodeJwt(again).grants).toEqual(JoinGrants.speaker());
  });

  it('mints ES256 tokens the edge verifies with the public key, and names the key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const issuer = new JoinTokenIssuer({
      algorithm: 'ES256',
      privateKeyPem: await exportPKCS8(privateKey),
      keyId: 'k-2026',
    });
    const token = await issuer.mint({
      room: 'r1',
      identity: 'student-7',
      name: 'Student',
      grants: JoinGrants.viewer(),
      role: 'audience',
      lecture: true,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: 'k-2026' });
    const verifier = await TokenVerifier.create({ publicKeyPem: await exportSPKI(publicKey) });
    expect(await verifier.verify(token)).toMatchObject({
      sub: 'student-7',
      grants: { publish: false, subscribe: true },
      role: 'audience',
    });
    // The edge refuses what the HS256 secret of another party signed.
    const foreign = await new JoinTokenIssuer({ algorithm: 'HS256', secret }).mint({
      room: 'r1',
      identity: 'x',
      name: 'X',
    });
    expect((await rejection(verifier.verify(foreign))).code).toBe('UNAUTHORIZED');
  });

  it('grants helpers: a speaker limited to sources, and claims the edge would refuse fail before signing', async () => {
    expect(JoinGrants.speaker(['camera', 'microphone'])).toEqual({
      publish: true,
      subscribe: true,
      publishSources: ['camera', 'microphone'],
    });
    const issuer = new JoinTokenIssuer({ algorithm: 'HS256', secret });
    const refused = await failure(issuer.mint({ room: 'has spaces', identity: 'a', name: 'A' }));
    expect(refused).toBeInstanceOf(InvalidJoinClaimsError);
    expect(refused.message).toMatch(/\/room/);
    await expect(issuer.mint({ room: 'r', identity: 'a', name: '' })).rejects.toThrow(/\/name/);
  });
});

describe('server SDK: webhook verification', () => {
  const event = {
    id: 'evt-1',
    type: 'participantLeft',
    room: 'standup',
    createdAt: 1_760_000_000_000,
    data: { participantId: 'p-1' },
  };
  const body = JSON.stringify(event);
  const now = 1_760_000_000;
  const headersFor = (signature: string, timestamp = now, id = event.id) => ({
    [WebhookHeaders.id]: id,
    [WebhookHeaders.timestamp]: String(timestamp),
    [WebhookHeaders.signature]: signature,
  });
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookVerificationError);
      return (error as WebhookVerificationError).reason;
    }
    throw new Error('expected a refusal');
  };

  it('accepts a valid signature over the raw body and returns the typed event', () => {
    const verified = verifyWebhook(body, headersFor(signWebhook(secret, now, body)), { secret, now });
    expect(verified).toEqual(event);
    if (verified.type === 'participantLeft') expect(verified.data.participantId).toBe('p-1');
    // A fetch Headers and a byte body do as well.
    const headers = new Headers(headersFor(signWebhook(secret, now, body)));
    expect(verifyWebhook(new TextEncoder().encode(body), headers, { secret, now }).id).toBe('evt-1');
  });

  it('during a rotation: the previous secret still verifies, and any one of several signatures will do', () => {
    const previous = 'p'.repeat(40);
    // The control plane still signs with the previous secret: a receiver holding both accepts.
    const oldOnly = headersFor(signWebhook(previous, now, body));
    expect(verifyWebhook(body, oldOnly, { secret: [secret, previous], now }).id).toBe('evt-1');
    // The control plane signs with both: a receiver still holding only the previous accepts.
    const both = headersFor(`${signWebhook(secret, now, body)} ${signWebhook(previous, now, body)}`);
    expect(verifyWebhook(body, both, { secret: previous, now }).id).toBe('evt-1');
    expect(refusal(() => verifyWebhook(body, oldOnly, { secret, now }))).toBe('BAD_SIGNATURE');
  });

  it('refuses a tampered body, a wrong secret, an old timestamp, missing headers and a swapped id', () => {
    const signature = signWebhook(secret, now, body);
    const tampered = body.replace('p-1', 'p-2');
    expect(refusal(() => verifyWebhook(tampered, headersFor(signature), { secret, now }))).toBe(
      'BAD_SIGNATURE',
    );
    const wrong = headersFor(signWebhook('w'.repeat(40), now, body));
    expect(refusal(() => verifyWebhook(body, wrong, { secret, now }))).toBe('BAD_SIGNATURE');
    // Signed 301 s ago: a replayed capture (the signature is good, the timestamp is signed with it).
    const old = headersFor(signWebhook(secret, now - 301, body), now - 301);
    expect(refusal(() => verifyWebhook(body, old, { secret, now }))).toBe('TIMESTAMP_OUT_OF_TOLERANCE');
    expect(verifyWebhook(body, old, { secret, now: now - 2 }).id).toBe('evt-1'); // 299 s: still in
    // A new timestamp on an old signature does not pass either.
    expect(refusal(() => verifyWebhook(body, headersFor(signature, now + 1), { secret, now }))).toBe(
      'BAD_SIGNATURE',
    );
    expect(refusal(() => verifyWebhook(body, { [WebhookHeaders.id]: 'evt-1' }, { secret, now }))).toBe(
      'MISSING_HEADER',
    );
    const otherId = headersFor(signature, now, 'evt-2');
    expect(refusal(() => verifyWebhook(body, otherId, { secret, now }))).toBe('BAD_BODY');
  });

  it('tells a signed event of an unknown type from a bad one', () => {
    const newer = JSON.stringify({ ...event, type: 'somethingNew', data: {} });
    const signed = headersFor(signWebhook(secret, now, newer));
    expect(refusal(() => verifyWebhook(newer, signed, { secret, now }))).toBe('UNKNOWN_TYPE');
    const malformed = JSON.stringify({ ...event, data: {} });
    const signedMalformed = headersFor(signWebhook(secret, now, malformed));
    expect(refusal(() => verifyWebhook(malformed, signedMalformed, { secret, now }))).toBe('BAD_BODY');
  });
});

describe('server SDK: the control-plane API client', () => {
  // A map like RoomActions (whose features are filled elsewhere): the client is typed from it.
  const TestActions = {
    lockRoom: {
      request: Type.Object({ locked: Type.Boolean() }),
      response: Type.Object({}),
      description: 'lock',
    },
    setPolicies: {
      request: Type.Object({ policies: Type.Object({ lobby: Type.Optional(Type.Boolean()) }) }),
      response: Type.Object({ settings: Type.Object({ locked: Type.Boolean() }) }),
      description: 'policies',
    },
  };
  const seen: { method: string; url: string; authorization?: string; contentType?: string; body: unknown }[] =
    [];
  let server: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    server = Fastify();
    server.addHook('onRequest', async (request) => {
      seen.push({
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
        contentType: request.headers['content-type'],
        body: undefined,
      });
    });
    server.post<{ Params: { room: string; name: string }; Body: unknown }>(
      '/v1/rooms/:room/actions/:name',
      async (request, reply) => {
        seen.at(-1)!.body = request.body;
        if (request.headers.authorization !== 'Bearer key-1') {
          return reply.code(401).send({ code: 'UNAUTHORIZED', message: 'bad API key' });
        }
        if (request.params.room === 'gone')
          return reply.code(404).send({ code: 'NOT_FOUND', message: 'no room' });
        if (request.params.room === 'broken') return reply.code(502).send('<html>bad gateway</html>');
        if (request.params.name === 'setPolicies') return { settings: { locked: true } };
        return {};
      },
    );
    server.get('/v1/rooms/:room', async (request) => ({
      room: (request.params as { room: string }).room,
      nodes: [],
    }));
    await server.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  });
  afterAll(() => server.close());

  it('POSTs an action to its route with the API key, the params as the body, and returns the answer', async () => {
    const api = new KaskadeApi({ url: `${url}/`, apiKey: 'key-1', actions: TestActions });
    seen.length = 0;
    const answer = await api.act('standup', 'setPolicies', { policies: { lobby: true } });
    expect(answer.settings.locked).toBe(true);
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/v1/rooms/standup/actions/setPolicies',
        authorization: 'Bearer key-1',
        contentType: 'application/json',
        body: { policies: { lobby: true } },
      },
    ]);
    // One method per action, for one room.
    expect(await api.actions('standup').lockRoom({ locked: true })).toEqual({});
    expect(seen.at(-1)).toMatchObject({ url: '/v1/rooms/standup/actions/lockRoom', body: { locked: true } });
    expect(Object.keys(api.actions('standup'))).toEqual(['lockRoom', 'setPolicies']);
    // @ts-expect-error: parameters are typed from the action's schema
    await api.act('standup', 'lockRoom', { locked: 'yes' }).catch(() => {});
    // @ts-expect-error: only the map's actions exist
    api.actions('standup').muteEverybody;
  });

  it('GETs the room summary', async () => {
    const api = new KaskadeApi({ url, apiKey: 'key-1', actions: TestActions });
    expect(await api.room('standup')).toEqual({ room: 'standup', nodes: [] });
    expect(seen.at(-1)).toMatchObject({
      method: 'GET',
      url: '/v1/rooms/standup',
      authorization: 'Bearer key-1',
    });
  });

  it('throws the error body as a typed KaskadeApiError, and UNAVAILABLE when nothing answers', async () => {
    const wrongKey = new KaskadeApi({ url, apiKey: 'key-0', actions: TestActions });
    const unauthorized = await failure(wrongKey.act('standup', 'lockRoom', { locked: true }));
    expect(unauthorized).toBeInstanceOf(KaskadeApiError);
    expect(unauthorized).toMatchObject({ code: 'UNAUTHORIZED', status: 401, message: 'bad API key' });
    const api = new KaskadeApi({ url, apiKey: 'key-1', actions: TestActions });
    expect(await failure(api.act('gone', 'lockRoom', { locked: true }))).toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
    });
    expect(await failure(api.act('broken', 'lockRoom', { locked: true }))).toMatchObject({
      code: 'INTERNAL',
      status: 502,
    });
    const nobody = new KaskadeApi({ url: 'http://127.0.0.1:1', apiKey: 'key-1', actions: TestActions });
    expect(await failure(nobody.room('standup'))).toMatchObject({ code: 'UNAVAILABLE', status: 0 });
  });
});
