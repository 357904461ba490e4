import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { PreferredLayers, ReceivedStream, RtpBot } from '@kaskade/load-tools';
import { joinEdge, prepareRecordedMedia } from '@kaskade/load-tools';
import { type LocalMesh, operatorText } from '@kaskade/local-mesh';
import type { LinkCensus } from '@kaskade/media-node';
import { afterEach, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { nodeView, useMeshPerTest } from '../helpers/mesh.ts';

/**
 * A pipe link carries only the simulcast layers some viewer behind it wants. A
 * recorded presenter in eu sends 180p, 360p and 720p; viewers in us that all show
 * thumbnails (spatial layer 0) get the 180p layer over the link and nothing more; a
 * stage viewer there (layer 2) makes the 720p layer cross, and receives it; when
 * everyone pauses nothing crosses. Bytes are the origin edge's count of what it sent
 * over the link for the camera (its operator census), measured in the same run.
 */

const ROOM = 'link-layers';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const meshes = useMeshPerTest();
const bots: RtpBot[] = [];
let camera: string;
let mesh: LocalMesh;

afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close().catch(() => undefined);
});

const edge = (nodeId: string) => mesh.edges.find((e) => e.nodeId === nodeId)!;

async function viewer(identity: string, preferredLayers: PreferredLayers) {
  const bot = await joinEdge(mesh, 'edge-us-1', identity, ROOM);
  bots.push(bot);
  await eventually(() =>
    expect([...bot.joined.streams.map((s) => s.producerId), ...bot.seen.streamAdded]).toContain(camera),
  );
  const cam = await bot.consume({ producerId: camera }, { preferredLayers });
  return { bot, cam };
}

/** The camera as the origin edge sends it over its link to the us edge. */
async function cameraOverLink(): Promise<LinkCensus['streams'][number]> {
  const links = (await nodeView(edge('edge-eu-1').operatorUrl, mesh.operatorToken)).links;
  const link = links.find((l) => l.room === ROOM && l.remoteNode === 'edge-us-1');
  const stream = link?.streams.find((s) => s.producerId === camera);
  if (!stream) throw new Error(`the camera does not cross the link: ${JSON.stringify(links)}`);
  return stream;
}

/** Bytes of the camera over the link in the next `ms`, and the packets per layer each stream received meanwhile. */
async function over(ms: number, streams: ReceivedStream[]) {
  const before = (await cameraOverLink()).bytesOut;
  const mixes = streams.map((s) => ({ ...s.layerPackets }));
  await sleep(ms);
  const bytes = (await cameraOverLink()).bytesOut - before;
  const received = streams.map((s, i) =>
    Object.fromEntries(
      Object.entries(s.layerPackets)
        .map(([layer, n]) => [layer, n - (mixes[i]![layer] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    ),
  );
  return { bytes, received };
}

async function shapedLayersMetric(): Promise<Record<string, number>> {
  const text = await operatorText(edge('edge-eu-1').operatorUrl, mesh.operatorToken, '/metrics');
  const values: Record<string, number> = {};
  for (const m of text.matchAll(/^kaskade_pipe_shaped_layers\{[^}]*state="(\w+)"[^}]*\} (\S+)$/gm))
    values[m[1]!] = Number(m[2]);
  return values;
}

it('thumbnail viewers get only the low layer over the link (<= 20 % of the bytes a stage viewer makes cross); the stage viewer gets 720p; paused, nothing crosses; nothing is left', async () => {
  mesh = await meshes.start();
  const media = prepareRecordedMedia(mkdtempSync(joinPath(tmpdir(), 'kaskade-media-')), 4);
  const presenter = await joinEdge(mesh, 'edge-eu-1', 'presenter', ROOM, { publish: true, subscribe: true });
  bots.push(presenter);
  camera = (await presenter.publishRecorded(media, { audio: false })).camera;
  const thumbs = [await viewer('thumb-1', { spatialLayer: 0 }), await viewer('thumb-2', { spatialLayer: 0 })];
  await eventually(() => {
    for (const t of thumbs) expect(t.cam.height).toBe(180);
  }, 15_000);
  // A new send carries every layer; the viewers' demand narrows it to layer 0.
  await eventually(async () => expect((await cameraOverLink()).spatialLayers).toEqual([0]), 10_000);
  expect(await shapedLayersMetric()).toEqual({ forwarding: 1, paused: 2 });
  const thumbnails = await over(
    4000,
    thumbs.map((t) => t.cam),
  );
  for (const mix of thumbnails.received) {
    expect(Object.keys(mix)).toEqual(['180p']);
    expect(mix['180p']).toBeGreaterThan(60); // 30 frames/s: it flows
  }

  const stage = await viewer('stage', { spatialLayer: 2 });
  await eventually(() => expect(stage.cam.height).toBe(720), 20_000);
  await eventually(async () => expect((await cameraOverLink()).spatialLayers).toEqual([0, 2]), 10_000);
  const staged = await over(4000, [stage.cam, ...thumbs.map((t) => t.cam)]);
  console.log(
    `camera over the link: thumbnails only ${thumbnails.bytes} B in 4 s, with a stage viewer ${staged.bytes} B (${((100 * thumbnails.bytes) / staged.bytes).toFixed(1)} %)`,
  );
  console.log(`received with a stage viewer: ${JSON.stringify(staged.received)}`);
  expect(thumbnails.bytes).toBeGreaterThan(0);
  expect(thumbnails.bytes).toBeLessThanOrEqual(0.2 * staged.bytes);
  expect(Object.keys(staged.received[0]!)).toEqual(['720p']);
  expect(staged.received[0]!['720p']).toBeGreaterThan(200);
  expect(stage.bot.layerMix['720p']).toBeGreaterThan(200);
  for (const mix of staged.received.slice(1)) expect(Object.keys(mix)).toEqual(['180p']);
  for (const t of thumbs) expect(t.bot.layerMix['720p'] ?? 0).toBe(0);

  // The stage viewer pauses: the 720p layer stops crossing, the thumbnails keep theirs.
  const pause = (v: { bot: RtpBot }) =>
    v.bot.channel.request('pauseConsumer', { consumerId: v.bot.consumerIdOf(camera)! });
  await pause(stage);
  await eventually(async () => expect((await cameraOverLink()).spatialLayers).toEqual([0]), 5000);
  const afterStage = await over(
    2000,
    thumbs.map((t) => t.cam),
  );
  for (const mix of afterStage.received) expect(Object.keys(mix)).toEqual(['180p']);
  expect(afterStage.bytes).toBeLessThanOrEqual(0.2 * (staged.bytes / 2));

  // Everyone pauses: nothing crosses.
  for (const t of thumbs) await pause(t);
  await eventually(async () => expect((await cameraOverLink()).spatialLayers).toEqual([]), 5000);
  await sleep(300); // packets in flight
  const paused = await over(2000, []);
  expect(paused.bytes).toBe(0);
  expect(await shapedLayersMetric()).toEqual({ forwarding: 0, paused: 3 });

  // Everyone leaves: no transport, producer or consumer remains on either edge (loopback pairs included).
  for (const bot of bots.splice(0)) await bot.close();
  for (const nodeId of ['edge-eu-1', 'edge-us-1']) {
    await eventually(async () => {
      const view = await nodeView(edge(nodeId).operatorUrl, mesh.operatorToken);
      expect(view.links).toEqual([]);
      for (const w of view.workers)
        expect(w).toEqual(expect.objectContaining({ transports: 0, producers: 0, consumers: 0 }));
    }, 10_000);
  }
}, 120_000);
