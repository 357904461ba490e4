import { SignalingChannel } from '@kaskade/client-sdk';
import { Directory } from '@kaskade/directory';
import { joinThroughControlPlane, type Placed, RtpBot } from '@kaskade/load-tools';
import type { LocalMesh } from '@kaskade/local-mesh';
import { startLocalMesh } from '@kaskade/local-mesh';
import { issueToken } from '@kaskade/node-toolkit';
import type {
  ErrorBody,
  Grants,
  HttpJoinReply,
  NotificationData,
  ResponseData,
  RoomActionName,
} from '@kaskade/protocol';
import { httpJoinPath } from '@kaskade/protocol';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV } from './mesh.ts';

export const MODERATOR: Grants = { publish: true, subscribe: true, moderate: true };
export const GUEST: Grants = { publish: true, subscribe: true };
export const API_KEY = 'kaskade-test-app-api-key-0123456789abcdef';
/** The grace a room's state outlives the room by, in the test mesh. */
export const TEST_STATE_GRACE_SECONDS = 4;

/** The edges' join timeout in the test mesh. */
export const TEST_JOIN_TIMEOUT_MS = 1500;

/** What a room action over the application's API answered. */
export interface ActAnswer {
  status: number;
  body: unknown;
}

/** A mesh (two regions, two edges each) with the application API on, shared by a file's tests. */
export interface ModerationMesh {
  readonly mesh: LocalMesh;
  readonly directory: Directory;
  /** A room action over the control plane's HTTP API, as the conference application. */
  act(room: string, name: RoomActionName, params: unknown): Promise<ActAnswer>;
  /** Joins through the control plane; closed after the file's tests. */
  join(identity: string, room: string, region: string, grants?: Grants): Promise<Placed>;
  /** Opens a join that may wait in the lobby (see Waiter). */
  waiter(identity: string, room: string, region: string): Promise<Waiter>;
  /** Closes every participant and waiter the tests made so far. */
  closeAll(): Promise<void>;
}

export function useModerationMesh(): ModerationMesh {
  let mesh: LocalMesh | undefined;
  let directory: Directory | undefined;
  const bots: Placed[] = [];
  const waiters: Waiter[] = [];
  const grace = String(TEST_STATE_GRACE_SECONDS);
  beforeAll(async () => {
    mesh = await startLocalMesh({
      edgeEnv: {
        ...FAST_MESH_ENV,
        KASKADE_ROOM_STATE_GRACE_SECONDS: grace,
        // Shorter than a lobby wait of the tests: a held join must not time out.
        KASKADE_JOIN_TIMEOUT_MS: String(TEST_JOIN_TIMEOUT_MS),
      },
      controlPlaneEnv: {
        ...FAST_CONTROL_PLANE_ENV,
        KASKADE_APP_API_KEY: API_KEY,
        KASKADE_ROOM_STATE_GRACE_SECONDS: grace,
      },
    });
    directory = new Directory(mesh.redisUrl, pino({ level: 'silent' }));
  }, 60_000);
  const closeAll = async () => {
    for (const w of waiters.splice(0)) w.channel.close();
    for (const { bot } of bots.splice(0)) await bot.close().catch(() => undefined);
  };
  afterAll(async () => {
    await closeAll();
    await directory?.close();
    await mesh?.stop();
  });
  const started = () => {
    if (!mesh) throw new Error('the mesh is not started (use it inside a test)');
    return mesh;
  };
  return {
    get mesh() {
      return started();
    },
    get directory() {
      if (!directory) throw new Error('the mesh is not started');
      return directory;
    },
    async act(room, name, params) {
      const response = await fetch(`${started().controlPlane.url}/v1/rooms/${room}/actions/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify(params),
      });
      return { status: response.status, body: await response.json() };
    },
    async join(identity, room, region, grants = GUEST) {
      const m = started();
      const placed = await joinThroughControlPlane(m.controlPlane.url, m.appJwtSecret, identity, room, {
        region,
        grants,
      });
      bots.push(placed);
      return placed;
    },
    closeAll,
    async waiter(identity, room, region) {
      const waiter = await Waiter.open(started(), identity, room, region);
      waiters.push(waiter);
      return waiter;
    },
  };
}

/** The public join's answer for an identity, or its refusal. */
export async function placeJoin(
  mesh: LocalMesh,
  identity: string,
  room: string,
  region: string,
  { grants = GUEST, avoid }: { grants?: Grants; avoid?: string[] } = {},
): Promise<{ status: number; placed?: HttpJoinReply; error?: ErrorBody }> {
  const token = await issueToken({ identity, name: identity, room, grants }, { secret: mesh.appJwtSecret });
  const response = await fetch(`${mesh.controlPlane.url}${httpJoinPath(room)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, region, avoid }),
  });
  const body: unknown = await response.json();
  return response.ok
    ? { status: response.status, placed: body as HttpJoinReply }
    : { status: response.status, error: body as ErrorBody };
}

/** An edge token for one edge directly (past the control plane's own checks). */
export function directEdgeToken(mesh: LocalMesh, nodeId: string, identity: string, room: string) {
  return issueToken(
    { identity, name: identity, room, grants: GUEST, node: nodeId },
    { secret: mesh.edgeJwtSecret },
  );
}

/** Joins one edge directly with an edge token, as a bot; the refusal is thrown. */
export async function joinEdgeDirectly(mesh: LocalMesh, nodeId: string, identity: string, room: string) {
  const edge = mesh.edges.find((e) => e.nodeId === nodeId)!;
  return RtpBot.join(edge.url, await directEdgeToken(mesh, nodeId, identity, room));
}

/**
 * A join that may be held in the lobby: its socket, the positions it was told, the answer
 * (or refusal) once it comes, and how the socket closed.
 */
export class Waiter {
  readonly channel: SignalingChannel;
  readonly nodeId: string;
  readonly positions: number[] = [];
  readonly answer: Promise<ResponseData<'join'>>;
  closeCode: number | undefined;

  private constructor(channel: SignalingChannel, nodeId: string, token: string) {
    this.channel = channel;
    this.nodeId = nodeId;
    channel.on('lobbyWaiting', ({ position }: NotificationData<'lobbyWaiting'>) =>
      this.positions.push(position),
    );
    channel.on('close', (code) => {
      this.closeCode = code;
    });
    this.answer = channel
      .request('getRouterRtpCapabilities', {})
      .then(({ rtpCapabilities }) => channel.request('join', { token, rtpCapabilities }));
    this.answer.catch(() => undefined);
  }

  static async open(mesh: LocalMesh, identity: string, room: string, region: string, avoid?: string[]) {
    const { placed, error } = await placeJoin(mesh, identity, room, region, { avoid });
    if (!placed) throw new Error(`join refused: ${error?.message}`);
    // Longer than the waits of the tests: the join's answer is held while it waits.
    const channel = await SignalingChannel.open(placed.edgeUrl, { timeoutMs: 30_000 });
    return new Waiter(channel, placed.nodeId, placed.edgeToken);
  }
}
