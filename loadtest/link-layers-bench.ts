// The link-layers benchmark, one command:
//   node loadtest/link-layers-bench.ts [--viewers 10] [--seconds 15] [--out loadtest/reports]
// A recorded presenter (VP8 simulcast 180p/360p/720p, no audio) on edge-eu-1; viewers on
// edge-us-1, across one pipe link. Phases, each measured for --seconds: every viewer
// shows a thumbnail (spatial layer 0); the same plus one stage viewer (layer 2); all
// paused. Per phase: the origin edge's CPU (its process and mediasoup worker), the bytes
// it sent over the link (transport total, and the camera's own where the census names
// streams) and what the viewers received per layer. Prints the figures and writes
// report.json and report.md to --out/link-layers-<date>/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ReceivedStream, RtpBot } from '@kaskade/load-tools';
import { cpuSeconds, joinEdge, layerMix, prepareRecordedMedia, processTree } from '@kaskade/load-tools';
import { operatorJson, startLocalMesh } from '@kaskade/local-mesh';

const { values: args } = parseArgs({
  options: {
    viewers: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '15' },
    out: { type: 'string', default: 'loadtest/reports' },
  },
});
const VIEWERS = Number(args.viewers);
const SECONDS = Number(args.seconds);
const ROOM = 'link-layers-bench';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface LinkView {
  room: string;
  remoteNode: string;
  bytesOut: number;
  /** Absent before layer shaping existed. */
  streams?: { producerId: string; bytesOut: number; spatialLayers: number[] | null }[];
}

interface PhaseResult {
  label: string;
  originCpuPercent: number;
  /** The edge the viewers are on (it receives the link). */
  receivingCpuPercent: number;
  linkKbps: number;
  cameraKbps: number | null;
  spatialLayers: number[] | null;
  /** Video packets per layer received by the thumbnail viewers and by the stage viewer, over the window. */
  thumbnailMix: Record<string, number>;
  stageMix: Record<string, number>;
}

