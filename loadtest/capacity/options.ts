/**
 * The Kaskade options the model depends on, with the defaults the processes' config
 * schemas give them (edge/src/config.ts, control-plane/node-toolkit/option-groups.ts,
 * control-plane/service/config.ts). A conference may override any of them, as an
 * operator would in the environment.
 */
export interface MeshOptions {
  /** KASKADE_FANOUT_LIMIT: edges of the origin's region fed straight from it before a relay takes over. */
  fanoutLimit: number;
  /** KASKADE_HEARTBEAT_MS: how often every node (edge and relay) reports itself over NATS and refreshes Redis. */
  heartbeatMs: number;
  /** KASKADE_RESYNC_MS: how often each edge reads each of its rooms back from the directory. */
  resyncMs: number;
  /** KASKADE_SPEAKER_INTERVAL_MS: how often an edge where someone speaks sends the room its levels. */
  speakerIntervalMs: number;
  /** KASKADE_LIVENESS_SWEEP_MS: how often each control-plane replica reads every node's liveness. */
  livenessSweepMs: number;
  /** KASKADE_WORKER_MAX_CONSUMERS: consumer budget of one mediasoup worker (one worker per core). */
  workerMaxConsumers: number;
  /** KASKADE_MAX_CONSUMERS_PER_PARTICIPANT: streams one participant may receive at once. */
  maxConsumersPerParticipant: number;
  /** KASKADE_LAST_N_MAX: the largest last-N a participant may ask for. */
  lastNMax: number;
  /** KASKADE_NODE_CAPACITY: participants one edge takes (the model says what to set; undefined: no cap of its own). */
  nodeCapacity: number | undefined;
}

export const DEFAULT_OPTIONS: MeshOptions = {
  fanoutLimit: 4,
  heartbeatMs: 2000,
  resyncMs: 10_000,
  speakerIntervalMs: 250,
  livenessSweepMs: 500,
  workerMaxConsumers: 500,
  maxConsumersPerParticipant: 300,
  lastNMax: 25,
  nodeCapacity: undefined,
};

/** The environment variable of each option, for the report. */
export const OPTION_ENV: Record<keyof MeshOptions, string> = {
  fanoutLimit: 'KASKADE_FANOUT_LIMIT',
  heartbeatMs: 'KASKADE_HEARTBEAT_MS',
  resyncMs: 'KASKADE_RESYNC_MS',
  speakerIntervalMs: 'KASKADE_SPEAKER_INTERVAL_MS',
  livenessSweepMs: 'KASKADE_LIVENESS_SWEEP_MS',
  workerMaxConsumers: 'KASKADE_WORKER_MAX_CONSUMERS',
  maxConsumersPerParticipant: 'KASKADE_MAX_CONSUMERS_PER_PARTICIPANT',
  lastNMax: 'KASKADE_LAST_N_MAX',
  nodeCapacity: 'KASKADE_NODE_CAPACITY',
};

/**
 * The most SFU hops a stream takes from its publisher's edge to a viewer's
 * (edge/src/routing/distributionTree.ts): origin, the region's relay, the viewer's edge.
 * Relays take every stream straight from its origin (relay/service/RelayNode.ts), so the
 * tree never grows a level: what grows with the audience is each node's fan-out.
 */
export const MAX_TREE_DEPTH = 3;
