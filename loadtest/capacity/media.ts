import { type Conference, consumersPerParticipant, participantsOf, receptionOf } from './conference.ts';
import type { Figures } from './figures.ts';
import { mainThreadBound } from './main-thread.ts';
import { type StreamTree, streamTree } from './tree.ts';

/** One kind of stream that crosses links: its bytes and packets per second, and how many originate per region. */
export interface StreamKind {
  name: string;
  bytesPerSecond: number;
  packetsPerSecond: number;
  /** Streams of this kind published in each region that someone downstream wants. */
  byRegion: Record<string, number>;
}

export interface EdgeSizing {
  /** Participants one edge takes at the target load, and what bounds it. */
  perEdge: number;
  boundBy: 'cpu' | 'bandwidth' | 'consumers' | 'memory' | 'main thread' | 'KASKADE_NODE_CAPACITY';
  /** Each bound, in participants per edge. */
  bounds: Record<'cpu' | 'bandwidth' | 'consumers' | 'memory' | 'main thread', number>;
  /** Per participant: cores, bits/s sent to it, packets/s, consumers. */
  perParticipant: { cores: number; bps: number; pps: number; consumers: number };
}

export interface MediaResult {
  streams: StreamKind[];
  edge: EdgeSizing;
  edgesByRegion: Record<string, number>;
  /** One tree per region streams originate in. */
  trees: StreamTree[];
  relaysByRegion: Record<string, number>;
  /** Bits/s crossing into and out of each region over pipes. */
  regionInBps: Record<string, number>;
  regionOutBps: Record<string, number>;
  /** Bits/s the busiest relay of each region sends, and the edges it feeds. */
  relayOutBps: Record<string, number>;
  relayFanout: Record<string, number>;
  /** Edges one relay could feed at the target load (its bandwidth and CPU). */
  relayFanoutMax: number;
  /** Bits/s of pipe copies the busiest origin edge sends. */
  originPipeBps: number;
  /** Bits/s and bytes of every link kind: origin -> edge, origin -> relay, relay -> edge. */
  links: {
    from: string;
    to: string;
    kind: 'direct' | 'to relay' | 'relay to edge';
    count: number;
    bps: number;
  }[];
}

const layerBytes = (f: Figures, layer: number) => f.videoLayerBytesPerSecond[layer] ?? 0;
const layerPackets = (f: Figures, layer: number) => f.videoLayerPacketsPerSecond[layer] ?? 0;

/** Spreads `total` over the regions in proportion to their participants (the origin region first for a lecture). */
function spread(c: Conference, total: number): Record<string, number> {
  const names = Object.keys(c.regions);
  if (c.kind === 'lecture') return Object.fromEntries(names.map((r, i) => [r, i === 0 ? total : 0]));
  const all = participantsOf(c);
  return Object.fromEntries(names.map((r) => [r, (total * (c.regions[r] ?? 0)) / Math.max(1, all)]));
}

/** The streams that cross links: those someone wants, with the layers they want. */
export function streamKinds(c: Conference, f: Figures): StreamKind[] {
  const kinds: StreamKind[] = [];
  for (const r of receptionOf(c)) {
    if (r.count <= 0) continue;
    const audio = r.what === 'audio';
    kinds.push({
      name: audio ? 'microphone' : `camera, layer ${r.layer}`,
      bytesPerSecond: audio ? f.audioBytesPerSecond : layerBytes(f, r.layer),
      packetsPerSecond: audio ? f.audioPacketsPerSecond : layerPackets(f, r.layer),
      // A meeting's wanted streams are the room's last-N: everyone's alike (one speaker order).
      byRegion: spread(c, r.count),
    });
  }
  return kinds;
}

/** Participants one edge carries at the target load, bounded by CPU, bandwidth and the consumer budget. */
export function edgeSizing(c: Conference, f: Figures): EdgeSizing {
  let bps = 0;
  let pps = 0;
  for (const r of receptionOf(c)) {
    const audio = r.what === 'audio';
    bps += r.count * 8 * (audio ? f.audioBytesPerSecond : layerBytes(f, r.layer));
    pps += r.count * (audio ? f.audioPacketsPerSecond : layerPackets(f, r.layer));
  }
  const cores = (pps * f.cpuPerForwardedPacketUs * f.webrtcCostFactor) / 1e6;
  // Consumes past KASKADE_MAX_CONSUMERS_PER_PARTICIPANT are refused: a participant holds at most that many.
  const consumers = Math.min(consumersPerParticipant(c), c.options.maxConsumersPerParticipant);
  const usable = c.nodeCores * c.targetLoad - f.nodeBaseCores - f.roomNodeCores;
  const bounds = {
    cpu: cores > 0 ? Math.floor(usable / cores) : Number.POSITIVE_INFINITY,
    bandwidth: bps > 0 ? Math.floor((c.nodeBandwidthBps * c.targetLoad) / bps) : Number.POSITIVE_INFINITY,
    // One worker per core, each with its consumer budget (the load ratio's consumer share).
    consumers:
      consumers > 0
        ? Math.floor((c.nodeCores * c.options.workerMaxConsumers * c.targetLoad) / consumers)
        : Number.POSITIVE_INFINITY,
    memory:
      consumers > 0
        ? Math.floor((c.nodeMemoryBytes * c.targetLoad) / (consumers * f.memoryPerConsumerKb * 1024))
        : Number.POSITIVE_INFINITY,
    // Signaling, joins and consumes at the end of the join ramp (main-thread.ts).
    'main thread': mainThreadBound(c, f),
  };
  let boundBy: EdgeSizing['boundBy'] = 'cpu';
  for (const k of ['bandwidth', 'consumers', 'memory', 'main thread'] as const)
    if (bounds[k] < bounds[boundBy]) boundBy = k;
  let perEdge = bounds[boundBy];
  const cap = c.options.nodeCapacity;
  if (cap !== undefined && cap < perEdge) {
    perEdge = cap;
    boundBy = 'KASKADE_NODE_CAPACITY';
  }
  return { perEdge, boundBy, bounds, perParticipant: { cores, bps, pps, consumers } };
}

