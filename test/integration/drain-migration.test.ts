import { Directory } from '@kaskade/directory';
import type { ReceivedStream } from '@kaskade/load-tools';
import { type LocalMesh, operatorJson, startLocalMesh } from '@kaskade/local-mesh';
import { Bus } from '@kaskade/node-toolkit';
import { KaskadeError } from '@kaskade/protocol';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import {
  FAST_CONTROL_PLANE_ENV,
  FAST_MESH_ENV,
  joinThroughControlPlane,
  type NodeView,
  nodeView,
  type Placed,
} from '../helpers/mesh.ts';

const FAST = {
  ...FAST_MESH_ENV,
  KASKADE_SHUTDOWN_TIMEOUT_MS: '15000',
};
const ROOM = 'drain-room';

let mesh: LocalMesh | undefined;
let bots: Placed[] = [];
const meters: GapMeter[] = [];

afterEach(async () => {
  for (const m of meters.splice(0)) m.stop();
  for (const { bot } of bots) await bot.close().catch(() => undefined);
  bots = [];
  await mesh?.stop();
  mesh = undefined;
});

/** The longest time a stream's packet count stood still, sampled every 10 ms. */
class GapMeter {
  maxGapMs = 0;
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();
  #packets: number;

  constructor(stream: ReceivedStream) {
    this.#packets = stream.packets;
    this.#timer = setInterval(() => {
      const now = performance.now();
      if (stream.packets !== this.#packets) {
        this.#packets = stream.packets;
        this.#last = now;
      } else this.maxGapMs = Math.max(this.maxGapMs, now - this.#last);
    }, 10);
    meters.push(this);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function join(identity: string, region: string): Promise<Placed> {
  const placed = await joinThroughControlPlane(mesh!, identity, ROOM, region);
  bots.push(placed);
  return placed;
}

/** Presence notifications a bot's (unchanging) signaling receives from now on. */
function presence(placed: Placed): string[] {
  const heard: string[] = [];
  placed.bot.channel.on('participantJoined', (p) => heard.push(`joined ${p.id}`));
  placed.bot.channel.on('participantLeft', (p) => heard.push(`left ${p.participantId}`));
  return heard;
}

async function flowing(stream: ReceivedStream, name: string, min = 20) {
  const start = stream.packets;
  await eventually(() => expect(stream.packets - start, `${name} packets`).toBeGreaterThanOrEqual(min), 5000);
}

/** Objects on a node that belong to participants: the worker totals less what the pipe links hold. */
function participantObjects(view: NodeView) {
  const sum = (f: (w: NodeView['workers'][number]) => number) => view.workers.reduce((n, w) => n + f(w), 0);
  return {
    transports: sum((w) => w.transports) - view.links.length,
    producers: sum((w) => w.producers) - view.links.reduce((n, l) => n + l.copies, 0),
    consumers: sum((w) => w.consumers) - view.links.reduce((n, l) => n + l.sends, 0),
  };
}

describe('drain that moves people (real mesh)', () => {
  it('SIGTERM on an edge: its publishers and viewers migrate with their ids, nobody sees them leave, media keeps flowing, the node empties and exits', async () => {
    mesh = await startLocalMesh({
      edgeEnv: FAST,
      controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
    });
    const m = mesh;
    // On the edge to drain (eu, sticky): a presenter and a viewer; elsewhere a presenter and a viewer.
    const presenter = await join('presenter-eu', 'eu');
    const viewer = await join('viewer-eu', 'eu');
    expect(viewer.nodeId).toBe(presenter.nodeId);
    const other = await join('presenter-us', 'us');
    const watcher = await join('watcher-us', 'us');
    expect(other.nodeId).not.toBe(presenter.nodeId);
    const mic = await presenter.bot.publish('microphone');
    const cam = await presenter.bot.publish('camera', { packetsPerSecond: 30 });
    const otherMic = await other.bot.publish('microphone');
    await eventually(() =>
      expect(viewer.bot.seen.streamAdded).toEqual(expect.arrayContaining([mic, cam, otherMic])),
    );
    await eventually(() => expect(watcher.bot.seen.streamAdded).toEqual(expect.arrayContaining([mic, cam])));
    const received = {
      viewerMic: await viewer.bot.consume({ producerId: mic }),
      viewerCam: await viewer.bot.consume({ producerId: cam }),
      viewerOther: await viewer.bot.consume({ producerId: otherMic }),
      presenterOther: await presenter.bot.consume({ producerId: otherMic }),
      watcherMic: await watcher.bot.consume({ producerId: mic }),
      watcherCam: await watcher.bot.consume({ producerId: cam }),
    };
    for (const [name, stream] of Object.entries(received)) await flowing(stream, name);
    const gaps = Object.fromEntries(Object.entries(received).map(([name, s]) => [name, new GapMeter(s)]));
    const ids = { presenter: presenter.bot.id, viewer: viewer.bot.id };
    const heardByOthers = [presence(other), presence(watcher)];

    // Trust: another edge (its own bus credentials) gets no ticket for a participant it does not host.
    const intruder = await Bus.connect(
      m.nats!.settingsFor(other.nodeId),
      other.nodeId,
      pino({ level: 'silent' }),
    );
    try {
      const asked = intruder.controlRpc('migration.place', {
        room: ROOM,
        participantId: ids.presenter,
        grants: { publish: true, subscribe: true, moderate: true },
        lecture: false,
      });
      await expect(asked).rejects.toBeInstanceOf(KaskadeError);
      await expect(asked).rejects.toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await intruder.close();
    }

    const victim = m.edges.find((e) => e.nodeId === presenter.nodeId)!;
    const samples: NodeView[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const view = await nodeView(victim.operatorUrl, m.operatorToken).catch(() => undefined);
        if (view) samples.push(view);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const drainedAt = Date.now();
    const exitCode = victim.stop(20_000); // SIGTERM
    await eventually(() => {
      expect(presenter.bot.migrations).toBe(1);
      expect(viewer.bot.migrations).toBe(1);
    }, 10_000);
    expect(await exitCode).toBe(0);
    const exitedAfterMs = Date.now() - drainedAt;
    sampling = false;
    await sampler;

    // Same participants, same identities, on another edge of the region.
    expect(presenter.bot.id).toBe(ids.presenter);
    expect(viewer.bot.id).toBe(ids.viewer);
    expect(presenter.bot.joined.self.identity).toBe('presenter-eu');
    const directory = await operatorJson<{ participants: { id: string; identity: string; node: string }[] }>(
      m.controlPlane.operatorUrl,
      m.operatorToken,
      `/v1/rooms/${ROOM}/participants`,
    );
    const target = directory.participants.find((p) => p.id === ids.presenter)!;
    expect(target.identity).toBe('presenter-eu');
    expect(target.node).not.toBe(victim.nodeId);
    expect(m.edges.find((e) => e.nodeId === target.node)!.region).toBe('eu');
    expect(directory.participants).toHaveLength(4);
    expect(directory.participants.map((p) => p.node)).not.toContain(victim.nodeId);

    // Nobody else saw anyone leave or join; nobody resubscribed for a closed consumer.
    for (const heard of heardByOthers) expect(heard).toEqual([]);
    for (const { bot } of bots) expect(bot.resubscriptions).toBe(0);

    // Media kept arriving in the same ReceivedStreams, with a bounded gap.
    for (const [name, stream] of Object.entries(received)) await flowing(stream, name);
    const maxGaps = Object.fromEntries(
      Object.entries(gaps).map(([name, g]) => [name, Math.round(g.maxGapMs)]),
    );
    console.log(
      `drain migration: max gaps (ms) ${JSON.stringify(maxGaps)}; node exited after ${exitedAfterMs} ms`,
    );
    for (const gap of Object.values(maxGaps)) expect(gap).toBeLessThan(1000);

    // The node emptied by migration (well before its 15 s deadline), with nothing of any participant left.
    expect(exitedAfterMs).toBeLessThan(10_000);
    const empty = samples.filter((s) => s.participants === 0);
    expect(empty.length).toBeGreaterThan(0);
    expect(empty.map(participantObjects)).toContainEqual({ transports: 0, producers: 0, consumers: 0 });
    const redisDirectory = new Directory(m.redisUrl, pino({ level: 'silent' }));
    try {
      expect(await redisDirectory.roomsOfNode(victim.nodeId)).toEqual([]);
      expect((await redisDirectory.keys({ node: victim.nodeId })).map((k) => k.part)).not.toContain('rooms');
      const { participants, streams, nodes } = await redisDirectory.room(ROOM);
      expect(participants.map((p) => p.node)).not.toContain(victim.nodeId);
      expect(streams.map((s) => s.node)).not.toContain(victim.nodeId);
      expect(nodes).not.toContain(victim.nodeId);
    } finally {
      await redisDirectory.close();
    }
  });
});
