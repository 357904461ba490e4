/**
 * The distribution tree of one stream as edge/src/routing/distributionTree.ts builds it,
 * counted rather than chosen: root = the origin edge; in the origin's region its edges
 * take the stream straight from it up to KASKADE_FANOUT_LIMIT edges carrying the room,
 * beyond that through the region's relay; every other region takes it through its relay
 * once more than one of its edges carries the room, else straight. A relay takes the
 * stream from the origin itself, so depth is at most 3 SFUs (origin, relay, edge), and
 * one relay per region carries a room (every edge picks the same one by the room's name).
 */

export interface RegionBranch {
  region: string;
  /** Edges of the region carrying the room. */
  edges: number;
  viaRelay: boolean;
  /** Edges the region's relay feeds (0 without one). */
  relayFanout: number;
  /** SFUs on the longest path from the publisher to a viewer in this region. */
  depth: number;
  /** Copies of the stream crossing into the region (0 for the origin's own). */
  copiesIn: number;
}

export interface StreamTree {
  origin: string;
  branches: RegionBranch[];
  /** Pipe copies the origin edge sends of the stream. */
  originFanout: number;
  /** Pipe links the stream crosses in all (each carries one copy). */
  links: number;
  depth: number;
}

/** The tree of a stream published in `origin`, over `edgesByRegion` edges carrying the room. */
export function streamTree(
  origin: string,
  edgesByRegion: Record<string, number>,
  fanoutLimit: number,
): StreamTree {
  const branches: RegionBranch[] = [];
  let originFanout = 0;
  for (const [region, edges] of Object.entries(edgesByRegion)) {
    if (edges <= 0) continue;
    if (region === origin) {
      // The origin edge is one of the region's edges; the others take a copy.
      const viaRelay = edges > fanoutLimit;
      originFanout += viaRelay ? 1 : edges - 1;
      branches.push({
        region,
        edges,
        viaRelay,
        relayFanout: viaRelay ? edges - 1 : 0,
        depth: edges === 1 ? 1 : viaRelay ? 3 : 2,
        copiesIn: 0,
      });
    } else {
      const viaRelay = edges > 1;
      originFanout += 1;
      branches.push({
        region,
        edges,
        viaRelay,
        relayFanout: viaRelay ? edges : 0,
        depth: viaRelay ? 3 : 2,
        copiesIn: 1,
      });
    }
  }
  const links = originFanout + branches.reduce((n, b) => n + b.relayFanout, 0);
  return { origin, branches, originFanout, links, depth: Math.max(1, ...branches.map((b) => b.depth)) };
}

/**
 * Forwarding levels a tree needs to reach `leaves` edges when no node may feed more than
 * `fanout`: ceil(log_fanout(leaves)). The code's tree has two (origin -> relay -> edge);
 * past that a relay would have to feed relays, which it does not.
 */
export function levelsNeeded(leaves: number, fanout: number): number {
  if (leaves <= 0) return 0;
  if (fanout < 2) return leaves === 1 ? 1 : Number.POSITIVE_INFINITY;
  // The smallest k >= 1 with fanout^k >= leaves, in integers (no floating-point log at exact powers).
  let k = 1;
  for (let reach = fanout; reach < leaves; reach *= fanout) k++;
  return k;
}
