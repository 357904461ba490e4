import type { RtpBot, StreamSender } from '@kaskade/load-tools';
import { joinEdge } from '@kaskade/load-tools';
import { type LocalMesh, startLocalMesh } from '@kaskade/local-mesh';
import { afterEach, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV } from '../helpers/mesh.ts';

/**
 * A join storm: a publisher on an edge of region eu, VIEWERS viewers joining at once on
 * the edges of us (over a pipe) and eu. Every new consumer asks for a key frame; with
 * KASKADE_KEYFRAME_REQUEST_DELAY_MS each hop (the pipe copies, the publisher's producer)
 * sends them upstream as one per window, so what reaches the publisher's socket per
 * second stays bounded. Measured without the delay too: the bound is the delay's doing.
 * The viewers come in WAVES, one every WAVE_GAP_MS: mediasoup itself merges the requests
 * that arrive while a key frame is on its way, so a storm packed into one round trip
 * would reach the publisher as one request even without the delay, and prove nothing.
 */

const VIEWERS = 100;
const WAVES = 10;
const WAVE_GAP_MS = 200;
const ROOM = 'keyframe-storm';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let mesh: LocalMesh | undefined;
const bots: RtpBot[] = [];
afterEach(async () => {
  for (const bot of bots.splice(0)) await bot.close().catch(() => undefined);
  await mesh?.stop();
  mesh = undefined;
});

/** Key-frame requests that reached the publisher in each second of the storm. */
async function storm(delayMs: number): Promise<{ perSecond: number[]; keyframesSent: number }> {
  mesh = await startLocalMesh({
    edgeEnv: { ...FAST_MESH_ENV, KASKADE_KEYFRAME_REQUEST_DELAY_MS: String(delayMs) },
    controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
  });
  const started = mesh;
  const [origin, ...others] = started.edges.filter((e) => e.region === 'eu');
  const viewerEdges = [...started.edges.filter((e) => e.region === 'us'), ...others];
  const publisher = await joinEdge(started, origin!.nodeId, 'presenter', ROOM, {
    publish: true,
    subscribe: true,
  });
  bots.push(publisher);
  // Key frames only when asked: every viewer's first picture depends on a request getting through.
  const camera = await publisher.publish('camera', { keyframes: 'on-request' });
  const sender = publisher.senders.get(camera) as StreamSender;
  // The pipes to the other edges exist before the storm (one viewer each), so the storm
  // measures the viewers' requests, not the links' first ones.
  for (const [i, edge] of viewerEdges.entries()) {
    const bot = await joinEdge(started, edge.nodeId, `warm-${i}`, ROOM);
    bots.push(bot);
    const warm = await bot.consume({ producerId: camera });
    await eventually(() => expect(warm.keyframes).toBeGreaterThan(0), 10_000);
  }
  await sleep(2500); // every delay window of the warm-up has passed
  const perSecond: number[] = [];
  let last = sender.keyframeRequests;
  const sampler = setInterval(() => {
    perSecond.push(sender.keyframeRequests - last);
    last = sender.keyframeRequests;
  }, 1000);
  const keyframesBefore = sender.keyframesSent;
  try {
    const viewers = await Promise.all(
      Array.from({ length: VIEWERS }, async (_, i) => {
        await sleep((i % WAVES) * WAVE_GAP_MS);
        const edge = viewerEdges[i % viewerEdges.length]!;
        const bot = await joinEdge(started, edge.nodeId, `viewer-${i}`, ROOM);
        bots.push(bot);
        return bot.consume({ producerId: camera });
      }),
    );
    // Coalesced, not dropped: every viewer gets its first key frame.
    await eventually(() => {
      for (const v of viewers) expect(v.keyframes).toBeGreaterThan(0);
    }, 30_000);
    await sleep(2000); // the last delay windows run out
  } finally {
    clearInterval(sampler);
  }
  return { perSecond, keyframesSent: sender.keyframesSent - keyframesBefore };
}

it(`${VIEWERS} viewers joining within two seconds over two regions reach the publisher as a bounded number of key-frame requests per second`, async () => {
  const coalesced = await storm(1000);
  const { perSecond, keyframesSent } = coalesced;
  const max = Math.max(...perSecond);
  const total = perSecond.reduce((a, b) => a + b, 0);
  console.log(
    `key-frame requests at the publisher, delay 1000 ms: max ${max}/s, mean ${(total / perSecond.length).toFixed(2)}/s over ${perSecond.length} s (${total} in all, ${keyframesSent} key frames sent): ${perSecond.join(' ')}`,
  );
  // The publisher's producer forwards a request, then at most one per delay window (1 s):
  // requests come >= 1 s apart, so no one-second sample holds more than two (the target).
  expect(max).toBeLessThanOrEqual(2);
}, 180_000);

it('without the delay the same storm reaches the publisher as many more requests', async () => {
  const { perSecond, keyframesSent } = await storm(0);
  const max = Math.max(...perSecond);
  const total = perSecond.reduce((a, b) => a + b, 0);
  console.log(
    `key-frame requests at the publisher, no delay: max ${max}/s, mean ${(total / perSecond.length).toFixed(2)}/s over ${perSecond.length} s (${total} in all, ${keyframesSent} key frames sent): ${perSecond.join(' ')}`,
  );
  // What the bound above rests on: without coalescing it does not hold.
  expect(max).toBeGreaterThan(2);
}, 180_000);
