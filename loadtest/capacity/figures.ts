/**
 * The figures the capacity model multiplies out: each measured on this machine by a
 * benchmark (the command, date and machine are in MEASURED_ON and each figure's source)
 * or assumed (the reasoning is its source). Re-run the commands and update the values
 * when the code's costs change; test/unit/capacity-model.test.ts keeps deploy/README's
 * sizing tables in step with what the model prints from them.
 */

export interface Figure {
  value: number;
  unit: string;
  basis: 'measured' | 'assumed' | 'code';
  /** The command that measured it and how the value follows, or why it is assumed. */
  source: string;
}

export const MEASURED_ON = {
  date: '2026-12-01',
  machine:
    '2 cores (AMD EPYC, virtualised) shared by every process of the mesh and the bots; Node 24, mediasoup 3.27.1, nats-server 2.9.10, redis-server 7.0.15',
  commands: [
    'node loadtest/lecture-bench.ts --regions 2 --edges 2 --relays 1 --viewers 60 --seconds 10',
    'node loadtest/link-layers-bench.ts --viewers 10 --seconds 8',
    'node loadtest/capacity/control-bench.ts --viewers 40 --seconds 8',
    'node --expose-gc loadtest/capacity/memory-bench.ts --transports 200 --consumers 4000',
  ],
  /**
   * Each run under flock /tmp/kaskade-heavy.lock, one at a time, between 23:24 and 23:54 UTC;
   * the control bench again at 00:12 (its repeat figures are in the sources: the values kept
   * are the first, busier run's, the more conservative) and at 00:19, after placement came to
   * read only the room's nodes (main f44ff59): the join's Redis commands are that run's.
   */
  when: '2026-12-01T23:24Z/2026-12-02T00:20Z',
};

const LECTURE = 'node loadtest/lecture-bench.ts --regions 2 --edges 2 --relays 1 --viewers 60 --seconds 10';
const LINK = 'node loadtest/link-layers-bench.ts --viewers 10 --seconds 8';
const CONTROL = 'node loadtest/capacity/control-bench.ts --viewers 40 --seconds 8';
const MEMORY = 'node --expose-gc loadtest/capacity/memory-bench.ts --transports 200 --consumers 4000';
const RECORDING =
  "recordedByteRates(prepareRecordedMedia(...)) of @kaskade/load-tools: the benches' VP8 recording";

