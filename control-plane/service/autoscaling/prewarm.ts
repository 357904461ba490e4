import type { CapacityReservation, MediaNodeKind, NodeReport } from '@kaskade/protocol';
import { type AutoscaleSettings, seriesKey } from './types.ts';

export interface Reserved {
  /** `<reservation id>/<region>/<kind>`: what a fulfilment mark names. */
  key: string;
  startsAt: number;
  nodes: number;
  reason: string;
}

/**
 * Lecture pre-warm: each reservation wants, from `leadMs` before its start until its
 * end, edges for its expected audience in each region (its share of the participants
 * over what one edge takes at the target load), and a relay in each region that needs
 * more than one edge for it when it spans regions (its streams cross into the region
 * once, through the relay). A reservation whose audience came (real load asked for as
 * much: `fulfilled`) holds no more, so capacity follows the load down when people leave
 * before its end. The audience is split by the reservation's region shares, or evenly
 * over the regions that have edges.
 */
export function reservedNodes(
  reservations: readonly CapacityReservation[],
  nodes: readonly NodeReport[],
  fulfilled: ReadonlySet<string>,
  settings: AutoscaleSettings,
  now: number,
): Map<string, Reserved[]> {
  const edgeRegions = [...new Set(nodes.filter((n) => n.kind === 'edge').map((n) => n.region))].sort();
  const wanted = new Map<string, Reserved[]>();
  const add = (
    region: string,
    kind: MediaNodeKind,
    id: string,
    startsAt: number,
    count: number,
    why: string,
  ) => {
    const key = seriesKey(region, kind);
    const fulfilmentKey = `${id}/${key}`;
    if (count <= 0 || fulfilled.has(fulfilmentKey)) return;
    wanted.set(key, [
      ...(wanted.get(key) ?? []),
      { key: fulfilmentKey, startsAt, nodes: count, reason: why },
    ]);
  };
  for (const r of reservations) {
    const startsAt = Date.parse(r.startsAt);
    if (now < startsAt - settings.leadMs || now >= Date.parse(r.endsAt)) continue;
    const shares = r.regions ?? Object.fromEntries(edgeRegions.map((region) => [region, 1]));
    const total = Object.values(shares).reduce((a, b) => a + b, 0);
    const regions = Object.keys(shares);
    for (const region of regions) {
      const participants = Math.ceil((r.expectedParticipants * shares[region]!) / Math.max(1, total));
      const perEdge = edgeCapacity(nodes, region, settings.participantsPerEdge);
      const edges = Math.ceil(participants / Math.max(1, perEdge * settings.targetLoad));
      const when = now < startsAt ? `starts in ${Math.ceil((startsAt - now) / 1000)} s` : 'running';
      add(
        region,
        'edge',
        r.id,
        startsAt,
        edges,
        `reservation ${r.id} (${r.kind}, ${when}): ${participants} participants at ${perEdge} per edge: ${edges} edges`,
      );
      if (regions.length > 1 && edges > 1)
        add(
          region,
          'relay',
          r.id,
          startsAt,
          1,
          `reservation ${r.id} spans regions: a relay carries it into ${region}`,
        );
    }
  }
  return wanted;
}

/** Participants an edge of the region takes: the median the edges report, else any region's, else the setting. */
function edgeCapacity(nodes: readonly NodeReport[], region: string, fallback: number): number {
  const reported = (filter: (n: NodeReport) => boolean) =>
    nodes
      .filter((n) => n.kind === 'edge' && n.capacity > 0 && filter(n))
      .map((n) => n.capacity)
      .sort((a, b) => a - b);
  const here = reported((n) => n.region === region);
  const any = here.length > 0 ? here : reported(() => true);
  return any.length > 0 ? any[Math.floor(any.length / 2)]! : fallback;
}
