import { operatorJson, startRedis } from '@kaskade/local-mesh';
import { describe, expect, it } from 'vitest';
import { eventually, expectFlowing } from '../helpers/edge.ts';
import { nodeView, TEST_NODE_TIMEOUT_MS, useMeshPerTest } from '../helpers/mesh.ts';
import { expectEveryProcessReports } from '../helpers/metrics.ts';

const perTest = useMeshPerTest();
const startMesh = perTest.start;
const join = perTest.join;

describe('the mesh under failures (real processes)', () => {
  it('an edge killed with SIGKILL: its streams and participants are dropped, other streams keep flowing', async () => {
    const m = await startMesh();
    const eu = await join('presenter-eu', 'kill-room', 'eu');
    const us = await join('presenter-us', 'kill-room', 'us');
    const euMic = await eu.bot.publish('microphone');
    const usMic = await us.bot.publish('microphone');
    const viewer = await join('viewer-eu', 'kill-room', 'eu');
    expect(viewer.nodeId).toBe(eu.nodeId); // sticky: the room is there already
    const fromEu = await viewer.bot.consume({ producerId: euMic });
    const fromUs = await viewer.bot.consume({ producerId: usMic });
    await expectFlowing(fromEu);
    await expectFlowing(fromUs);

    const victim = m.edges.find((e) => e.nodeId === us.nodeId)!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await eventually(
      () => expect(viewer.bot.seen.streamClosed).toContain(usMic),
      TEST_NODE_TIMEOUT_MS + 4000,
    );
    expect(Date.now() - killedAt).toBeLessThan(TEST_NODE_TIMEOUT_MS + 4000);
    await expectFlowing(fromEu); // the stream that did not come from it
    const room = await operatorJson<{ participants: { node: string }[]; streams: { node: string }[] }>(
      m.controlPlane.operatorUrl,
      m.operatorToken,
      '/v1/rooms/kill-room/participants',
    );
    expect(room.participants.map((p) => p.node)).not.toContain(us.nodeId);
    expect(room.streams.map((s) => s.node)).not.toContain(us.nodeId);
    const { nodes } = await operatorJson<{ nodes: { nodeId: string }[] }>(
      m.controlPlane.operatorUrl,
      m.operatorToken,
      '/v1/nodes',
    );
    expect(nodes.map((n) => n.nodeId)).not.toContain(us.nodeId);
    await eventually(async () =>
      expect(
        (await nodeView(m.edges.find((e) => e.nodeId === eu.nodeId)!.operatorUrl, m.operatorToken)).links,
      ).toEqual([]),
    );
  });

  it('nats-server restarted under a running room: media flows throughout; joins and new streams work after', async () => {
    const m = await startMesh();
    const { presenter, mic, viewer, audio } = await perTest.crossRegionAudio('nats-room');

    await m.nats!.halt();
    await expectFlowing(audio, 50); // one second and more with no NATS at all
    // Every process says so on /metrics (what the KaskadeNatsUnreachable alert reads).
    await expectEveryProcessReports(
      [m.controlPlane, ...m.edges],
      m.operatorToken,
      'kaskade_nats_connected',
      0,
    );
    await m.nats!.restart(); // same port, certificate and users
    await expectFlowing(audio);
    await expectEveryProcessReports(
      [m.controlPlane, ...m.edges],
      m.operatorToken,
      'kaskade_nats_connected',
      1,
      10_000,
    );

    const late = await eventually(() => join('late-viewer', 'nats-room', 'us'), 10_000);
    const lateAudio = await late.bot.consume({ producerId: mic });
    await expectFlowing(lateAudio);
    const cam = await presenter.bot.publish('camera', { packetsPerSecond: 30 });
    await eventually(() => expect(viewer.bot.seen.streamAdded).toContain(cam), 5000);
    await expectFlowing(await viewer.bot.consume({ producerId: cam }));
  });

  it('redis-server restarted (empty) under a running room: media flows; nodes republish; joins work after', async () => {
    const m = await startMesh();
    const { mic, audio } = await perTest.crossRegionAudio('redis-room');

    await m.redis!.stop();
    await expectFlowing(audio, 50);
    await expectEveryProcessReports(
      [m.controlPlane, ...m.edges],
      m.operatorToken,
      'kaskade_redis_connected',
      0,
    );
    m.redis = await startRedis(m.redis!.port, m.redis!.password); // the nodes reconnect with the same credentials
    await expectEveryProcessReports(
      [m.controlPlane, ...m.edges],
      m.operatorToken,
      'kaskade_redis_connected',
      1,
      10_000,
    );
    // The edges write back what they hold.
    await eventually(async () => {
      const room = await operatorJson<{ participants: unknown[]; streams: unknown[] }>(
        m.controlPlane.operatorUrl,
        m.operatorToken,
        '/v1/rooms/redis-room/participants',
      );
      expect(room.participants).toHaveLength(2);
      expect(room.streams).toHaveLength(1);
    }, 10_000);
    await expectFlowing(audio);
    const late = await join('late-viewer', 'redis-room', 'us');
    expect(late.bot.joined.streams.map((s) => s.producerId)).toContain(mic);
    await expectFlowing(await late.bot.consume({ producerId: mic }));
  });

  it('a join storm: 200 joins in 10 s into one room across the mesh all succeed, with no duplicate pipes', async () => {
    const m = await startMesh({ KASKADE_NODE_CAPACITY: '60' });
    const presenter = await join('presenter', 'storm-room', 'eu');
    const mic = await presenter.bot.publish('microphone');
    // 20 waves of 10, one every 500 ms: 200 joins within 10 s, each wave not waiting for the last.
    const waves = Array.from({ length: 20 }, (_, wave) =>
      new Promise((r) => setTimeout(r, wave * 500)).then(() =>
        Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const placed = await join(`storm-${wave}-${i}`, 'storm-room', i % 2 ? 'us' : 'eu');
            return { placed, stream: await placed.bot.consume({ producerId: mic }) };
          }),
        ),
      ),
    );
    const joined = (await Promise.all(waves)).flat();
    const results = joined.map((j) => j.placed);
    const streams = joined.map((j) => j.stream);
    expect(results).toHaveLength(200);
    const perNode = new Map<string, number>();
    for (const r of results) perNode.set(r.nodeId, (perNode.get(r.nodeId) ?? 0) + 1);
    expect(perNode.size).toBe(4); // capacity 60 spread the storm over every edge

    for (const edge of m.edges) {
      const view = await nodeView(edge.operatorUrl, m.operatorToken);
      const links = view.links.filter((l) => l.room === 'storm-room');
      if (edge.nodeId === presenter.nodeId) {
        expect(links.map((l) => l.remoteNode).sort()).toEqual(
          m.edges
            .filter((e) => e !== edge)
            .map((e) => e.nodeId)
            .sort(),
        );
        for (const l of links) expect(l.sends).toBe(1);
      } else {
        expect(links).toEqual([
          expect.objectContaining({ remoteNode: presenter.nodeId, copies: 1, sends: 0 }),
        ]);
      }
    }
    await Promise.all(streams.map((stream) => expectFlowing(stream, 5)));
  });
});
