import { type LocalMesh, operatorJson } from '@kaskade/local-mesh';
import { cpuSeconds, processTree } from './cpu.ts';
import type { MeetingParticipant } from './meeting.ts';
import {
  averageWants,
  type Distribution,
  distribution,
  growth,
  type LinkWant,
  linkKey,
  linkWants,
  type StreamCount,
  windowLossPercent,
} from './meeting-stats.ts';

/** A link's traffic over a window, against what its downstream viewers want. */
export interface LinkTraffic extends LinkWant {
  bytesPerSecond: number;
  /** Unmuted microphones of the link's origin edge (their audio crosses it too). */
  unmutedMicrophones: number;
}

/** What a window of a meeting measured; CPU in % of one core. */
export interface WindowResult {
  seconds: number;
  participants: number;
  sfuCpuPercent: number;
  sfuCpuPercentByEdge: Record<string, number>;
  /** The bots (this process: all participants' sending and receiving), apart from the SFUs. */
  botCpuPercent: number;
  videoStreamsPerParticipant: Distribution;
  videoKbpsPerParticipant: Distribution;
  audioPacketsPerSecondPerParticipant: Distribution;
  /** Audio packets per second the SFUs delivered to all participants together. */
  audioPacketsPerSecond: number;
  lossPercent: Distribution;
  /** Lost over expected, every stream of every participant together. */
  overallLossPercent: number;
  /** Video packets received per layer (by key-frame height), all participants. */
  layerMix: Record<string, number>;
  /** Key-frame requests reaching each publisher, per publisher-second. */
  keyframeRequestsPerSecond: Distribution;
  links: Record<string, LinkTraffic>;
}

type Counts = Map<string, StreamCount & { kind: string }>;

function countsOf(p: MeetingParticipant): Counts {
  const counts: Counts = new Map();
  for (const [id, { received }] of p.subscriptions)
    counts.set(id, {
      packets: received.packets,
      expected: received.expected,
      bytes: received.bytes,
      kind: received.kind,
    });
  return counts;
}

/** Bytes each link of `room` brought into each edge so far, by linkKey(from, to). */
async function linkBytes(mesh: LocalMesh, room: string): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  for (const edge of mesh.edges) {
    const { links } = await operatorJson<{ links: { room: string; remoteNode: string; bytesIn: number }[] }>(
      edge.operatorUrl,
      mesh.operatorToken,
      '/v1/node',
    );
    for (const l of links) if (l.room === room) bytes.set(linkKey(l.remoteNode, edge.nodeId), l.bytesIn);
  }
  return bytes;
}

/** The participants' camera tiles now, by edge, for linkWants. */
function tilesNow(participants: MeetingParticipant[]) {
  const originOf = new Map(participants.map((p) => [p.id, p.nodeId]));
  return participants.map((p) => ({
    node: p.nodeId,
    tiles: p.cameraTiles().map(({ subscription, layer }) => ({
      producerId: subscription.info.producerId,
      originNode: originOf.get(subscription.info.participantId) ?? '?',
      layer,
      forwarded: p.isForwarded(subscription),
    })),
  }));
}

/**
 * Measures `seconds` of a meeting: SFU (edge processes and their workers) and bot CPU,
 * what each participant received, loss, layers, key-frame requests at the publishers
 * each second, and every link's bytes against the layers wanted downstream (sampled
 * every second, averaged).
 */
