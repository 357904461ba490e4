import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Edge } from '@kaskade/edge';
import { prepareRecordedMedia, RtpBot } from '@kaskade/load-tools';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, expectNoMediaObjects, startEdge, token } from '../helpers/edge.ts';

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge();
});
afterAll(async () => {
  await edge?.stop();
});

it('a presenter replaying real VP8 simulcast and Opus: viewers get key frames, the audio, and the layer they ask for', async () => {
  const media = prepareRecordedMedia(mkdtempSync(join(tmpdir(), 'kaskade-media-')), 3);
  expect(media.layers.map((l) => l.length)).toEqual([90, 90, 90]);
  expect(media.opus.length).toBeGreaterThan(140);
  const presenter = await RtpBot.join(edge.url, await token('presenter', 'recorded'));
  const { camera, microphone } = await presenter.publishRecorded(media);
  const viewer = await RtpBot.join(edge.url, await token('viewer', 'recorded'));
  const layers: (number | null)[] = [];
  viewer.channel.on('consumerLayersChanged', ({ spatialLayer }) => layers.push(spatialLayer));
  const video = await viewer.consume({ producerId: camera });
  const audio = await viewer.consume({ producerId: microphone! });
  await eventually(() => {
    expect(video.keyframes).toBeGreaterThan(0);
    expect(video.packets).toBeGreaterThan(60);
    expect(audio.packets).toBeGreaterThan(20);
    expect(layers.length).toBeGreaterThan(0); // the edge reports the simulcast layer it forwards
  }, 10_000);
  await viewer.channel.request('setPreferredLayers', {
    consumerId: viewer.consumerIdOf(camera)!,
    spatialLayer: 0,
  });
  await viewer.close();
  await presenter.close();
  await expectNoMediaObjects(edge);
});

it('a viewer joining mid-GOP gets a key frame at once: the request reaches the replaying presenter', async () => {
  // 2 s between the recording's own key frames; the viewer arrives 0.5 s after one.
  const media = prepareRecordedMedia(mkdtempSync(join(tmpdir(), 'kaskade-media-')), 3);
  const presenter = await RtpBot.join(edge.url, await token('presenter', 'recorded-gop'));
  const { camera, sender } = await presenter.publishRecorded(media, { audio: false });
  await new Promise((r) => setTimeout(r, 500));
  const jumpsBefore = sender.keyframeJumps;
  const viewer = await RtpBot.join(edge.url, await token('viewer', 'recorded-gop'));
  const video = await viewer.consume({ producerId: camera });
  // The viewer's key frame request reached the presenter, which answered it, and the viewer
  // got video before the recording's next key frame (1.5 s away) would have come.
  await eventually(
    () => {
      expect(sender.keyframeJumps).toBeGreaterThan(jumpsBefore);
      expect(video.keyframes).toBeGreaterThan(0);
    },
    1200,
    20,
  );
  await viewer.close();
  await presenter.close();
  await expectNoMediaObjects(edge);
});
