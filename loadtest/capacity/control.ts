import { type Conference, participantsOf } from './conference.ts';
import type { Figures } from './figures.ts';
import { type MainThreadLoad, mainThreadLoad, totalShare } from './main-thread.ts';
import type { MediaResult } from './media.ts';

/**
 * The bus, the directory and the control plane under one conference, as the code
 * drives them: every node beats every KASKADE_HEARTBEAT_MS on `nodes.heartbeat.<id>`,
 * which every edge (Upstreams) and every control-plane replica (NodeRegistry)
 * subscribes to; room events go to `room.<room>.events.<node>`, heard by every edge
 * carrying the room (RoomSync); an edge where someone speaks sends the room its levels
 * every KASKADE_SPEAKER_INTERVAL_MS. In Redis, each heartbeat refreshes the node's
 * liveness and its rooms' keys; each join is written by the edge and read by the
 * control plane, which reads the whole room's entries to place it (joinPlugin:
 * directory.room); each edge reads each of its rooms back every KASKADE_RESYNC_MS
 * (Resync). The last two grow with the room: the model counts them per entry.
 */
export interface ControlResult {
  nodes: number;
  edgesInRoom: number;
  joinsPerSecond: number;
  nats: {
    heartbeatsPublished: number;
    heartbeatsDelivered: number;
    /** Room events at the peak of the join ramp (participantJoined), published and delivered. */
    roomEventsPublished: number;
    roomEventsDelivered: number;
    speakerSummariesPublished: number;
    speakerSummariesDelivered: number;
    /** Messages per second one edge receives and decodes (heartbeats, room events, summaries). */
    perEdgeReceived: number;
    delivered: number;
  };
  redis: {
    heartbeatOps: number;
    sweepOps: number;
    joinOps: number;
    resyncOps: number;
    /** Every command per second during the join ramp. */
    opsPerSecond: number;
    /** Share of one Redis core: the commands, and the participant entries the room reads return. */
    cpuShare: number;
    /** Bytes/s Redis sends: mostly room reads (join placement, resync). */
    outBps: number;
  };
  controlPlane: {
    /** ms of CPU for the last join of the ramp (the fullest room). */
    lastJoinMs: number;
    /** Cores the join ramp keeps busy on average. */
    cores: number;
    replicasNeeded: number;
  };
  /** Shares of one core an edge's main thread spends on each, and their sum. */
  edgeMainThread: MainThreadLoad;
  edgeMainThreadShare: number;
}

export function controlModel(c: Conference, f: Figures, media: MediaResult): ControlResult {
  const o = c.options;
  const participants = participantsOf(c);
  const finite = (n: number) => (Number.isFinite(n) ? n : 0);
  const edges = Object.values(media.edgesByRegion).reduce((a, b) => a + finite(b), 0);
  const relays = Object.values(media.relaysByRegion).reduce((a, b) => a + b, 0);
  const nodes = edges + relays;
  const edgesInRoom = edges; // placement sticks to the room's edges, so every edge sized for it carries it
  const joinsPerSecond = participants / c.joinSeconds;
  const beats = nodes / (o.heartbeatMs / 1000);
  const heartbeatsDelivered = beats * (edges + c.controlPlaneReplicas);
  const roomEventsPublished = joinsPerSecond * f.natsPublishedPerJoin;
  // Heard by every other edge carrying the room (measured: 3 deliveries with 4 edges).
  const others = Math.max(0, edgesInRoom - 1);
  const roomEventsDelivered = roomEventsPublished * others;
  const speakingEdges = Math.min(c.speaking, edgesInRoom);
  const speakerSummariesPublished = speakingEdges * (1000 / o.speakerIntervalMs);
  const speakerSummariesDelivered = speakerSummariesPublished * others;
  const perEdgeReceived = beats + roomEventsPublished + speakerSummariesPublished;

  const sweeps = c.controlPlaneReplicas * (1000 / o.livenessSweepMs);
  const heartbeatOps =
    beats * f.redisCommandsPerHeartbeat +
    (edgesInRoom / (o.heartbeatMs / 1000)) * f.redisCommandsPerHeartbeatRoom;
  const sweepOps = sweeps * f.redisCommandsPerSweep;
  const joinOps = joinsPerSecond * f.redisCommandsPerJoin;
  const resyncs = edgesInRoom / (o.resyncMs / 1000);
  const resyncOps = resyncs * 3; // HGETALL participants, HGETALL streams, HKEYS nodes
  const opsPerSecond = heartbeatOps + sweepOps + joinOps + resyncOps;
  // At the end of the ramp the room is full: each join's placement read and each resync return every entry.
  const entriesPerSecond = (joinsPerSecond + resyncs) * participants;
  const cpuShare = opsPerSecond / f.redisOpsPerCoreSecond + (entriesPerSecond * f.redisUsPerEntry) / 1e6;
  const outBps = entriesPerSecond * f.directoryBytesPerEntry * 8;

  const lastJoinMs = f.controlPlaneCpuPerJoinMs + (participants * f.directoryReadUsPerEntry) / 1000;
  // Over the ramp the room holds half its audience on average.
  const averageJoinMs = f.controlPlaneCpuPerJoinMs + (participants * f.directoryReadUsPerEntry) / 2000;
  const cores = (joinsPerSecond * averageJoinMs) / 1000;
  const replicasNeeded = Math.max(2, Math.ceil(cores / (c.controlPlaneCores * c.targetLoad)));

  const edgeMainThread = mainThreadLoad(c, f, media.edge.perEdge, perEdgeReceived);
  const edgeMainThreadShare = totalShare(edgeMainThread);
  const delivered = heartbeatsDelivered + roomEventsDelivered + speakerSummariesDelivered;
  return {
    nodes,
    edgesInRoom,
    joinsPerSecond,
    nats: {
      heartbeatsPublished: beats,
      heartbeatsDelivered,
      roomEventsPublished,
      roomEventsDelivered,
      speakerSummariesPublished,
      speakerSummariesDelivered,
      perEdgeReceived,
      delivered,
    },
    redis: { heartbeatOps, sweepOps, joinOps, resyncOps, opsPerSecond, cpuShare, outBps },
    controlPlane: { lastJoinMs, cores, replicasNeeded },
    edgeMainThread,
    edgeMainThreadShare,
  };
}
