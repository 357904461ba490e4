import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { ReceivedStream, RtpBot } from '@kaskade/load-tools';
import { GapMeter, joinEdge, prepareRecordedMedia } from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';

/**
 * Make-before-break with a simulcast presenter (the recorded VP8 in three layers, key
 * frames when asked): viewers on a us edge move from the direct copy to one over the
 * us relay when a second us edge takes the room. Their VIDEO must not stop once they
 * switched to the new consumer (its layers settle, and the key frame that needs must come at once).
 */

const ROOM = 'mbb-simulcast';
const GAP_BOUND_MS = 250;
const VIEWERS = 3;
const FAST = {
  KASKADE_ALLOW_PLAIN_RTP: 'true',
  KASKADE_HEARTBEAT_MS: '300',
  KASKADE_RESYNC_MS: '1000',
  KASKADE_PIPE_LINGER_MS: '300',
  KASKADE_PIPE_SUPERSEDED_MS: '3000',
  KASKADE_ROOM_EMPTY_GRACE_MS: '300',
  KASKADE_SHUTDOWN_TIMEOUT_MS: '10000',
  KASKADE_LOG_LEVEL: 'warn',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let mesh: LocalMesh;
const logLines: string[] = [];
const bots: RtpBot[] = [];
let camera: string;
const viewers: { bot: RtpBot; cam: ReceivedStream; at: number[] }[] = [];
const meter = new GapMeter();
const requests: number[] = [];

async function join(nodeId: string, identity: string, grants = { publish: false, subscribe: true }) {
  const bot = await joinEdge(mesh, nodeId, identity, ROOM, grants);
  bots.push(bot);
  return bot;
}

beforeAll(async () => {
  const media = prepareRecordedMedia(mkdtempSync(joinPath(tmpdir(), 'kaskade-media-')), 4);
  mesh = await startLocalMesh({
    relaysPerRegion: 1,
    edgeEnv: FAST,
    controlPlaneEnv: { KASKADE_NODE_TIMEOUT_MS: '1500', KASKADE_LOG_LEVEL: 'warn' },
    log: (source, line) => logLines.push(`${Date.now()} ${source} ${line}`),
  });
  const presenter = await join('edge-eu-1', 'presenter', { publish: true, subscribe: true });
  const published = await presenter.publishRecorded(media, { audio: false });
  camera = published.camera;
  const onRtcp = published.sender.onRtcp.bind(published.sender);
  published.sender.onRtcp = (packet) => {
    const before = published.sender.keyframeJumps;
    onRtcp(packet);
    if (published.sender.keyframeJumps > before) requests.push(Date.now());
  };
  for (let i = 0; i < VIEWERS; i++) {
    const bot = await join('edge-us-1', `viewer-${i}`);
    await eventually(() =>
      expect([...bot.joined.streams.map((s) => s.producerId), ...bot.seen.streamAdded]).toContain(camera),
    );
    const cam = await bot.consume({ producerId: camera });
    const track = meter.track(`viewer-${i}`);
    const at: number[] = [];
    cam.onPacket = (t) => {
      track.packet(t);
      at.push(Date.now());
    };
    viewers.push({ bot, cam, at });
  }
  await eventually(() => {
    for (const v of viewers) expect(v.cam.packets).toBeGreaterThan(50);
  }, 10_000);
}, 90_000);

afterAll(async () => {
  if (process.env.MBB_LOG) (await import('node:fs')).writeFileSync(process.env.MBB_LOG, logLines.join('\n'));
  for (const bot of bots) await bot.close().catch(() => undefined);
  await mesh?.stop();
});

describe('make-before-break with a simulcast presenter', () => {
  it('viewers of a remote edge keep their video through a move onto the relay', async () => {
    for (const [what, step] of [
      [
        'onto the relay',
        async () => {
          const second = await join('edge-us-2', 'second-edge-viewer');
          await eventually(() =>
            expect(second.seen.streamAdded.length + second.joined.streams.length).toBeGreaterThan(0),
          );
          await second.consume({ producerId: camera });
          return second;
        },
      ],
    ] as const) {
      const start = Date.now();
      const before = viewers.map((v) => v.bot.consumerIdOf(camera));
      meter.window(performance.now());
      await step();
      await eventually(() => {
        for (const [i, v] of viewers.entries()) expect(v.bot.consumerIdOf(camera)).not.toBe(before[i]);
      }, 10_000);
      // The new consumers' layers settle within a few seconds (sender reports, scores).
      await sleep(6000);
      const gaps = meter.read(performance.now());
      const timeline = viewers.map((v) => {
        const out: string[] = [];
        for (let k = 1; k < v.at.length; k++)
          if (v.at[k]! >= start && v.at[k]! - v.at[k - 1]! > 100)
            out.push(`${v.at[k - 1]! - start}+${v.at[k]! - v.at[k - 1]!}`);
        return out.join(',');
      });
      console.log(
        `${what}: start ${start} max gap per viewer (ms) ${JSON.stringify(gaps.map((g) => Math.round(g.maxGapMs)))} gaps ${JSON.stringify(timeline)} key frame requests at ${JSON.stringify(requests.filter((r) => r >= start).map((r) => r - start))}`,
      );
      for (const g of gaps) expect(g.maxGapMs, `${g.viewer} ${what}`).toBeLessThan(GAP_BOUND_MS);
    }
  }, 60_000);
});
