import { type NatsService, startNats } from '@kaskade/local-mesh';
import type { PipeMachineryOptions } from '@kaskade/media-node';
import { KaskadeError } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { type PipeNode, startPipeNode, stopPipeNodes } from '../helpers/pipe-node.ts';
import { PlainPeer } from '../helpers/plain-peer.ts';

const ROOM = 'pipes';
/**
 * The silence the quiet node `q` suspects after: well under the gaps between the RTCP
 * reports that are all a paused stream's link carries (about a second or more; 970 ms the
 * shortest longest gap seen in CI), so a paused link does go silent for longer.
 */
const QUIET_SILENCE_MS = 500;

/**
 * Media nodes in this process, each with its own worker, router and bus credentials: the
 * origin `a`, a relay `r` (forwards demand and sends copies, as the relay node does), a
 * downstream edge `b`, and `q`, a downstream edge quick to call a link silent.
 */
interface Node extends PipeNode {
  events: { event: 'suspect' | 'recovered'; remoteNode: string; at: number }[];
}

let nats: NatsService;
const nodes = new Map<string, Node>();

async function startNode(id: string, options: Partial<PipeMachineryOptions> = {}): Promise<Node> {
  const pipeNode = await startPipeNode(nats, id, ROOM, {
    portRange: { min: 47200, max: 47299 },
    lingerMs: 200,
    ...options,
  });
  const node: Node = { ...pipeNode, events: [] };
  for (const event of ['suspect', 'recovered'] as const) {
    node.pipes.on(event, (remoteNode, room) => {
      if (room === ROOM) node.events.push({ event, remoteNode, at: performance.now() });
    });
  }
  nodes.set(id, node);
  return node;
}

/** What is left on a node's router: nothing once everyone left. */
async function leftovers(node: Node) {
  const dump = await node.router.dump();
  return {
    transports: dump.transportIds.length,
    producers: dump.mapProducerIdConsumerIds.length,
    consumers: dump.mapConsumerIdProducerId.length,
  };
}
const NOTHING = { transports: 0, producers: 0, consumers: 0 };

async function expectNothingLeft(...list: Node[]): Promise<void> {
  await eventually(async () => {
    for (const node of list) {
      expect(await leftovers(node), node.id).toEqual(NOTHING);
      expect(node.pipes.links(), node.id).toEqual([]);
    }
  }, 5000);
}

/** Publishes a camera on the origin, known to its pipe host. */
async function publishCamera(origin: Node, keyframes: 'periodic' | 'on-request' = 'periodic') {
  const peer = await PlainPeer.create(origin.router);
  const cam = await peer.publish('video', { packetsPerSecond: 30, keyframes });
  origin.producers.set(cam.producer.id, { producer: cam.producer, source: 'camera', participantId: 'p1' });
  return { peer, cam };
}

/** The longest stretch within `windowMs` in which the node's only link received no byte. */
async function longestSilenceMs(node: Node, windowMs: number): Promise<number> {
  const start = performance.now();
  let [last, since, longest] = [-1, start, 0];
  while (performance.now() - start < windowMs) {
    const bytes = (await node.pipes.census())[0]!.bytesIn;
    const now = performance.now();
    if (bytes !== last) [last, since] = [bytes, now];
    longest = Math.max(longest, now - since);
    await new Promise((r) => setTimeout(r, 50));
  }
  return longest;
}

async function bytesOf(copy: types.Producer): Promise<number> {
  return (await copy.getStats()).reduce((n, s) => n + s.byteCount, 0);
}

beforeAll(async () => {
  nats = await startNats({
    identities: ['node-a', 'node-r', 'node-b', 'node-q'].map((id) => ({ id, role: 'relay' as const })),
  });
  await startNode('node-a');
  await startNode('node-r', { forwardDemand: true });
  await startNode('node-b', { supersededMs: 1500 });
  await startNode('node-q', { silenceMs: QUIET_SILENCE_MS });
});
afterAll(async () => {
  await stopPipeNodes(nodes.values());
  await nats?.stop();
});

const node = (id: string) => nodes.get(id)!;

