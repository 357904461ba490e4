import { fileURLToPath } from 'node:url';
import { type NodeProcess, spawnNodeProcess } from './node-process.ts';
import { freePort, freePortRange } from './ports.ts';

export type EdgeProcess = NodeProcess;

export interface SpawnEdgeOptions {
  host?: string;
  /** The HTTP port (default: a free one of the host), e.g. when the control plane must know it first. */
  httpPort?: number;
  workers?: number;
  env?: Record<string, string>;
  /** Run inside this network namespace (`ip netns exec`); host must be an address in it. */
  netns?: string;
  /** Where the edge's log lines go (default: discarded). */
  log?: (line: string) => void;
}

/** Where a media node listens: public HTTP, operator API and RTC, all on `host`. */
const listenerEnv = (host: string, httpPort: number, operatorPort: number) => ({
  KASKADE_HTTP_HOST: host,
  KASKADE_HTTP_PORT: String(httpPort),
  KASKADE_OPERATOR_HOST: host,
  KASKADE_OPERATOR_PORT: String(operatorPort),
  KASKADE_RTC_LISTEN_IP: host,
});

/**
 * Starts `node edge/src/main.ts` on free ports of `host` (its operator API on the same
 * host) and waits until it is ready. env must carry KASKADE_OPERATOR_TOKEN.
 */
export async function spawnEdge(options: SpawnEdgeOptions): Promise<EdgeProcess> {
  const host = options.host ?? '127.0.0.1';
  const workers = options.workers ?? 1;
  // Port probing happens on the host; inside a fresh namespace everything is free.
  const httpPort = options.httpPort ?? (options.netns ? 7880 : await freePort(host));
  const operatorPort = options.netns ? 7881 : await freePort(host);
  const rtcBase = options.netns ? 40000 : await freePortRange(workers, host);
  return spawnNodeProcess({
    main: fileURLToPath(new URL('../../edge/src/main.ts', import.meta.url)),
    url: `http://${host}:${httpPort}`,
    operatorUrl: `http://${host}:${operatorPort}`,
    netns: options.netns,
    log: options.log,
    env: {
      ...listenerEnv(host, httpPort, operatorPort),
      KASKADE_RTC_PORT_BASE: String(rtcBase),
      KASKADE_WORKERS: String(workers),
      ...options.env,
    },
  });
}

/** Starts `node relay/service/main.ts` on `host` and waits until it is ready; env must carry KASKADE_OPERATOR_TOKEN. */
export async function spawnRelay(options: {
  host?: string;
  env: Record<string, string>;
  log?: (line: string) => void;
}) {
  const host = options.host ?? '127.0.0.1';
  const httpPort = await freePort(host);
  const operatorPort = await freePort(host);
  return spawnNodeProcess({
    main: fileURLToPath(new URL('../../relay/service/main.ts', import.meta.url)),
    url: `http://${host}:${httpPort}`,
    operatorUrl: `http://${host}:${operatorPort}`,
    log: options.log,
    env: { ...listenerEnv(host, httpPort, operatorPort), ...options.env },
  });
}
