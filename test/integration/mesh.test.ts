import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Edge } from '../../edge/src/Edge.ts';
import { eventually, expectNoMediaObjects, startEdge, token } from '../helpers/edge.ts';
import { RtpBot } from '../helpers/rtp-bot.ts';
import { type Service, startNats, startRedis } from '../helpers/services.ts';

let nats: Service;
let redis: Service;
const edges: Edge[] = [];

async function meshEdge(nodeId: string, region: string): Promise<Edge> {
  const edge = await startEdge({
    KASKADE_NODE_ID: nodeId,
    KASKADE_REGION: region,
    KASKADE_NATS_URL: nats.url,
    KASKADE_REDIS_URL: redis.url,
    KASKADE_PIPE_LINGER_MS: '200',
    KASKADE_HEARTBEAT_MS: '500',
  });
  edges.push(edge);
  return edge;
}

beforeAll(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
});
afterAll(async () => {
  for (const edge of edges) await edge.stop();
  await nats?.stop();
  await redis?.stop();
});

it('one room across three edges: remote streams reach every viewer through one pipe link per edge pair', async () => {
  const a = await meshEdge('edge-a', 'eu');
  const b = await meshEdge('edge-b', 'eu');
  const c = await meshEdge('edge-c', 'us');
  const presenter = await RtpBot.join(a.url, await token('presenter', 'mesh-room'));
  const mic = await presenter.publish('microphone');
  const cam = await presenter.publish('camera', { packetsPerSecond: 30 });

  const viewers: RtpBot[] = [];
  for (const [i, edge] of [b, b, c, c, a].entries()) {
    viewers.push(await RtpBot.join(edge.url, await token(`viewer-${i}`, 'mesh-room')));
  }
  // Streams that originate on another edge look like local ones to the client.
  for (const viewer of viewers) {
    await eventually(async () => {
      const streams = viewer.joined.streams.map((s) => s.producerId);
      expect(streams.length === 2 || viewer.seen.streamAdded.length >= 2).toBe(true);
    });
  }
  const received: Awaited<ReturnType<RtpBot['consume']>>[] = [];
  for (const viewer of viewers) {
    received.push(await viewer.consume({ producerId: mic }), await viewer.consume({ producerId: cam }));
  }
  await eventually(() => {
    for (const r of received) expect(r.packets).toBeGreaterThan(10);
  }, 10_000);

  // One link per (room, a, remote edge), carrying each stream once.
  const linksOf = (edge: Edge) =>
    edge
      .mesh!.relay.links()
      .map((l) => `${l.remoteNode}:${l.copies.size}/${l.sends.size}`)
      .sort();
  expect(linksOf(a)).toEqual(['edge-b:0/2', 'edge-c:0/2']);
  expect(linksOf(b)).toEqual(['edge-a:2/0']);
  expect(linksOf(c)).toEqual(['edge-a:2/0']);

  // Participants on other edges are visible everywhere.
  expect(viewers[2]!.joined.participants.map((p) => p.identity)).toEqual(
    expect.arrayContaining(['presenter', 'viewer-0', 'viewer-1']),
  );

  // Pause, resume and close of the origin producer reach viewers on every edge.
  await presenter.channel.request('pauseProducer', { producerId: cam });
  await eventually(() => {
    for (const v of viewers) expect(v.seen.streamPaused).toContain(cam);
  });
  await presenter.channel.request('resumeProducer', { producerId: cam });
  await eventually(() => {
    for (const v of viewers) expect(v.seen.streamResumed).toContain(cam);
  });
  await presenter.channel.request('closeProducer', { producerId: cam });
  await eventually(() => {
    for (const v of viewers) expect(v.seen.streamClosed).toContain(cam);
  });

  for (const viewer of viewers) await viewer.close();
  await presenter.close();
  for (const edge of [a, b, c]) await expectNoMediaObjects(edge);
  for (const edge of [a, b, c]) expect(edge.mesh!.relay.links()).toEqual([]);
  const client = new Redis(redis.url);
  await eventually(async () => expect(await client.keys('kaskade:room:*')).toEqual([]));
  await client.quit();
});
