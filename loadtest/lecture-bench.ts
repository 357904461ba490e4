// The lecture benchmark, one command:
//   node loadtest/lecture-bench.ts [--regions 2] [--edges 2] [--relays 1] [--viewers 200] [--seconds 20]
// A stage publisher (stamped Opus at 50 pps + synthetic VP8 at 30 fps) and plain-RTP
// viewers joining through the control plane in a ramp; then the same lecture on one edge.
// Prints the figures and writes report.json, report.md and PNG charts to loadtest/reports/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ReceivedStream } from '@kaskade/load-tools';
import {
  barChart,
  cpuSeconds,
  joinThroughControlPlane,
  type Placed,
  percentile,
  prepareRecordedMedia,
  processTree,
  recordText,
  udpPacketsPerSecond,
} from '@kaskade/load-tools';
import { type LocalMesh, operatorJson, startLocalMesh } from '@kaskade/local-mesh';

const { values: args } = parseArgs({
  options: {
    regions: { type: 'string', default: '2' },
    edges: { type: 'string', default: '2' },
    relays: { type: 'string', default: '1' },
    viewers: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    out: { type: 'string', default: 'loadtest/reports' },
  },
});
const REGIONS = Number(args.regions);
const VIEWERS = Number(args.viewers);
const SECONDS = Number(args.seconds);
const regionNames = ['eu', 'us', 'ap', 'sa'].slice(0, REGIONS);

interface Viewer extends Placed {
  region: string;
  joinStarted: number;
  audio: ReceivedStream;
  video: ReceivedStream;
}

interface PhaseResult {
  label: string;
  viewers: number;
  cpuSeconds: number;
  cpuPerViewerMinute: number;
  viewersPerCore: number;
  lossPercent: { p50: number; max: number; mean: number };
  completeViewers: number;
  joinToFirstPacketMs: { p50: number; p95: number };
  latencyMs: Record<string, { p50: number; p99: number; samples: number }>;
  regionInboundBytes: Record<string, { bytes: number; viewers: number }>;
  /** Viewers per node, as placement put them. */
  placement: Record<string, number>;
  /** Video packets received per simulcast layer over the measured window, all viewers. */
  layerMix: Record<string, number>;
  /** Viewers by the layer most of their video came in over the window. */
  viewersByLayer: Record<string, number>;
}

