import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRecordedMedia, type ReceivedStream, RtpBot } from '@kaskade/load-tools';
import { MAX_PINNED, type NotificationData } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { eventually, expectFlowing, expectNoMediaObjects, startEdge, token } from '../helpers/edge.ts';
import { type Placed, useMeshPerTest } from '../helpers/mesh.ts';

const ROOM = 'last-n';
const SPEAKING_DBOV = -20;
const SILENT_DBOV = -127;
const LAST_N_MAX = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const meshPerTest = useMeshPerTest();

describe('server-driven last-N', () => {
  it('a viewer with N = 2 receives the cameras of the two latest speakers only; a new speaker is resumed and the oldest paused at the edge', async () => {
    await meshPerTest.start({ KASKADE_LAST_N_MAX: String(LAST_N_MAX) });
    // Publishers in both regions; the viewer in us receives eu's cameras over a pipe.
    const alice = await meshPerTest.join('alice', ROOM, 'eu');
    const bob = await meshPerTest.join('bob', ROOM, 'us');
    const carol = await meshPerTest.join('carol', ROOM, 'eu');
    const viewer = await meshPerTest.join('viewer', ROOM, 'us');
    const publishers = [carol, alice, bob];
    const cameras = new Map<Placed, string>();
    for (const p of publishers) {
      await p.bot.publish('microphone');
      cameras.set(p, await p.bot.publish('camera'));
    }
    await eventually(() => {
      const known = [...viewer.bot.joined.streams.map((s) => s.producerId), ...viewer.bot.seen.streamAdded];
      expect(known).toEqual(expect.arrayContaining([...cameras.values()]));
    }, 10_000);

    // Subscribed carol, alice, bob in that order: before anyone speaks, last-N fills in that order.
    const received = new Map<Placed, ReceivedStream>();
    const consumerOf = new Map<string, Placed>();
    for (const p of publishers) {
      received.set(p, await viewer.bot.consume({ producerId: cameras.get(p)! }));
      consumerOf.set(viewer.bot.lastConsumerId!, p);
    }
    // Without last-N every camera flows.
    for (const stream of received.values()) await expectFlowing(stream, 20, 10_000);

    const news: NotificationData<'videoForwarding'>[] = [];
    viewer.bot.channel.on('videoForwarding', (data) => news.push(data));
    const orders: string[][] = [];
    let orderAt = 0;
    viewer.bot.channel.on('speakerOrder', ({ participantIds }) => {
      orders.push(participantIds);
      orderAt = performance.now();
    });
    // The last packet of each camera: a resumed one's first packet after the order changed.
    const lastPacketAt = new Map<Placed, number>();
    for (const [p, stream] of received) stream.onPacket = (at) => lastPacketAt.set(p, at);
    /** From the order naming `p` first (on the viewer's socket) to `p`'s camera flowing again. */
    const resumeLatency = async (p: Placed) => {
      const from = orderAt;
      return eventually(
        () => {
          const at = lastPacketAt.get(p) ?? 0;
          expect(at).toBeGreaterThan(from);
          return at - from;
        },
        5000,
        10,
      );
    };
    const latencies: number[] = [];
    const names = (ids: string[]) => ids.map((id) => consumerOf.get(id)?.bot.id).sort();
    const ids = (...ps: Placed[]) => ps.map((p) => p.bot.id).sort();
    /** The viewer is told `on` and `off`, and the packets say the same: off ones stop, on ones flow. */
    const expectForwarded = async (on: Placed[], off: Placed[]) => {
      await eventually(() => {
        const last = news.at(-1);
        expect(names(last?.on ?? [])).toEqual(ids(...on));
        expect(names(last?.notInLastN ?? [])).toEqual(ids(...off));
        expect(last?.pausedBySender).toEqual([]);
      }, 5000);
      await sleep(500); // packets in flight before the pause
      const before = off.map((p) => received.get(p)!.packets);
      for (const p of on) await expectFlowing(received.get(p)!, 20, 5000);
      expect(
        off.map((p) => received.get(p)!.packets),
        'paused at the edge: nothing arrives',
      ).toEqual(before);
    };

    // N above the edge's maximum is capped; too many pins are refused.
    await expect(
      viewer.bot.channel.request('setLastN', {
        n: 2,
        pinned: Array.from({ length: MAX_PINNED + 1 }, (_, i) => `p${i}`),
      }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await viewer.bot.channel.request('setLastN', { n: 50, pinned: [] })).toEqual({ n: LAST_N_MAX });
    await expectForwarded([carol, alice, bob], []);

    expect(await viewer.bot.channel.request('setLastN', { n: 2, pinned: [] })).toEqual({ n: 2 });
    await expectForwarded([carol, alice], [bob]);

    /** One speaks until the viewer's edge puts it first, then falls silent. */
    const speak = async (p: Placed, resumes = false) => {
      p.bot.setAudioLevel(SPEAKING_DBOV);
      await eventually(() => expect(orders.at(-1)?.[0]).toBe(p.bot.id), 5000, 10);
      if (resumes) latencies.push(await resumeLatency(p));
      p.bot.setAudioLevel(SILENT_DBOV);
      await sleep(1000); // past the hold: the next one takes over at once
    };
    await speak(bob, true);
    await speak(alice);
    expect(orders.at(-1)?.slice(0, 2)).toEqual([alice.bot.id, bob.bot.id]);
    await expectForwarded([alice, bob], [carol]);

    // A new speaker: resumed; the oldest of the two paused. Back and forth, measured.
    await speak(carol, true);
    await expectForwarded([carol, alice], [bob]);
    await speak(bob, true);
    await expectForwarded([bob, carol], [alice]);
    await speak(alice, true);
    await expectForwarded([alice, bob], [carol]);
    await speak(carol, true);
    await expectForwarded([carol, alice], [bob]);
    console.log(
      `last-N: speaker order (at the viewer) to the new speaker's camera arriving: ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`,
    );

    // A pinned participant is forwarded whatever the speakers, and takes one of the N.
    expect(await viewer.bot.channel.request('setLastN', { n: 2, pinned: [bob.bot.id] })).toEqual({ n: 2 });
    await expectForwarded([bob, carol], [alice]);

    // The client's own pause stands under last-N: a paused consumer stays paused when chosen.
    const bobConsumer = [...consumerOf].find(([, p]) => p === bob)![0];
    await viewer.bot.channel.request('pauseConsumer', { consumerId: bobConsumer });
    await sleep(500);
    const paused = received.get(bob)!.packets;
    await speak(bob);
    await sleep(500);
    expect(received.get(bob)!.packets).toBe(paused);
    await viewer.bot.channel.request('resumeConsumer', { consumerId: bobConsumer });
    await expectFlowing(received.get(bob)!, 20, 5000);
  });

  it('a forwarded camera that loses every layer while nobody paused it is reported as noBandwidth; the viewer’s own pause is not', async () => {
    const edge = await startEdge();
    const bots: RtpBot[] = [];
    try {
      const room = 'last-n-bandwidth';
      const media = prepareRecordedMedia(mkdtempSync(join(tmpdir(), 'kaskade-media-')), 4);
      const publisher = await RtpBot.join(edge.url, await token('publisher', room));
      const viewer = await RtpBot.join(edge.url, await token('viewer', room));
      bots.push(publisher, viewer);
      const { camera, sender } = await publisher.publishRecorded(media, { audio: false });
      const news: NotificationData<'videoForwarding'>[] = [];
      viewer.channel.on('videoForwarding', (data) => news.push(data));
      const stream = await viewer.consume({ producerId: camera });
      const consumerId = viewer.consumerIdOf(camera)!;
      expect(await viewer.channel.request('setLastN', { n: 1, pinned: [] })).toEqual({ n: 1 });
      const forwarded = { on: [consumerId], notInLastN: [], pausedBySender: [], noBandwidth: [] };
      await eventually(() => expect(news.at(-1)).toEqual(forwarded));
      await expectFlowing(stream, 20, 5000);

      // The viewer pauses it: its layers go, but that is the viewer's choice, not a want of bandwidth.
      await viewer.channel.request('pauseConsumer', { consumerId });
      await sleep(1500);
      expect(news.at(-1)).toEqual(forwarded);
      await viewer.channel.request('resumeConsumer', { consumerId });
      await expectFlowing(stream, 20, 5000);

      // The camera's packets stop without a pause (as when nothing fits the link): no layer left to forward.
      sender.stop();
      await eventually(
        () => expect(news.at(-1)).toEqual({ ...forwarded, on: [], noBandwidth: [consumerId] }),
        10_000,
      );
      for (const bot of bots.splice(0)) await bot.close();
      await expectNoMediaObjects(edge);
    } finally {
      for (const bot of bots) await bot.close();
      await edge.stop();
    }
  });
});
