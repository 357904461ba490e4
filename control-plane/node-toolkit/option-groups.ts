import { hostname } from 'node:os';
import { SafeName, toSafeName } from '@kaskade/protocol';
import Type, { type TInteger, type TOptional, type TString } from 'typebox';
import { option } from './env-config.ts';

// The option groups the processes' config schemas are made of. An option more than
// one process takes is defined here once, so its variable, default and description
// are the same wherever it appears; each process spreads the groups it needs.

/** The host name as a node id: a FQDN's dots would split a NATS subject token. */
const defaultNodeId = () => toSafeName(hostname()) || 'node';

/** Options more than one process takes, defined once. */
export const commonOptions = {
  nodeId: (description: string) =>
    option(Type.String({ ...SafeName, default: defaultNodeId() }), {
      env: 'KASKADE_NODE_ID',
      description,
      defaultText: 'the hostname',
    }),
  region: (description: string) =>
    option(Type.String({ ...SafeName, default: 'local' }), { env: 'KASKADE_REGION', description }),
  /**
   * How the process reaches the NATS bus: the servers, TLS and one kind of credential.
   * Spread into a schema; busSettingsProblems checks the combination.
   */
  nats: (urlDescription = 'NATS server(s), comma-separated, nats:// or tls://') => ({
    natsUrl: option(Type.String({ minLength: 1, pattern: '^(nats|tls)://[^,]+(,(nats|tls)://[^,]+)*$' }), {
      env: 'KASKADE_NATS_URL',
      description: urlDescription,
    }),
    natsCaFile: Type.Optional(
      option(Type.String({ minLength: 1 }), {
        env: 'KASKADE_NATS_CA_FILE',
        description: "PEM file of the CA that signed the NATS server's certificate (implies TLS)",
      }),
    ),
    natsCertFile: Type.Optional(
      option(Type.String({ minLength: 1 }), {
        env: 'KASKADE_NATS_CERT_FILE',
        description:
          'PEM client certificate for NATS, if the server verifies clients (with KASKADE_NATS_KEY_FILE)',
      }),
    ),
    natsKeyFile: Type.Optional(
      option(Type.String({ minLength: 1 }), {
        env: 'KASKADE_NATS_KEY_FILE',
        description: 'PEM private key of the NATS client certificate',
      }),
    ),
    natsUser: Type.Optional(
      option(Type.String({ minLength: 1, maxLength: 256 }), {
        env: 'KASKADE_NATS_USER',
        description:
          'NATS user name (with KASKADE_NATS_PASSWORD); its permissions fix which node this process may speak as',
      }),
    ),
    natsPassword: Type.Optional(
      option(Type.String({ minLength: 1, maxLength: 1024 }), {
        env: 'KASKADE_NATS_PASSWORD',
        description: 'password of KASKADE_NATS_USER',
      }),
    ),
    natsToken: Type.Optional(
      option(Type.String({ minLength: 1, maxLength: 1024 }), {
        env: 'KASKADE_NATS_TOKEN',
        description:
          'NATS authentication token, instead of a user and password (nats-server has one token for all: no per-node permissions, so development only)',
      }),
    ),
    natsCredsFile: Type.Optional(
      option(Type.String({ minLength: 1 }), {
        env: 'KASKADE_NATS_CREDS_FILE',
        description: 'NATS .creds file (user JWT and nkey seed; instead of a user and password)',
      }),
    ),
    natsInsecure: option(Type.Boolean({ default: false }), {
      env: 'KASKADE_NATS_INSECURE',
      description:
        'development only: accept a NATS bus without TLS or without credentials (anyone reaching it could speak as any node)',
    }),
  }),
  redisUrl: (description: string) =>
    option(Type.String({ minLength: 1, pattern: '^rediss?://' }), {
      env: 'KASKADE_REDIS_URL',
      description: `${description}: redis:// or rediss:// (TLS), credentials as redis://user:password@host:port`,
    }),
  redisCaFile: () =>
    option(Type.String({ minLength: 1 }), {
      env: 'KASKADE_REDIS_CA_FILE',
      description:
        'PEM file of the CA that signed the Redis server certificate (rediss:// with a private CA)',
      defaultText: 'the system CAs',
    }),
  /** A room's state (issue 13: settings, bans, lobby, chat, breakouts) in Redis, and how it ends. */
  roomState: () => ({
    roomStateTtlSeconds: option(Type.Integer({ minimum: 60, maximum: 2_592_000, default: 86_400 }), {
      env: 'KASKADE_ROOM_STATE_TTL_SECONDS',
      description:
        "how long a room's state in Redis (lock, policies, bans, lobby, chat history, breakouts) lives after each write",
    }),
    roomStateGraceSeconds: option(Type.Integer({ minimum: 1, maximum: 86_400, default: 120 }), {
      env: 'KASKADE_ROOM_STATE_GRACE_SECONDS',
      description:
        "how long a room's state lives once no node carries the room (an edge restarting within it loses nothing)",
    }),
  }),
  heartbeatMs: () =>
    option(Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }), {
      env: 'KASKADE_HEARTBEAT_MS',
      description: 'how often the node reports itself over NATS',
    }),
  livenessTtlMs: () =>
    Type.Optional(
      option(Type.Integer({ minimum: 200, maximum: 600_000 }), {
        env: 'KASKADE_LIVENESS_TTL_MS',
        description:
          "how long this node's liveness in Redis lasts after each heartbeat; once it lapses the control plane declares the node dead (longer than KASKADE_HEARTBEAT_MS)",
        defaultText: '3 x KASKADE_HEARTBEAT_MS',
      }),
    ),
  pipeLingerMs: () =>
    option(Type.Integer({ minimum: 0, maximum: 600_000, default: 5000 }), {
      env: 'KASKADE_PIPE_LINGER_MS',
      description: 'how long a piped stream nobody downstream takes is kept before its pipe closes',
    }),
  /** How long a stop waits for the node to empty (edges: participants migrate; relays: edges reroute). */
  shutdownTimeoutMs: (description: string) =>
    option(Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000 }), {
      env: 'KASKADE_SHUTDOWN_TIMEOUT_MS',
      description,
    }),
  /**
   * mediasoup's keyFrameRequestDelay on the producers that feed viewers and pipes (an
   * edge's client producers, every node's pipe copies): key-frame requests for a stream
   * within this window become one, so a join storm reaches its publisher as a bounded
   * number of requests per hop instead of one per viewer.
   */
  keyFrameRequestDelayMs: () =>
    option(Type.Integer({ minimum: 0, maximum: 10_000, default: 1000 }), {
      env: 'KASKADE_KEYFRAME_REQUEST_DELAY_MS',
      description:
        'key-frame requests for a stream within this window are sent upstream as one (0 forwards each); bounds what a join storm asks of a publisher',
    }),
  pipeSilenceMs: () =>
    option(Type.Integer({ minimum: 100, maximum: 60_000, default: 1000 }), {
      env: 'KASKADE_PIPE_SILENCE_MS',
      description:
        'a pipe link whose streams should flow and that received no packet (RTP or RTCP) for this long marks its upstream suspect',
    }),
};

