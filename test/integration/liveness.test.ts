import { Directory } from '@kaskade/directory';
import { type LocalMesh, operatorJson, startRedis } from '@kaskade/local-mesh';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, expectFlowing } from '../helpers/edge.ts';
import { nodeView, TEST_NODE_TIMEOUT_MS, useMeshPerTest } from '../helpers/mesh.ts';
import { scrapeMetric } from '../helpers/metrics.ts';

// Heartbeats every 300 ms: liveness lasts 900 ms (3 heartbeats); the control plane reads it every 500 ms.

const perTest = useMeshPerTest();
const join = perTest.join;
let directory: Directory | undefined;

async function startMesh(): Promise<LocalMesh> {
  const mesh = await perTest.start();
  // The test's own view of Redis, as any replica reads it.
  directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }));
  return mesh;
}

const declaredDead = (operatorUrl: string) =>
  scrapeMetric(operatorUrl, perTest.mesh.operatorToken, 'kaskade_nodes_declared_dead_total');

async function registryNodes(operatorUrl: string): Promise<string[]> {
  const { nodes } = await operatorJson<{ nodes: { nodeId: string }[] }>(
    operatorUrl,
    perTest.mesh.operatorToken,
    '/v1/nodes',
  );
  return nodes.map((n) => n.nodeId).sort();
}

/** Nodes whose liveness in Redis had lapsed at the read, and those still live. */
async function livenessInRedis(): Promise<{ lapsed: string[]; live: string[] }> {
  const { now, expiries } = await directory!.liveness.read();
  const all = [...expiries];
  return {
    lapsed: all.filter(([, e]) => e <= now).map(([n]) => n),
    live: all
      .filter(([, e]) => e > now)
      .map(([n]) => n)
      .sort(),
  };
}

afterEach(async () => {
  await directory?.close();
  directory = undefined;
});