const media = prepareRecordedMedia(join(tmpdir(), 'kaskade-recorded-media'), 10);
const mesh = await startLocalMesh({
  edgesPerRegion: 1,
  edgeEnv: { KASKADE_ALLOW_PLAIN_RTP: 'true', KASKADE_LOG_LEVEL: 'warn', KASKADE_PIPE_LINGER_MS: '300' },
  controlPlaneEnv: { KASKADE_LOG_LEVEL: 'warn' },
});
const bots: RtpBot[] = [];
const phases: PhaseResult[] = [];
try {
  const origin = mesh.edges.find((e) => e.nodeId === 'edge-eu-1')!;
  const presenter = await joinEdge(mesh, origin.nodeId, 'presenter', ROOM, {
    publish: true,
    subscribe: true,
  });
  bots.push(presenter);
  const { camera } = await presenter.publishRecorded(media, { audio: false });
  const link = async (): Promise<LinkView | undefined> =>
    (
      await operatorJson<{ links: LinkView[] }>(origin.operatorUrl, mesh.operatorToken, '/v1/node')
    ).links.find((l) => l.room === ROOM && l.remoteNode === 'edge-us-1');
  const viewer = async (identity: string, spatialLayer: number) => {
    const bot = await joinEdge(mesh, 'edge-us-1', identity, ROOM);
    bots.push(bot);
    for (let i = 0; i < 50 && !bot.seen.streamAdded.includes(camera); i++) {
      if (bot.joined.streams.some((s) => s.producerId === camera)) break;
      await sleep(100);
    }
    const cam = await bot.consume({ producerId: camera }, { preferredLayers: { spatialLayer } });
    return { bot, cam };
  };
  const pids = processTree(origin.child.pid!);
  const receiving = processTree(mesh.edges.find((e) => e.nodeId === 'edge-us-1')!.child.pid!);
  const measure = async (label: string, thumbs: ReceivedStream[], stage: ReceivedStream[]) => {
    await sleep(4000); // demand and layers settle
    const mix0 = [layerMix(thumbs), layerMix(stage)];
    const l0 = await link();
    const cpu0 = cpuSeconds(pids);
    const rcpu0 = cpuSeconds(receiving);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const cpu = cpuSeconds(pids) - cpu0;
    const rcpu = cpuSeconds(receiving) - rcpu0;
    const l1 = await link();
    const seconds = (performance.now() - t0) / 1000;
    const diff = (after: Record<string, number>, before: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(after)
          .map(([k, n]) => [k, n - (before[k] ?? 0)] as const)
          .filter(([, n]) => n > 0),
      );
    const cam = (l?: LinkView) => l?.streams?.find((s) => s.producerId === camera);
    const result: PhaseResult = {
      label,
      originCpuPercent: (100 * cpu) / seconds,
      receivingCpuPercent: (100 * rcpu) / seconds,
      linkKbps: (((l1?.bytesOut ?? 0) - (l0?.bytesOut ?? 0)) * 8) / seconds / 1000,
      cameraKbps: cam(l1)
        ? (((cam(l1)?.bytesOut ?? 0) - (cam(l0)?.bytesOut ?? 0)) * 8) / seconds / 1000
        : null,
      spatialLayers: cam(l1)?.spatialLayers ?? null,
      thumbnailMix: diff(layerMix(thumbs), mix0[0]!),
      stageMix: diff(layerMix(stage), mix0[1]!),
    };
    phases.push(result);
    console.log(JSON.stringify(result));
  };

  const thumbs = await Promise.all(Array.from({ length: VIEWERS }, (_, i) => viewer(`thumb-${i}`, 0)));
  await measure(
    'thumbnails',
    thumbs.map((t) => t.cam),
    [],
  );
  const stage = await viewer('stage', 2);
  await measure(
    'thumbnails + stage',
    thumbs.map((t) => t.cam),
    [stage.cam],
  );
  for (const v of [...thumbs, stage])
    await v.bot.channel.request('pauseConsumer', { consumerId: v.bot.consumerIdOf(camera)! });
  await measure('all paused', [], []);
} finally {
  for (const bot of bots) await bot.close().catch(() => undefined);
  await mesh.stop();
}

const date = new Date().toISOString();
const dir = join(args.out, `link-layers-${date.replace(/[:.]/g, '-')}`);
mkdirSync(dir, { recursive: true });
const report = { date, config: { viewers: VIEWERS, seconds: SECONDS }, phases };
writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
const mixText = (mix: Record<string, number>) =>
  Object.entries(mix)
    .sort()
    .map(([layer, n]) => `${layer} ${n}`)
    .join(', ') || '-';
const markdown = `# Link layers benchmark, ${date}

A recorded presenter on edge-eu-1 (VP8 simulcast 180p at 150 kb/s, 360p at 500 kb/s, 720p at 1.2 Mb/s, 30 frames/s, no audio); ${VIEWERS} thumbnail viewers (spatial layer 0) on edge-us-1, then one stage viewer (layer 2) too, then all paused; ${SECONDS} s measured per phase. All processes on this machine.

| phase | origin edge CPU % | receiving edge CPU % | link kb/s (transport) | camera kb/s over the link | layers crossing | thumbnail viewers received | stage viewer received |
|---|---|---|---|---|---|---|---|
${phases
  .map(
    (p) =>
      `| ${p.label} | ${p.originCpuPercent.toFixed(1)} | ${p.receivingCpuPercent.toFixed(1)} | ${p.linkKbps.toFixed(0)} | ${p.cameraKbps?.toFixed(0) ?? 'n/a'} | ${p.spatialLayers?.join(', ') ?? 'n/a'} | ${mixText(p.thumbnailMix)} | ${mixText(p.stageMix)} |`,
  )
  .join('\n')}
`;
writeFileSync(join(dir, 'report.md'), markdown);
console.log(markdown);
console.log(`written to ${dir}`);