/** The media-metrics options every media node (edge, relay) takes, spread into its schema. */
export const mediaMetricsOptions = () => ({
  statsIntervalMs: option(Type.Integer({ minimum: 250, maximum: 600_000, default: 5000 }), {
    env: 'KASKADE_STATS_INTERVAL_MS',
    description: 'period of the media stats sampling loop (quality, bytes, worker CPU, load)',
  }),
  statsMaxPerRound: option(Type.Integer({ minimum: 1, maximum: 100_000, default: 500 }), {
    env: 'KASKADE_STATS_MAX_PER_ROUND',
    description: 'getStats() calls per sampling round at most; a larger node is visited over several rounds',
  }),
  maxBitrateBps: option(Type.Integer({ minimum: 1000, default: 1_000_000_000 }), {
    env: 'KASKADE_MAX_BITRATE_BPS',
    description: 'bits/s in or out this node is sized for: the bandwidth share of its load ratio',
  }),
});

/**
 * The operator API options (control-plane/node-toolkit/operator.ts) every process takes,
 * spread into its schema; `port` is the process's default, next to its public one.
 */
export const operatorOptions = (port: number) => ({
  operatorHost: option(Type.String({ minLength: 1, default: '127.0.0.1' }), {
    env: 'KASKADE_OPERATOR_HOST',
    description: 'address of the operator API (metrics, censuses, node and room views); keep it internal',
  }),
  operatorPort: option(Type.Integer({ minimum: 0, maximum: 65535, default: port }), {
    env: 'KASKADE_OPERATOR_PORT',
    description: 'port of the operator API (0 picks a free one)',
  }),
  operatorToken: option(Type.String({ minLength: 32 }), {
    env: 'KASKADE_OPERATOR_TOKEN',
    description:
      'bearer token the operator API requires (`Authorization: Bearer ...`), at least 32 characters',
  }),
  operatorPreviousToken: Type.Optional(
    option(Type.String({ minLength: 32 }), {
      env: 'KASKADE_OPERATOR_PREVIOUS_TOKEN',
      description: 'a token being rotated out, still accepted until removed (see SECURITY.md)',
    }),
  ),
});

