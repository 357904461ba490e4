import {
  busSettingsProblems,
  ConfigError,
  commonOptions,
  httpOptions,
  listenerProblems,
  loadEnvConfig,
  logLevelOption,
  operatorOptions,
  option,
  previousPublicKeyOption,
  redisCaProblems,
  Type,
  tokenKeyOptions,
  tokenKeyProblems,
} from '@kaskade/node-toolkit';
import { SAFE_NAME_PATTERN } from '@kaskade/protocol';
import type { Static } from 'typebox';

export const ControlPlaneConfigSchema = Type.Object({
  nodeId: commonOptions.nodeId('name of this control-plane replica in metrics and logs'),
  ...httpOptions(7800, 'the control-plane API', 'CP_HTTP'),
  ...commonOptions.nats(),
  redisUrl: commonOptions.redisUrl('Redis holding the room directory'),
  redisCaFile: Type.Optional(commonOptions.redisCaFile()),
  ...commonOptions.roomState(),
  ...tokenKeyOptions('appJwt', 'APP_JWT', "the conference application's join tokens"),
  appJwtPreviousPublicKey: previousPublicKeyOption('APP_JWT', "the conference application's join tokens"),
  edgeJwtSecret: option(Type.String({ minLength: 32 }), {
    env: 'KASKADE_JWT_SECRET',
    description: 'HS256 secret the edge tokens are signed with (the edges verify with it)',
  }),
  edgeTokenTtlSeconds: option(Type.Integer({ minimum: 5, maximum: 3600, default: 60 }), {
    env: 'KASKADE_EDGE_TOKEN_TTL_S',
    description: 'lifetime of an edge token (it is used at once)',
  }),
  edgeUrls: Type.Optional(
    option(
      Type.String({
        pattern: `^${SAFE_NAME_PATTERN}=https?://[^,\\s]+(,${SAFE_NAME_PATTERN}=https?://[^,\\s]+)*$`,
      }),
      {
        env: 'KASKADE_EDGE_URLS',
        description:
          'the URL clients are sent to for each edge, e.g. edge-eu-1=https://eu1.example.org,...; when set, edges not listed are never placed (unset: the URL an edge announces on its own authenticated heartbeat subject)',
      },
    ),
  ),
  appTokenMaxTtlSeconds: option(Type.Integer({ minimum: 60, maximum: 31_536_000, default: 86_400 }), {
    env: 'KASKADE_APP_TOKEN_MAX_TTL_S',
    description: 'application tokens living longer than this (exp minus iat, or minus now) are refused',
  }),
  maxBodyBytes: option(Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 16_384 }), {
    env: 'KASKADE_CP_MAX_BODY_BYTES',
    description: 'largest request body accepted; larger ones get 413 MESSAGE_TOO_LARGE',
  }),
  joinsPerSecondPerAddress: option(Type.Number({ minimum: 0.1, maximum: 1_000_000, default: 50 }), {
    env: 'KASKADE_JOINS_PER_S_PER_ADDRESS',
    description: 'joins per second one source address may ask for (429 past it); a campus is one NAT',
  }),
  joinBurstPerAddress: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 500 }), {
    env: 'KASKADE_JOIN_BURST_PER_ADDRESS',
    description: 'joins one source address may ask for at once (a lecture starting)',
  }),
  joinsPerSecondPerIdentity: option(Type.Number({ minimum: 0.01, maximum: 1000, default: 1 }), {
    env: 'KASKADE_JOINS_PER_S_PER_IDENTITY',
    description: 'joins per second with one verified identity (a replayed token; reconnects stay well below)',
  }),
  joinBurstPerIdentity: option(Type.Integer({ minimum: 1, maximum: 10_000, default: 10 }), {
    env: 'KASKADE_JOIN_BURST_PER_IDENTITY',
    description: 'joins one identity may ask for at once',
  }),
  rateLimitKeys: option(Type.Integer({ minimum: 100, maximum: 10_000_000, default: 100_000 }), {
    env: 'KASKADE_RATE_LIMIT_KEYS',
    description: 'addresses and identities each join rate limit remembers (least recent forgotten)',
  }),
  placementHoldMs: option(Type.Integer({ minimum: 100, maximum: 600_000, default: 1000 }), {
    env: 'KASKADE_PLACEMENT_HOLD_MS',
    description:
      'a join placed on a node counts toward its load until its heartbeat reports it, at most this long (joins connect well within it)',
  }),
  nodeTimeoutMs: option(Type.Integer({ minimum: 500, maximum: 600_000, default: 6000 }), {
    env: 'KASKADE_NODE_TIMEOUT_MS',
    description:
      'a node without liveness in Redis (Redis lost its data) silent on NATS this long is declared dead; also the grace nodes get to write their liveness again after a Redis outage',
  }),
  livenessSweepMs: option(Type.Integer({ minimum: 100, maximum: 60_000, default: 500 }), {
    env: 'KASKADE_LIVENESS_SWEEP_MS',
    description:
      "how often each replica reads the nodes' liveness from Redis and declares dead those whose liveness lapsed",
  }),
  ...operatorOptions(7801),
  logLevel: logLevelOption(),
});
export type ControlPlaneConfig = Static<typeof ControlPlaneConfigSchema>;

export function loadControlPlaneConfig(
  env: Record<string, string | undefined> = process.env,
): ControlPlaneConfig {
  const config = loadEnvConfig(ControlPlaneConfigSchema, env);
  const problems = [
    ...tokenKeyProblems(config, 'appJwt', 'APP_JWT'),
    ...busSettingsProblems(config),
    ...listenerProblems(config),
    ...redisCaProblems(config.redisUrl, config.redisCaFile),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** KASKADE_EDGE_URLS as node id -> URL; undefined when the operator configured none. */
export function trustedEdgeUrls(config: ControlPlaneConfig): ReadonlyMap<string, string> | undefined {
  if (!config.edgeUrls) return undefined;
  return new Map(
    config.edgeUrls.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)] as const;
    }),
  );
}
