import { randomBytes } from 'node:crypto';
import { type ControlPlaneProcess, spawnControlPlane } from './control-plane-process.ts';
import { type EdgeProcess, spawnEdge, spawnRelay } from './edge-process.ts';
import type { NodeProcess } from './node-process.ts';
import { operatorJson } from './operator-client.ts';
import { freePort } from './ports.ts';
import { type NatsService, type RedisService, type ScrapeTarget, startNats, startRedis } from './services.ts';

export interface LocalMeshOptions {
  /** Region name -> loopback /24 prefix its edges take addresses from, e.g. { eu: '127.0.1' }. */
  regions?: Record<string, string>;
  edgesPerRegion?: number;
  /** Relay nodes per region, at <prefix>.100 and up (default 0). */
  relaysPerRegion?: number;
  workersPerEdge?: number;
  /**
   * A NATS bus of your own (default: one started here, with TLS and a user per
   * process). Every process then takes the KASKADE_NATS_* variables of this
   * environment, so that bus must let one user speak as every node.
   */
  natsUrl?: string;
  /** An existing Redis (credentials in the URL: redis://user:password@host:port, or rediss://). */
  redisUrl?: string;
  /** Extra environment for every edge (timeouts in tests). */
  edgeEnv?: Record<string, string>;
  /** Extra environment for one edge (e.g. its own RTC address), after edgeEnv. */
  edgeEnvFor?: (nodeId: string) => Record<string, string>;
  controlPlaneEnv?: Record<string, string>;
  /** Tell the control plane each edge's URL (KASKADE_EDGE_URLS) rather than trusting heartbeats (default true). */
  configureEdgeUrls?: boolean;
  log?: (source: string, line: string) => void;
}

export interface MeshEdge extends EdgeProcess {
  nodeId: string;
  region: string;
  host: string;
}

export interface LocalMesh {
  controlPlane: ControlPlaneProcess;
  edges: MeshEdge[];
  relays: MeshEdge[];
  natsUrl: string;
  redisUrl: string;
  nats?: NatsService;
  redis?: RedisService;
  appJwtSecret: string;
  /** What edge tokens are signed with, for tests that join one edge directly. */
  edgeJwtSecret: string;
  /** The bearer token of every process's operator API (one random token per mesh). */
  operatorToken: string;
  regions: string[];
  /**
   * Starts a process of the mesh again (after a test killed it): the same identity and
   * configuration; an edge keeps its signaling URL (the control plane knows it), the
   * control plane both its URLs. Replaces it in `edges`, `relays` or `controlPlane`,
   * and stop() stops the new one.
   */
  respawn(nodeId: string): Promise<NodeProcess>;
  /**
   * Starts another control-plane replica like the first (same bus user, Redis, secrets)
   * and waits until it is ready; stop() stops it too. A test may make it `controlPlane`.
   */
  addControlPlane(): Promise<ControlPlaneProcess>;
  stop(): Promise<void>;
}

/**
 * A whole mesh on one machine: nats-server and redis-server (started here on free
 * ports unless URLs are given), the control plane, and edges in several regions,
 * each region on its own loopback addresses. Everything is a real process.
 */
