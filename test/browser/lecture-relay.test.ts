import { serverUrl } from '@kaskade/client-sdk/dev-server';
import { operatorText } from '@kaskade/local-mesh';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browsers.ts';
import { eventually } from '../helpers/edge.ts';
import { expectReceivingFrom, harness, joinInNewPage, startMeshHarness } from '../helpers/media-checks.ts';
import { joinThroughControlPlane, nodeView, roomLinks, useRelayMesh } from '../helpers/mesh.ts';

// 200 bots and one Firefox viewer: the edges' media on non-loopback addresses, for Firefox.
const relayMesh = useRelayMesh({ KASKADE_NODE_CAPACITY: '55' }, { browserMedia: true });
const { bots } = relayMesh;
let web: FastifyInstance;
let firefox: Browser;

beforeAll(async () => {
  web = await startMeshHarness(relayMesh.mesh);
  firefox = await launchBrowser('firefox');
}, 60_000);
afterAll(async () => {
  await firefox?.close();
  await web?.close();
});

const links = (operatorUrl: string, room: string) =>
  roomLinks(operatorUrl, relayMesh.mesh.operatorToken, room);

it('a lecture across two regions with relays: every viewer receives (a Firefox one too), one copy enters the far region, and viewers survive the relay', async () => {
  const { mesh } = relayMesh;
  const room = 'relay-lecture';
  const presenter = await joinThroughControlPlane(mesh, 'lecturer', room, 'eu');
  bots.push(presenter);
  const mic = await presenter.bot.publish('microphone');
  const streams: { packets: number }[] = [];
  for (let wave = 0; wave < 10; wave++) {
    const batch = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        joinThroughControlPlane(mesh, `v-${wave}-${i}`, room, i % 2 ? 'us' : 'eu'),
      ),
    );
    bots.push(...batch);
    streams.push(...(await Promise.all(batch.map((p) => p.bot.consume({ producerId: mic })))));
  }
  const viewers = bots.slice(1);
  expect(new Set(viewers.map((v) => v.nodeId)).size).toBe(4);

  const origin = mesh.edges.find((e) => e.nodeId === presenter.nodeId)!;
  const euOther = mesh.edges.find((e) => e.region === 'eu' && e !== origin)!;
  const usEdges = mesh.edges.filter((e) => e.region === 'us');
  const usRelay = mesh.relays.find((r) => r.region === 'us')!;
  // The tree settles: the us edges take the stream from the us relay, which takes it once from the origin.
  await eventually(async () => {
    for (const edge of usEdges)
      expect(await links(edge.operatorUrl, room)).toEqual([`${usRelay.nodeId}:1/0`]);
    expect(await links(usRelay.operatorUrl, room)).toEqual(
      [`${origin.nodeId}:1/0`, ...usEdges.map((e) => `${e.nodeId}:0/1`)].sort(),
    );
    expect(await links(origin.operatorUrl, room)).toEqual(
      [`${euOther.nodeId}:0/1`, `${usRelay.nodeId}:0/1`].sort(),
    );
  }, 15_000);
  // A Firefox viewer in the far region hears the lecture through the relay tree, on a us
  // edge whose single copy of the stream the bots' assertions above already pin down.
  const fox = await joinInNewPage(firefox, serverUrl(web), 'joinVia', room, 'Fox', 'us', { publish: false });
  expect(await harness(fox.page, 'node')).toMatch(/^edge-us-/);
  await expectReceivingFrom(fox.page, presenter.bot.id, 45_000, { video: false });
  for (const edge of usEdges) expect(await links(edge.operatorUrl, room)).toEqual([`${usRelay.nodeId}:1/0`]);
  const flowing = async (min: number) => {
    const before = streams.map((s) => s.packets);
    await eventually(async () => {
      for (const [i, s] of streams.entries()) {
        if (s.packets - before[i]! >= min) continue;
        const v = viewers[i]!;
        const views = await Promise.all(
          [...mesh.edges, ...mesh.relays].map(
            async (n) =>
              `${n.nodeId}: ${JSON.stringify((await nodeView(n.operatorUrl, mesh.operatorToken)).links)}`,
          ),
        );
        const why = `viewer ${i} on ${v.nodeId}: resubscriptions ${v.bot.resubscriptions}, consumer ${v.bot.consumerIdOf(mic)}, closed ${v.bot.seen.streamClosed.length}\n${views.join('\n')}`;
        expect(s.packets - before[i]!, why).toBeGreaterThanOrEqual(min);
      }
    }, 15_000);
  };
  await flowing(20);

  // The relay reports its links to Prometheus too.
  const relayMetrics = await operatorText(usRelay.operatorUrl, mesh.operatorToken, '/metrics');
  // One link up to the origin's region, two down to this region's edges.
  expect(relayMetrics).toMatch(/^kaskade_pipe_links\{remote_region="eu"[^}]*kind="relay"[^}]*\} 1$/m);
  expect(relayMetrics).toMatch(/^kaskade_pipe_links\{remote_region="us"[^}]*kind="relay"[^}]*\} 2$/m);

  // The relay dies: the us edges fall back to direct pipes and every viewer resumes.
  usRelay.child.kill('SIGKILL');
  await eventually(async () => {
    for (const edge of usEdges) expect(await links(edge.operatorUrl, room)).toEqual([`${origin.nodeId}:1/0`]);
  }, 15_000);
  await flowing(20);
  await expectReceivingFrom(fox.page, presenter.bot.id, 15_000, { video: false });
  // The us edges may fall back (their view of the relay's heartbeats went stale) before the
  // control plane declares it dead; the origin drops its link to it then.
  await eventually(
    async () =>
      expect(await links(origin.operatorUrl, room)).toEqual(
        [euOther.nodeId, ...usEdges.map((e) => e.nodeId)].map((n) => `${n}:0/1`).sort(),
      ),
    10_000,
  );
  await harness(fox.page, 'leave');
  await fox.page.close();
}, 120_000);
