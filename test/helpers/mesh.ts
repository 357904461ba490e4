import {
  joinThroughControlPlane as joinWithToken,
  type Placed,
  type ReceivedStream,
} from '@kaskade/load-tools';
import type { LocalMesh } from '@kaskade/local-mesh';
import { operatorJson, startLocalMesh } from '@kaskade/local-mesh';
import type { LinkCensus } from '@kaskade/media-node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { expectFlowing } from './edge.ts';
import { createMediaHosts, type MediaHosts } from './netns.ts';

export type { Placed };

/** Edge (and relay) settings that let a test mesh react in fractions of a second. */
export const FAST_MESH_ENV = {
  KASKADE_ALLOW_PLAIN_RTP: 'true',
  KASKADE_HEARTBEAT_MS: '300',
  KASKADE_RESYNC_MS: '1000',
  KASKADE_PIPE_LINGER_MS: '300',
  KASKADE_ROOM_EMPTY_GRACE_MS: '300',
  KASKADE_LOG_LEVEL: 'warn',
};
/** How long the test control plane gives a node before it judges it dead. */
export const TEST_NODE_TIMEOUT_MS = 1500;
export const FAST_CONTROL_PLANE_ENV = {
  KASKADE_NODE_TIMEOUT_MS: String(TEST_NODE_TIMEOUT_MS),
  KASKADE_LOG_LEVEL: 'warn',
};

/** Joins through the control plane (asking it to avoid the `avoid` nodes, as a client that lost one does). */
export function joinThroughControlPlane(
  mesh: LocalMesh,
  identity: string,
  room: string,
  region?: string,
  avoid?: string[],
) {
  return joinWithToken(mesh.controlPlane.url, mesh.appJwtSecret, identity, room, { region, avoid });
}

export interface NodeView {
  participants: number;
  workers: { routers: number; transports: number; producers: number; consumers: number }[];
  links: LinkCensus[];
}

/** GET /v1/node of a media node's operator API. */
export function nodeView(operatorUrl: string, operatorToken: string): Promise<NodeView> {
  return operatorJson<NodeView>(operatorUrl, operatorToken, '/v1/node');
}

/** A media node's links in `room` as its operator census shows them: `remoteNode:copies/sends`, sorted. */
export async function roomLinks(operatorUrl: string, operatorToken: string, room: string): Promise<string[]> {
  return (await nodeView(operatorUrl, operatorToken)).links
    .filter((l) => l.room === room)
    .map((l) => `${l.remoteNode}:${l.copies}/${l.sends}`)
    .sort();
}

/** A fast-reacting local mesh each test starts for itself, and the participants it joined. */
export interface MeshPerTest {
  readonly mesh: LocalMesh;
  /** Starts the mesh with FAST_MESH_ENV and `edgeEnv` over it on the edges. */
  start(edgeEnv?: Record<string, string>): Promise<LocalMesh>;
  /** Joins through the control plane (see joinThroughControlPlane); the bot is closed after the test. */
  join(identity: string, room: string, region?: string, avoid?: string[]): Promise<Placed>;
  /** A presenter in eu publishes a microphone that a viewer in us receives (flowing when this resolves). */
  crossRegionAudio(
    room: string,
  ): Promise<{ presenter: Placed; mic: string; viewer: Placed; audio: ReceivedStream }>;
}

/** A MeshPerTest for the calling file: after each test its bots are closed and its mesh stopped. */
export function useMeshPerTest(): MeshPerTest {
  let mesh: LocalMesh | undefined;
  let bots: Placed[] = [];
  const started = () => {
    if (!mesh) throw new Error('the test has not started its mesh');
    return mesh;
  };
  afterEach(async () => {
    for (const { bot } of bots) await bot.close().catch(() => undefined);
    bots = [];
    await mesh?.stop();
    mesh = undefined;
  });
  const join = async (identity: string, room: string, region?: string, avoid?: string[]) => {
    const placed = await joinThroughControlPlane(started(), identity, room, region, avoid);
    bots.push(placed);
    return placed;
  };
  return {
    get mesh() {
      return started();
    },
    async start(edgeEnv = {}) {
      mesh = await startLocalMesh({
        edgeEnv: { ...FAST_MESH_ENV, ...edgeEnv },
        controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
      });
      return mesh;
    },
    join,
    async crossRegionAudio(room) {
      const presenter = await join('presenter', room, 'eu');
      const mic = await presenter.bot.publish('microphone');
      const viewer = await join('viewer', room, 'us');
      const audio = await viewer.bot.consume({ producerId: mic });
      await expectFlowing(audio);
      return { presenter, mic, viewer, audio };
    },
  };
}

/** A fast-reacting local mesh with a relay per region, shared by the tests of a file. */
export interface RelayMesh {
  readonly mesh: LocalMesh;
  /** The participants the tests joined: closed after the file's tests. */
  readonly bots: Placed[];
}

/**
 * Starts a RelayMesh before the calling file's tests (FAST_MESH_ENV and `edgeEnv` on the
 * edges), stops it after. `browserMedia`: each edge's media is on a non-loopback address
 * (createMediaHosts), so that Firefox can join it too.
 */
export function useRelayMesh(
  edgeEnv: Record<string, string> = {},
  { browserMedia = false }: { browserMedia?: boolean } = {},
): RelayMesh {
  let mesh: LocalMesh | undefined;
  let media: MediaHosts | undefined;
  const bots: Placed[] = [];
  beforeAll(async () => {
    const edgesPerRegion = 2;
    media = browserMedia ? await createMediaHosts(2 * edgesPerRegion) : undefined;
    mesh = await startLocalMesh({
      edgesPerRegion,
      relaysPerRegion: 1,
      edgeEnv: { ...FAST_MESH_ENV, ...edgeEnv },
      edgeEnvFor: media?.envFor,
      controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
    });
  }, 60_000);
  afterAll(async () => {
    for (const { bot } of bots) await bot.close().catch(() => undefined);
    await mesh?.stop();
    await media?.destroy();
  });
  return {
    get mesh() {
      if (!mesh) throw new Error('the relay mesh is not started (use it inside a test)');
      return mesh;
    },
    bots,
  };
}