export function mediaModel(c: Conference, f: Figures): MediaResult {
  const streams = streamKinds(c, f);
  const edge = edgeSizing(c, f);
  const edgesByRegion = Object.fromEntries(
    Object.entries(c.regions).map(([r, n]) => [
      r,
      n <= 0 ? 0 : edge.perEdge >= 1 ? Math.ceil(n / edge.perEdge) : Number.POSITIVE_INFINITY,
    ]),
  );
  const finite = Object.fromEntries(
    Object.entries(edgesByRegion).map(([r, e]) => [r, Number.isFinite(e) ? e : 0]),
  );
  const regions = Object.keys(c.regions);
  // Bits/s of the streams published in a region (that anyone wants).
  const bpsFrom = (region: string) =>
    streams.reduce((s, k) => s + (k.byRegion[region] ?? 0) * k.bytesPerSecond * 8, 0);
  const ppsFrom = (region: string) =>
    streams.reduce((s, k) => s + (k.byRegion[region] ?? 0) * k.packetsPerSecond, 0);
  const trees = regions
    .filter((r) => bpsFrom(r) > 0)
    .map((r) => streamTree(r, finite, c.options.fanoutLimit));
  const zero = () => Object.fromEntries(regions.map((r) => [r, 0])) as Record<string, number>;
  const regionInBps = zero();
  const regionOutBps = zero();
  const relayOutBps = zero();
  const relayFanout = zero();
  const relaysByRegion = zero();
  const links: MediaResult['links'] = [];
  let originPipeBps = 0;
  for (const tree of trees) {
    const bps = bpsFrom(tree.origin);
    // A lecture's streams leave one edge; a meeting's publishers spread over the region's edges.
    const originEdges = c.kind === 'lecture' ? 1 : Math.max(1, finite[tree.origin] ?? 1);
    originPipeBps = Math.max(originPipeBps, (bps / originEdges) * tree.originFanout);
    for (const b of tree.branches) {
      regionInBps[b.region]! += b.copiesIn * bps;
      if (b.copiesIn > 0) regionOutBps[tree.origin]! += b.copiesIn * bps;
      if (b.viaRelay) {
        relaysByRegion[b.region] = 1; // one relay carries the room: every edge picks it by the room's name
        relayOutBps[b.region]! += b.relayFanout * bps;
        relayFanout[b.region] = Math.max(relayFanout[b.region]!, b.relayFanout);
        links.push({ from: tree.origin, to: b.region, kind: 'to relay', count: 1, bps });
        links.push({ from: b.region, to: b.region, kind: 'relay to edge', count: b.relayFanout, bps });
      } else if (b.region !== tree.origin || b.edges > 1) {
        links.push({
          from: tree.origin,
          to: b.region,
          kind: 'direct',
          count: b.region === tree.origin ? b.edges - 1 : 1,
          bps,
        });
      }
    }
  }
  // One relay feeds every edge of its region carrying the room: how many could it?
  const feedBps = Math.max(0, ...regions.map((r) => regionInBps[r]! || bpsFrom(r)));
  const feedPps = Math.max(0, ...regions.map((r) => ppsFrom(r)), ...streams.map((k) => k.packetsPerSecond));
  const hopCores = (feedPps * f.cpuPerPipeHopPacketUs) / 1e6;
  const relayFanoutMax = Math.floor(
    Math.min(
      feedBps > 0 ? (c.nodeBandwidthBps * c.targetLoad) / feedBps : Number.POSITIVE_INFINITY,
      hopCores > 0
        ? (c.nodeCores * c.targetLoad - f.nodeBaseCores - f.roomNodeCores) / hopCores
        : Number.POSITIVE_INFINITY,
    ),
  );
  return {
    streams,
    edge,
    edgesByRegion,
    trees,
    relaysByRegion,
    regionInBps,
    regionOutBps,
    relayOutBps,
    relayFanout,
    relayFanoutMax,
    originPipeBps,
    links: links.filter((l) => l.count > 0),
  };
}