export async function measureWindow(
  mesh: LocalMesh,
  room: string,
  participants: MeetingParticipant[],
  seconds: number,
): Promise<WindowResult> {
  const edgePids = new Map(mesh.edges.map((e) => [e.nodeId, processTree(e.child.pid!)]));
  const edgeCpu = () => new Map([...edgePids].map(([id, pids]) => [id, cpuSeconds(pids)]));
  const before = participants.map(countsOf);
  const mixBefore = participants.map((p) => p.bot.layerMix);
  const links0 = await linkBytes(mesh, room);
  const wants: Record<string, LinkWant>[] = [];
  const unmuted: Record<string, number>[] = [];
  const keyframeSamples: number[] = [];
  let lastKeyframes = participants.map((p) => p.sender.keyframeRequests);
  const sampler = setInterval(() => {
    const now = participants.map((p) => p.sender.keyframeRequests);
    keyframeSamples.push(...now.map((n, i) => n - lastKeyframes[i]!));
    lastKeyframes = now;
    wants.push(linkWants(tilesNow(participants)));
    const mics: Record<string, number> = {};
    for (const p of participants) if (!p.muted) mics[p.nodeId] = (mics[p.nodeId] ?? 0) + 1;
    unmuted.push(mics);
  }, 1000);
  const cpu0 = edgeCpu();
  const bot0 = process.cpuUsage();
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (performance.now() - started) / 1000;
  const bot = process.cpuUsage(bot0);
  const cpu1 = edgeCpu();
  clearInterval(sampler);
  const links1 = await linkBytes(mesh, room);
  const after = participants.map(countsOf);

  const percent = (cpu: number) => (cpu / elapsed) * 100;
  const sfuCpuPercentByEdge = Object.fromEntries(
    [...cpu1].map(([id, s]) => [id, percent(s - (cpu0.get(id) ?? 0))] as const),
  );
  const received = after.map((end, i) => {
    let videoStreams = 0;
    let videoBytes = 0;
    let audioPackets = 0;
    for (const [id, c] of end) {
      const start = before[i]!.get(id);
      const packets = c.packets - (start?.packets ?? 0);
      if (c.kind === 'video' && packets > 0) {
        videoStreams++;
        videoBytes += c.bytes - (start?.bytes ?? 0);
      }
      if (c.kind === 'audio') audioPackets += packets;
    }
    return { videoStreams, videoKbps: (videoBytes * 8) / elapsed / 1000, audioPps: audioPackets / elapsed };
  });
  let lost = 0;
  let expected = 0;
  for (const [i, end] of after.entries())
    for (const [id, c] of end) {
      const start = before[i]!.get(id);
      const e = c.expected - (start?.expected ?? 0);
      expected += e;
      lost += Math.max(0, e - (c.packets - (start?.packets ?? 0)));
    }
  const layerMix: Record<string, number> = {};
  for (const [i, p] of participants.entries())
    for (const [layer, n] of Object.entries(growth(mixBefore[i]!, p.bot.layerMix)))
      layerMix[layer] = (layerMix[layer] ?? 0) + n;
  const averaged = averageWants(wants);
  const links: Record<string, LinkTraffic> = {};
  for (const [key, bytes] of links1) {
    const want = averaged[key] ?? { streams: 0, byTopLayer: {} };
    const from = key.split('->')[0]!;
    links[key] = {
      ...want,
      bytesPerSecond: (bytes - (links0.get(key) ?? 0)) / elapsed,
      unmutedMicrophones: unmuted.reduce((n, m) => n + (m[from] ?? 0), 0) / Math.max(1, unmuted.length),
    };
  }
  return {
    seconds: elapsed,
    participants: participants.length,
    sfuCpuPercent: Object.values(sfuCpuPercentByEdge).reduce((a, b) => a + b, 0),
    sfuCpuPercentByEdge,
    botCpuPercent: percent((bot.user + bot.system) / 1e6),
    videoStreamsPerParticipant: distribution(received.map((r) => r.videoStreams)),
    videoKbpsPerParticipant: distribution(received.map((r) => r.videoKbps)),
    audioPacketsPerSecondPerParticipant: distribution(received.map((r) => r.audioPps)),
    audioPacketsPerSecond: received.reduce((n, r) => n + r.audioPps, 0),
    lossPercent: distribution(after.map((end, i) => windowLossPercent(before[i]!, end))),
    overallLossPercent: expected > 0 ? (lost / expected) * 100 : 0,
    layerMix,
    keyframeRequestsPerSecond: distribution(keyframeSamples),
    links,
  };
}
