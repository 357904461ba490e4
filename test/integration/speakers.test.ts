import { percentile, type RtpBot } from '@kaskade/load-tools';
import { type RoomEvent, Subjects } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { attacker } from '../helpers/hostile-bus.ts';
import { useMeshPerTest } from '../helpers/mesh.ts';

const ROOM = 'speakers';
const SPEAKING_DBOV = -20;
const SILENT_DBOV = -127;

/** What a bot is told of the room's speakers, with when (performance.now()). */
function listen(bot: RtpBot) {
  const speakers: { id: string | null; at: number }[] = [];
  const orders: string[][] = [];
  bot.channel.on('activeSpeaker', ({ participantId }) =>
    speakers.push({ id: participantId, at: performance.now() }),
  );
  bot.channel.on('speakerOrder', ({ participantIds }) => orders.push(participantIds));
  return { speakers, orders, current: () => speakers.at(-1)?.id ?? bot.joined.activeSpeaker };
}

const meshPerTest = useMeshPerTest();

describe('one speaker order for the room, across the mesh', () => {
  it('a publisher that starts speaking on an edge in one region is the speaker for viewers on an edge in the other, within the target', async () => {
    const mesh = await meshPerTest.start();
    const alice = await meshPerTest.join('alice', ROOM, 'eu');
    const bob = await meshPerTest.join('bob', ROOM, 'us');
    const euViewer = await meshPerTest.join('eu-viewer', ROOM, 'eu');
    const usViewer = await meshPerTest.join('us-viewer', ROOM, 'us');
    expect(mesh.edges.find((e) => e.nodeId === alice.nodeId)?.region).toBe('eu');
    expect(mesh.edges.find((e) => e.nodeId === bob.nodeId)?.region).toBe('us');
    const aliceMic = await alice.bot.publish('microphone');
    const bobMic = await bob.bot.publish('microphone');
    const viewers = [euViewer, usViewer, alice, bob].map((p) => ({ p, heard: listen(p.bot) }));
    // Each viewer's edge knows both microphones before anyone speaks.
    for (const { p } of viewers)
      await eventually(() => {
        const known = [...p.bot.joined.streams.map((s) => s.producerId), ...p.bot.seen.streamAdded];
        expect(known).toEqual(
          expect.arrayContaining(p === alice ? [bobMic] : p === bob ? [aliceMic] : [aliceMic, bobMic]),
        );
      }, 10_000);

    // Alternate: one falls silent, the other starts. The viewer in the OTHER region than
    // the new speaker measures how long the news takes.
    const latencies: number[] = [];
    const switches = 10;
    for (let i = 0; i < switches; i++) {
      const [speaker, silent, far] = i % 2 === 0 ? [alice, bob, usViewer] : [bob, alice, euViewer];
      silent.bot.setAudioLevel(SILENT_DBOV);
      // The previous speaker's pause outlasts the hold; a random part samples every phase
      // of the edges' 250 ms level intervals (a whole multiple would measure one phase only).
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 250));
      const heard = viewers.find((v) => v.p === far)!.heard;
      const startedAt = performance.now();
      speaker.bot.setAudioLevel(SPEAKING_DBOV);
      const change = await eventually(
        () => {
          const found = heard.speakers.find((s) => s.at >= startedAt && s.id === speaker.bot.id);
          expect(found, `switch ${i}: ${JSON.stringify(heard.speakers.slice(-3))}`).toBeDefined();
          return found!;
        },
        5000,
        10,
      );
      latencies.push(change.at - startedAt);
      // Every participant, on every edge, agrees.
      await eventually(() => {
        for (const { p, heard: h } of viewers) expect(h.current(), p.nodeId).toBe(speaker.bot.id);
      }, 3000);
    }
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    console.log(
      `speaker switch across regions over ${switches} switches: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (target <= 500 ms)`,
    );
    expect(p95).toBeLessThan(2000); // generous: a loaded CI machine; the figure is the report

    // The recent-speaker order: the last speaker (bob) first, alice after, the same everywhere.
    for (const { heard } of viewers)
      await eventually(() => expect(heard.orders.at(-1)).toEqual([bob.bot.id, alice.bot.id]));

    // Levels go on the bus a few times a second while someone speaks, and not in silence.
    const forger = usViewer.nodeId;
    expect(forger).not.toBe(alice.nodeId);
    const node = await attacker(mesh.nats!.settingsFor(forger), forger);
    const reports: string[] = [];
    const sub = node.nc.subscribe(Subjects.roomEvents(ROOM, '*'), {
      callback: (_err, msg) => {
        if ((msg.json() as RoomEvent).type === 'speakerLevels') reports.push(msg.subject);
      },
    });
    await node.nc.flush();
    await new Promise((r) => setTimeout(r, 2000));
    const whileSpeaking = reports.splice(0).filter((s) => s === Subjects.roomEvents(ROOM, bob.nodeId));
    expect(whileSpeaking.length).toBeGreaterThanOrEqual(4); // every 250 ms: 8 in 2 s
    expect(whileSpeaking.length).toBeLessThanOrEqual(12);
    bob.bot.setAudioLevel(SILENT_DBOV);
    await new Promise((r) => setTimeout(r, 750)); // the last report, then the one saying silence
    reports.splice(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(reports).toEqual([]);
    sub.unsubscribe();
    console.log(
      `speakerLevels reports from the speaking edge: ${whileSpeaking.length} in 2 s; in silence: 0`,
    );

    // A node reporting levels for a stream it does not originate is not believed: with the
    // us viewer's edge's own credentials, on its own subject, alice's microphone "shouts".
    const forged: RoomEvent = {
      type: 'speakerLevels',
      levels: [
        { producerId: aliceMic, level: -5 },
        { producerId: 'made-up-microphone', level: 0 },
      ],
    };
    const before = viewers.map(({ heard }) => heard.speakers.length);
    for (let i = 0; i < 8; i++) {
      node.nc.publish(Subjects.roomEvents(ROOM, forger), JSON.stringify(forged));
      await new Promise((r) => setTimeout(r, 150));
    }
    await node.nc.flush();
    await new Promise((r) => setTimeout(r, 500));
    expect(node.refusals).toEqual([]);
    await node.nc.close();
    expect(viewers.map(({ heard }) => heard.speakers.length)).toEqual(before);
    for (const { heard } of viewers) expect(heard.current()).toBe(bob.bot.id);

    // A speaker who leaves is no longer the speaker, on any edge.
    await bob.bot.close();
    for (const { p, heard } of viewers.filter(({ p }) => p !== bob))
      await eventually(() => expect(heard.current(), p.nodeId).toBeNull(), 5000);
  });
});
