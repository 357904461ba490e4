import { Directory } from '@kaskade/directory';
import { operatorJson } from '@kaskade/local-mesh';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { joinThroughControlPlane, type Placed, roomLinks, useRelayMesh } from '../helpers/mesh.ts';
import { expectEveryProcessReports, scrapeMetric } from '../helpers/metrics.ts';

// Four participants per edge: the far region's viewers fill one edge, then the other.
const relayMesh = useRelayMesh({ KASKADE_NODE_CAPACITY: '4' });
const { bots } = relayMesh;

/** Every media node's links in the room, as its operator census shows them. */
async function census(room: string): Promise<Record<string, string[]>> {
  const { mesh } = relayMesh;
  const views: Record<string, string[]> = {};
  for (const node of [...mesh.edges, ...mesh.relays])
    views[node.nodeId] = await roomLinks(node.operatorUrl, mesh.operatorToken, room);
  return views;
}

it('nats-server restarted under a relay lecture: no re-homing, and media reaches every viewer throughout', async () => {
  const { mesh } = relayMesh;
  const room = 'bus-outage-lecture';
  const presenter = await joinThroughControlPlane(mesh, 'lecturer', room, 'eu');
  bots.push(presenter);
  const mic = await presenter.bot.publish('microphone'); // 50 packets a second
  const viewers: Placed[] = [];
  for (let i = 0; i < 7; i++) {
    const viewer = await joinThroughControlPlane(mesh, `viewer-${i}`, room, i < 6 ? 'us' : 'eu');
    bots.push(viewer);
    viewers.push(viewer);
  }
  const usEdges = mesh.edges.filter((e) => e.region === 'us');
  expect(new Set(viewers.slice(0, 6).map((v) => v.nodeId))).toEqual(new Set(usEdges.map((e) => e.nodeId)));
  // Both far edges carry the room in their heartbeats before anyone consumes, so each
  // takes the stream through the relay from the start: no tree change before the outage.
  await eventually(async () => {
    const { nodes } = await operatorJson<{ nodes: { nodeId: string; rooms: string[] }[] }>(
      mesh.controlPlane.operatorUrl,
      mesh.operatorToken,
      '/v1/nodes',
    );
    for (const edge of usEdges) expect(nodes.find((n) => n.nodeId === edge.nodeId)?.rooms).toContain(room);
  }, 5000);
  await new Promise((r) => setTimeout(r, 600)); // two heartbeats: the edges have heard it too
  const streams = await Promise.all(viewers.map((v) => v.bot.consume({ producerId: mic })));

  // The tree settles: the far region takes the stream once, through its relay.
  const origin = mesh.edges.find((e) => e.nodeId === presenter.nodeId)!;
  const usRelay = mesh.relays.find((r) => r.region === 'us')!;
  await eventually(async () => {
    const views = await census(room);
    for (const edge of usEdges) expect(views[edge.nodeId]).toEqual([`${usRelay.nodeId}:1/0`]);
    expect(views[usRelay.nodeId]).toEqual(
      [`${origin.nodeId}:1/0`, ...usEdges.map((e) => `${e.nodeId}:0/1`)].sort(),
    );
  }, 15_000);
  /** Every viewer received at least `min` packets within the time. */
  const flowing = async (min: number, timeoutMs: number) => {
    const before = streams.map((s) => s.packets);
    await eventually(() => {
      for (const [i, s] of streams.entries())
        expect(s.packets - before[i]!, `viewer ${i} on ${viewers[i]!.nodeId}`).toBeGreaterThanOrEqual(min);
    }, timeoutMs);
  };
  await flowing(20, 10_000);
  const settled = await census(room);
  const consumers = viewers.map((v) => v.bot.consumerIdOf(mic));
  expect(consumers.every((c) => c !== undefined)).toBe(true);
  expect(viewers.map((v) => v.bot.resubscriptions)).toEqual(viewers.map(() => 0));

  await mesh.nats!.halt();
  const downAt = Date.now();
  // Half-second windows while the bus is down: every viewer gets media in every one
  // (25 packets are due in each; 10 leaves room for a busy machine, not for a gap).
  let windows = 0;
  while (Date.now() - downAt < 4000) {
    const before = streams.map((s) => s.packets);
    await new Promise((r) => setTimeout(r, 500));
    for (const [i, s] of streams.entries())
      expect(
        s.packets - before[i]!,
        `viewer ${i} on ${viewers[i]!.nodeId}, window ${windows}`,
      ).toBeGreaterThanOrEqual(10);
    windows++;
  }
  expect(windows).toBeGreaterThanOrEqual(6);
  for (const node of [mesh.controlPlane, ...mesh.edges, ...mesh.relays])
    expect(await scrapeMetric(node.operatorUrl, mesh.operatorToken, 'kaskade_nats_connected')).toBe(0);

  await mesh.nats!.restart(); // same port, certificate and users
  await expectEveryProcessReports(
    [mesh.controlPlane, ...mesh.edges, ...mesh.relays],
    mesh.operatorToken,
    'kaskade_nats_connected',
    1,
    10_000,
  );
  // Through the resyncs and re-homing checks that follow the return (every second here).
  for (let i = 0; i < 6; i++) await flowing(10, 1000);

  // No re-homing: the same consumers, no resubscription, the same links everywhere.
  for (const [i, v] of viewers.entries()) {
    expect(v.bot.resubscriptions, `viewer ${i}`).toBe(0);
    expect(v.bot.consumerIdOf(mic), `viewer ${i}`).toBe(consumers[i]);
    expect(v.bot.seen.streamClosed).toEqual([]);
  }
  expect(await census(room)).toEqual(settled);
  expect(
    await scrapeMetric(
      mesh.controlPlane.operatorUrl,
      mesh.operatorToken,
      'kaskade_nodes_declared_dead_total',
    ),
  ).toBe(0);
  // Liveness never went over the bus: every edge and relay kept it fresh in Redis throughout.
  const directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }));
  try {
    const { now, expiries } = await directory.liveness.read();
    const live = [...expiries].filter(([, expiry]) => expiry > now).map(([node]) => node);
    expect(live.sort()).toEqual([...mesh.edges, ...mesh.relays].map((n) => n.nodeId).sort());
  } finally {
    await directory.close();
  }
});
