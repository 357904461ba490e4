import { type Conference, consumersPerParticipant } from './conference.ts';
import type { ControlResult } from './control.ts';
import type { Figures } from './figures.ts';
import type { MediaResult } from './media.ts';
import { levelsNeeded } from './tree.ts';

/** One limit of the mesh: what the conference asks of it against what it takes. */
export interface Limit {
  name: string;
  used: number;
  limit: number;
  /** used / limit: past 1 the conference does not fit. */
  ratio: number;
  unit: string;
  /** What to change when it binds. */
  remedy: string;
}

const limit = (name: string, used: number, max: number, unit: string, remedy: string): Limit => ({
  name,
  used,
  limit: max,
  ratio: max > 0 ? used / max : used > 0 ? Number.POSITIVE_INFINITY : 0,
  unit,
  remedy,
});

/** Every limit, the one hit first (largest ratio) first. */
export function limitsOf(c: Conference, f: Figures, media: MediaResult, control: ControlResult): Limit[] {
  const o = c.options;
  const bandwidth = c.nodeBandwidthBps * c.targetLoad;
  const relayFanout = Math.max(0, ...Object.values(media.relayFanout));
  const edges = control.edgesInRoom;
  const list = [
    limit(
      'relay fan-out',
      relayFanout,
      media.relayFanoutMax,
      'edges fed by the one relay of a region',
      'one relay per region carries a room (distributionTree.ts): a bigger relay node, or a tree whose relays feed relays',
    ),
    limit(
      'tree depth',
      levelsNeeded(edges, Math.max(2, media.relayFanoutMax)),
      2,
      'forwarding levels needed (ceil(log_fanout edges)) vs origin -> relay -> edge',
      'relays taking streams from relays (the code has two levels, depth <= 3 SFUs)',
    ),
    limit(
      'origin fan-out',
      media.originPipeBps,
      bandwidth,
      'bits/s of pipe copies the publisher edge sends',
      'fewer regions, or a relay in the origin region (KASKADE_FANOUT_LIMIT)',
    ),
    limit(
      'edge participants',
      1,
      media.edge.perEdge,
      'one participant against the participants an edge takes at the target load',
      `bound by ${media.edge.boundBy}: bigger nodes, fewer streams per participant`,
    ),
    limit(
      'consumers per participant',
      consumersPerParticipant(c),
      o.maxConsumersPerParticipant,
      'streams each participant consumes (the SDK subscribes to every one)',
      'KASKADE_MAX_CONSUMERS_PER_PARTICIPANT, or subscribe only to the last-N (autoSubscribe off)',
    ),
    limit(
      'one Redis',
      control.redis.cpuShare,
      c.targetLoad,
      'share of one Redis core: the commands, and the entries every resync reads back (every key of a room hash-tags into one slot, so Cluster does not split a room)',
      'KASKADE_RESYNC_MS up; resync reading what changed rather than the room whole; the audience kept out of the directory (a head count)',
    ),
    limit(
      'Redis egress',
      control.redis.outBps,
      bandwidth,
      "bits/s Redis sends (the resyncs' room reads)",
      'as for one Redis',
    ),
    limit(
      'bus fan-in',
      control.edgeMainThread.bus,
      c.targetLoad,
      "share of an edge's main thread decoding bus messages (heartbeats of every node, room events, summaries)",
      'KASKADE_HEARTBEAT_MS up, fewer and bigger nodes',
    ),
    limit(
      'edge main thread',
      control.edgeMainThreadShare,
      c.targetLoad,
      "share of an edge's main thread at the end of the join ramp: bus, joins, consumes, resync, signaling",
      'a slower ramp, fewer participants per edge, subscribing to the last-N only (autoSubscribe off)',
    ),
    limit(
      'NATS server',
      control.nats.delivered,
      f.natsDeliveriesPerSecond * c.targetLoad,
      'messages/s one nats-server delivers',
      'a NATS cluster (heartbeats fan out to every edge: nodes x edges)',
    ),
    limit(
      'control plane',
      control.controlPlane.cores,
      c.controlPlaneReplicas * c.controlPlaneCores * c.targetLoad,
      'cores the join ramp takes (a fixed cost per join: placement reads only the nodes carrying the room)',
      `${control.controlPlane.replicasNeeded} replicas, or a slower ramp (pre-warm, staggered joins)`,
    ),
  ];
  return list.sort((a, b) => b.ratio - a.ratio);
}
