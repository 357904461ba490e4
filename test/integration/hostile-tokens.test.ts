import { Directory } from '@kaskade/directory';
import type { Edge } from '@kaskade/edge';
import { type NatsService, type Service, startNats, startRedis } from '@kaskade/local-mesh';
import { issueToken } from '@kaskade/node-toolkit';
import { CloseCodes } from '@kaskade/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ALL_GRANTS, edgeToken, startEdge, TEST_SECRET, token } from '../helpers/edge.ts';
import { Client } from '../helpers/hostile-client.ts';

// Hostile clients against real processes: here, stolen, replayed and overlong edge tokens
// against edges in mesh mode.

describe('edge tokens in mesh mode (edges in this process, real nats-server and redis-server)', () => {
  let nats: NatsService;
  let redis: Service;
  const edges: Edge[] = [];

  beforeAll(async () => {
    const nodeIds = ['token-a', 'token-b'];
    [nats, redis] = await Promise.all([
      startNats({ identities: nodeIds.map((id) => ({ id, role: 'edge' as const })) }),
      startRedis(),
    ]);
    for (const nodeId of nodeIds) {
      edges.push(
        await startEdge({
          KASKADE_NODE_ID: nodeId,
          ...nats.envFor(nodeId),
          KASKADE_REDIS_URL: redis.url,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const edge of edges) await edge.stop();
    await nats?.stop();
    await redis?.stop();
  });

  async function tryJoin(edge: Edge, jwt: string) {
    const client = await Client.open(edge.url);
    const caps = await client.request(1, 'getRouterRtpCapabilities');
    const answer = await client.request(2, 'join', { token: jwt, ...(caps.data as object) });
    return { client, answer };
  }

  it('a token is accepted once: a replay, here or at another edge, is UNAUTHORIZED and closed 4401', async () => {
    const [a, b] = edges as [Edge, Edge];
    const jwt = await edgeToken(a, 'once', 'token-room');
    const first = await tryJoin(a, jwt);
    expect(first.answer).toMatchObject({ ok: true });
    const replay = await tryJoin(a, jwt);
    expect(replay.answer).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'the token was used already' },
    });
    expect((await replay.client.closed).code).toBe(CloseCodes.unauthorized);
    const elsewhere = await tryJoin(b, jwt);
    expect(elsewhere.answer).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    expect((await elsewhere.client.closed).code).toBe(CloseCodes.unauthorized);
    // The first holder is unaffected.
    expect(await first.client.request(3, 'listParticipants')).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(first.client.ws.readyState).toBe(WebSocket.OPEN);
    first.client.ws.close();
  });

  it('two sockets racing with one token: exactly one gets in', async () => {
    const [a] = edges as [Edge];
    const jwt = await edgeToken(a, 'racer', 'token-room');
    const answers = await Promise.all([tryJoin(a, jwt), tryJoin(a, jwt), tryJoin(a, jwt)]);
    expect(answers.filter((r) => r.answer.ok === true)).toHaveLength(1);
    for (const r of answers) r.client.ws.close();
  });

  it('a token without a node claim, or for another node, is refused in mesh mode', async () => {
    const [a, b] = edges as [Edge, Edge];
    const unbound = await tryJoin(a, await token('unbound', 'token-room'));
    expect(unbound.answer).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'this edge takes edge tokens only' },
    });
    const foreign = await tryJoin(a, await edgeToken(b, 'foreign', 'token-room'));
    expect(foreign.answer).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: 'this token is for edge token-b' },
    });
    expect((await foreign.client.closed).code).toBe(CloseCodes.unauthorized);
  });

  it('a token living longer than the maximum is refused, used or not', async () => {
    const [a] = edges as [Edge];
    const jwt = await issueToken(
      {
        identity: 'forever',
        name: 'forever',
        room: 'token-room',
        grants: ALL_GRANTS,
        node: 'token-a',
        ttlSeconds: 100 * 365 * 86_400,
      },
      { secret: TEST_SECRET },
    );
    const { answer } = await tryJoin(a, jwt);
    expect(answer).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHORIZED', message: expect.stringMatching(/lifetime/) },
    });
  });

  it('the used token ids expire with their tokens (bounded Redis memory)', async () => {
    const directory = new Directory(redis.url, pino({ level: 'silent' }));
    try {
      const keys = await directory.keys('tokens');
      expect(keys.length).toBeGreaterThanOrEqual(2);
      for (const { ttlSeconds } of keys) {
        expect(ttlSeconds).toBeGreaterThan(0);
        expect(ttlSeconds).toBeLessThanOrEqual(3600);
      }
    } finally {
      await directory.close();
    }
  });
});