export async function startLocalMesh(options: LocalMeshOptions = {}): Promise<LocalMesh> {
  const regions = options.regions ?? { eu: '127.0.1', us: '127.0.2' };
  const perRegion = options.edgesPerRegion ?? 2;
  const log = options.log ?? (() => {});
  // Processes in start order; stopped in reverse. NATS and Redis are read from the mesh
  // object at stop time, since a test may have replaced them (restarted on the same port).
  const started: { stop(): Promise<unknown> }[] = [];
  // How each process is started, by node id, for respawn().
  const spawners = new Map<string, () => Promise<NodeProcess>>();
  const startedAt = new Map<string, number>(); // node id -> index in `started`
  let mesh: LocalMesh | undefined;
  let services: { nats?: NatsService; redis?: RedisService } = {};
  const stopAll = async () => {
    // The edges and relays at once (a mesh's stop takes its slowest node's drain, not the
    // sum of them), then the control plane, which their drains still ask for migrations.
    const media = new Set([...startedAt].filter(([id]) => id !== 'control-plane').map(([, i]) => i));
    await Promise.all(started.filter((_, i) => media.has(i)).map((s) => s.stop().catch(() => undefined)));
    for (const s of started.filter((_, i) => !media.has(i)).reverse()) await s.stop().catch(() => undefined);
    const { nats, redis } = mesh ?? services;
    await redis?.stop().catch(() => undefined);
    await nats?.stop().catch(() => undefined);
  };
  try {
    // Who is in the mesh is known before anything starts: one bus user each.
    const layout = Object.entries(regions).map(([region, prefix]) => ({
      region,
      prefix,
      edges: Array.from({ length: perRegion }, (_, i) => `edge-${region}-${i + 1}`),
      relays: Array.from({ length: options.relaysPerRegion ?? 0 }, (_, i) => `relay-${region}-${i + 1}`),
    }));
    const nats = options.natsUrl
      ? undefined
      : await startNats({
          identities: [
            { id: 'control-plane', role: 'control-plane' as const },
            ...layout.flatMap((r) => r.edges.map((id) => ({ id, role: 'edge' as const }))),
            ...layout.flatMap((r) => r.relays.map((id) => ({ id, role: 'relay' as const }))),
          ],
        });
    const busEnv = (id: string) => nats?.envFor(id) ?? { KASKADE_NATS_URL: options.natsUrl! };
    services = { nats };
    const redis = options.redisUrl ? undefined : await startRedis();
    services = { nats, redis };
    const natsUrl = options.natsUrl ?? nats!.url;
    // Edge ports are chosen first so the control plane can be told each edge's URL.
    const edgeHosts = new Map<string, { host: string; httpPort: number }>();
    for (const { prefix, edges } of layout)
      for (const [i, id] of edges.entries()) {
        const host = `${prefix}.${i + 1}`;
        edgeHosts.set(id, { host, httpPort: await freePort(host) });
      }
    const edgeUrls = [...edgeHosts].map(([id, { host, httpPort }]) => `${id}=http://${host}:${httpPort}`);
    const redisUrl = options.redisUrl ?? redis!.url;
    const edgeJwtSecret = randomBytes(24).toString('hex');
    const appJwtSecret = randomBytes(24).toString('hex');
    const operatorToken = randomBytes(24).toString('hex');
    const controlPlaneEnv = {
      ...busEnv('control-plane'),
      ...(options.configureEdgeUrls === false ? {} : { KASKADE_EDGE_URLS: edgeUrls.join(',') }),
      KASKADE_REDIS_URL: redisUrl,
      KASKADE_JWT_SECRET: edgeJwtSecret,
      KASKADE_APP_JWT_SECRET: appJwtSecret,
      KASKADE_NODE_ID: 'control-plane',
      KASKADE_OPERATOR_TOKEN: operatorToken,
      KASKADE_LOG_LEVEL: 'info',
      ...options.controlPlaneEnv,
    };
    const cpLog = (line: string) => log('control-plane', line);
    const addControlPlane = async () => {
      const replica = await spawnControlPlane(controlPlaneEnv, cpLog);
      started.push(replica);
      return replica;
    };
    // The control plane, edges and relays start at once (none needs another to be ready:
    // the control plane learns the nodes from their heartbeats), which halves a mesh's
    // start on two cores. They are pushed to `started` in a fixed order all the same.
    const cpPorts = { port: await freePort(), operatorPort: await freePort() };
    spawners.set('control-plane', () => spawnControlPlane(controlPlaneEnv, cpLog, cpPorts));
    const members: { nodeId: string; region: string; host: string; kind: 'edge' | 'relay' }[] = [];
    for (const { region, prefix, edges: ids, relays: relayIds } of layout) {
      for (const nodeId of ids) {
        const { host, httpPort } = edgeHosts.get(nodeId)!;
        members.push({ nodeId, region, host, kind: 'edge' });
        spawners.set(nodeId, () =>
          spawnEdge({
            host,
            httpPort,
            workers: options.workersPerEdge ?? 1,
            env: {
              KASKADE_NODE_ID: nodeId,
              KASKADE_REGION: region,
              ...busEnv(nodeId),
              KASKADE_REDIS_URL: redisUrl,
              KASKADE_JWT_SECRET: edgeJwtSecret,
              KASKADE_OPERATOR_TOKEN: operatorToken,
              KASKADE_LOG_LEVEL: 'info',
              ...options.edgeEnv,
              ...options.edgeEnvFor?.(nodeId),
            },
            log: (line) => log(nodeId, line),
          }),
        );
      }
      for (const [i, nodeId] of relayIds.entries()) {
        const host = `${prefix}.${100 + i}`;
        members.push({ nodeId, region, host, kind: 'relay' });
        spawners.set(nodeId, () =>
          spawnRelay({
            host,
            env: {
              KASKADE_NODE_ID: nodeId,
              KASKADE_REGION: region,
              ...busEnv(nodeId),
              KASKADE_REDIS_URL: redisUrl,
              KASKADE_OPERATOR_TOKEN: operatorToken,
              KASKADE_LOG_LEVEL: 'info',
              ...options.edgeEnv,
            },
            log: (line) => log(nodeId, line),
          }),
        );
      }
    }
    const ids = ['control-plane', ...members.map((n) => n.nodeId)];
    const spawned = await Promise.allSettled(ids.map((id) => spawners.get(id)!()));
    for (const [i, result] of spawned.entries())
      if (result.status === 'fulfilled') startedAt.set(ids[i]!, started.push(result.value) - 1);
    const failed = spawned.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const processes = spawned.map((r) => (r as PromiseFulfilledResult<NodeProcess>).value);
    const controlPlane = processes[0]!;
    const placed = members.map((n, i) => ({
      ...processes[i + 1]!,
      nodeId: n.nodeId,
      region: n.region,
      host: n.host,
    }));
    const edges: MeshEdge[] = placed.filter((_, i) => members[i]!.kind === 'edge');
    const relays: MeshEdge[] = placed.filter((_, i) => members[i]!.kind === 'relay');
    // The control plane places joins only on edges it has heard from.
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { nodes } = await operatorJson<{ nodes: unknown[] }>(
        controlPlane.operatorUrl,
        operatorToken,
        '/v1/nodes',
      );
      if (nodes.length === edges.length + relays.length) break;
      if (Date.now() > deadline)
        throw new Error(`only ${nodes.length} of ${edges.length + relays.length} nodes reported in`);
      await new Promise((r) => setTimeout(r, 200));
    }
    mesh = {
      controlPlane,
      edges,
      relays,
      natsUrl,
      redisUrl,
      nats,
      redis,
      appJwtSecret,
      operatorToken,
      edgeJwtSecret,
      regions: Object.keys(regions),
      async respawn(nodeId) {
        const spawn = spawners.get(nodeId);
        if (!spawn) throw new Error(`no process ${nodeId} in this mesh`);
        const fresh = await spawn();
        started[startedAt.get(nodeId)!] = fresh;
        const m = mesh!;
        if (nodeId === 'control-plane') m.controlPlane = fresh;
        for (const list of [m.edges, m.relays]) {
          const i = list.findIndex((n) => n.nodeId === nodeId);
          if (i >= 0) list[i] = { ...list[i]!, ...fresh };
        }
        return fresh;
      },
      addControlPlane,
      stop: stopAll,
    };
    return mesh;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Every process of a local mesh as a Prometheus scrape target (its operator API; the token is the mesh's). */
export function scrapeTargets(mesh: LocalMesh): ScrapeTarget[] {
  const target = (job: ScrapeTarget['job']) => (n: MeshEdge) => ({
    job,
    url: n.operatorUrl,
    node: n.nodeId,
    region: n.region,
  });
  return [
    {
      job: 'kaskade-control-plane',
      url: mesh.controlPlane.operatorUrl,
      node: 'control-plane',
      region: 'global',
    },
    ...mesh.edges.map(target('kaskade-edge')),
    ...mesh.relays.map(target('kaskade-relay')),
  ];
}
