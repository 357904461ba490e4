import { RtpBot } from '@kaskade/load-tools';
import { type LocalMesh, type MeshEdge, startLocalMesh } from '@kaskade/local-mesh';
import type { BusSettings } from '@kaskade/node-toolkit';
import { connectionOptions, issueToken } from '@kaskade/node-toolkit';
import { type Grants, type HttpJoinReply, httpJoinPath } from '@kaskade/protocol';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect } from 'vitest';
import { eventually } from './edge.ts';
import { heartbeat } from './heartbeats.ts';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV, nodeView } from './mesh.ts';

/**
 * A running mesh (TLS and a user per node, as the local mesh runs it) carrying one
 * stream to viewers in both regions, for the tests of an attacker on its bus: every
 * forged message is refused by nats-server's permissions or ignored by its receivers,
 * and media keeps flowing for everyone all along.
 */
export const ROOM = 'hostile';
export const ATTACKER_URL = 'http://127.0.0.66:6666';

/** A client connection as the holder of `settings` would make it, with every refusal it is told of. */
export async function attacker(settings: BusSettings, name: string) {
  const nc = await connect({
    ...connectionOptions(settings, name),
    waitOnFirstConnect: false,
    maxReconnectAttempts: 0,
    timeout: 3000,
  });
  const refusals: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') refusals.push(String(s.error?.message));
  })();
  return { nc, refusals };
}

export const forgedHeartbeat = (url: string) =>
  heartbeat({ url, capacity: 100_000, rooms: [ROOM], ts: Date.now() });

export interface HostileBusMesh {
  readonly mesh: LocalMesh;
  /** On edge-us-1, with moderate; publishes `mic`. */
  readonly publisher: RtpBot;
  readonly mic: string;
  /** Log lines of mesh processes that nats-server refused something (their permissions fall short). */
  readonly refusedNodes: string[];
  /** Participant ids every bot was told about, for spotting a forged one. */
  readonly joinedSeen: Set<string>;
  edge(id: string): MeshEdge;
  joinEdge(nodeId: string, identity: string, grants: Grants, role?: 'stage' | 'audience'): Promise<RtpBot>;
  /** Every viewer receives at least `min` more packets within the time. */
  everyoneReceives(min?: number, timeoutMs?: number): Promise<void>;
  /** A node's own credentials (what an attacker holding them could use). */
  credentialsOf(id: string): BusSettings;
  /** The edge URLs the control plane hands out for `count` joins in eu. */
  placements(count: number): Promise<string[]>;
}

/** Starts the mesh and its viewers before the tests of the calling file and stops them after. */
export function useHostileBusMesh(): HostileBusMesh {
  let mesh: LocalMesh | undefined;
  const bots: RtpBot[] = [];
  const viewers: { bot: RtpBot; node: string; stream: { packets: number } }[] = [];
  let publisher: RtpBot | undefined;
  let mic: string | undefined;
  const refusedNodes: string[] = [];
  const joinedSeen = new Set<string>();
  const started = () => {
    if (!mesh) throw new Error('the mesh is not started (use it inside a test)');
    return mesh;
  };

  const edge = (id: string): MeshEdge =>
    [...started().edges, ...started().relays].find((e) => e.nodeId === id)!;

  async function joinEdge(nodeId: string, identity: string, grants: Grants, role?: 'stage' | 'audience') {
    const token = await issueToken(
      { identity, name: identity, room: ROOM, grants, node: nodeId, role, ttlSeconds: 60 },
      { secret: started().edgeJwtSecret },
    );
    const bot = await RtpBot.join(edge(nodeId).url, token);
    bot.channel.on('participantJoined', ({ id }) => joinedSeen.add(id));
    bots.push(bot);
    return bot;
  }

  async function everyoneReceives(min = 25, timeoutMs = 8000) {
    const before = viewers.map((v) => v.stream.packets);
    await eventually(() => {
      for (const [i, v] of viewers.entries())
        expect(v.stream.packets - before[i]!, `viewer on ${v.node}`).toBeGreaterThanOrEqual(min);
    }, timeoutMs);
    for (const v of viewers) expect(v.bot.seen.streamClosed).not.toContain(mic);
  }

  async function placements(count: number): Promise<string[]> {
    const m = started();
    const urls: string[] = [];
    for (let i = 0; i < count; i++) {
      const token = await issueToken(
        {
          identity: `probe-${i}-${Date.now()}`,
          name: 'probe',
          room: `probe-room-${i}`,
          grants: { publish: true, subscribe: true },
        },
        { secret: m.appJwtSecret },
      );
      const response = await fetch(`${m.controlPlane.url}${httpJoinPath(`probe-room-${i}`)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, region: 'eu' }),
      });
      expect(response.status).toBe(200);
      urls.push(((await response.json()) as HttpJoinReply).edgeUrl);
    }
    return urls;
  }

  beforeAll(async () => {
    mesh = await startLocalMesh({
      relaysPerRegion: 1,
      edgeEnv: {
        ...FAST_MESH_ENV,
      },
      controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
      log: (source, line) => {
        if (line.includes('NATS refused an operation')) refusedNodes.push(`${source}: ${line}`);
      },
    });
    // The publisher on edge-us-1; viewers in the other region come through relay-eu-1
    // (two eu edges carry the room), the one in its own region straight from the origin.
    publisher = await joinEdge('edge-us-1', 'publisher', { publish: true, subscribe: true, moderate: true });
    const published = await publisher.publish('microphone');
    mic = published;
    for (const node of ['edge-eu-1', 'edge-eu-2', 'edge-us-2']) {
      const bot = await joinEdge(node, `viewer-${node}`, { publish: false, subscribe: true });
      await eventually(() =>
        expect([...bot.joined.streams.map((s) => s.producerId), ...bot.seen.streamAdded]).toContain(
          published,
        ),
      );
      viewers.push({ bot, node, stream: await bot.consume({ producerId: published }) });
    }
    await everyoneReceives();
    // The eu edges really take the stream from the relay (the path a forged closeLink would cut).
    await eventually(async () => {
      const view = await nodeView(edge('edge-eu-1').operatorUrl, started().operatorToken);
      expect(view.links.map((l) => l.remoteNode)).toEqual(['relay-eu-1']);
    }, 10_000);
  }, 120_000);

  afterAll(async () => {
    for (const bot of bots) await bot.close().catch(() => undefined);
    await mesh?.stop();
  });

  return {
    get mesh() {
      return started();
    },
    get publisher() {
      if (!publisher) throw new Error('the publisher has not joined yet');
      return publisher;
    },
    get mic() {
      if (!mic) throw new Error('the publisher has not published yet');
      return mic;
    },
    refusedNodes,
    joinedSeen,
    edge,
    joinEdge,
    everyoneReceives,
    credentialsOf: (id) => started().nats!.settingsFor(id),
    placements,
  };
}