/** A UDP port range option pair, e.g. KASKADE_PIPE_PORT_MIN / _MAX. */
export const portRangeOptions = <K extends string>(
  key: K,
  env: string,
  what: string,
  [min, max]: [number, number],
) =>
  ({
    [`${key}PortMin`]: option(Type.Integer({ minimum: 1024, maximum: 65535, default: min }), {
      env: `KASKADE_${env}_PORT_MIN`,
      description: `lowest UDP port of ${what}`,
    }),
    [`${key}PortMax`]: option(Type.Integer({ minimum: 1024, maximum: 65535, default: max }), {
      env: `KASKADE_${env}_PORT_MAX`,
      description: `highest UDP port of ${what}`,
    }),
  }) as Record<`${K}PortMin` | `${K}PortMax`, TInteger>;

/** The log level option every process takes. */
export const logLevelOption = () =>
  option(
    Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      {
        default: 'info',
      },
    ),
    { env: 'KASKADE_LOG_LEVEL', description: 'pino log level' },
  );

/**
 * The public listener of a process: its address and port, under `KASKADE_HTTP_*` (or
 * the process's own, e.g. `KASKADE_CP_HTTP_*`); `serving` says what listens there.
 */
export const httpOptions = (port: number, serving: string, env = 'HTTP') => ({
  httpHost: option(Type.String({ minLength: 1, default: '127.0.0.1' }), {
    env: `KASKADE_${env}_HOST`,
    description: `address ${serving} listens on`,
  }),
  httpPort: option(Type.Integer({ minimum: 0, maximum: 65535, default: port }), {
    env: `KASKADE_${env}_PORT`,
    description: `port of ${serving} (0 picks a free one)`,
  }),
});

/** Where a media node's transports listen and the address other ends reach them at. */
export const rtcListenOptions = (transports: string) => ({
  rtcListenIp: option(Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$', default: '127.0.0.1' }), {
    env: 'KASKADE_RTC_LISTEN_IP',
    description: `IPv4 address ${transports} listen on`,
  }),
  rtcAnnouncedAddress: Type.Optional(
    option(Type.String({ minLength: 1, maxLength: 253 }), {
      env: 'KASKADE_RTC_ANNOUNCED_ADDRESS',
      description: `address announced for ${transports} (public IP or DNS name behind NAT); defaults to the listen IP`,
    }),
  ),
});

/**
 * Where the pipe transports listen and what they announce: the WebRTC address unless
 * the pipes have their own (media nodes reach each other inside the cluster, at pod
 * addresses, while participants come through the host's address).
 */
