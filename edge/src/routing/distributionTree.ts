import type { NodeReport } from '@kaskade/protocol';

export interface TreeInput {
  room: string;
  /** The node the stream originates on. */
  origin: string;
  /** The region of the edge deciding. */
  region: string;
  /** Every node as last heard (the origin included, when heard), however long ago. */
  nodes: Iterable<NodeReport>;
  /**
   * Nodes not to take media from: declared dead, or suspect because a pipe from them went
   * silent. A late heartbeat is not among them: the bus says nothing about the media path.
   */
  unavailable: ReadonlySet<string>;
  /** In the origin's own region, edges beyond this many carrying the room go through a relay. */
  fanoutLimit: number;
}

/**
 * Where an edge takes a stream of `origin` from: the origin itself, or a relay of its
 * region. A pure function of the nodes' reports, so every edge of a region decides alike:
 * a stream from another region comes through the region's relay once more than one edge
 * here carries the room; inside the origin's region, once more than `fanoutLimit` do.
 * Without a live relay, or below those counts, straight from the origin. Every edge picks
 * the same relay for a room (a hash of its name over the relays sorted by id).
 */
export function upstreamFor({ room, origin, region, nodes, unavailable, fanoutLimit }: TreeInput): string {
  const heard = [...nodes];
  const fresh = heard.filter((n) => !unavailable.has(n.nodeId) && n.state === 'serving');
  const relays = fresh
    .filter((n) => n.kind === 'relay' && n.region === region)
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  if (relays.length === 0) return origin;
  const edgesHere = fresh.filter(
    (n) => n.kind === 'edge' && n.region === region && n.rooms.includes(room),
  ).length;
  const originRegion = heard.find((n) => n.nodeId === origin)?.region;
  const viaRelay = originRegion === region ? edgesHere > fanoutLimit : edgesHere > 1;
  if (!viaRelay) return origin;
  let hash = 0;
  for (const ch of room) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return relays[hash % relays.length]!.nodeId;
}
