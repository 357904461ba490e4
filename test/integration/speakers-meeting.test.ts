import { percentile, type RtpBot } from '@kaskade/load-tools';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { type Placed, useMeshPerTest } from '../helpers/mesh.ts';

const ROOM = 'speakers-meeting';
const SPEAKING_DBOV = -20;
const SILENT_DBOV = -127;
const PER_EDGE = 25;
const REGIONS = ['eu', 'us'] as const;
/** Unmuted (silent) participants per region at any moment, beside the speaker. */
const UNMUTED_PER_REGION = 2;

/**
 * What each microphone's packets reach its edge at: Opus at 20 ms a packet (50/s) for most,
 * 40 ms (25/s, as a client may choose) for every fourth, and 36/s for every fourth after
 * it (50/s with 28 % lost on the way in, as on an overloaded edge). The speakers are
 * taken so that each kind speaks.
 */
const packetRateOf = (n: number) => [50, 50, 25, 25, 50, 50, 36, 36][n % 8]!;

interface Member {
  placed: Placed;
  /** Microphone packets per second. */
  rate: number;
  region: (typeof REGIONS)[number];
  mic: string;
  /** `activeSpeaker` news, with when (performance.now()). */
  news: { id: string | null; at: number }[];
  orders: string[][];
}

function listen(bot: RtpBot, member: Pick<Member, 'news' | 'orders'>): void {
  bot.channel.on('activeSpeaker', ({ participantId }) =>
    member.news.push({ id: participantId, at: performance.now() }),
  );
  bot.channel.on('speakerOrder', ({ participantIds }) => member.orders.push(participantIds));
}

const meshPerTest = useMeshPerTest();

/**
 * The meeting benchmark's speaker rotation at its size (100 participants, 25 per edge over
 * 2 regions x 2 edges), with synthetic audio-only bots so the machine is not the limit:
 * most microphones muted (producer paused), a few unmuted and silent, one speaking.
 */
describe('one speaker order in a 100-person meeting across the mesh', () => {
  it('every listener in the other region hears each new speaker, with many microphones per edge', async () => {
    const mesh = await meshPerTest.start({ KASKADE_NODE_CAPACITY: String(PER_EDGE) });
    const members: Member[] = [];
    // Joins in small waves, alternating regions, each publishing its microphone and muting it.
    for (let wave = 0; wave < (PER_EDGE * 4) / 10; wave++) {
      const joined = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const n = wave * 10 + i;
          const region = REGIONS[n % 2]!;
          const placed = await meshPerTest.join(`p${n}`, ROOM, region);
          const member: Member = { placed, region, rate: packetRateOf(n), mic: '', news: [], orders: [] };
          listen(placed.bot, member);
          placed.bot.setAudioLevel(SILENT_DBOV);
          member.mic = await placed.bot.publish('microphone', { packetsPerSecond: member.rate });
          await placed.bot.channel.request('pauseProducer', { producerId: member.mic });
          return member;
        }),
      );
      members.push(...joined);
    }
    const perNode = new Map<string, number>();
    for (const m of members) perNode.set(m.placed.nodeId, (perNode.get(m.placed.nodeId) ?? 0) + 1);
    expect([...perNode.values()].sort()).toEqual([PER_EDGE, PER_EDGE, PER_EDGE, PER_EDGE]);
    for (const m of members)
      expect(mesh.edges.find((e) => e.nodeId === m.placed.nodeId)?.region).toBe(m.region);

    // A few unmuted and silent in each region; speakers come from among them, alternating regions.
    const unmuted = REGIONS.flatMap((r) =>
      members.filter((m) => m.region === r).slice(0, UNMUTED_PER_REGION + 1),
    );
    for (const m of unmuted) await m.placed.bot.channel.request('resumeProducer', { producerId: m.mic });
    await new Promise((r) => setTimeout(r, 1000)); // the pauses and resumes reached every node

    const latencies: number[] = [];
    let missed = 0;
    const perSwitch: string[] = [];
    const switches = 6;
    let previous: Member | undefined;
    for (let i = 0; i < switches; i++) {
      const region = REGIONS[i % 2]!;
      // As the benchmark does: a muted participant unmutes and speaks at once.
      const speaker = members.filter((m) => m.region === region)[UNMUTED_PER_REGION + 1 + Math.floor(i / 2)]!;
      previous?.placed.bot.setAudioLevel(SILENT_DBOV);
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 250)); // past the hold
      await speaker.placed.bot.channel.request('resumeProducer', { producerId: speaker.mic });
      const startedAt = performance.now();
      speaker.placed.bot.setAudioLevel(SPEAKING_DBOV);
      const far = members.filter((m) => m.region !== region);
      await eventually(
        () => {
          const told = far.filter((m) =>
            m.news.some((s) => s.at >= startedAt && s.id === speaker.placed.bot.id),
          );
          expect(told.length, `switch ${i}: far listeners told the new speaker`).toBe(far.length);
        },
        3000,
        20,
      ).catch(() => undefined);
      let told = 0;
      const from = latencies.length;
      for (const m of far) {
        const news = m.news.find((s) => s.at >= startedAt && s.id === speaker.placed.bot.id);
        if (news) latencies.push(news.at - startedAt);
        else missed++;
        if (news) told++;
      }
      perSwitch.push(
        `${speaker.rate}/s: ${told}/${far.length}${told > 0 ? ` p50 ${percentile(latencies.slice(from), 50).toFixed(0)} ms` : ''}`,
      );
      previous = speaker;
    }
    console.log(
      `100-person meeting, ${switches} switches x 50 far listeners: told ${latencies.length}, missed ${missed}` +
        (latencies.length > 0
          ? `; p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms`
          : '') +
        ` (speaker's packets/s: far listeners told: ${perSwitch.join(', ')})`,
    );
    expect(missed).toBe(0);
    // The order agrees everywhere: the last speaker first.
    for (const m of members) expect(m.orders.at(-1)?.[0], m.placed.nodeId).toBe(previous!.placed.bot.id);
  }, 180_000);
});
