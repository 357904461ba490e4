import type { NodeReport } from '@kaskade/protocol';

/** The nodes' liveness as read from Redis at one instant (NodeLiveness.ts). */
export interface LivenessView {
  /** Node id -> when its liveness expires (ms); a node not listed has no record (not known). */
  expiries: ReadonlyMap<string, number>;
  /** The time of the read, on the same clock. */
  now: number;
}

export interface PlacementInput {
  /** Nodes as last heard, with their last report (participants include recent placements). */
  nodes: NodeReport[];
  /**
   * Their liveness; a node whose liveness had lapsed at the read is never placed on,
   * whatever its last heartbeat said. Undefined (Redis away) or a node without a
   * record: nobody is skipped for it.
   */
  liveness?: LivenessView;
  /** Nodes that carry the room now. */
  roomNodes: ReadonlySet<string>;
  /** Region the participant asked for, if any. */
  region?: string;
  /**
   * Edges the participant could not reach (it was just on one that went away): placed
   * on only when no other edge can take the join. Within its liveness TTL a crashed edge
   * still looks alive, and its participants all come back at once.
   */
  avoid?: ReadonlySet<string>;
}

export type Placement =
  | { ok: true; node: NodeReport; reason: 'sticky' | 'region' | 'sticky-elsewhere' | 'elsewhere' }
  | { ok: false; reason: 'no-edges' | 'all-full' };

/**
 * Chooses the edge for a join (edges the participant avoids only if no other one can take
 * it). In order: an edge of the asked region that already
 * carries the room, any edge of that region, an edge elsewhere that carries the
 * room, any edge at all; within each tier the least loaded edge with room to spare.
 * Stickiness keeps a room on few edges (fewer pipes); the region keeps media near.
 */
export function place(input: PlacementInput): Placement {
  const { avoid } = input;
  if (!avoid?.size) return placeAmong(input.nodes, input);
  const elsewhere = placeAmong(
    input.nodes.filter((n) => !avoid.has(n.nodeId)),
    input,
  );
  return elsewhere.ok ? elsewhere : placeAmong(input.nodes, input);
}

function placeAmong(nodes: NodeReport[], { roomNodes, region, liveness }: PlacementInput): Placement {
  const lapsed = (n: NodeReport) => {
    const expiry = liveness?.expiries.get(n.nodeId);
    return expiry !== undefined && expiry <= liveness!.now;
  };
  // An edge without a trusted URL (not in the operator's list) is never handed out.
  const edges = nodes.filter((n) => n.kind === 'edge' && n.state === 'serving' && n.url !== '' && !lapsed(n));
  if (edges.length === 0) return { ok: false, reason: 'no-edges' };
  const open = edges.filter((n) => n.participants < n.capacity && n.load < 1);
  const inRegion = (n: NodeReport) => region === undefined || n.region === region;
  const tiers: [Extract<Placement, { ok: true }>['reason'], (n: NodeReport) => boolean][] = [
    ['sticky', (n) => inRegion(n) && roomNodes.has(n.nodeId)],
    ['region', inRegion],
    ['sticky-elsewhere', (n) => roomNodes.has(n.nodeId)],
    ['elsewhere', () => true],
  ];
  for (const [reason, fits] of tiers) {
    const candidates = open.filter(fits);
    if (candidates.length > 0) return { ok: true, node: leastLoaded(candidates), reason };
  }
  return { ok: false, reason: 'all-full' };
}

function leastLoaded(nodes: NodeReport[]): NodeReport {
  return nodes.reduce((best, n) =>
    n.load < best.load || (n.load === best.load && n.participants < best.participants) ? n : best,
  );
}