export function pipeAddresses(c: {
  rtcListenIp: string;
  rtcAnnouncedAddress?: string | undefined;
  pipeListenIp?: string | undefined;
  pipeAnnouncedAddress?: string | undefined;
}): { listenIp: string; announcedAddress: string | undefined } {
  if (c.pipeListenIp === undefined)
    return { listenIp: c.rtcListenIp, announcedAddress: c.pipeAnnouncedAddress ?? c.rtcAnnouncedAddress };
  return { listenIp: c.pipeListenIp, announcedAddress: c.pipeAnnouncedAddress };
}

/** The UDP ports of the pipe transports between media nodes (edges and relays), and their sockets' buffers. */
export const pipePortOptions = () => ({
  ...portRangeOptions('pipe', 'PIPE', 'pipe transports between media nodes', [41000, 42999]),
  pipeListenIp: Type.Optional(
    option(Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$' }), {
      env: 'KASKADE_PIPE_LISTEN_IP',
      description:
        'IPv4 address the pipe transports listen on when the other media nodes reach this one at another address than participants do (a pod IP in Kubernetes); unset: KASKADE_RTC_LISTEN_IP',
    }),
  ),
  pipeAnnouncedAddress: Type.Optional(
    option(Type.String({ minLength: 1, maxLength: 253 }), {
      env: 'KASKADE_PIPE_ANNOUNCED_ADDRESS',
      description:
        'address announced to other media nodes for pipe transports; unset: the pipe listen IP when KASKADE_PIPE_LISTEN_IP is set, else KASKADE_RTC_ANNOUNCED_ADDRESS',
    }),
  ),
  pipeSocketBufferBytes: option(Type.Integer({ minimum: 65_536, maximum: 67_108_864, default: 2_097_152 }), {
    env: 'KASKADE_PIPE_SOCKET_BUFFER_BYTES',
    description:
      "send and receive buffer of each pipe transport's UDP socket (the kernel caps it at net.core.rmem_max and wmem_max); one link carries a room's every stream, and the system's default buffer overflows in a burst while the worker is busy",
  }),
});

type TokenKeys<K extends string> = Record<
  `${K}Secret` | `${K}PreviousSecret` | `${K}PublicKey`,
  TOptional<TString>
>;

/**
 * The keys a process verifies join tokens with, under `KASKADE_<env>_*`: an HS256
 * secret or an ES256 public key (tokenKeyProblems requires one), and a secret being
 * rotated out. `tokens` names whose tokens they verify.
 */
export const tokenKeyOptions = <K extends string>(key: K, env: string, tokens: string) =>
  ({
    [`${key}Secret`]: Type.Optional(
      option(Type.String({ minLength: 32 }), {
        env: `KASKADE_${env}_SECRET`,
        description: `HS256 secret of ${tokens} (at least 32 characters)`,
      }),
    ),
    [`${key}PreviousSecret`]: Type.Optional(
      option(Type.String({ minLength: 32 }), {
        env: `KASKADE_${env}_PREVIOUS_SECRET`,
        description: `an HS256 secret of ${tokens} being rotated out, still accepted until removed (see SECURITY.md)`,
      }),
    ),
    [`${key}PublicKey`]: Type.Optional(
      option(Type.String({ minLength: 1, pattern: 'BEGIN PUBLIC KEY' }), {
        env: `KASKADE_${env}_PUBLIC_KEY`,
        description: `ES256 public key (SPKI PEM) of ${tokens}; this or the secret is required`,
      }),
    ),
  }) as TokenKeys<K>;

/** An ES256 public key being rotated out, beside tokenKeyOptions (same key and env). */
export const previousPublicKeyOption = (env: string, tokens: string) =>
  Type.Optional(
    option(Type.String({ minLength: 1, pattern: 'BEGIN PUBLIC KEY' }), {
      env: `KASKADE_${env}_PREVIOUS_PUBLIC_KEY`,
      description: `an ES256 public key of ${tokens} being rotated out, still accepted until removed`,
    }),
  );
