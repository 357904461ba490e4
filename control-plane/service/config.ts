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
  SERVICE_ACCOUNT_DIR,
  Type,
  tokenKeyOptions,
  tokenKeyProblems,
} from '@kaskade/node-toolkit';
import { SAFE_NAME_PATTERN } from '@kaskade/protocol';
import type { Static } from 'typebox';
import { busIssuerOptions, busIssuerProblems } from './busCredentials/options.ts';

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
  appApiKey: Type.Optional(
    option(Type.String({ minLength: 32, maxLength: 512 }), {
      env: 'KASKADE_APP_API_KEY',
      description:
        "the conference application's key to the room API (authorization: Bearer <key>); unset: the API answers 503",
    }),
  ),
  appApiPreviousKey: Type.Optional(
    option(Type.String({ minLength: 32, maxLength: 512 }), {
      env: 'KASKADE_APP_API_PREVIOUS_KEY',
      description: 'an API key being rotated out, still accepted until removed',
    }),
  ),
  apiRequestsPerSecondPerAddress: option(Type.Number({ minimum: 0.1, maximum: 1_000_000, default: 50 }), {
    env: 'KASKADE_API_REQUESTS_PER_S_PER_ADDRESS',
    description: 'room API requests per second one source address may make (429 past it)',
  }),
  apiBurstPerAddress: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 200 }), {
    env: 'KASKADE_API_BURST_PER_ADDRESS',
    description: 'room API requests one source address may make at once',
  }),
  ...webhookOptions(),
  ...podDeletionCostOptions(),
  ...autoscaleOptions(),
  ...busIssuerOptions(),
  ...operatorOptions(7801),
  logLevel: logLevelOption(),
});
export type ControlPlaneConfig = Static<typeof ControlPlaneConfigSchema>;

/** Where the webhooks go, how they are signed, queued and retried. */
function webhookOptions() {
  return {
    webhookUrl: Type.Optional(
      option(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }), {
        env: 'KASKADE_WEBHOOK_URL',
        description:
          "the conference application's webhook receiver (needs KASKADE_WEBHOOK_SECRET); unset: no webhooks",
      }),
    ),
    webhookSecret: Type.Optional(
      option(Type.String({ minLength: 32, maxLength: 512 }), {
        env: 'KASKADE_WEBHOOK_SECRET',
        description: 'HMAC-SHA256 secret the webhooks are signed with',
      }),
    ),
    webhookPreviousSecret: Type.Optional(
      option(Type.String({ minLength: 32, maxLength: 512 }), {
        env: 'KASKADE_WEBHOOK_PREVIOUS_SECRET',
        description: 'a webhook secret being rotated out: each webhook is also signed with it until removed',
      }),
    ),
    webhookQueueMax: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10_000 }), {
      env: 'KASKADE_WEBHOOK_QUEUE_MAX',
      description:
        'webhooks waiting or being retried at most per replica; past it new ones are dropped (counted)',
    }),
    webhookConcurrency: option(Type.Integer({ minimum: 1, maximum: 256, default: 8 }), {
      env: 'KASKADE_WEBHOOK_CONCURRENCY',
      description: 'webhook deliveries under way at once per replica',
    }),
    webhookTimeoutMs: option(Type.Integer({ minimum: 100, maximum: 60_000, default: 5000 }), {
      env: 'KASKADE_WEBHOOK_TIMEOUT_MS',
      description: 'one delivery attempt failing to get an answer within this is retried',
    }),
    webhookMaxAttempts: option(Type.Integer({ minimum: 1, maximum: 30, default: 8 }), {
      env: 'KASKADE_WEBHOOK_MAX_ATTEMPTS',
      description: 'attempts per webhook (non-2xx, network error or timeout), then it is given up',
    }),
    webhookRetryBaseMs: option(Type.Integer({ minimum: 10, maximum: 600_000, default: 1000 }), {
      env: 'KASKADE_WEBHOOK_RETRY_BASE_MS',
      description: 'the wait before the first retry; each further one doubles',
    }),
    webhookRetryMaxMs: option(Type.Integer({ minimum: 10, maximum: 3_600_000, default: 60_000 }), {
      env: 'KASKADE_WEBHOOK_RETRY_MAX_MS',
      description: 'the longest wait between two attempts',
    }),
  };
}

/** Setting the edge and relay pods' deletion cost from their load (podDeletionCost/), on Kubernetes. */
function podDeletionCostOptions() {
  return {
    podDeletionCost: option(Type.Boolean({ default: false }), {
      env: 'KASKADE_POD_DELETION_COST',
      description:
        "set controller.kubernetes.io/pod-deletion-cost on the edge and relay pods (pod name = node id) from their load, so a scale-down removes the least-loaded node and a lecture's origin last; needs get and patch on pods in the namespace",
    }),
    podDeletionCostIntervalMs: option(Type.Integer({ minimum: 200, maximum: 600_000, default: 10_000 }), {
      env: 'KASKADE_POD_DELETION_COST_INTERVAL_MS',
      description: 'how often the pods whose cost changed are patched',
    }),
    k8sNamespace: Type.Optional(
      option(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }), {
        env: 'KASKADE_K8S_NAMESPACE',
        description: 'the namespace of the edge and relay pods',
        defaultText: "the service account's namespace",
      }),
    ),
    k8sServiceAccountDir: option(Type.String({ minLength: 1, default: SERVICE_ACCOUNT_DIR }), {
      env: 'KASKADE_K8S_SERVICE_ACCOUNT_DIR',
      description:
        "where the Kubernetes service account's token, ca.crt and namespace are mounted (the API server is KUBERNETES_SERVICE_HOST/PORT)",
    }),
  };
}