export const FIGURES = {
  cpuPerForwardedPacketUs: {
    value: 15.6,
    unit: 'µs of SFU CPU per RTP packet sent to a viewer',
    basis: 'measured',
    source: `${LECTURE}: single-edge phase, 2.1 CPU s over 125,760 packets (95,760 video + 30,000 audio) to 60 plain-RTP viewers in 10 s, less the idle edge's own 0.14 s (nodeBaseCores); the control bench's steady room (4 edges, 40 viewers of two 50-packet/s streams) gave 27 µs, fixed per-consumer costs spread over fewer packets`,
  },
  webrtcCostFactor: {
    value: 1.5,
    unit: 'x the plain-RTP cost per packet',
    basis: 'assumed',
    source:
      "the bots receive plain RTP; a browser viewer adds SRTP encryption of every packet, DTLS/ICE and transport-wide congestion feedback. Not measured here: mediasoup's scalability notes put one worker at typically over ~500 consumers; the plain-RTP single edge here did 291 viewers (582 consumers) a core, and 1.5x brings that to ~390",
  },
  cpuPerPipeHopPacketUs: {
    value: 31.2,
    unit: 'µs of CPU per packet per pipe hop (sending and receiving node together)',
    basis: 'assumed',
    source: `a hop is one send like a viewer's plus one receive like a publisher's: 2 x cpuPerForwardedPacketUs. Cross-check: ${LINK} put the sending edge at +0.4 % of a core for the 190 packets/s of layers 0 + 2 (21 µs a packet, +-1 % noise)`,
  },
  nodeBaseCores: {
    value: 0.013,
    unit: 'cores an idle media node uses (stats loop, heartbeats, one worker)',
    basis: 'measured',
    source: `${CONTROL}: idle phase, edges 0.056 + relays 0.022 cores over 6 nodes`,
  },
  roomNodeCores: {
    value: 0.02,
    unit: 'cores a media node spends carrying a room besides forwarding (routers, level observers, stats, mirror)',
    basis: 'measured',
    source: `${LECTURE}: cascade minus single-edge CPU (1.9 s) less the hops (8,320 hop packets x cpuPerPipeHopPacketUs) and five more idle nodes, over 10 s and the 5 more nodes`,
  },
  videoLayerBytesPerSecond: {
    value: [19_845, 65_020, 159_640],
    unit: 'bytes/s of one camera per simulcast layer (180p, 360p, 720p), RTP headers included',
    basis: 'measured',
    source: `${RECORDING}; over a link ${LINK} measured 165 kb/s for layer 0 and 1,394 kb/s for layers 0 + 2`,
  },
  videoLayerPacketsPerSecond: {
    value: [31.7, 70, 158.1],
    unit: 'RTP packets/s of one camera per simulcast layer',
    basis: 'measured',
    source: `${RECORDING} (1,100-byte payloads); ${LECTURE} measured 159.6 packets/s of 720p per viewer`,
  },
  audioBytesPerSecond: {
    value: 6_586,
    unit: 'bytes/s of one unmuted microphone (Opus, 20 ms frames)',
    basis: 'measured',
    source: RECORDING,
  },
  audioPacketsPerSecond: { value: 50, unit: 'packets/s', basis: 'code', source: '20 ms Opus frames' },
  memoryPerConsumerKb: {
    value: 11.2,
    unit: 'kB of memory per consumer (mediasoup worker 7.0 + its Node objects 4.2), paused',
    basis: 'measured',
    source: `${MEMORY}: worker resident set and Node heap growth over 4,000 paused consumers (a flowing video consumer adds its retransmission buffer)`,
  },
  consumeCpuMs: {
    value: 0.8,
    unit: 'ms of CPU per consume (mediasoup: its Node side 0.73, the worker 0.07)',
    basis: 'measured',
    source: `${MEMORY}: CPU over 4,000 consumes; the edge's own handling of the request (parse, checks, answer) comes on top, so this is a floor`,
  },
  heartbeatBytes: {
    value: 242,
    unit: 'bytes of one heartbeat on the bus',
    basis: 'measured',
    source: `${CONTROL}: wiretap, mean heartbeat payload (one room: rooms lists grow it by the room names)`,
  },
  redisCommandsPerHeartbeat: {
    value: 4,
    unit: 'Redis commands per heartbeat of a node carrying no room',
    basis: 'measured',
    source: `${CONTROL}: idle phase, 20.1 commands/s less 8 of the sweeps, over 3 heartbeats/s (the liveness script: EVALSHA, TIME, ZADD, EXPIRE; Redis counts commands inside scripts and MULTI)`,
  },
  redisCommandsPerHeartbeatRoom: {
    value: 8.8,
    unit: 'more Redis commands per heartbeat per room the edge carries',
    basis: 'measured',
    source: `${CONTROL}: steady phase (38.9/s) minus idle (20.1/s) minus resync (1.2/s), over the 2 heartbeats/s of the 4 edges carrying the room (RoomIndex.refresh: MULTI, an EXPIRE per room key, ZADD, ZREMRANGEBYSCORE, EXEC; the 00:19 run: 8.2)`,
  },
  redisCommandsPerSweep: {
    value: 4,
    unit: 'Redis commands per liveness sweep of one control-plane replica',
    basis: 'code',
    source: 'NodeLiveness.read: MULTI, TIME, ZRANGE WITHSCORES, EXEC',
  },
  redisCommandsPerJoin: {
    value: 29,
    unit: 'Redis commands per join that publishes nothing (a lecture viewer), control plane and edge',
    basis: 'measured',
    source: `${CONTROL}, the 00:19 run (placement reading the nodes hash alone): joins phase, second half (the first adds pipe set-ups), 31.5 commands a join less the heartbeats' and sweeps' 2.6 in the same 1.4 s (steady phase's 37.7/s): 28.9. By command, as the code issues them: the control plane's admission (HGETALL settings, 2 SISMEMBER, 2 HMGET) and placement's HKEYS of the nodes hash; the edge's single-use token (SET NX), admission again, the participant's MULTI (3 HSET, 4 EXPIRE) EXEC and RoomIndex.add's MULTI (SADD, EXPIRE, ZADD, 2 EXPIRE) EXEC: 28. The viewers join without publishing, as a lecture's audience does; a lecture token changes none of it (Stage only decides who is announced over signaling). Before f44ff59 placement read the room whole (2 HGETALL + HKEYS), 36.8 commands with the background in`,
  },
  redisCommandsPerStream: {
    value: 8,
    unit: 'more Redis commands per stream a join publishes (a meeting participant: its microphone, muted or not, and its camera)',
    basis: 'code',
    source:
      "RoomEntries.addStream: MULTI, HSET streams, HSET nodes, an EXPIRE per room key (4), EXEC; a muted microphone is produced paused, in the same entry (the SDK's appData.paused)",
  },
  redisCommandsPerLeave: {
    value: 7.6,
    unit: 'Redis commands per leave',
    basis: 'measured',
    source: `${CONTROL}: leave phase, 7.6 commands a leave (the 00:19 run: 6.9)`,
  },
  natsPublishedPerJoin: {
    value: 1,
    unit: 'room events published per join (participantJoined), each delivered to every edge carrying the room',
    basis: 'measured',
    source: `${CONTROL}: wiretap, one room:participantJoined a join, delivered 3 times with 4 edges carrying the room (every other edge). Every join, the audience's too: Room.join tells RoomSync, which writes Directory.addParticipant and publishes; Stage.announced only decides whom the edge notifies over signaling`,
  },
  natsPublishedPerStream: {
    value: 1,
    unit: 'room events published per stream a join publishes (streamAdded), delivered like participantJoined',
    basis: 'code',
    source: 'RoomSync: streamAdded after its directory write, one per producer',
  },
  controlPlaneCpuPerJoinMs: {
    value: 7.5,
    unit: 'ms of control-plane CPU per join, whatever the room size (placement reads only the nodes hash)',
    basis: 'measured',
    source: `${CONTROL}: joins phase, second half, control-plane CPU over joins (token checks, admission, placement, the edge token; then the room read of 30 entries was 0.2 ms of it; the repeat: 6 ms; the 00:19 run, reading the nodes hash alone: 4 ms, 3.2 less the idle process's own)`,
  },
  edgeCpuPerJoinMs: {
    value: 25,
    unit: 'ms of edge CPU per join (signaling, transport, two consumers, directory writes)',
    basis: 'measured',
    source: `${CONTROL}: joins phase, second half: edges' CPU 44.5 ms a join less 20 ms of forwarding to the viewers already in (steady phase's rate)`,
  },
  directoryReadUsPerEntry: {
    value: 6.9,
    unit: 'µs of reader CPU per entry (participant or stream) of a room read from the directory (parse and validate)',
    basis: 'measured',
    source: `${CONTROL}: a scratch room of 20,000 entries, Directory.room() 5 times: 138 ms of reader CPU a read (2,000 entries: 15.7 µs an entry, JIT not warm yet; the repeats at 00:12 and 00:19 UTC: 4.4 and 5.0 µs)`,
  },
  redisUsPerEntry: {
    value: 1.23,
    unit: 'µs of Redis CPU per entry (participant or stream) returned by HGETALL',
    basis: 'measured',
    source: `${CONTROL}: scratch rooms, Redis CPU per read over entries (20,000: 24.7 ms; 2,000: 3.1 ms; the repeats: 0.86 and 0.91 µs an entry)`,
  },
  directoryBytesPerEntry: {
    value: 153,
    unit: 'bytes Redis sends per entry of a room read (participant or stream)',
    basis: 'measured',
    source: `${CONTROL}: scratch rooms, Redis output bytes per read over entries (the 00:19 run: 153.5); the joins' growth between the halves gives 166; a stream entry (room:streamAdded, 208 bytes on the bus) is about as long`,
  },
  busDecodeUs: {
    value: 5,
    unit: 'µs to parse and validate one bus message (heartbeat) on its receiver',
    basis: 'measured',
    source: `${CONTROL}: a captured heartbeat, JSON.parse + compiled schema check, 20,000 times: 5.0 µs (participantJoined: 4.1 µs; the repeats: 1.7 and 1.5, 2.6 and 2.3 µs)`,
  },
  redisOpsPerCoreSecond: {
    value: 100_000,
    unit: 'simple Redis commands one Redis (one core, no pipelining) serves per second',
    basis: 'assumed',
    source:
      "Redis's documented redis-benchmark order of magnitude for GET/SET without pipelining on one core",
  },
  natsDeliveriesPerSecond: {
    value: 3_000_000,
    unit: 'small messages one nats-server delivers per second',
    basis: 'assumed',
    source: "nats bench's order of magnitude for small messages fanned out on one server (several million/s)",
  },
  signalingSendUs: {
    value: 15,
    unit: "µs of an edge's main thread per notification sent to one participant",
    basis: 'assumed',
    source: 'JSON encode and one WebSocket frame, same order as decoding a bus message (busDecodeUs)',
  },
} satisfies Record<string, Figure | (Omit<Figure, 'value'> & { value: number[] })>;

export type Figures = { [K in keyof typeof FIGURES]: (typeof FIGURES)[K]['value'] };

/** The values alone, as the model takes them (a test or a what-if passes others). */
export function figureValues(): Figures {
  return Object.fromEntries(Object.entries(FIGURES).map(([k, f]) => [k, f.value])) as Figures;
}
