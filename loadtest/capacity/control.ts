import { type Conference, directoryEntriesOf, participantsOf, streamsPerJoin } from './conference.ts';
import type { Figures } from './figures.ts';
import { type MainThreadLoad, mainThreadLoad, totalShare } from './main-thread.ts';
import type { MediaResult } from './media.ts';

/**
 * The bus, the directory and the control plane under one conference, as the code
 * drives them: every node beats every KASKADE_HEARTBEAT_MS on `nodes.heartbeat.<id>`,
 * which every edge (Upstreams) and every control-plane replica (NodeRegistry)
 * subscribes to; room events go to `room.<room>.events.<node>`, heard by every edge
 * carrying the room (RoomSync): participantJoined for every join, a lecture's audience
 * included, and streamAdded for every stream it publishes; an edge where someone speaks
 * sends the room its levels every KASKADE_SPEAKER_INTERVAL_MS. In Redis, each heartbeat
 * refreshes the node's liveness and its rooms' keys; each join is written by the edge
 * (the participant, its streams) and placed by the control plane, which reads only the
 * nodes carrying the room (joinPlugin: directory.roomNodes, HKEYS), so a join costs the
 * same in a room of ten or of 100,000. What grows with the room is resync: each edge
 * reads each of its rooms back whole every KASKADE_RESYNC_MS (Resync: HGETALL of the
 * participants and of the streams), counted per entry.
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
    /** Entries (participants and streams) the resyncs read back per second. */
    resyncEntriesPerSecond: number;
    /** Share of one Redis core: the commands, and the entries the resyncs' room reads return. */
    cpuShare: number;
    /** Bytes/s Redis sends: mostly the resyncs' room reads. */
    outBps: number;
  };
  controlPlane: {
    /** ms of CPU per join: the same for the first and the last (placement reads the nodes hash alone). */
    joinMs: number;
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
  const streamsJoining = streamsPerJoin(c);
  const roomEventsPublished =
    joinsPerSecond * (f.natsPublishedPerJoin + streamsJoining * f.natsPublishedPerStream);
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
  // Placement's HKEYS is one of the join's commands; its reply, a name per node carrying the room, is left out.
  const joinOps = joinsPerSecond * (f.redisCommandsPerJoin + streamsJoining * f.redisCommandsPerStream);
  const resyncs = edgesInRoom / (o.resyncMs / 1000);
  const resyncOps = resyncs * 3; // HGETALL participants, HGETALL streams, HKEYS nodes
  const opsPerSecond = heartbeatOps + sweepOps + joinOps + resyncOps;
  // Once everyone is in (the room as full as it gets), each resync returns every entry.
  const resyncEntriesPerSecond = resyncs * directoryEntriesOf(c);
  const cpuShare =
    opsPerSecond / f.redisOpsPerCoreSecond + (resyncEntriesPerSecond * f.redisUsPerEntry) / 1e6;
  const outBps = resyncEntriesPerSecond * f.directoryBytesPerEntry * 8;

  const joinMs = f.controlPlaneCpuPerJoinMs;
  const cores = (joinsPerSecond * joinMs) / 1000;
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
    redis: {
      heartbeatOps,
      sweepOps,
      joinOps,
      resyncOps,
      opsPerSecond,
      resyncEntriesPerSecond,
      cpuShare,
      outBps,
    },
    controlPlane: { joinMs, cores, replicasNeeded },
    edgeMainThread,
    edgeMainThreadShare,
  };
}
