// The meeting benchmark's arithmetic, apart from the mesh so it can be unit tested:
// distributions, loss over a window, which layers each link's streams are wanted at
// downstream, and how long speaker news took to reach the other region.
import { percentile } from './cpu.ts';

export interface Distribution {
  p50: number;
  p95: number;
  max: number;
  mean: number;
  count: number;
}

/** p50, p95, max and mean of the values (NaN for none). */
export function distribution(values: number[]): Distribution {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0)
    return { p50: Number.NaN, p95: Number.NaN, max: Number.NaN, mean: Number.NaN, count: 0 };
  return {
    p50: percentile(finite, 50),
    p95: percentile(finite, 95),
    max: Math.max(...finite),
    mean: finite.reduce((a, b) => a + b, 0) / finite.length,
    count: finite.length,
  };
}

/** What a stream had received at one moment. */
export interface StreamCount {
  packets: number;
  expected: number;
  bytes: number;
}

/**
 * Loss over a window, in %: packets the sequence numbers say were sent to the viewer and
 * did not arrive, over all the viewer's streams. A stream new in the window counts from 0.
 */
export function windowLossPercent(
  before: ReadonlyMap<string, StreamCount>,
  after: ReadonlyMap<string, StreamCount>,
) {
  let expected = 0;
  let received = 0;
  for (const [key, end] of after) {
    const start = before.get(key) ?? { packets: 0, expected: 0, bytes: 0 };
    expected += end.expected - start.expected;
    received += end.packets - start.packets;
  }
  return expected > 0 ? Math.max(0, (1 - received / expected) * 100) : 0;
}

/** Per-key growth between two counts (e.g. packets per layer); keys only in `after` count whole. */
export function growth(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>) {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) {
    const d = n - (before[key] ?? 0);
    if (d > 0) out[key] = d;
  }
  return out;
}

/** A camera tile of a viewer: whose camera (its origin node), at which layer, and whether the edge forwards it. */
export interface Tile {
  producerId: string;
  originNode: string;
  layer: number;
  forwarded: boolean;
}

/** Streams a link carries for its downstream viewers, by the highest layer any of them wants. */
export interface LinkWant {
  streams: number;
  /** Streams by the top layer wanted downstream, e.g. { 0: 7, 2: 1 }. */
  byTopLayer: Record<number, number>;
}

/** `origin->viewer node` for a link carrying a stream from its origin edge to a viewer's edge. */
export const linkKey = (from: string, to: string) => `${from}->${to}`;

/**
 * For every link (origin edge -> viewer edge), the cameras some viewer there receives,
 * and the highest layer wanted of each: what a layer-aware link would carry. A camera
 * nobody there is forwarded is not wanted over the link (its copy is paused upstream).
 */
export function linkWants(viewers: { node: string; tiles: Tile[] }[]): Record<string, LinkWant> {
  const top = new Map<string, Map<string, number>>();
  for (const { node, tiles } of viewers)
    for (const tile of tiles) {
      if (!tile.forwarded || tile.originNode === node) continue;
      const key = linkKey(tile.originNode, node);
      const streams = top.get(key) ?? new Map<string, number>();
      streams.set(tile.producerId, Math.max(tile.layer, streams.get(tile.producerId) ?? -1));
      top.set(key, streams);
    }
  const out: Record<string, LinkWant> = {};
  for (const [key, streams] of top) {
    const byTopLayer: Record<number, number> = {};
    for (const layer of streams.values()) byTopLayer[layer] = (byTopLayer[layer] ?? 0) + 1;
    out[key] = { streams: streams.size, byTopLayer };
  }
  return out;
}

/** Averages of several linkWants samples (a window's worth): streams and per-layer counts per link. */
export function averageWants(samples: Record<string, LinkWant>[]): Record<string, LinkWant> {
  const out: Record<string, LinkWant> = {};
  if (samples.length === 0) return out;
  for (const sample of samples)
    for (const [key, want] of Object.entries(sample)) {
      const sum = out[key] ?? { streams: 0, byTopLayer: {} };
      out[key] = sum;
      sum.streams += want.streams / samples.length;
      for (const [layer, n] of Object.entries(want.byTopLayer))
        sum.byTopLayer[Number(layer)] = (sum.byTopLayer[Number(layer)] ?? 0) + n / samples.length;
    }
  return out;
}

/** A speaker switch the benchmark made: who started speaking where, and when (performance.now()). */
export interface SpeakerSwitch {
  participantId: string;
  region: string;
  at: number;
}

/**
 * For every switch and every listener in another region than the new speaker: how long
 * until that listener was told the new speaker (`activeSpeaker`), up to the next switch.
 * Listeners never told in time are `missed`.
 */
export function switchLatencies(
  switches: SpeakerSwitch[],
  listeners: { region: string; news: { participantId: string | null; at: number }[] }[],
): { latenciesMs: number[]; missed: number } {
  const latenciesMs: number[] = [];
  let missed = 0;
  switches.forEach((s, i) => {
    const until = switches[i + 1]?.at ?? Number.POSITIVE_INFINITY;
    for (const listener of listeners) {
      if (listener.region === s.region) continue;
      const told = listener.news.find(
        (n) => n.participantId === s.participantId && n.at >= s.at && n.at < until,
      );
      if (told) latenciesMs.push(told.at - s.at);
      else missed++;
    }
  });
  return { latenciesMs, missed };
}

/** `a 1, b 2` for a record, keys sorted. */
export function recordText(record: Readonly<Record<string, number>>, digits = 0): string {
  const entries = Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k} ${n.toFixed(digits)}`).join(', ');
}