describe('pipe machinery: make-before-break reroute', () => {
  it('a reroute makes a second copy that receives before the old one is retired; then nothing is left', async () => {
    const [a, r, b] = [node('node-a'), node('node-r'), node('node-b')];
    const { peer: publisher, cam } = await publishCamera(a, 'on-request');
    const streamId = cam.producer.id;

    // The stream reaches b through the relay; a viewer on b watches that copy.
    const first = await b.pipes.fetch(ROOM, 'node-a', streamId, 'node-r');
    expect(first.id).toBe(streamId);
    expect(first.appData).toMatchObject({
      upstream: 'node-r',
      originNode: 'node-a',
      streamId,
      source: 'camera',
    });
    const viewer1 = await PlainPeer.create(b.router);
    const old = await viewer1.consume(first.id);
    await eventually(() => expect(old.received.packets).toBeGreaterThan(10));

    // Reroute straight to the origin: a fresh local id, already receiving when it resolves.
    const second = await b.pipes.reroute(ROOM, 'node-a', streamId, 'node-a');
    expect(second.id).not.toBe(streamId);
    expect(second.appData).toMatchObject({ upstream: 'node-a', originNode: 'node-a', streamId });
    expect(await bytesOf(second)).toBeGreaterThan(0);
    expect(first.closed).toBe(false);
    expect(
      b.pipes
        .copies()
        .map(
          (c) =>
            `${c.producerId === streamId}:${c.localId === streamId ? 'old' : 'new'}:${c.upstream}:${c.current}`,
        )
        .sort(),
    ).toEqual(['true:new:node-a:true', 'true:old:node-r:false']);
    // Later fetches get the current copy.
    expect(await b.pipes.fetch(ROOM, 'node-a', streamId)).toBe(second);

    // The old path still carries media while viewers move; the new one brings a key frame.
    const packetsBefore = old.received.packets;
    const viewer2 = await PlainPeer.create(b.router);
    const moved = await viewer2.consume(second.id);
    await eventually(() => {
      expect(moved.received.keyframes).toBeGreaterThan(0);
      expect(old.received.packets).toBeGreaterThan(packetsBefore + 5);
    }, 3000);

    // A link carries a stream once: a reroute onto an upstream the stream already comes over is refused.
    for (const via of ['node-a', 'node-r']) {
      await expect(b.pipes.reroute(ROOM, 'node-a', streamId, via)).rejects.toMatchObject({
        code: 'CONFLICT',
      });
    }

    // Retire the old copy: it closes, then the relay lets its own copy go and its links close.
    const oldClosed = new Promise<boolean>((resolve) =>
      old.consumer.once('producerclose', () => resolve(true)),
    );
    b.pipes.retire(b.pipes.copies().find((c) => !c.current)!);
    expect(await oldClosed).toBe(true);
    expect(first.closed).toBe(true);
    await eventually(() => {
      expect(b.pipes.links().map((l) => l.remoteNode)).toEqual(['node-a']);
      expect(r.pipes.links()).toEqual([]);
      expect(a.pipes.sends().map((s) => s.remoteNode)).toEqual(['node-b']);
    });
    expect(await leftovers(r)).toEqual(NOTHING);
    const stillFlowing = moved.received.packets;
    await eventually(() => expect(moved.received.packets).toBeGreaterThan(stillFlowing + 5));

    // Everyone leaves: no transport, producer or consumer anywhere.
    viewer1.close();
    viewer2.close();
    b.pipes.release(ROOM, streamId);
    await eventually(() => expect(b.pipes.copies()).toEqual([]));
    publisher.close();
    a.producers.clear();
    await expectNothingLeft(a, r, b);
  });

  it('a superseded copy nobody retires is closed at its deadline, and its link with it', async () => {
    const [a, r, b] = [node('node-a'), node('node-r'), node('node-b')];
    const { peer: publisher, cam } = await publishCamera(a);
    const first = await b.pipes.fetch(ROOM, 'node-a', cam.producer.id);
    const second = await b.pipes.reroute(ROOM, 'node-a', cam.producer.id, 'node-r');
    const rerouted = performance.now();
    expect(second.appData.upstream).toBe('node-r');
    expect(b.pipes.copies()).toHaveLength(2);
    await eventually(() => expect(first.closed).toBe(true), 4000);
    // node-b's deadline is 1.5 s.
    expect(performance.now() - rerouted).toBeGreaterThan(1400);
    await eventually(() => expect(b.pipes.links().map((l) => l.remoteNode)).toEqual(['node-r']));
    expect(second.closed).toBe(false);
    b.pipes.release(ROOM, cam.producer.id);
    publisher.close();
    a.producers.clear();
    await expectNothingLeft(a, r, b);
  });

  it('a reroute whose upstream sends nothing fails with UNAVAILABLE and leaves nothing behind', async () => {
    const [a, r, b] = [node('node-a'), node('node-r'), node('node-b')];
    const { peer: publisher, cam } = await publishCamera(a);
    const first = await b.pipes.fetch(ROOM, 'node-a', cam.producer.id);
    cam.sender.stop(); // the producer stays, not paused, but no packet comes any more
    await new Promise((r) => setTimeout(r, 200));
    const failure = await b.pipes.reroute(ROOM, 'node-a', cam.producer.id, 'node-r').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(KaskadeError);
    expect(failure).toMatchObject({ code: 'UNAVAILABLE' });
    expect(b.pipes.copies().map((c) => c.localId)).toEqual([first.id]);
    await eventually(() => expect(r.pipes.links()).toEqual([]));
    b.pipes.release(ROOM, cam.producer.id);
    publisher.close();
    a.producers.clear();
    await expectNothingLeft(a, r, b);
  });
});

