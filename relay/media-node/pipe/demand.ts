import type { StreamDemand } from '@kaskade/protocol';

/**
 * Demand for a stream over a link, in one place: what a receiving node asks of its
 * upstream (pipe.demand), what a relay passes on (the union of its links'), and which
 * layers a sender forwards for it. Plain data, so edges and relays compute it alike.
 */

/** Everything the stream carries: what a new send starts with, and what nodes without layers ask. */
export const ALL_LAYERS: StreamDemand = { wanted: true };
export const NOTHING: StreamDemand = { wanted: false };

/** The demand of viewers wanting these spatial layers (none: not wanted); layer 0 always comes with it. */
export function layersDemand(spatialLayers: Iterable<number>): StreamDemand {
  const layers = new Set(spatialLayers);
  if (layers.size === 0) return NOTHING;
  layers.add(0); // the layer mediasoup falls back to when a viewer cannot take its own
  return { wanted: true, spatialLayers: [...layers].sort((a, b) => a - b) };
}

/** What several takers want together: anything any of them wants. */
export function unionDemand(demands: Iterable<StreamDemand>): StreamDemand {
  const layers = new Set<number>();
  let wanted = false;
  for (const d of demands) {
    if (!d.wanted) continue;
    if (!d.spatialLayers) return ALL_LAYERS;
    wanted = true;
    for (const l of d.spatialLayers) layers.add(l);
  }
  return wanted ? layersDemand(layers) : NOTHING;
}

/** The layers of a stream with `count` spatial layers the demand asks for (clamped to what exists). */
export function demandedLayers(demand: StreamDemand, count: number): Set<number> {
  if (!demand.wanted) return new Set();
  if (!demand.spatialLayers) return new Set(Array.from({ length: count }, (_, i) => i));
  return new Set([0, ...demand.spatialLayers.map((l) => Math.min(l, count - 1))]);
}

export function sameDemand(a: StreamDemand, b: StreamDemand): boolean {
  return demandKey(a) === demandKey(b);
}

/** Whether `next` asks for something `current` does not (so it must not wait). */
export function demandGrows(current: StreamDemand, next: StreamDemand): boolean {
  if (!next.wanted) return false;
  if (!current.wanted) return true;
  if (!current.spatialLayers) return false;
  if (!next.spatialLayers) return true;
  return next.spatialLayers.some((l) => !current.spatialLayers!.includes(l));
}

function demandKey(d: StreamDemand): string {
  if (!d.wanted) return '-';
  return d.spatialLayers ? [...new Set(d.spatialLayers)].sort((a, b) => a - b).join(',') : '*';
}
