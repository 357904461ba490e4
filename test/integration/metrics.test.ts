import type { Edge } from '@kaskade/edge';
import { RtpBot } from '@kaskade/load-tools';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startEdge, TEST_OPERATOR_TOKEN, token } from '../helpers/edge.ts';
import { metricValue, scrapeLines } from '../helpers/metrics.ts';

let edge: Edge;
beforeAll(async () => {
  edge = await startEdge({
    KASKADE_NODE_ID: 'metrics-edge',
    KASKADE_WORKERS: '2',
    KASKADE_STATS_INTERVAL_MS: '250',
  });
});
afterAll(async () => {
  await edge?.stop();
});

async function scrape(): Promise<string[]> {
  const lines = await scrapeLines(edge.operatorUrl, TEST_OPERATOR_TOKEN);
  // Kaskade's own series (the Node.js defaults grow by themselves, e.g. GC kinds).
  return lines.filter((l) => l.startsWith('kaskade_') && !/^kaskade_(nodejs|process)_/.test(l));
}

it('metrics stay low-cardinality: 100 participants joining and leaving 5 rooms add no series', async () => {
  const before = await scrape();
  expect(before.some((l) => l.startsWith('kaskade_worker_consumers{'))).toBe(true);
  expect(before.every((l) => l.includes('node="metrics-edge"'))).toBe(true);

  const bots: RtpBot[] = [];
  for (let i = 0; i < 100; i++) {
    const bot = await RtpBot.join(edge.url, await token(`p${i}`, `room-${i % 5}`));
    if (i % 10 === 0) await bot.publish('microphone');
    bots.push(bot);
  }
  // The sampling loop turns the publishers' media into bytes, scores, CPU and first-media times.
  await eventually(async () => {
    const lines = await scrape();
    expect(
      metricValue(lines, 'kaskade_transport_bytes_total', { direction: 'in', transport: 'plain' }),
    ).toBeGreaterThan(0);
    expect(metricValue(lines, 'kaskade_producer_score_count', { transport: 'plain' })).toBeGreaterThan(0);
    expect(metricValue(lines, 'kaskade_join_seconds_count', { stage: 'first_media' })).toBe(10);
    expect(metricValue(lines, 'kaskade_bitrate_bps', { direction: 'in' })).toBeGreaterThan(0);
    expect(metricValue(lines, 'kaskade_node_load_ratio')).toBeGreaterThan(0);
  });
  const during = await scrape();
  expect(during.find((l) => l.startsWith('kaskade_participants'))).toMatch(/ 100$/);
  expect(during.find((l) => l.startsWith('kaskade_rooms'))).toMatch(/ 5$/);
  expect(during.find((l) => l.startsWith('kaskade_joins_total{'))).toMatch(/result="ok".* 100$/);
  for (const bot of bots) await bot.close();
  await eventually(async () =>
    expect((await scrape()).find((l) => l.startsWith('kaskade_participants'))).toMatch(/ 0$/),
  );

  const after = await scrape();
  const names = (lines: string[]) => lines.map((l) => l.slice(0, l.lastIndexOf(' '))).sort();
  expect(names(during)).toEqual(names(before));
  expect(names(after)).toEqual(names(before));
  for (const line of after) expect(line).not.toMatch(/room-\d|p\d+"/);
});
