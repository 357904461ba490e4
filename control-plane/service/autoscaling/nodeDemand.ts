import type { MediaNodeKind, NodeReport } from '@kaskade/protocol';
import { round } from './types.ts';

/** One region's nodes of one kind as the policy sees them. */
export interface RegionLoad {
  region: string;
  kind: MediaNodeKind;
  /** Serving nodes: the capacity there is (a draining node is leaving). */
  serving: number;
  draining: number;
  /**
   * Nodes' worth of work: the summed load ratio of every node, draining ones included
   * (their participants and streams move onto the serving ones).
   */
  demand: number;
  /** Serving nodes that carry rooms now (participants, or a room's streams): never counted away. */
  carrying: number;
  /** At least this many nodes for the rooms that cross regions (relays), else 0. */
  roomsNeed: number;
  reasons: string[];
}

const carries = (n: NodeReport) => n.participants > 0 || n.rooms.length > 0;

/**
 * Every region's edges and relays from their heartbeats. An edge's load ratio is the
 * largest of its CPU, bandwidth, consumer and participant shares, so the sum over a
 * region is the work there in nodes. A relay's is the largest of its CPU and bandwidth
 * shares: the streams it carries into the region times the edges it feeds. Relays are
 * needed at all where a room crosses regions: the edges' trees (edge/src/routing/
 * distributionTree.ts) take a stream from another region through the region's relay once
 * more than one edge there carries the room.
 */
export function regionLoads(nodes: readonly NodeReport[], regions: Iterable<string>): RegionLoad[] {
  const crossing = crossRegionNeeds(nodes);
  const loads: RegionLoad[] = [];
  for (const region of regions) {
    for (const kind of ['edge', 'relay'] as const) {
      const here = nodes.filter((n) => n.region === region && n.kind === kind);
      const serving = here.filter((n) => n.state === 'serving');
      const demand = here.reduce((sum, n) => sum + Math.max(0, n.load), 0);
      const carrying = serving.filter(carries).length;
      const roomsNeed = kind === 'relay' && (crossing.get(region) ?? 0) > 0 ? 1 : 0;
      const reasons = [
        `load ${round(demand)} over ${serving.length} serving ${kind}s` +
          (here.length > serving.length ? ` and ${here.length - serving.length} draining` : ''),
      ];
      if (roomsNeed > 0)
        reasons.push(`${crossing.get(region)} rooms come from other regions over more than one edge here`);
      loads.push({
        region,
        kind,
        serving: serving.length,
        draining: here.length - serving.length,
        demand,
        carrying,
        roomsNeed,
        reasons,
      });
    }
  }
  return loads;
}

/** Per region, the rooms that more than one of its serving edges carry and that an edge elsewhere carries too. */
function crossRegionNeeds(nodes: readonly NodeReport[]): Map<string, number> {
  const regionsOf = new Map<string, Map<string, number>>(); // room -> region -> edges carrying it
  for (const n of nodes) {
    if (n.kind !== 'edge' || n.state !== 'serving') continue;
    for (const room of n.rooms) {
      const counts = regionsOf.get(room) ?? new Map<string, number>();
      counts.set(n.region, (counts.get(n.region) ?? 0) + 1);
      regionsOf.set(room, counts);
    }
  }
  const needs = new Map<string, number>();
  for (const counts of regionsOf.values()) {
    if (counts.size < 2) continue;
    for (const [region, edges] of counts) if (edges > 1) needs.set(region, (needs.get(region) ?? 0) + 1);
  }
  return needs;
}
