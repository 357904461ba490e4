import { accessSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { SafeName, toSafeName } from '@kaskade/protocol';
import Type, { type Static, type TInteger, type TObject, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { ConfigError } from './config-error.ts';

/**
 * Typed configuration from environment variables. A config is a TypeBox object whose
 * every property names its variable in `env`; values are coerced from strings by the
 * property's schema type, then the whole object is validated against the schema, so
 * the type and the validation come from one place.
 */
export interface EnvOption {
  env: string;
  description: string;
  /** How the default reads in docs when it depends on the machine (e.g. "one per core"). */
  defaultText?: string;
}

export function option<T extends TSchema>(schema: T, opts: EnvOption): T {
  return { ...schema, ...opts } as T;
}

function coerce(schema: TSchema & { type?: string }, raw: string): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number':
      return raw.trim() === '' ? raw : Number(raw);
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return raw;
    default:
      return raw;
  }
}

function describe(schema: Record<string, unknown>): string {
  const parts: string[] = [];
  if (schema.type) parts.push(`a${schema.type === 'integer' ? 'n' : ''} ${schema.type}`);
  if (schema.minimum !== undefined) parts.push(`>= ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`<= ${schema.maximum}`);
  if (schema.minLength !== undefined) parts.push(`at least ${schema.minLength} characters`);
  if (Array.isArray(schema.anyOf))
    parts.push(`one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(', ')}`);
  if (schema.pattern) parts.push(`matching ${schema.pattern}`);
  return parts.join(', ');
}

export function loadEnvConfig<T extends TObject>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): Static<T> {
  const value: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, prop] of Object.entries(schema.properties) as [
    string,
    TSchema & Record<string, unknown>,
  ][]) {
    const name = prop.env as string;
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (prop.default !== undefined) value[key] = prop.default;
      continue;
    }
    const coerced = coerce(prop, raw);
    if (!Compile(prop).Check(coerced)) {
      problems.push(
        `${name}=${JSON.stringify(raw)} is not valid: expected ${describe(prop)} (${prop.description})`,
      );
      continue;
    }
    value[key] = coerced;
  }
  for (const key of schema.required ?? []) {
    const prop = schema.properties[key] as Record<string, unknown>;
    if (value[key] === undefined && !problems.some((p) => p.startsWith(`${prop.env}=`))) {
      problems.push(`${prop.env} is required (${prop.description})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return value as Static<T>;
}

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

/** A port range a process listens in, named by its variables for error messages. */
export interface NamedPortRange {
  name: string;
  min: number;
  max: number;
}

/**
 * Problems with a process's port ranges: a range whose min is above its max, or two
 * ranges sharing ports (a transport would take a port another listener needs).
 */
export function portRangeProblems(ranges: NamedPortRange[]): string[] {
  const problems: string[] = [];
  for (const r of ranges) if (r.min > r.max) problems.push(`${r.name}: min ${r.min} is above max ${r.max}`);
  for (let i = 0; i < ranges.length; i++)
    for (const other of ranges.slice(i + 1)) {
      const a = ranges[i]!;
      if (a.min <= other.max && other.min <= a.max)
        problems.push(`${a.name} (${a.min}-${a.max}) overlaps ${other.name} (${other.min}-${other.max})`);
    }
  return problems;
}

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

/** Markdown table of a config schema's variables, for the README. */
export function describeEnvConfig(schema: TObject): string {
  const rows = Object.values(schema.properties).map((p) => {
    const prop = p as Record<string, unknown>;
    const def = prop.defaultText ?? (prop.default === undefined ? '—' : `\`${String(prop.default)}\``);
    return `| \`${prop.env}\` | ${prop.description} | ${def} |`;
  });
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}

export { Type };

/** The NATS settings every bus client takes, as the `nats` options define them. */
export interface BusSettings {
  natsUrl: string;
  natsCaFile?: string;
  natsCertFile?: string;
  natsKeyFile?: string;
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
  natsCredsFile?: string;
  natsInsecure: boolean;
}