describe('pipe machinery: closing a link', () => {
  it('a close meant for an earlier link between the same nodes leaves the current one carrying', async () => {
    const [a, b] = [node('node-a'), node('node-b')];
    const { peer: publisher, cam } = await publishCamera(a);
    const copy = await b.pipes.fetch(ROOM, 'node-a', cam.producer.id);
    const linksOfA = () => a.pipes.links().map((l) => l.remoteNode);
    expect(linksOfA()).toEqual(['node-b']);

    // b's close of a link it had before (another SRTP key, so another link id) arrives late.
    await b.bus.rpc('node-a', 'pipe.closeLink', { room: ROOM, linkId: 'f'.repeat(32) });
    const before = await bytesOf(copy);
    await eventually(async () => expect(await bytesOf(copy)).toBeGreaterThan(before + 1000));
    expect(linksOfA()).toEqual(['node-b']);
    expect(copy.closed).toBe(false);

    // b's own close of the current link (it goes idle) does close a's end.
    b.pipes.release(ROOM, cam.producer.id);
    await eventually(() => expect(linksOfA()).toEqual([]));
    publisher.close();
    a.producers.clear();
    await expectNothingLeft(a, b);
  });
});

describe('pipe machinery: silent links', () => {
  it('no suspect while the stream is paused at its origin or unwanted downstream', async () => {
    const [a, q] = [node('node-a'), node('node-q')];
    const { peer: publisher, cam } = await publishCamera(a);
    const copy = await q.pipes.fetch(ROOM, 'node-a', cam.producer.id);
    q.events.length = 0;
    await cam.producer.pause();
    await eventually(() => expect(copy.paused).toBe(true));
    // The link does go silent for longer than q's silenceMs (RTCP alone comes a second or
    // more apart): only the exemption keeps it from suspect.
    const whilePaused = await longestSilenceMs(q, 2000);
    expect(whilePaused).toBeGreaterThan(QUIET_SILENCE_MS);
    await cam.producer.resume();
    await eventually(() => expect(copy.paused).toBe(false));
    await q.pipes.setDemand(ROOM, cam.producer.id, { wanted: false });
    expect(a.pipes.sends().find((s) => s.producerId === cam.producer.id)?.paused).toBe(true);
    // Only RTCP now, with gaps beyond silenceMs between reports.
    const whileUnwanted = await longestSilenceMs(q, 2500);
    expect(whileUnwanted).toBeGreaterThan(QUIET_SILENCE_MS);
    console.log(
      `silent links: longest silence ${Math.round(whilePaused)} ms paused, ${Math.round(whileUnwanted)} ms unwanted (silenceMs ${QUIET_SILENCE_MS})`,
    );
    await q.pipes.setDemand(ROOM, cam.producer.id, { wanted: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(q.events).toEqual([]);
    q.pipes.release(ROOM, cam.producer.id);
    publisher.close();
    a.producers.clear();
    await expectNothingLeft(a, q);
  });

  it('names the upstream suspect within about a second of its death', async () => {
    const [a, r, b] = [node('node-a'), node('node-r'), node('node-b')];
    const { peer: publisher, cam } = await publishCamera(a);
    await b.pipes.fetch(ROOM, 'node-a', cam.producer.id, 'node-r');
    const viewer = await PlainPeer.create(b.router);
    const watching = await viewer.consume(cam.producer.id);
    await eventually(() => expect(watching.received.packets).toBeGreaterThan(10));
    b.events.length = 0;
    // The relay dies without a word: its worker goes, the bus says nothing.
    const killed = performance.now();
    r.worker.close();
    await eventually(
      () => expect(b.events.map((e) => `${e.event}:${e.remoteNode}`)).toEqual(['suspect:node-r']),
      3000,
    );
    const after = b.events[0]!.at - killed;
    // Silence of 1 s, looked at every 250 ms: named between 0.75 and 1.5 s after the last packet.
    expect(after).toBeGreaterThan(700);
    expect(after).toBeLessThan(1600);
    // Still one event for one silence.
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.events).toHaveLength(1);
    viewer.close();
    // What the mesh does once the relay is declared dead.
    b.pipes.closeNode('node-r');
    a.pipes.closeNode('node-r');
    publisher.close();
    a.producers.clear();
    await expectNothingLeft(a, b);
  });
});
