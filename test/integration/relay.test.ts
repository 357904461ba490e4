import { type NatsService, startNats } from '@kaskade/local-mesh';
import { connectionOptions } from '@kaskade/node-toolkit';
import { Subjects } from '@kaskade/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { type PipeNode, startPipeNode, stopPipeNodes } from '../helpers/pipe-node.ts';
import { PlainPeer } from '../helpers/plain-peer.ts';

const ROOM = 'lecture';
/** A small pipe port range: every link must take its port from it. */
const PIPE_PORTS = { min: 47100, max: 47119 };

let nats: NatsService;
const nodes: PipeNode[] = [];

async function startNode(id: string): Promise<PipeNode> {
  const node = await startPipeNode(nats, id, ROOM, { portRange: PIPE_PORTS, lingerMs: 300 });
  nodes.push(node);
  return node;
}

async function census(node: PipeNode) {
  const dump = await node.router.dump();
  return { transports: dump.transportIds.length, producers: dump.mapProducerIdConsumerIds.length };
}

beforeAll(async () => {
  // Each node speaks with its own credentials, over TLS, as every process of a mesh does.
  nats = await startNats({
    identities: [
      { id: 'node-a', role: 'relay' },
      { id: 'node-b', role: 'relay' },
    ],
  });
});
afterAll(async () => {
  await stopPipeNodes(nodes);
  await nats?.stop();
});

