import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { PreferredLayers, ReceivedStream, RtpBot } from '@kaskade/load-tools';
import { joinEdge, prepareRecordedMedia } from '@kaskade/load-tools';
import { type LocalMesh, operatorText, startLocalMesh } from '@kaskade/local-mesh';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV } from '../helpers/mesh.ts';

/**
 * Bots receive the simulcast layer they ask for, as a browser viewer does: a recorded
 * presenter sends 180p, 360p and 720p; viewers on its edge and on another region's
 * (over a pipe) that prefer the top layer get 720p, one that prefers the lowest gets
 * 180p only. The layer is told from the key frames that arrive (their picture height).
 * Their receiver reports reach mediasoup: it measures their consumers' round trips by them.
 */

const ROOM = 'viewer-layers';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let mesh: LocalMesh;
const bots: RtpBot[] = [];
let camera: string;

beforeAll(async () => {
  const media = prepareRecordedMedia(mkdtempSync(joinPath(tmpdir(), 'kaskade-media-')), 4);
  mesh = await startLocalMesh({
    edgesPerRegion: 1,
    // Stats sampled often, so the round-trip times the bots' receiver reports give show soon.
    edgeEnv: { ...FAST_MESH_ENV, KASKADE_STATS_INTERVAL_MS: '500' },
    controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
  });
  const presenter = await joinEdge(mesh, 'edge-eu-1', 'presenter', ROOM, { publish: true, subscribe: true });
  bots.push(presenter);
  camera = (await presenter.publishRecorded(media, { audio: false })).camera;
}, 90_000);

afterAll(async () => {
  for (const bot of bots) await bot.close().catch(() => undefined);
  await mesh?.stop();
});

async function viewer(nodeId: string, identity: string, preferredLayers?: PreferredLayers) {
  const bot = await joinEdge(mesh, nodeId, identity, ROOM);
  bots.push(bot);
  await eventually(() =>
    expect([...bot.joined.streams.map((s) => s.producerId), ...bot.seen.streamAdded]).toContain(camera),
  );
  const cam = await bot.consume({ producerId: camera }, preferredLayers ? { preferredLayers } : {});
  return { identity, bot, cam };
}

/** Packets per layer over the next `ms`. */
async function mixOver(streams: ReceivedStream[], ms: number): Promise<Record<string, number>[]> {
  const before = streams.map((s) => ({ ...s.layerPackets }));
  await sleep(ms);
  return streams.map((s, i) =>
    Object.fromEntries(
      Object.entries(s.layerPackets)
        .map(([layer, n]) => [layer, n - (before[i]![layer] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    ),
  );
}

it('viewers that ask for the top layer receive 720p, on the publisher edge and across a region; one that asks for the lowest receives 180p only', async () => {
  const top = { spatialLayer: 2 };
  const viewers = [
    await viewer('edge-eu-1', 'top-same-edge', top),
    await viewer('edge-us-1', 'top-other-region', top),
    await viewer('edge-us-1', 'default-other-region'),
    await viewer('edge-us-1', 'low-other-region', { spatialLayer: 0 }),
  ];
  const [sameEdge, far, unasked, low] = viewers;
  // Layers settle (a pipe's copy needs its sender reports before it may switch up).
  await eventually(() => {
    expect(sameEdge!.cam.height).toBe(720);
    expect(far!.cam.height).toBe(720);
    expect(low!.cam.height).toBe(180);
    // Without a preference the edge starts it on the lowest, then restores the best (the SDK's default).
    expect(unasked!.cam.height).toBe(720);
  }, 20_000);
  const mixes = await mixOver(
    viewers.map((v) => v.cam),
    5000,
  );
  for (const [i, v] of viewers.entries()) console.log(`${v.identity}: ${JSON.stringify(mixes[i])}`);
  expect(Object.keys(mixes[0]!)).toEqual(['720p']);
  expect(Object.keys(mixes[1]!)).toEqual(['720p']);
  expect(Object.keys(mixes[3]!)).toEqual(['180p']);
  expect(mixes[3]!['180p']).toBeGreaterThan(100); // 30 frames/s for 5 s: it flows, not just exists
  expect(unasked!.cam.height).toBe(720);
  // The per-bot mix the benchmarks print covers every stream the bot counts.
  expect(low!.bot.layerMix['720p'] ?? 0).toBe(0);
  // mediasoup computes a consumer's round-trip time only from its receiver's RTCP RR (LSR/DLSR).
  const usEdge = mesh.edges.find((e) => e.nodeId === 'edge-us-1')!;
  await eventually(async () => {
    const metrics = await operatorText(usEdge.operatorUrl, mesh.operatorToken, '/metrics');
    const rtts = /kaskade_rtt_seconds_count\{[^}]*transport="plain"[^}]*\} (\d+)/.exec(metrics);
    expect(Number(rtts?.[1] ?? 0)).toBeGreaterThan(0);
  }, 10_000);
}, 90_000);