/**
 * What is wrong with a combination of NATS settings: half a credential, two kinds of
 * credential, or (unless KASKADE_NATS_INSECURE) a bus without TLS or without
 * credentials, on which anyone reaching nats-server could speak as any node.
 */
export function busSettingsProblems(s: BusSettings): string[] {
  const problems: string[] = [];
  if (Boolean(s.natsUser) !== Boolean(s.natsPassword))
    problems.push('KASKADE_NATS_USER and KASKADE_NATS_PASSWORD go together');
  if (Boolean(s.natsCertFile) !== Boolean(s.natsKeyFile))
    problems.push('KASKADE_NATS_CERT_FILE and KASKADE_NATS_KEY_FILE go together');
  const kinds = [
    s.natsUser && 'KASKADE_NATS_USER',
    s.natsToken && 'KASKADE_NATS_TOKEN',
    s.natsCredsFile && 'KASKADE_NATS_CREDS_FILE',
  ].filter(Boolean);
  if (kinds.length > 1) problems.push(`give one kind of NATS credential, not ${kinds.join(' and ')}`);
  if (s.natsInsecure) return problems;
  const urls = s.natsUrl.split(',');
  if (!s.natsCaFile && !urls.every((u) => u.startsWith('tls://')))
    problems.push(
      'the NATS bus needs TLS: use tls:// URLs or set KASKADE_NATS_CA_FILE (KASKADE_NATS_INSECURE=true allows a plain bus, for development only)',
    );
  // nats-server has one token for everyone: whoever holds it may speak as any node.
  if (s.natsToken)
    problems.push(
      'KASKADE_NATS_TOKEN gives every node the same identity on the bus: use a user and password, a creds file or a client certificate per node (KASKADE_NATS_INSECURE=true allows a token, for development only)',
    );
  // A client certificate alone is a credential too (nats-server's verify_and_map).
  else if (kinds.length === 0 && !s.natsCertFile)
    problems.push(
      'the NATS bus needs credentials: KASKADE_NATS_USER and KASKADE_NATS_PASSWORD, KASKADE_NATS_CREDS_FILE or a client certificate (KASKADE_NATS_INSECURE=true allows none, for development only)',
    );
  return problems;
}

/** A Redis CA file that cannot serve: given for a plain redis:// URL, or not readable. */
/** The liveness TTL a node writes: the configured one, else three heartbeats (two may be late). */
export function livenessTtlMs(c: { heartbeatMs: number; livenessTtlMs?: number }): number {
  return c.livenessTtlMs ?? 3 * c.heartbeatMs;
}

/** A liveness TTL no longer than a heartbeat would lapse between two beats of a live node. */
export function livenessProblems(c: { heartbeatMs: number; livenessTtlMs?: number }): string[] {
  if (c.livenessTtlMs === undefined || c.livenessTtlMs > c.heartbeatMs) return [];
  return [
    `KASKADE_LIVENESS_TTL_MS=${c.livenessTtlMs} must be longer than KASKADE_HEARTBEAT_MS=${c.heartbeatMs}`,
  ];
}

export function redisCaProblems(url: string | undefined, caFile: string | undefined): string[] {
  if (!caFile) return [];
  if (!url?.startsWith('rediss://'))
    return ['KASKADE_REDIS_CA_FILE is set but KASKADE_REDIS_URL is not rediss:// (TLS)'];
  try {
    accessSync(caFile, constants.R_OK);
    return [];
  } catch (error) {
    return [`KASKADE_REDIS_CA_FILE: cannot read ${caFile}: ${(error as Error).message}`];
  }
}

/** The public and the operator listener on one address and port: the second could never listen. */
export function listenerProblems(c: {
  httpHost: string;
  httpPort: number;
  operatorHost: string;
  operatorPort: number;
}): string[] {
  const sameHost = c.httpHost === c.operatorHost || [c.httpHost, c.operatorHost].includes('0.0.0.0');
  return sameHost && c.httpPort !== 0 && c.httpPort === c.operatorPort
    ? [`the operator API cannot share the public listener's port ${c.httpPort} (KASKADE_OPERATOR_PORT)`]
    : [];
}