async function runPhase(label: string, mesh: LocalMesh): Promise<PhaseResult> {
  const room = `bench-${label}`;
  const cp = mesh.controlPlane.url;
  const presenter = await joinThroughControlPlane(cp, mesh.appJwtSecret, 'lecturer', room, {
    region: mesh.regions[0],
  });
  const mic = await presenter.bot.publish('microphone', { packetsPerSecond: 50, stamp: true });
  const { camera: cam, sender: camSender } = await presenter.bot.publishRecorded(media, { audio: false });
  const viewers: Viewer[] = [];
  // The join ramp: 20 viewers every 250 ms, each joining, consuming both streams.
  for (let wave = 0; wave * 20 < VIEWERS; wave++) {
    const started = performance.now();
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, VIEWERS - wave * 20) }, async (_, i) => {
        const region = mesh.regions[(wave * 20 + i) % mesh.regions.length]!;
        const joinStarted = performance.now();
        const placed = await joinThroughControlPlane(cp, mesh.appJwtSecret, `v${wave}-${i}`, room, {
          region,
          grants: { publish: false, subscribe: true },
        });
        const audio = await placed.bot.consume({ producerId: mic });
        audio.delaysUs = [];
        // Every viewer asks for the top layer, so every run measures the same load.
        const video = await placed.bot.consume({ producerId: cam }, { preferredLayers: { spatialLayer: 2 } });
        return { ...placed, region, joinStarted, audio, video };
      }),
    );
    viewers.push(...batch);
    await new Promise((r) => setTimeout(r, Math.max(0, 250 - (performance.now() - started))));
  }
  await new Promise((r) => setTimeout(r, 3000)); // let the tree settle
  const nodes = [...mesh.edges, ...mesh.relays];
  const pids = nodes.flatMap((n) => processTree(n.child.pid!));
  const regionOf = new Map(nodes.map((n) => [n.nodeId, n.region]));
  const inbound = async () => {
    const byRegion: Record<string, number> = {};
    for (const node of nodes) {
      const { links } = await operatorJson<{ links: { remoteNode: string; bytesIn: number }[] }>(
        node.operatorUrl,
        mesh.operatorToken,
        '/v1/node',
      );
      for (const l of links) {
        if (regionOf.get(l.remoteNode) !== node.region)
          byRegion[node.region] = (byRegion[node.region] ?? 0) + l.bytesIn;
      }
    }
    return byRegion;
  };
  for (const v of viewers) v.audio.delaysUs = [];
  const senders = [presenter.bot.senders.get(mic)!, camSender];
  // Loss from each viewer's own sequence numbers: it gets one simulcast layer of three.
  const got0 = viewers.map((v) => [v.audio.packets, v.video.packets, v.audio.expected, v.video.expected]);
  const layers0 = viewers.map((v) => ({ ...v.video.layerPackets }));
  const cpu0 = cpuSeconds(pids);
  const in0 = await inbound();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = cpuSeconds(pids) - cpu0;
  const in1 = await inbound();
  for (const s of senders) s.stop();
  await new Promise((r) => setTimeout(r, 500));
  const losses = viewers.map((v, i) => {
    const [a0, v0, ea0, ev0] = got0[i]!;
    const loss = (got: number, expected: number) => (expected > 0 ? Math.max(0, 1 - got / expected) : 1);
    return (
      Math.max(
        loss(v.audio.packets - a0!, v.audio.expected - ea0!),
        loss(v.video.packets - v0!, v.video.expected - ev0!),
      ) * 100
    );
  });
  const hopsOf = (v: Viewer) =>
    v.nodeId === presenter.nodeId
      ? '1 SFU (same edge)'
      : v.region === mesh.regions[0]
        ? '2 SFUs (edge, edge)'
        : 'other region';
  const latencyMs: PhaseResult['latencyMs'] = {};
  for (const path of new Set(viewers.map(hopsOf))) {
    const samples = viewers.filter((v) => hopsOf(v) === path).flatMap((v) => v.audio.delaysUs ?? []);
    latencyMs[path] = {
      p50: percentile(samples, 50) / 1000,
      p99: percentile(samples, 99) / 1000,
      samples: samples.length,
    };
  }
  const regionInboundBytes: PhaseResult['regionInboundBytes'] = {};
  for (const region of mesh.regions) {
    regionInboundBytes[region] = {
      bytes: (in1[region] ?? 0) - (in0[region] ?? 0),
      viewers: viewers.filter((v) => v.region === region).length,
    };
  }
  const windowMix = viewers.map((v, i) =>
    Object.fromEntries(
      Object.entries(v.video.layerPackets).map(([l, n]) => [l, n - (layers0[i]![l] ?? 0)] as const),
    ),
  );
  const layerMix: Record<string, number> = {};
  const viewersByLayer: Record<string, number> = {};
  for (const mix of windowMix) {
    for (const [l, n] of Object.entries(mix)) layerMix[l] = (layerMix[l] ?? 0) + n;
    const main = Object.entries(mix).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none';
    viewersByLayer[main] = (viewersByLayer[main] ?? 0) + 1;
  }
  const placement: Record<string, number> = {};
  for (const v of viewers) placement[v.nodeId] = (placement[v.nodeId] ?? 0) + 1;
  const joinTimes = viewers.map(
    (v) => Math.max(v.audio.firstPacketAt ?? Number.NaN, v.video.firstPacketAt ?? Number.NaN) - v.joinStarted,
  );
  for (const v of [...viewers, presenter]) await v.bot.close();
  const viewerMinutes = (viewers.length * SECONDS) / 60;
  return {
    label,
    viewers: viewers.length,
    cpuSeconds: cpu,
    cpuPerViewerMinute: cpu / viewerMinutes,
    viewersPerCore: (viewers.length * SECONDS) / Math.max(cpu, 1e-9),
    lossPercent: {
      p50: percentile(losses, 50),
      max: Math.max(...losses),
      mean: losses.reduce((a, b) => a + b, 0) / losses.length,
    },
    completeViewers: losses.filter((l) => l === 0).length,
    joinToFirstPacketMs: { p50: percentile(joinTimes, 50), p95: percentile(joinTimes, 95) },
    latencyMs,
    regionInboundBytes,
    placement,
    layerMix,
    viewersByLayer,
  };
}

