import { readFileSync } from 'node:fs';
import {
  capacityModel,
  conference,
  type Figures,
  figureValues,
  levelsNeeded,
  SCENARIOS,
  SIZING_DOCS,
  streamTree,
} from '@kaskade/capacity';
import { describe, expect, it } from 'vitest';

const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);

describe('the distribution tree, counted as distributionTree.ts builds it', () => {
  it('feeds the origin region straight up to the fan-out limit, other regions through a relay past one edge', () => {
    const tree = streamTree('a', { a: 3, b: 5, c: 1 }, 4);
    expect(tree.branches).toEqual([
      { region: 'a', edges: 3, viaRelay: false, relayFanout: 0, depth: 2, copiesIn: 0 },
      { region: 'b', edges: 5, viaRelay: true, relayFanout: 5, depth: 3, copiesIn: 1 },
      { region: 'c', edges: 1, viaRelay: false, relayFanout: 0, depth: 2, copiesIn: 1 },
    ]);
    // Two edges of a straight from the origin, one copy to b's relay, one to c's edge; the relay feeds five.
    expect(tree.originFanout).toBe(4);
    expect(tree.links).toBe(9);
    expect(tree.depth).toBe(3);
    // Past the fan-out limit the origin's own region goes through its relay too.
    const big = streamTree('a', { a: 6 }, 4);
    expect(big.branches[0]).toMatchObject({ viaRelay: true, relayFanout: 5, depth: 3 });
    expect(big.originFanout).toBe(1);
    expect(streamTree('a', { a: 1 }, 4).depth).toBe(1);
  });

  it('needs ceil(log_fanout(edges)) forwarding levels when no node feeds more than fanout', () => {
    for (const fanout of [2, 3, 10, 857])
      for (const leaves of [1, 2, 9, 10, 11, 100, 101, 1000, 12_345]) {
        const expected = Math.max(1, Math.ceil(Math.log(leaves) / Math.log(fanout) - 1e-12));
        expect(levelsNeeded(leaves, fanout), `${leaves} edges, fan-out ${fanout}`).toBe(expected);
      }
    expect(levelsNeeded(0, 10)).toBe(0);
    expect(levelsNeeded(2, 1)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('the capacity model', () => {
  it('grows monotonically with the audience: nodes, bus and directory load', () => {
    let previous: ReturnType<typeof capacityModel> | undefined;
    for (const viewers of [100, 1000, 5000, 20_000, 100_000]) {
      const r = capacityModel({ kind: 'lecture', regions: { a: viewers, b: viewers / 2 } });
      if (previous) {
        expect(r.media.edgesByRegion.a).toBeGreaterThanOrEqual(previous.media.edgesByRegion.a!);
        expect(r.media.edgesByRegion.b).toBeGreaterThanOrEqual(previous.media.edgesByRegion.b!);
        expect(r.control.nodes).toBeGreaterThan(previous.control.nodes - 1);
        expect(r.control.nats.delivered).toBeGreaterThan(previous.control.nats.delivered);
        expect(r.control.redis.opsPerSecond).toBeGreaterThan(previous.control.redis.opsPerSecond);
        expect(r.control.redis.cpuShare).toBeGreaterThan(previous.control.redis.cpuShare);
        expect(r.firstLimit.ratio).toBeGreaterThanOrEqual(previous.firstLimit.ratio);
      }
      previous = r;
    }
  });

  it('adds the bytes up across links and region boundaries', () => {
    const r = capacityModel({ kind: 'lecture', regions: { a: 20_000, b: 8000, c: 500 } });
    const streamBps = r.media.streams.reduce((s, k) => s + (k.byRegion.a ?? 0) * k.bytesPerSecond * 8, 0);
    expect(sum(r.media.regionInBps)).toBeCloseTo(sum(r.media.regionOutBps));
    // One copy crosses into each other region, whatever its audience.
    expect(r.media.regionInBps.b).toBeCloseTo(streamBps);
    expect(r.media.regionInBps.c).toBeCloseTo(streamBps);
    expect(r.media.regionInBps.a).toBe(0);
    // Every link carries one copy: the links' bytes are the tree's copies times the stream.
    const tree = r.media.trees[0]!;
    const linkBps = r.media.links.reduce((s, l) => s + l.count * l.bps, 0);
    expect(linkBps).toBeCloseTo(tree.links * streamBps);
    for (const region of ['a', 'b', 'c'])
      expect(r.media.relayOutBps[region]).toBeCloseTo((r.media.relayFanout[region] ?? 0) * streamBps);
  });

  it('computes a small lecture by hand', () => {
    const figures: Figures = {
      ...figureValues(),
      cpuPerForwardedPacketUs: 20,
      webrtcCostFactor: 1,
      nodeBaseCores: 0,
      roomNodeCores: 0,
      videoLayerBytesPerSecond: [1000, 2000, 10_000],
      videoLayerPacketsPerSecond: [10, 20, 100],
      audioBytesPerSecond: 1000,
      audioPacketsPerSecond: 50,
      directoryReadUsPerEntry: 0,
      edgeCpuPerJoinMs: 0,
      signalingSendUs: 0,
      redisCommandsPerJoin: 30,
      redisUsPerEntry: 2,
      directoryBytesPerEntry: 100,
    };
    const c = conference({
      kind: 'lecture',
      regions: { a: 600, b: 300 },
      nodeCores: 1,
      targetLoad: 1,
      controlPlaneReplicas: 2,
      // One worker's consumer budget would hold the edge at 500 / 2 = 250 viewers; CPU is to bind here.
      options: { workerMaxConsumers: 1000 },
    });
    const r = capacityModel(c, figures);
    // A viewer: 100 video + 50 audio packets/s x 20 µs = 3 ms/s, so 333 on one core; 88 kb/s.
    expect(r.media.edge.perParticipant.pps).toBe(150);
    expect(r.media.edge.perParticipant.bps).toBe(88_000);
    expect(r.media.edge.bounds.consumers).toBe(500);
    expect(r.media.edge.perEdge).toBe(333);
    expect(r.media.edge.boundBy).toBe('cpu');
    expect(
      capacityModel({ ...c, options: { ...c.options, workerMaxConsumers: 500 } }, figures).media.edge,
    ).toMatchObject({ perEdge: 250, boundBy: 'consumers' });
    expect(r.media.edgesByRegion).toEqual({ a: 2, b: 1 });
    // Two edges in a: the second straight from the origin; b's one edge straight too: no relay.
    expect(r.media.relaysByRegion).toEqual({ a: 0, b: 0 });
    expect(r.media.trees[0]!.originFanout).toBe(2);
    expect(r.media.regionInBps).toEqual({ a: 0, b: 88_000 });
    // Three nodes beat every 2 s; three edges and two control-plane replicas hear each beat.
    expect(r.control.nats.heartbeatsPublished).toBe(1.5);
    expect(r.control.nats.heartbeatsDelivered).toBe(7.5);
    // 900 joins over the default 300 s, each heard by the two other edges.
    expect(r.control.nats.roomEventsPublished).toBe(3);
    expect(r.control.nats.roomEventsDelivered).toBe(6);
    // Heartbeats: 1.5/s x 4 commands + 3 edges' rooms 1.5/s x 8.8; sweeps: 2 replicas x 2/s x 4;
    // joins 3/s x 30 (a viewer publishes nothing); resync 3 edges / 10 s x 3.
    expect(r.control.redis.opsPerSecond).toBeCloseTo(1.5 * 4 + 1.5 * 8.8 + 16 + 3 * 30 + 0.9);
    // Each resync reads back the 900 viewers (the audience is in the directory) and the 2 streams.
    expect(r.control.redis.resyncEntriesPerSecond).toBeCloseTo(0.3 * 902);
    expect(r.control.redis.outBps).toBeCloseTo(0.3 * 902 * 100 * 8);
    expect(r.control.redis.cpuShare).toBeCloseTo(
      r.control.redis.opsPerSecond / 100_000 + (0.3 * 902 * 2) / 1e6,
    );
  });

  it("charges a join the same whatever the room's size: placement reads only the room's nodes", () => {
    const small = capacityModel({ kind: 'lecture', regions: { a: 1000 }, joinSeconds: 100 });
    const big = capacityModel({ kind: 'lecture', regions: { a: 100_000 }, joinSeconds: 10_000 });
    // The same 10 joins a second into a room 100 times as full: the control plane and the joins' commands alike.
    expect(big.control.joinsPerSecond).toBe(small.control.joinsPerSecond);
    expect(big.control.controlPlane.joinMs).toBe(small.control.controlPlane.joinMs);
    expect(big.control.controlPlane.cores).toBeCloseTo(small.control.controlPlane.cores);
    expect(big.control.redis.joinOps).toBeCloseTo(small.control.redis.joinOps);
    // What grows is resync: more edges, each reading a fuller room.
    expect(big.control.redis.resyncEntriesPerSecond).toBeGreaterThan(
      100 * small.control.redis.resyncEntriesPerSecond,
    );
  });

  it("counts a meeting join's streams: its directory writes and its streamAdded events", () => {
    const f = figureValues();
    const meeting = capacityModel(
      { kind: 'meeting', regions: { a: 100 }, cameras: 20, microphones: 100, joinSeconds: 100 },
      f,
    );
    // 1 join a second, each publishing 1.2 streams on average (a microphone each, a fifth a camera).
    expect(meeting.control.redis.joinOps).toBeCloseTo(
      f.redisCommandsPerJoin + 1.2 * f.redisCommandsPerStream,
    );
    expect(meeting.control.nats.roomEventsPublished).toBeCloseTo(
      f.natsPublishedPerJoin + 1.2 * f.natsPublishedPerStream,
    );
    expect(meeting.control.redis.resyncEntriesPerSecond).toBeCloseTo(
      (meeting.control.edgesInRoom / 10) * (100 + 120),
    );
  });

  it('finds the largest audience that fits: it does, and a tenth more does not', () => {
    const r = capacityModel(SCENARIOS['lecture-100k']);
    const largest = r.largestFitting;
    expect(r.fits).toBe(r.limits.every((l) => l.ratio <= 1));
    expect(r.firstLimit.ratio).toBe(Math.max(...r.limits.map((l) => l.ratio)));
    expect(largest).toBeGreaterThan(0);
    const scale = (n: number) =>
      Object.fromEntries(Object.keys(SCENARIOS['lecture-100k'].regions).map((k) => [k, n / 10]));
    expect(
      capacityModel({ ...SCENARIOS['lecture-100k'], regions: scale(Math.floor(largest / 10) * 10) }).fits,
    ).toBe(true);
    expect(capacityModel({ ...SCENARIOS['lecture-100k'], regions: scale(largest * 1.1) }).fits).toBe(false);
  });
});

describe("deploy/README's sizing tables and docs/capacity.md", () => {
  it('are what the model prints (node loadtest/capacity-model.ts --readme rewrites them)', () => {
    for (const [path, blocks] of Object.entries(SIZING_DOCS)) {
      const text = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
      for (const [name, body] of Object.entries(blocks()))
        expect(text, `${path}, block ${name}`).toContain(
          `<!-- capacity:${name} -->\n${body}\n<!-- /capacity:${name} -->`,
        );
    }
  });
});