/** How the desired node counts are made (control-plane/service/autoscaling/, deploy/README.md "## Autoscaling"). */
function autoscaleOptions() {
  const count = (env: string, fallback: number, description: string) =>
    option(Type.Integer({ minimum: 0, maximum: 10_000, default: fallback }), { env, description });
  return {
    autoscaleIntervalMs: option(Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }), {
      env: 'KASKADE_AUTOSCALE_INTERVAL_MS',
      description: 'how often the desired node counts (kaskade_desired_nodes) are decided',
    }),
    autoscaleTargetLoad: option(Type.Number({ minimum: 0.05, maximum: 1, default: 0.6 }), {
      env: 'KASKADE_AUTOSCALE_TARGET_LOAD',
      description: "the load ratio a region's nodes should run at on average; the rest absorbs join storms",
    }),
    autoscaleHeadroomNodes: count(
      'KASKADE_AUTOSCALE_HEADROOM_NODES',
      0,
      'spare edges per region on top of what load and reservations need',
    ),
    autoscaleStabilizationMs: option(Type.Integer({ minimum: 0, maximum: 86_400_000, default: 300_000 }), {
      env: 'KASKADE_AUTOSCALE_STABILIZATION_MS',
      description:
        'a lower count must have been wanted this long before the desired count falls (rises are at once)',
    }),
    autoscaleScaleDownStep: option(Type.Integer({ minimum: 1, maximum: 10_000, default: 1 }), {
      env: 'KASKADE_AUTOSCALE_SCALE_DOWN_STEP',
      description: 'the desired count falls by at most this many nodes per decision',
    }),
    autoscaleLeadMs: option(Type.Integer({ minimum: 0, maximum: 86_400_000, default: 900_000 }), {
      env: 'KASKADE_AUTOSCALE_LEAD_MS',
      description:
        "how long before a reservation's startsAt its capacity is wanted (at least the node startup time)",
    }),
    autoscaleNodeStartupMs: option(Type.Integer({ minimum: 100, maximum: 3_600_000, default: 120_000 }), {
      env: 'KASKADE_AUTOSCALE_NODE_STARTUP_MS',
      description:
        'how long a new node takes to become ready: the demand trend is measured over it and projected ahead by it',
    }),
    autoscaleParticipantsPerEdge: option(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 500 }), {
      env: 'KASKADE_AUTOSCALE_PARTICIPANTS_PER_EDGE',
      description: 'participants per edge for sizing reservations while no edge reports its capacity',
    }),
    autoscaleEdgeMin: count('KASKADE_AUTOSCALE_EDGE_MIN', 1, 'fewest edges desired per region'),
    autoscaleEdgeMax: count('KASKADE_AUTOSCALE_EDGE_MAX', 100, 'most edges desired per region'),
    autoscaleRelayMin: count('KASKADE_AUTOSCALE_RELAY_MIN', 0, 'fewest relays desired per region'),
    autoscaleRelayMax: count('KASKADE_AUTOSCALE_RELAY_MAX', 100, 'most relays desired per region'),
  };
}

/** Each kind's minimum is at most its maximum. */
function autoscaleProblems(config: ControlPlaneConfig): string[] {
  const problems: string[] = [];
  if (config.autoscaleEdgeMin > config.autoscaleEdgeMax)
    problems.push('KASKADE_AUTOSCALE_EDGE_MIN must be at most KASKADE_AUTOSCALE_EDGE_MAX');
  if (config.autoscaleRelayMin > config.autoscaleRelayMax)
    problems.push('KASKADE_AUTOSCALE_RELAY_MIN must be at most KASKADE_AUTOSCALE_RELAY_MAX');
  return problems;
}

/** Options that need one another: a webhook URL needs its secret, a previous key or secret its current one. */
function pairProblems(config: ControlPlaneConfig): string[] {
  const problems: string[] = [];
  if (config.webhookUrl && !config.webhookSecret)
    problems.push('KASKADE_WEBHOOK_URL needs KASKADE_WEBHOOK_SECRET (webhooks are always signed)');
  if (config.webhookPreviousSecret && !config.webhookSecret)
    problems.push('KASKADE_WEBHOOK_PREVIOUS_SECRET needs KASKADE_WEBHOOK_SECRET (the one rotated in)');
  if (config.appApiPreviousKey && !config.appApiKey)
    problems.push('KASKADE_APP_API_PREVIOUS_KEY needs KASKADE_APP_API_KEY (the one rotated in)');
  if (config.webhookRetryMaxMs < config.webhookRetryBaseMs)
    problems.push('KASKADE_WEBHOOK_RETRY_MAX_MS must be at least KASKADE_WEBHOOK_RETRY_BASE_MS');
  return problems;
}

export function loadControlPlaneConfig(
  env: Record<string, string | undefined> = process.env,
): ControlPlaneConfig {
  const config = loadEnvConfig(ControlPlaneConfigSchema, env);
  const problems = [
    ...tokenKeyProblems(config, 'appJwt', 'APP_JWT'),
    ...busSettingsProblems(config),
    ...listenerProblems(config),
    ...redisCaProblems(config.redisUrl, config.redisCaFile),
    ...pairProblems(config),
    ...autoscaleProblems(config),
    ...busIssuerProblems(config),
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