const media = prepareRecordedMedia(join(tmpdir(), 'kaskade-recorded-media'), 10);
const reference = udpPacketsPerSecond(2);
console.log(`UDP reference: ${reference.packetsPerSecond.toFixed(0)} packets/s on one core`);
const regions = Object.fromEntries(regionNames.map((name, i) => [name, `127.0.${i + 1}`]));
// Capacity spreads the viewers over every edge, so the tree (and the relays) carry them.
const perEdge = Math.ceil(VIEWERS / (REGIONS * Number(args.edges))) + 2;
const env = {
  KASKADE_ALLOW_PLAIN_RTP: 'true',
  KASKADE_LOG_LEVEL: 'warn',
  KASKADE_NODE_CAPACITY: String(perEdge),
  KASKADE_RESYNC_MS: '2000',
};
const soloEnv = { ...env, KASKADE_NODE_CAPACITY: String(VIEWERS + 10) };
const cpEnv = { KASKADE_LOG_LEVEL: 'warn' };

const mesh = await startLocalMesh({
  regions,
  edgesPerRegion: Number(args.edges),
  relaysPerRegion: Number(args.relays),
  edgeEnv: env,
  controlPlaneEnv: cpEnv,
});
let cascade: PhaseResult;
try {
  cascade = await runPhase('cascade', mesh);
} finally {
  await mesh.stop();
}
const solo = await startLocalMesh({
  regions: { [regionNames[0]!]: '127.0.9' },
  edgesPerRegion: 1,
  edgeEnv: soloEnv,
  controlPlaneEnv: cpEnv,
});
let single: PhaseResult;
try {
  single = await runPhase('single-edge', solo);
} finally {
  await solo.stop();
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = join(args.out, `lecture-${stamp}`);
mkdirSync(dir, { recursive: true });
const config = {
  regions: REGIONS,
  edgesPerRegion: Number(args.edges),
  relaysPerRegion: Number(args.relays),
  viewers: VIEWERS,
  seconds: SECONDS,
};
const report = { date: new Date().toISOString(), config, udpReference: reference, cascade, single };
writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);

const phases = [cascade, single];
writeFileSync(
  join(dir, 'cpu.png'),
  barChart(
    'SFU CPU per viewer-minute',
    'CPU seconds',
    phases.map((p) => p.label),
    [{ label: 'CPU s / viewer-minute', values: phases.map((p) => p.cpuPerViewerMinute), color: '#4f8cff' }],
  ),
);
const paths = Object.keys(cascade.latencyMs);
writeFileSync(
  join(dir, 'latency.png'),
  barChart('Publisher to viewer latency by path (cascade)', 'ms', paths, [
    { label: 'p50', values: paths.map((p) => cascade.latencyMs[p]!.p50), color: '#3ddc97' },
    { label: 'p99', values: paths.map((p) => cascade.latencyMs[p]!.p99), color: '#ef5b5b' },
  ]),
);
const regionKeys = Object.keys(cascade.regionInboundBytes);
writeFileSync(
  join(dir, 'region-bytes.png'),
  barChart('Bytes entering each region vs viewers there', 'kB / viewers', regionKeys, [
    {
      label: 'kB entering the region',
      values: regionKeys.map((r) => cascade.regionInboundBytes[r]!.bytes / 1000),
      color: '#4f8cff',
    },
    {
      label: 'viewers in the region',
      values: regionKeys.map((r) => cascade.regionInboundBytes[r]!.viewers),
      color: '#ffb84f',
    },
  ]),
);
writeFileSync(
  join(dir, 'join.png'),
  barChart(
    'Join to first media packet',
    'ms',
    phases.map((p) => p.label),
    [
      { label: 'p50', values: phases.map((p) => p.joinToFirstPacketMs.p50), color: '#3ddc97' },
      { label: 'p95', values: phases.map((p) => p.joinToFirstPacketMs.p95), color: '#ef5b5b' },
    ],
  ),
);

