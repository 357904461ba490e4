import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { PreferredLayers, RtpBot } from '@kaskade/load-tools';
import { joinEdge, prepareRecordedMedia } from '@kaskade/load-tools';
import { expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { nodeView, roomLinks, useRelayMesh } from '../helpers/mesh.ts';

/**
 * Layers are decided per link at every hop. A recorded presenter in eu; in us,
 * thumbnail viewers on one edge and a stage viewer on the other, so the stream enters
 * us once through the us relay: the relay's link to the thumbnails' edge carries only
 * the 180p layer while its link to the stage edge carries 180p and 720p, and the
 * origin sends the relay the union of the two. The stage viewer pausing takes the
 * 720p layer off both hops.
 */

const relayMesh = useRelayMesh();
const ROOM = 'link-layers-relay';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a relay carries 720p only to the edge whose viewer wants it, 180p alone to the thumbnails edge, and asks its upstream for the union', async () => {
  const { mesh } = relayMesh;
  const bots: RtpBot[] = [];
  const media = prepareRecordedMedia(mkdtempSync(joinPath(tmpdir(), 'kaskade-media-')), 4);
  const presenter = await joinEdge(mesh, 'edge-eu-1', 'presenter', ROOM, { publish: true, subscribe: true });
  bots.push(presenter);
  const { camera } = await presenter.publishRecorded(media, { audio: false });
  const viewer = async (nodeId: string, identity: string, preferredLayers: PreferredLayers) => {
    const bot = await joinEdge(mesh, nodeId, identity, ROOM);
    bots.push(bot);
    await eventually(() =>
      expect([...bot.joined.streams.map((s) => s.producerId), ...bot.seen.streamAdded]).toContain(camera),
    );
    return { bot, cam: await bot.consume({ producerId: camera }, { preferredLayers }) };
  };
  const node = (id: string) => [...mesh.edges, ...mesh.relays].find((n) => n.nodeId === id)!;
  const relay = mesh.relays.find((r) => r.region === 'us')!.nodeId;
  /** The camera as node `from` sends it to node `to`. */
  const sent = async (from: string, to: string) => {
    const links = (await nodeView(node(from).operatorUrl, mesh.operatorToken)).links;
    const stream = links
      .find((l) => l.room === ROOM && l.remoteNode === to)
      ?.streams.find((s) => s.producerId === camera);
    if (!stream) throw new Error(`${from} does not send the camera to ${to}: ${JSON.stringify(links)}`);
    return stream;
  };

  const thumbs = [
    await viewer('edge-us-1', 'thumb-1', { spatialLayer: 0 }),
    await viewer('edge-us-1', 'thumb-2', { spatialLayer: 0 }),
  ];
  const stage = await viewer('edge-us-2', 'stage', { spatialLayer: 2 });
  // Two us edges carry the room: the stream comes through the us relay.
  await eventually(async () => {
    for (const edge of ['edge-us-1', 'edge-us-2'])
      expect(await roomLinks(node(edge).operatorUrl, mesh.operatorToken, ROOM)).toEqual([`${relay}:1/0`]);
  }, 20_000);
  await eventually(async () => {
    expect(stage.cam.height).toBe(720);
    for (const t of thumbs) expect(t.cam.height).toBe(180);
    expect((await sent(relay, 'edge-us-1')).spatialLayers).toEqual([0]);
    expect((await sent(relay, 'edge-us-2')).spatialLayers).toEqual([0, 2]);
    expect((await sent('edge-eu-1', relay)).spatialLayers).toEqual([0, 2]);
  }, 20_000);

  const before = await Promise.all([sent(relay, 'edge-us-1'), sent(relay, 'edge-us-2')]);
  const mixBefore = { ...stage.cam.layerPackets };
  await sleep(4000);
  const after = await Promise.all([sent(relay, 'edge-us-1'), sent(relay, 'edge-us-2')]);
  const [toThumbs, toStage] = after.map((s, i) => s.bytesOut - before[i]!.bytesOut) as [number, number];
  console.log(
    `camera from the relay in 4 s: to the thumbnails edge ${toThumbs} B, to the stage edge ${toStage} B (${((100 * toThumbs) / toStage).toFixed(1)} %)`,
  );
  expect(toThumbs).toBeGreaterThan(0);
  expect(toThumbs).toBeLessThanOrEqual(0.2 * toStage);
  expect((stage.cam.layerPackets['720p'] ?? 0) - (mixBefore['720p'] ?? 0)).toBeGreaterThan(200);
  for (const t of thumbs) expect(t.bot.layerMix['720p'] ?? 0).toBe(0);

  // The stage viewer pauses: the relay's link to it carries nothing, the origin's to the relay 180p only.
  await stage.bot.channel.request('pauseConsumer', { consumerId: stage.bot.consumerIdOf(camera)! });
  await eventually(async () => {
    expect((await sent(relay, 'edge-us-2')).spatialLayers).toEqual([]);
    expect((await sent('edge-eu-1', relay)).spatialLayers).toEqual([0]);
    expect((await sent(relay, 'edge-us-1')).spatialLayers).toEqual([0]);
  }, 5000);
  const flowing = thumbs[0]!.cam.packets;
  await sleep(1000);
  expect(thumbs[0]!.cam.packets - flowing).toBeGreaterThan(15);

  for (const bot of bots) await bot.close();
  // Nothing is left: no link anywhere (a relay closes its router with its last link), no media object on the edges.
  for (const n of [...mesh.edges, ...mesh.relays]) {
    await eventually(async () => {
      const view = await nodeView(n.operatorUrl, mesh.operatorToken);
      expect(view.links).toEqual([]);
      for (const w of view.workers ?? [])
        expect(w).toEqual(expect.objectContaining({ transports: 0, producers: 0, consumers: 0 }));
    }, 10_000);
  }
}, 120_000);
