import { accessSync, constants } from 'node:fs';

// Checks of what one option cannot say alone: combinations of options, and files
// they name. Each returns its problems (empty when none), so a process can report
// every problem at once (ConfigError).

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

/** A Redis CA file that cannot serve: given for a plain redis:// URL, or not readable. */
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

/** Join tokens nobody could verify: neither the secret nor the public key of tokenKeyOptions. */
export function tokenKeyProblems<K extends string>(
  config: Partial<Record<`${K}Secret` | `${K}PublicKey`, string>>,
  key: K,
  env: string,
): string[] {
  if (config[`${key}Secret`] || config[`${key}PublicKey`]) return [];
  return [`KASKADE_${env}_SECRET or KASKADE_${env}_PUBLIC_KEY is required (join tokens must be verifiable)`];
}

/** The pipe transports' port range (pipePortOptions), for portRangeProblems. */
export function pipePortRange(c: { pipePortMin: number; pipePortMax: number }): NamedPortRange {
  return { name: 'KASKADE_PIPE_PORT_MIN/MAX', min: c.pipePortMin, max: c.pipePortMax };
}