const row = (p: PhaseResult) =>
  `| ${p.label} | ${p.viewers} | ${p.completeViewers} | ${p.lossPercent.mean.toFixed(3)} / ${p.lossPercent.max.toFixed(3)} | ${p.cpuSeconds.toFixed(1)} | ${p.cpuPerViewerMinute.toFixed(4)} | ${p.viewersPerCore.toFixed(0)} | ${p.joinToFirstPacketMs.p50.toFixed(0)} / ${p.joinToFirstPacketMs.p95.toFixed(0)} |`;
const markdown = `# Lecture benchmark, ${report.date}

Configuration: ${REGIONS} regions x ${config.edgesPerRegion} edges, ${config.relaysPerRegion} relay(s) per region, ${VIEWERS} viewers, ${SECONDS} s measured; all processes on this machine (2 cores shared by the SFUs, the control plane, NATS, Redis and the viewers themselves).
Publisher: VP8 from ffmpeg (testsrc2, libvpx realtime) in three simulcast layers (320x180 at 150 kb/s, 640x360 at 500 kb/s, 1280x720 at 1.2 Mb/s), 30 frames/s, replayed; and Opus-sized audio at 50 packets/s with the send time stamped in the payload (for latency). Loss is counted from each viewer's own RTP sequence numbers.
Physical reference: ${reference.packetsPerSecond.toFixed(0)} UDP packets/s from one core (${reference.how}).

| phase | viewers | viewers with every packet | loss % mean / max | SFU CPU s | CPU s per viewer-minute | viewers per core | join to first packet p50 / p95 ms |
|---|---|---|---|---|---|---|---|
${row(cascade)}
${row(single)}

## Simulcast layers received (viewers ask for the top one)

| phase | video packets per layer (measured window) | viewers by main layer |
|---|---|---|
${phases.map((p) => `| ${p.label} | ${recordText(p.layerMix)} | ${recordText(p.viewersByLayer)} |`).join('\n')}

Viewers per node (cascade): ${Object.entries(cascade.placement)
  .map(([n, c]) => `${n} ${c}`)
  .join(', ')}.

Cascade CPU per viewer vs single edge: ${((cascade.cpuPerViewerMinute / single.cpuPerViewerMinute - 1) * 100).toFixed(1)} %.

## Latency, publisher to viewer (cascade)

| path | p50 ms | p99 ms | samples |
|---|---|---|---|
${paths.map((p) => `| ${p} | ${cascade.latencyMs[p]!.p50.toFixed(3)} | ${cascade.latencyMs[p]!.p99.toFixed(3)} | ${cascade.latencyMs[p]!.samples} |`).join('\n')}

Added per hop is the difference between paths with one SFU more.

## Bytes entering each region (cascade, measured window)

| region | kB in over pipes from other regions | viewers there |
|---|---|---|
${regionKeys.map((r) => `| ${r} | ${(cascade.regionInboundBytes[r]!.bytes / 1000).toFixed(1)} | ${cascade.regionInboundBytes[r]!.viewers} |`).join('\n')}

![CPU](cpu.png) ![latency](latency.png) ![region bytes](region-bytes.png) ![join](join.png)
`;
writeFileSync(join(dir, 'report.md'), markdown);
console.log(markdown);
console.log(`report: ${dir}/report.md`);