describe('cross-host pipes over NATS', () => {
  it('pipes a producer to another node over one link, once, however many ask, and it carries media', async () => {
    const [a, b] = [await startNode('node-a'), await startNode('node-b')];
    const publisher = await PlainPeer.create(a.router);
    const mic = await publisher.publish('audio');
    const cam = await publisher.publish('video', { packetsPerSecond: 30 });
    for (const { producer } of [mic, cam]) {
      a.producers.set(producer.id, {
        producer,
        source: producer.kind === 'audio' ? 'microphone' : 'camera',
        participantId: 'p1',
      });
    }

    // A join storm on B: twenty concurrent requests for each stream make one copy each.
    const copies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => b.pipes.fetch(ROOM, 'node-a', (i % 2 ? cam : mic).producer.id)),
    );
    expect(new Set(copies.map((c) => c.id))).toEqual(new Set([mic.producer.id, cam.producer.id]));
    expect(b.pipes.links()).toHaveLength(1);
    expect(a.pipes.links()).toHaveLength(1);
    expect(
      b.pipes
        .copies()
        .map((c) => c.producerId)
        .sort(),
    ).toEqual([mic.producer.id, cam.producer.id].sort());
    expect(a.pipes.links()[0]!.sends).toBe(2);
    // Both ends of the link listen in the configured range (what a firewall between nodes opens).
    for (const link of [...a.pipes.links(), ...b.pipes.links()]) {
      expect(link.localPort).toBeGreaterThanOrEqual(PIPE_PORTS.min);
      expect(link.localPort).toBeLessThanOrEqual(PIPE_PORTS.max);
    }
    expect(copies.find((c) => c.id === cam.producer.id)?.appData).toMatchObject({
      source: 'camera',
      participantId: 'p1',
    });
    // Metrics: two setups timed on B, no failure; each side names the other's region.
    const metricsOfB = await b.metrics.metrics();
    expect(metricsOfB).toMatch(/^kaskade_pipe_setup_seconds_count\{upstream_region="region-of-node-a"\} 2$/m);
    expect(metricsOfB).toMatch(/^kaskade_pipe_links\{remote_region="region-of-node-a"\} 1$/m);
    expect(metricsOfB).toMatch(/^kaskade_pipe_streams\{direction="in"\} 2$/m);
    expect(await a.metrics.metrics()).toMatch(/^kaskade_pipe_links\{remote_region="region-of-node-b"\} 1$/m);
    await expect(b.pipes.fetch(ROOM, 'node-a', 'no-such-producer')).rejects.toThrow();
    expect(await b.metrics.metrics()).toMatch(
      /^kaskade_pipe_setup_failures_total\{reason="not_found",upstream_region="region-of-node-a"\} 1$/m,
    );

    const viewer = await PlainPeer.create(b.router);
    const audio = await viewer.consume(mic.producer.id);
    const video = await viewer.consume(cam.producer.id);
    await eventually(() => {
      expect(audio.received.packets).toBeGreaterThan(20);
      expect(video.received.packets).toBeGreaterThan(10);
    });

    // Pause, resume and close at the origin reach the copy.
    const camCopy = copies.find((c) => c.id === cam.producer.id)!;
    await cam.producer.pause();
    await eventually(() => expect(camCopy.paused).toBe(true));
    await cam.producer.resume();
    await eventually(() => expect(camCopy.paused).toBe(false));
    const closedOnB = new Promise((resolve) => video.consumer.once('producerclose', () => resolve(true)));
    cam.sender.stop();
    cam.producer.close();
    expect(await closedOnB).toBe(true);
    await eventually(() => expect(a.pipes.links()[0]?.sends).toBe(1));

    // The last viewer leaves: after the linger the copy goes, then the link on both sides.
    audio.consumer.close();
    b.pipes.release(ROOM, mic.producer.id);
    await eventually(() => {
      expect(b.pipes.links()).toHaveLength(0);
      expect(a.pipes.links()).toHaveLength(0);
    });
    viewer.close();
    publisher.close();
    expect(await census(b)).toEqual({ transports: 0, producers: 0 });
    expect(await census(a)).toEqual({ transports: 0, producers: 0 });
  });

  it('a new viewer on the remote node gets a key frame at once: its request reaches the origin', async () => {
    const [a, b] = nodes;
    const publisher = await PlainPeer.create(a!.router);
    // This sender sends key frames only when asked (PLI/FIR), never periodically.
    const cam = await publisher.publish('video', { packetsPerSecond: 30, keyframes: 'on-request' });
    a!.producers.set(cam.producer.id, { producer: cam.producer, source: 'camera', participantId: 'p2' });
    await b!.pipes.fetch(ROOM, 'node-a', cam.producer.id);
    await new Promise((r) => setTimeout(r, 500)); // the first key frame is long gone
    const sentBefore = cam.sender.keyframesSent;
    const viewer = await PlainPeer.create(b!.router);
    const video = await viewer.consume(cam.producer.id);
    await eventually(() => expect(video.received.keyframes).toBeGreaterThan(0), 2000);
    expect(cam.sender.keyframesSent).toBeGreaterThan(sentBefore);
    viewer.close();
    publisher.close();
    await eventually(async () => expect(await census(b!)).toEqual({ transports: 0, producers: 0 }));
  });

  it('a re-subscription within the linger reuses the copy', async () => {
    const [a, b] = nodes;
    const publisher = await PlainPeer.create(a!.router);
    const mic = await publisher.publish('audio');
    a!.producers.set(mic.producer.id, { producer: mic.producer, source: 'microphone', participantId: 'p3' });
    const first = await b!.pipes.fetch(ROOM, 'node-a', mic.producer.id);
    b!.pipes.release(ROOM, mic.producer.id);
    const again = await b!.pipes.fetch(ROOM, 'node-a', mic.producer.id);
    expect(again).toBe(first);
    await new Promise((r) => setTimeout(r, 500)); // past the linger: the re-fetch cancelled the release
    expect(first.closed).toBe(false);
    publisher.close();
    await eventually(() => expect(first.closed).toBe(true)); // origin closed: the copy follows
  });

  it('two nodes that open the link to each other at the same moment end with one link each way', async () => {
    const [a, b] = nodes;
    const onA = await PlainPeer.create(a!.router);
    const onB = await PlainPeer.create(b!.router);
    const micA = await onA.publish('audio');
    const micB = await onB.publish('audio');
    a!.producers.set(micA.producer.id, {
      producer: micA.producer,
      source: 'microphone',
      participantId: 'pa',
    });
    b!.producers.set(micB.producer.id, {
      producer: micB.producer,
      source: 'microphone',
      participantId: 'pb',
    });
    const [copyOnB, copyOnA] = await Promise.all([
      b!.pipes.fetch(ROOM, 'node-a', micA.producer.id),
      a!.pipes.fetch(ROOM, 'node-b', micB.producer.id),
    ]);
    expect(copyOnB.id).toBe(micA.producer.id);
    expect(copyOnA.id).toBe(micB.producer.id);
    expect(a!.pipes.links()).toHaveLength(1);
    expect(b!.pipes.links()).toHaveLength(1);
    const viewerA = await PlainPeer.create(a!.router);
    const fromB = await viewerA.consume(micB.producer.id);
    const viewerB = await PlainPeer.create(b!.router);
    const fromA = await viewerB.consume(micA.producer.id);
    await eventually(() => {
      expect(fromA.received.packets).toBeGreaterThan(10);
      expect(fromB.received.packets).toBeGreaterThan(10);
    });
    for (const peer of [viewerA, viewerB, onA, onB]) peer.close();
    await eventually(async () => {
      expect(await census(a!)).toEqual({ transports: 0, producers: 0 });
      expect(await census(b!)).toEqual({ transports: 0, producers: 0 });
    });
  });

  it('answers malformed and unknown requests with typed errors and keeps serving', async () => {
    const [a, b] = nodes;
    const { connect } = await import('@nats-io/transport-node');
    // node-b's credentials, as a buggy node-b would send them.
    const nc = await connect(connectionOptions(nats.settingsFor('node-b'), 'node-b'));
    const subject = Subjects.nodeRpc('node-a', 'pipe.consume', 'node-b');
    const garbage = await nc.request(subject, '{not json', { timeout: 2000 });
    expect(garbage.json()).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const wrong = await nc.request(subject, JSON.stringify({ room: ROOM, producerId: 42 }), {
      timeout: 2000,
    });
    expect(wrong.json()).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    const noLink = await nc.request(subject, JSON.stringify({ room: ROOM, producerId: 'p' }), {
      timeout: 2000,
    });
    expect(noLink.json()).toMatchObject({ ok: false, error: { code: 'INVALID_STATE' } });
    await nc.close();
    const asA = await connect(connectionOptions(nats.settingsFor('node-a'), 'node-a'));
    asA.publish(Subjects.nodePipeEvents('node-b', 'node-a'), '{"event":"explode"}');
    await asA.close();
    await expect(b!.pipes.fetch(ROOM, 'node-a', 'no-such-producer')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await eventually(async () => {
      expect(await census(a!)).toEqual({ transports: 0, producers: 0 });
      expect(await census(b!)).toEqual({ transports: 0, producers: 0 });
    });
  });
});