describe('node liveness in Redis (real processes)', () => {
  it('an edge killed while no control plane runs is declared dead by the replica started afterwards', async () => {
    const m = await startMesh();
    const room = 'orphan-room';
    const presenter = await join('presenter-us', room, 'us');
    const listener = await join('listener-us', room, 'us');
    expect(listener.nodeId).toBe(presenter.nodeId); // sticky: both on the edge that dies
    const mic = await presenter.bot.publish('microphone');
    const viewer = await join('viewer-eu', room, 'eu');
    const left: string[] = [];
    viewer.bot.channel.on('participantLeft', ({ participantId }) => left.push(participantId));
    const audio = await viewer.bot.consume({ producerId: mic });
    await expectFlowing(audio);
    const victim = m.edges.find((e) => e.nodeId === presenter.nodeId)!;
    const viewerEdge = m.edges.find((e) => e.nodeId === viewer.nodeId)!;
    expect((await nodeView(viewerEdge.operatorUrl, m.operatorToken)).links).toEqual([
      expect.objectContaining({ room, remoteNode: victim.nodeId }),
    ]);

    await m.controlPlane.stop();
    victim.child.kill('SIGKILL');
    // Its liveness lapses in Redis; with no replica running nobody acts on it.
    await eventually(async () => expect((await livenessInRedis()).lapsed).toEqual([victim.nodeId]), 5000);
    await new Promise((r) => setTimeout(r, 1000));
    const orphaned = await directory!.room(room);
    expect(orphaned.participants.filter((p) => p.node === victim.nodeId)).toHaveLength(2);
    expect(orphaned.streams.map((s) => s.producerId)).toContain(mic);
    expect(viewer.bot.seen.streamClosed).not.toContain(mic);

    // A replica started after the death finds it on its first sweep.
    const replica = await m.addControlPlane();
    m.controlPlane = replica;
    await eventually(() => expect(viewer.bot.seen.streamClosed).toContain(mic), 5000);
    await eventually(() => expect(left.sort()).toEqual([presenter.bot.id, listener.bot.id].sort()), 5000);
    const cleaned = await directory!.room(room);
    expect(cleaned.participants.map((p) => p.node)).toEqual([viewer.nodeId]);
    expect(cleaned.streams).toEqual([]);
    expect(cleaned.nodes).not.toContain(victim.nodeId);
    expect(await directory!.roomsOfNode(victim.nodeId)).toEqual([]);
    await eventually(
      async () => expect((await nodeView(viewerEdge.operatorUrl, m.operatorToken)).links).toEqual([]),
      5000,
    );
    expect(await declaredDead(replica.operatorUrl)).toBe(1);
    // The record goes once every replica has had the time to see it lapsed.
    await eventually(async () => {
      const { lapsed, live } = await livenessInRedis();
      expect(lapsed).toEqual([]);
      expect(live).toEqual(m.edges.filter((e) => e !== victim).map((e) => e.nodeId));
    }, 5000);

    // Placement never hands out the dead edge: its region's joins go to the other edge there.
    const survivors = await eventually(async () => {
      const nodes = await registryNodes(replica.operatorUrl);
      expect(nodes).toHaveLength(3);
      return nodes;
    }, 5000);
    expect(survivors).not.toContain(victim.nodeId);
    const usOther = m.edges.find((e) => e.region === 'us' && e !== victim)!;
    for (let i = 0; i < 8; i++) {
      const late = await join(`late-${i}`, room, 'us');
      expect(late.nodeId).toBe(usOther.nodeId);
    }
    expect(await declaredDead(replica.operatorUrl)).toBe(1);
  });

  it('an edge frozen past its liveness is declared dead and skipped; once it runs again it is live again', async () => {
    const m = await startMesh();
    const room = 'frozen-room';
    const frozenOne = await join('frozen-1', room, 'us');
    const victim = m.edges.find((e) => e.nodeId === frozenOne.nodeId)!;
    const usOther = m.edges.find((e) => e.region === 'us' && e !== victim)!;
    const mic = await frozenOne.bot.publish('microphone');
    const viewer = await join('viewer-eu', room, 'eu');
    await viewer.bot.consume({ producerId: mic });

    victim.child.kill('SIGSTOP'); // alive to TCP, silent on NATS and Redis
    try {
      // Its participants come back at once, before its liveness lapses: saying which edge
      // they lost, they are sent elsewhere though the room is sticky there.
      const retries = await Promise.all(
        [0, 1, 2].map((i) => join(`retry-${i}`, room, 'us', [victim.nodeId])),
      );
      expect(retries.map((r) => r.nodeId)).toEqual(retries.map(() => usOther.nodeId));
      await eventually(() => expect(viewer.bot.seen.streamClosed).toContain(mic), 5000);
      expect(await declaredDead(m.controlPlane.operatorUrl)).toBe(1);
      expect(await registryNodes(m.controlPlane.operatorUrl)).not.toContain(victim.nodeId);
      // The room is on the frozen edge only in us, yet us joins go to the other us edge.
      for (let i = 0; i < 4; i++)
        expect((await join(`while-frozen-${i}`, room, 'us')).nodeId).toBe(usOther.nodeId);
    } finally {
      victim.child.kill('SIGCONT');
    }
    // It beats again: live in Redis and in the registry, and it wrote back what it holds.
    await eventually(async () => expect((await livenessInRedis()).live).toContain(victim.nodeId), 5000);
    await eventually(
      async () => expect(await registryNodes(m.controlPlane.operatorUrl)).toContain(victim.nodeId),
      5000,
    );
    await eventually(async () => {
      const state = await directory!.room(room);
      expect(state.participants.map((p) => p.id)).toContain(frozenOne.bot.id);
      expect(state.streams.map((s) => s.producerId)).toContain(mic);
    }, 5000);
    // The control plane reads it live again (a node just thawed may miss a beat as it catches up).
    await eventually(async () => {
      for (let k = 0; k < 3; k++) {
        const { nodes } = await operatorJson<{ nodes: { nodeId: string; livenessLeftMs?: number }[] }>(
          m.controlPlane.operatorUrl,
          m.operatorToken,
          '/v1/nodes',
        );
        expect(nodes.find((n) => n.nodeId === victim.nodeId)?.livenessLeftMs).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 300));
      }
    }, 5000);
    // Placed on again: a join steered away from the other us edge lands on it.
    const back = await join('after', 'fresh-room', 'us', [usOther.nodeId]);
    const { nodes } = await operatorJson<{ nodes: unknown[] }>(
      m.controlPlane.operatorUrl,
      m.operatorToken,
      '/v1/nodes',
    );
    expect(back.nodeId, JSON.stringify(nodes)).toBe(victim.nodeId);
    expect(await declaredDead(m.controlPlane.operatorUrl)).toBe(1);
  });

  it('redis-server frozen longer than a liveness TTL (data kept): nobody is declared dead', async () => {
    const m = await startMesh();
    const { viewer, audio } = await perTest.crossRegionAudio('freeze-room');

    m.redis!.pause();
    try {
      await expectFlowing(audio, 100); // 2 s of audio: every liveness in Redis (900 ms) is out of date
    } finally {
      m.redis!.resume();
    }
    // When Redis answers again, every expiry it holds is in the past: the nodes get a full timeout to write.
    await eventually(async () => expect((await livenessInRedis()).live).toHaveLength(4), 5000);
    await new Promise((r) => setTimeout(r, TEST_NODE_TIMEOUT_MS + 1000));
    expect(await declaredDead(m.controlPlane.operatorUrl)).toBe(0);
    expect(await registryNodes(m.controlPlane.operatorUrl)).toEqual(m.edges.map((e) => e.nodeId).sort());
    expect(viewer.bot.seen.streamClosed).toEqual([]);
    await expectFlowing(audio);
    expect((await join('late', 'freeze-room', 'us')).nodeId).toBe(viewer.nodeId);
  });

  it('redis-server restarted empty: nobody is declared dead, every node writes its liveness again', async () => {
    const m = await startMesh();
    const { viewer, audio } = await perTest.crossRegionAudio('amnesia-room');

    await m.redis!.stop();
    await expectFlowing(audio, 50);
    m.redis = await startRedis(m.redis!.port, m.redis!.password);
    await eventually(async () => expect((await livenessInRedis()).live).toHaveLength(4), 10_000);
    await new Promise((r) => setTimeout(r, TEST_NODE_TIMEOUT_MS + 1000));
    expect(await declaredDead(m.controlPlane.operatorUrl)).toBe(0);
    expect(await registryNodes(m.controlPlane.operatorUrl)).toEqual(m.edges.map((e) => e.nodeId).sort());
    expect(viewer.bot.seen.streamClosed).toEqual([]);
    await expectFlowing(audio);
  });
});
