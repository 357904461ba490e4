import { availableParallelism } from 'node:os';
import {
  busSettingsProblems,
  ConfigError,
  commonOptions,
  httpOptions,
  listenerProblems,
  livenessProblems,
  loadEnvConfig,
  logLevelOption,
  mediaMetricsOptions,
  operatorOptions,
  option,
  pipePortOptions,
  pipePortRange,
  portRangeOptions,
  portRangeProblems,
  redisCaProblems,
  rtcListenOptions,
  Type,
  tokenKeyOptions,
  tokenKeyProblems,
} from '@kaskade/node-toolkit';
import { MAX_CHAT_TEXT } from '@kaskade/protocol';
import type { Static } from 'typebox';

/** The edge joins the mesh only when given a NATS URL, so the URL is optional here. */
function meshBusOptions() {
  const { natsUrl, ...rest } = commonOptions.nats(
    'NATS server(s), comma-separated, nats:// or tls://; set to join the mesh (needs KASKADE_REDIS_URL too)',
  );
  return { natsUrl: Type.Optional(natsUrl), ...rest };
}

export const EdgeConfigSchema = Type.Object({
  nodeId: commonOptions.nodeId('name of this node in logs and in the mesh'),
  ...httpOptions(7880, 'the HTTP/WebSocket server'),
  workers: option(Type.Integer({ minimum: 1, maximum: 256, default: availableParallelism() }), {
    env: 'KASKADE_WORKERS',
    description: 'mediasoup workers',
    defaultText: 'one per core',
  }),
  ...rtcListenOptions('the WebRTC servers and the pipe transports'),
  rtcPortBase: option(Type.Integer({ minimum: 1024, maximum: 65000, default: 40000 }), {
    env: 'KASKADE_RTC_PORT_BASE',
    description: 'worker i listens on UDP and TCP port base+i (one port pair per worker)',
  }),
  rtcEnableTcp: option(Type.Boolean({ default: true }), {
    env: 'KASKADE_RTC_ENABLE_TCP',
    description: 'also accept ICE over TCP, for networks that block UDP',
  }),
  iceConsentTimeoutSeconds: option(Type.Integer({ minimum: 0, maximum: 300, default: 30 }), {
    env: 'KASKADE_ICE_CONSENT_TIMEOUT_S',
    description:
      'seconds without ICE consent from a client before its transport counts as disconnected (0: never; clients check every ~5 s)',
  }),
  allowPlainRtp: option(Type.Boolean({ default: false }), {
    env: 'KASKADE_ALLOW_PLAIN_RTP',
    description:
      'offer unencrypted plain RTP transports to clients (media bots, load tests); trusted networks only',
  }),
  ...portRangeOptions(
    'plain',
    'PLAIN',
    'plain RTP transports (with KASKADE_ALLOW_PLAIN_RTP)',
    [43000, 43999],
  ),
  ...pipePortOptions(),
  ...tokenKeyOptions('jwt', 'JWT', 'join tokens'),
  workerMaxConsumers: option(Type.Integer({ minimum: 1, default: 500 }), {
    env: 'KASKADE_WORKER_MAX_CONSUMERS',
    description: "consumer budget of one worker; a room past it spreads to the node's next worker",
  }),
  roomEmptyGraceMs: option(Type.Integer({ minimum: 0, maximum: 3_600_000, default: 10_000 }), {
    env: 'KASKADE_ROOM_EMPTY_GRACE_MS',
    description: 'how long an empty room keeps its routers before it closes',
  }),
  speakerIntervalMs: option(Type.Integer({ minimum: 250, maximum: 5000, default: 250 }), {
    env: 'KASKADE_SPEAKER_INTERVAL_MS',
    description:
      'how often microphone levels are averaged and, while someone speaks, sent to the other edges of the room',
  }),
  speakerThresholdDbov: option(Type.Integer({ minimum: -127, maximum: 0, default: -70 }), {
    env: 'KASKADE_SPEAKER_THRESHOLD_DBOV',
    description: 'average microphone level (dBov) from which a participant counts as speaking',
  }),
  speakerMarginDb: option(Type.Integer({ minimum: 0, maximum: 127, default: 6 }), {
    env: 'KASKADE_SPEAKER_MARGIN_DB',
    description: 'how much louder than the dominant speaker another must be to take over (no flapping)',
  }),
  speakerHoldMs: option(Type.Integer({ minimum: 0, maximum: 60_000, default: 750 }), {
    env: 'KASKADE_SPEAKER_HOLD_MS',
    description: 'how long a dominant speaker who paused keeps the floor against quiet challengers',
  }),
  joinTimeoutMs: option(Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }), {
    env: 'KASKADE_JOIN_TIMEOUT_MS',
    description: 'a socket that has not joined by then is closed',
  }),
  maxMessageBytes: option(Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 65_536 }), {
    env: 'KASKADE_MAX_MESSAGE_BYTES',
    description: 'largest signaling message accepted; larger ones get MESSAGE_TOO_LARGE',
  }),
  tokenMaxTtlSeconds: option(Type.Integer({ minimum: 60, maximum: 31_536_000, default: 86_400 }), {
    env: 'KASKADE_TOKEN_MAX_TTL_S',
    description: 'join tokens living longer than this (exp minus iat) are refused',
  }),
  wsMaxBufferedBytes: option(Type.Integer({ minimum: 65_536, maximum: 1_073_741_824, default: 1_048_576 }), {
    env: 'KASKADE_WS_MAX_BUFFERED_BYTES',
    description: 'a socket whose unsent output passes this is closed (4413): a client that does not read',
  }),
  wsRequestsPerSecond: option(Type.Number({ minimum: 0.1, maximum: 100_000, default: 50 }), {
    env: 'KASKADE_WS_REQUESTS_PER_S',
    description: 'requests per second one socket may make; the excess is answered RATE_LIMITED',
  }),
  wsRequestBurst: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000 }), {
    env: 'KASKADE_WS_REQUEST_BURST',
    description: 'requests one socket may make at once above its rate (a join into a big room)',
  }),
  wsMaxMessagesBeforeJoin: option(Type.Integer({ minimum: 2, maximum: 1000, default: 16 }), {
    env: 'KASKADE_WS_MAX_MESSAGES_BEFORE_JOIN',
    description: 'messages a socket may send before it has joined; past them it is closed (4400)',
  }),
  wsMaxPerAddress: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000 }), {
    env: 'KASKADE_WS_MAX_PER_ADDRESS',
    description:
      'signaling sockets one source address may hold on this edge (429 past it); generous: a campus is one NAT',
  }),
  maxConsumersPerParticipant: option(Type.Integer({ minimum: 1, maximum: 100_000, default: 300 }), {
    env: 'KASKADE_MAX_CONSUMERS_PER_PARTICIPANT',
    description: 'streams one participant may receive at once',
  }),
  lastNMax: option(Type.Integer({ minimum: 0, maximum: 1000, default: 25 }), {
    env: 'KASKADE_LAST_N_MAX',
    description: 'largest last-N a participant may ask for (setLastN): the cameras the edge forwards to it',
  }),
  consumesPerSecond: option(Type.Number({ minimum: 0.1, maximum: 100_000, default: 50 }), {
    env: 'KASKADE_CONSUMES_PER_S',
    description: 'consume requests per second per participant (RATE_LIMITED past it)',
  }),
  consumeBurst: option(Type.Integer({ minimum: 1, maximum: 100_000, default: 300 }), {
    env: 'KASKADE_CONSUME_BURST',
    description: 'consume requests one participant may make at once (joining a room with many streams)',
  }),
  restartIcePerSecond: option(Type.Number({ minimum: 0.01, maximum: 1000, default: 0.5 }), {
    env: 'KASKADE_RESTART_ICE_PER_S',
    description: 'ICE restarts per second per participant (RATE_LIMITED past it)',
  }),
  restartIceBurst: option(Type.Integer({ minimum: 1, maximum: 1000, default: 10 }), {
    env: 'KASKADE_RESTART_ICE_BURST',
    description: 'ICE restarts one participant may make at once',
  }),
  chatMaxChars: option(Type.Integer({ minimum: 1, maximum: MAX_CHAT_TEXT, default: MAX_CHAT_TEXT }), {
    env: 'KASKADE_CHAT_MAX_CHARS',
    description: 'longest chat message taken (characters); longer ones get MESSAGE_TOO_LARGE',
  }),
  chatHistoryMessages: option(Type.Integer({ minimum: 1, maximum: 10_000, default: 200 }), {
    env: 'KASKADE_CHAT_HISTORY_MESSAGES',
    description: 'messages each chat channel keeps in Redis for late joiners (older ones drop out)',
  }),
  chatMessagesPerSecond: option(Type.Number({ minimum: 0.01, maximum: 1000, default: 1 }), {
    env: 'KASKADE_CHAT_MESSAGES_PER_S',
    description: 'chat messages per second one participant may send (RATE_LIMITED past it)',
  }),
  chatMessageBurst: option(Type.Integer({ minimum: 1, maximum: 1000, default: 5 }), {
    env: 'KASKADE_CHAT_MESSAGE_BURST',
    description: 'chat messages one participant may send at once above its rate',
  }),
  shutdownTimeoutMs: commonOptions.shutdownTimeoutMs(
    'on SIGTERM or POST /v1/drain, how long participants have to migrate or leave before the rest are closed',
  ),
  region: commonOptions.region(
    'region this node serves; placement prefers edges in the region a participant asks for',
  ),
  ...meshBusOptions(),
  redisUrl: Type.Optional(commonOptions.redisUrl('Redis holding the room directory (mesh mode)')),
  redisCaFile: Type.Optional(commonOptions.redisCaFile()),
  ...commonOptions.roomState(),
  lobbyWaitMaxSeconds: option(Type.Integer({ minimum: 1, maximum: 86_400, default: 900 }), {
    env: 'KASKADE_LOBBY_WAIT_MAX_SECONDS',
    description:
      'how long a join may wait in the lobby for a moderator (then it fails UNAVAILABLE and leaves the queue)',
  }),
  publicUrl: Type.Optional(
    option(Type.String({ minLength: 1, pattern: '^https?://' }), {
      env: 'KASKADE_PUBLIC_URL',
      description: "URL clients reach this edge's signaling at, as the control plane hands it out",
      defaultText: 'the listen address',
    }),
  ),
  capacity: option(Type.Integer({ minimum: 1, default: 500 }), {
    env: 'KASKADE_NODE_CAPACITY',
    description: 'participants this edge takes before placement sends newcomers elsewhere',
  }),
  heartbeatMs: commonOptions.heartbeatMs(),
  livenessTtlMs: commonOptions.livenessTtlMs(),
  resyncMs: option(Type.Integer({ minimum: 500, maximum: 600_000, default: 10_000 }), {
    env: 'KASKADE_RESYNC_MS',
    description: 'how often each room is compared with the directory (repairs missed events)',
  }),
  pipeLingerMs: commonOptions.pipeLingerMs(),
  pipeSilenceMs: commonOptions.pipeSilenceMs(),
  keyFrameRequestDelayMs: commonOptions.keyFrameRequestDelayMs(),
  pipeFirstPacketTimeoutMs: option(Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }), {
    env: 'KASKADE_PIPE_FIRST_PACKET_TIMEOUT_MS',
    description:
      'how long a stream moving to another upstream waits for its first packet before the move is given up',
  }),
  pipeSupersededMs: option(Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }), {
    env: 'KASKADE_PIPE_SUPERSEDED_MS',
    description:
      "how long the old copy of a stream that moved to another upstream is kept for its viewers' move",
  }),
  fanoutLimit: option(Type.Integer({ minimum: 1, maximum: 1000, default: 4 }), {
    env: 'KASKADE_FANOUT_LIMIT',
    description: "edges of the origin's own region fed straight from it before a relay takes over",
  }),
  directoryTtlSeconds: option(Type.Integer({ minimum: 5, maximum: 86_400, default: 60 }), {
    env: 'KASKADE_DIRECTORY_TTL_S',
    description: 'directory keys expire unless refreshed within this time (crash clean-up)',
  }),
  ...mediaMetricsOptions(),
  ...operatorOptions(7881),
  logLevel: logLevelOption(),
});
export type EdgeConfig = Static<typeof EdgeConfigSchema>;

export function loadEdgeConfig(env: Record<string, string | undefined> = process.env): EdgeConfig {
  const config = loadEnvConfig(EdgeConfigSchema, env);
  if (config.natsUrl && !config.redisUrl) {
    throw new ConfigError([
      'KASKADE_REDIS_URL is required with KASKADE_NATS_URL (the mesh keeps its directory in Redis)',
    ]);
  }
  const problems = [
    ...tokenKeyProblems(config, 'jwt', 'JWT'),
    ...(config.natsUrl ? busSettingsProblems({ ...config, natsUrl: config.natsUrl }) : []),
    ...listenerProblems(config),
    ...redisCaProblems(config.redisUrl, config.redisCaFile),
    ...livenessProblems(config),
    ...portRangeProblems([
      {
        name: 'KASKADE_RTC_PORT_BASE + KASKADE_WORKERS',
        min: config.rtcPortBase,
        max: config.rtcPortBase + config.workers - 1,
      },
      pipePortRange(config),
      ...(config.allowPlainRtp
        ? [{ name: 'KASKADE_PLAIN_PORT_MIN/MAX', min: config.plainPortMin, max: config.plainPortMax }]
        : []),
    ]),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
