import type { Edge } from '@kaskade/edge';
import { takeCensus } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, expectNoMediaObjects, startEdge, token } from '../helpers/edge.ts';

let edge: Edge;

beforeAll(async () => {
  // Two workers with a budget of two consumers each: the third viewer must spill over.
  edge = await startEdge({ KASKADE_WORKERS: '2', KASKADE_WORKER_MAX_CONSUMERS: '2' });
});
afterAll(async () => {
  await edge?.stop();
});

it('spreads a room over a second worker when the first is full, piping streams across', async () => {
  const presenter = await RtpBot.join(edge.url, await token('presenter', 'lecture'));
  const mic = await presenter.publish('microphone');
  const cam = await presenter.publish('camera', { packetsPerSecond: 30 });
  const viewers: RtpBot[] = [];
  const received: Awaited<ReturnType<RtpBot['consume']>>[] = [];
  for (let i = 0; i < 3; i++) {
    const viewer = await RtpBot.join(edge.url, await token(`viewer-${i}`, 'lecture'));
    viewers.push(viewer);
    received.push(await viewer.consume({ producerId: mic }), await viewer.consume({ producerId: cam }));
  }
  const census = await takeCensus(edge.pool.workers);
  expect(census.map((w) => w.routers)).toEqual([1, 1]); // the room has a router on each worker
  expect(census[1]!.consumers).toBeGreaterThan(0);
  await eventually(() => {
    for (const r of received) expect(r.packets).toBeGreaterThan(10);
  });
  for (const v of viewers) await v.close();
  await presenter.close();
  await expectNoMediaObjects(edge);
});
