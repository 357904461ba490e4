import { Edge, loadEdgeConfig, takeCensus } from '@kaskade/edge';
import { issueToken } from '@kaskade/node-toolkit';
import type { Grants } from '@kaskade/protocol';
import pino from 'pino';
import { expect } from 'vitest';

export const TEST_SECRET = 'kaskade-test-secret-0123456789abcdef';
/** The operator API token of the edges tests start in-process. */
export const TEST_OPERATOR_TOKEN = 'kaskade-test-operator-token-0123456789';

export const ALL_GRANTS: Grants = { publish: true, subscribe: true };

/**
 * A random base for the workers' WebRTC ports, so test files never collide; below
 * 40000, clear of the default pipe and plain port ranges (41000 and up).
 */
export function randomPortBase(): number {
  return 20_000 + Math.floor(Math.random() * 1000) * 20;
}

/** Starts an edge in this process with real mediasoup workers; env overrides the defaults. */
export async function startEdge(env: Record<string, string> = {}): Promise<Edge> {
  for (let attempt = 0; ; attempt++) {
    const config = loadEdgeConfig({
      KASKADE_HTTP_PORT: '0',
      KASKADE_OPERATOR_PORT: '0',
      KASKADE_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
      KASKADE_WORKERS: '1',
      KASKADE_JWT_SECRET: TEST_SECRET,
      KASKADE_ROOM_EMPTY_GRACE_MS: '200',
      KASKADE_ALLOW_PLAIN_RTP: 'true',
      KASKADE_RTC_PORT_BASE: String(randomPortBase()),
      ...env,
    });
    try {
      return await Edge.start(config, pino({ level: process.env.KASKADE_TEST_LOG_LEVEL ?? 'warn' }));
    } catch (error) {
      if (attempt >= 4 || !String(error).includes('cannot listen')) throw error;
    }
  }
}

export function token(
  identity: string,
  room: string,
  grants: Grants = ALL_GRANTS,
  extra: {
    name?: string;
    ttlSeconds?: number;
    role?: 'stage' | 'audience';
    lecture?: boolean;
    node?: string;
  } = {},
): Promise<string> {
  return issueToken(
    { identity, name: extra.name ?? identity, room, grants, ...extra },
    { secret: TEST_SECRET },
  );
}

/** A token for one mesh edge, as the control plane issues it (node-bound; single use there). */
export function edgeToken(edge: Edge, identity: string, room: string, grants: Grants = ALL_GRANTS) {
  return token(identity, room, grants, { node: edge.config.nodeId });
}

/** Counts what the edge's workers hold, from their own dumps. */
export async function mediaObjects(edge: Edge) {
  const census = await takeCensus(edge.pool.workers);
  return census.reduce(
    (sum, w) => ({
      routers: sum.routers + w.routers,
      transports: sum.transports + w.transports,
      producers: sum.producers + w.producers,
      consumers: sum.consumers + w.consumers,
    }),
    { routers: 0, transports: 0, producers: 0, consumers: 0 },
  );
}

/** After everyone left and the empty-room grace passed, nothing may remain on any worker. */
export async function expectNoMediaObjects(edge: Edge, timeoutMs = 5000): Promise<void> {
  await eventually(async () => {
    expect(await mediaObjects(edge)).toEqual({ routers: 0, transports: 0, producers: 0, consumers: 0 });
  }, timeoutMs);
}

/** Retries an assertion until it passes or the time is up (then throws its last failure). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}

/** Packets keep arriving: the count grows by at least `min` within the time. */
export async function expectFlowing(stream: { packets: number }, min = 20, timeoutMs = 5000): Promise<void> {
  const start = stream.packets;
  await eventually(() => expect(stream.packets - start).toBeGreaterThanOrEqual(min), timeoutMs);
}
