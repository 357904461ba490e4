// Dashboard previews, one command:
//   node deploy/grafana/preview.ts [--seconds 90] [--out deploy/grafana/previews]
// Brings up a local mesh (two regions, two edges and a relay each) and a Prometheus
// scraping it, runs a lecture (a presenter replaying VP8 simulcast and Opus, viewers in
// both regions, some leaving and joining all along) and a small meeting, then draws every
// dashboard from Prometheus' range data as Grafana would lay it out, to PNG.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { joinThroughControlPlane, type Placed, prepareRecordedMedia } from '@kaskade/load-tools';
import { scrapeTargets, startLocalMesh, startPrometheus } from '@kaskade/local-mesh';
import { dashboards, resolveVariables } from './dashboards.ts';
import { type Line, renderDashboard } from './render.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '90' },
    out: { type: 'string', default: fileURLToPath(new URL('previews', import.meta.url)) },
  },
});
const SECONDS = Number(args.seconds);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const media = prepareRecordedMedia(join(tmpdir(), 'kaskade-recorded-media'), 10);
const mesh = await startLocalMesh({
  relaysPerRegion: 1,
  edgeEnv: {
    KASKADE_ALLOW_PLAIN_RTP: 'true',
    KASKADE_NODE_CAPACITY: '12',
    KASKADE_STATS_INTERVAL_MS: '2000',
    KASKADE_LOG_LEVEL: 'warn',
  },
  controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
});
const prometheus = await startPrometheus({
  targets: scrapeTargets(mesh),
  operatorToken: mesh.operatorToken,
  ruleFiles: [fileURLToPath(new URL('../prometheus/alerts.yml', import.meta.url))],
  scrapeIntervalSeconds: 2,
});
const bots: Placed[] = [];
const join_ = async (identity: string, room: string, region: string) => {
  const placed = await joinThroughControlPlane(mesh.controlPlane.url, mesh.appJwtSecret, identity, room, {
    region,
  });
  bots.push(placed);
  return placed;
};
try {
  const started = Date.now() / 1000;
  const presenter = await join_('presenter', 'lecture', 'eu');
  const { camera, microphone } = await presenter.bot.publishRecorded(media);
  const watch = async (identity: string, region: string) => {
    const viewer = await join_(identity, 'lecture', region);
    await viewer.bot.consume({ producerId: camera });
    if (microphone) await viewer.bot.consume({ producerId: microphone });
    return viewer;
  };
  const viewers: Placed[] = [];
  for (let i = 0; i < 30; i++) viewers.push(await watch(`viewer-${i}`, i % 3 ? 'us' : 'eu'));
  // A small meeting beside the lecture, everyone publishing a microphone; one member
  // leaves and comes back every 10 s, so streams are piped anew between the regions.
  const meeting = new Map<string, { placed: Placed; mic: string }>();
  const meet = async (name: string, region: string) => {
    const placed = await join_(name, 'standup', region);
    const mic = await placed.bot.publish('microphone');
    for (const [other, member] of meeting) {
      if (other === name) continue;
      await placed.bot.consume({ producerId: member.mic });
      await member.placed.bot.consume({ producerId: mic });
    }
    meeting.set(name, { placed, mic });
  };
  await meet('ada', 'eu');
  await meet('grace', 'us');
  await meet('linus', 'us');
  // Churn: every 5 s two viewers leave and two others join.
  let next = 30;
  for (let round = 1; Date.now() / 1000 - started < SECONDS; round++) {
    await sleep(5000);
    for (const leaving of viewers.splice(0, 2)) await leaving.bot.close();
    for (let k = 0; k < 2; k++, next++) viewers.push(await watch(`viewer-${next}`, next % 3 ? 'us' : 'eu'));
    if (round % 2 === 0) {
      await meeting.get('grace')?.placed.bot.close();
      meeting.delete('grace');
      await meet('grace', 'us');
    }
  }
  const ended = Date.now() / 1000;
  mkdirSync(args.out, { recursive: true });
  for (const dashboard of dashboards) {
    const data: Line[][] = [];
    for (const panel of dashboard.rows.flatMap((r) => r.panels)) {
      const lines: Line[] = [];
      for (const { expr, legend } of panel.queries) {
        const url = new URL(`${prometheus.url}/api/v1/query_range`);
        url.searchParams.set('query', resolveVariables(expr, '10s'));
        url.searchParams.set('start', String(started));
        url.searchParams.set('end', String(ended));
        url.searchParams.set('step', '2');
        const answer = (await (await fetch(url)).json()) as {
          data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
        };
        for (const r of answer.data.result) {
          lines.push({
            legend: legend.replace(/\{\{(\w+)\}\}/g, (_, l: string) => r.metric[l] ?? ''),
            points: r.values.map(([t, v]) => [t, Number(v)]),
          });
        }
      }
      data.push(lines);
    }
    const file = join(args.out, `${dashboard.uid}.png`);
    const subtitle = `local mesh, 2 regions x 2 edges + relays, lecture of 1 presenter and 30 viewers with churn, ${SECONDS} s`;
    writeFileSync(file, renderDashboard(dashboard, data, subtitle));
    console.log(`wrote ${file}`);
  }
} finally {
  for (const { bot } of bots) await bot.close().catch(() => undefined);
  await prometheus.stop();
  await mesh.stop();
}
