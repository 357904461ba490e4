import { Directory } from '@kaskade/directory';
import type { Edge } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import { type NatsService, type Service, startNats, startRedis } from '@kaskade/local-mesh';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { edgeToken, eventually, expectNoMediaObjects, startEdge } from '../helpers/edge.ts';

let nats: NatsService;
let redis: Service;
const edges: Edge[] = [];

async function meshEdge(nodeId: string, region: string): Promise<Edge> {
  const edge = await startEdge({
    KASKADE_NODE_ID: nodeId,
    KASKADE_REGION: region,
    ...nats.envFor(nodeId),
    KASKADE_REDIS_URL: redis.url,
    KASKADE_PIPE_LINGER_MS: '200',
    KASKADE_HEARTBEAT_MS: '500',
  });
  edges.push(edge);
  return edge;
}

beforeAll(async () => {
  const ids = ['edge-a', 'edge-b', 'edge-c', 'fan-a', 'fan-b', 'fan-c', 'fan-d', 'demand-a', 'demand-b'];
  const identities = ids.map((id) => ({ id, role: 'edge' as const }));
  [nats, redis] = await Promise.all([startNats({ identities }), startRedis()]);
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
  const presenter = await RtpBot.join(a.url, await edgeToken(a, 'presenter', 'mesh-room'));
  const mic = await presenter.publish('microphone');
  const cam = await presenter.publish('camera', { packetsPerSecond: 30 });

  const viewers: RtpBot[] = [];
  for (const [i, edge] of [b, b, c, c, a].entries()) {
    viewers.push(await RtpBot.join(edge.url, await edgeToken(edge, `viewer-${i}`, 'mesh-room')));
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
      .mesh!.pipes.links()
      .map((l) => `${l.remoteNode}:${l.copies}/${l.sends}`)
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
  for (const edge of [a, b, c]) expect(edge.mesh!.pipes.links()).toEqual([]);
  const directory = new Directory(redis.url, pino({ level: 'silent' }));
  await eventually(async () => expect(await directory.keys('rooms')).toEqual([]));
  await directory.close();
});

it('fans one publisher out to 60 viewers on three other edges in two regions: no loss, one link per edge, flat inbound', async () => {
  const [a, b, c, d] = [
    await meshEdge('fan-a', 'eu'),
    await meshEdge('fan-b', 'eu'),
    await meshEdge('fan-c', 'us'),
    await meshEdge('fan-d', 'us'),
  ];
  const presenter = await RtpBot.join(a.url, await edgeToken(a, 'presenter', 'fan-room'));
  const mic = await presenter.publish('microphone', { packetsPerSecond: 50 });
  const plan: [Edge, number][] = [
    [b, 10],
    [c, 20],
    [d, 30],
  ];
  const viewers: { bot: RtpBot; edge: Edge; stream: Awaited<ReturnType<RtpBot['consume']>> }[] = [];
  for (const [edge, count] of plan) {
    for (let i = 0; i < count; i++) {
      const bot = await RtpBot.join(
        edge.url,
        await edgeToken(edge, `${edge.config.nodeId}-viewer-${i}`, 'fan-room'),
      );
      viewers.push({ bot, edge, stream: await bot.consume({ producerId: mic }) });
    }
  }
  await eventually(() => {
    for (const v of viewers) expect(v.stream.packets).toBeGreaterThan(0);
  }, 10_000);
  expect(
    a
      .mesh!.pipes.links()
      .map((l) => `${l.remoteNode}:${l.sends}`)
      .sort(),
  ).toEqual(['fan-b:1', 'fan-c:1', 'fan-d:1']);
  for (const [edge] of plan)
    expect(edge.mesh!.pipes.links().map((l) => `${l.remoteNode}:${l.copies}`)).toEqual(['fan-a:1']);

  // Over a window: every viewer gets every packet sent, and what enters each remote edge
  // does not depend on how many watch there (10, 20, 30).
  const inbound = async (edge: Edge) => (await edge.mesh!.pipes.census())[0]!.bytesIn;
  const sender = presenter.senders.get(mic)!;
  const sent0 = sender.packetsSent;
  const got0 = viewers.map((v) => v.stream.packets);
  const in0 = await Promise.all(plan.map(([edge]) => inbound(edge)));
  await new Promise((r) => setTimeout(r, 3000));
  sender.stop();
  await new Promise((r) => setTimeout(r, 500));
  const sent = sender.packetsSent - sent0;
  const inBytes = (await Promise.all(plan.map(([edge]) => inbound(edge)))).map((bytes, i) => bytes - in0[i]!);
  for (const [i, v] of viewers.entries()) {
    expect(v.stream.packets - got0[i]!, `viewer ${i}`).toBeGreaterThanOrEqual(sent - 1);
  }
  const [least, most] = [Math.min(...inBytes), Math.max(...inBytes)];
  expect(least).toBeGreaterThan(0);
  expect(most / least).toBeLessThan(1.15);

  for (const v of viewers) await v.bot.close();
  await presenter.close();
  for (const edge of [a, b, c, d]) await expectNoMediaObjects(edge);
  for (const edge of [a, b, c, d]) expect(edge.mesh!.pipes.links()).toEqual([]);
});

it('demand-driven pipes: a stream every remote viewer paused is paused upstream, and resumed when one wants it', async () => {
  const a = await meshEdge('demand-a', 'eu');
  const b = await meshEdge('demand-b', 'eu');
  const presenter = await RtpBot.join(a.url, await edgeToken(a, 'presenter', 'demand-room'));
  const cam = await presenter.publish('camera', { packetsPerSecond: 30 });
  const viewers = [
    await RtpBot.join(b.url, await edgeToken(b, 'v1', 'demand-room')),
    await RtpBot.join(b.url, await edgeToken(b, 'v2', 'demand-room')),
  ];
  const consumerIds: string[] = [];
  const streams: Awaited<ReturnType<RtpBot['consume']>>[] = [];
  for (const viewer of viewers) {
    streams.push(await viewer.consume({ producerId: cam }));
    consumerIds.push(viewer.lastConsumerId!);
  }
  await eventually(() => {
    for (const s of streams) expect(s.packets).toBeGreaterThan(10);
  });
  const send = () => a.mesh!.pipes.sends().find((s) => s.remoteNode === 'demand-b' && s.producerId === cam)!;
  expect(send().paused).toBe(false);

  // One viewer pausing is not enough; both are.
  await viewers[0]!.channel.request('pauseConsumer', { consumerId: consumerIds[0]! });
  await new Promise((r) => setTimeout(r, 900));
  expect(send().paused).toBe(false);
  await viewers[1]!.channel.request('pauseConsumer', { consumerId: consumerIds[1]! });
  await eventually(() => expect(send().paused).toBe(true), 3000);
  const inbound = async () => (await b.mesh!.pipes.census())[0]!.bytesIn;
  const before = await inbound();
  await new Promise((r) => setTimeout(r, 700));
  expect((await inbound()) - before).toBeLessThan(2000); // RTCP only, no media

  await viewers[1]!.channel.request('resumeConsumer', { consumerId: consumerIds[1]! });
  await eventually(() => expect(send().paused).toBe(false), 3000);
  const resumedFrom = streams[1]!.packets;
  await eventually(() => {
    expect(streams[1]!.packets).toBeGreaterThan(resumedFrom + 10);
    expect(streams[1]!.keyframes).toBeGreaterThan(0);
  });

  for (const viewer of viewers) await viewer.close();
  await presenter.close();
  for (const edge of [a, b]) await expectNoMediaObjects(edge);
});
