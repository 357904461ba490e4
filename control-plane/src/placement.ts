import type { NodeReport } from '../protocol/nats.ts';

export interface PlacementInput {
  /** Edges believed alive, with their last report (participants include recent placements). */
  nodes: NodeReport[];
  /** Nodes that carry the room now. */
  roomNodes: ReadonlySet<string>;
  /** Region the participant asked for, if any. */
  region?: string;
}

export type Placement =
  | { ok: true; node: NodeReport; reason: 'sticky' | 'region' | 'sticky-elsewhere' | 'elsewhere' }
  | { ok: false; reason: 'no-edges' | 'all-full' };

/**
 * Chooses the edge for a join. In order: an edge of the asked region that already
 * carries the room, any edge of that region, an edge elsewhere that carries the
 * room, any edge at all; within each tier the least loaded edge with room to spare.
 * Stickiness keeps a room on few edges (fewer pipes); the region keeps media near.
 */
export function place({ nodes, roomNodes, region }: PlacementInput): Placement {
  // An edge without a trusted URL (not in the operator's list) is never handed out.
  const edges = nodes.filter((n) => n.kind === 'edge' && n.state === 'serving' && n.url !== '');
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
