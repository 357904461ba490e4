import { RequestError } from '@kaskade/client-sdk';
import { Directory } from '@kaskade/directory';
import { RtpBot } from '@kaskade/load-tools';
import { type LocalMesh, type MeshEdge, startLocalMesh } from '@kaskade/local-mesh';
import { Bus, issueToken } from '@kaskade/node-toolkit';
import {
  type ChatMessage,
  type Grants,
  type NotificationData,
  RoomEvent,
  type SdkErrorCode,
  Subjects,
} from '@kaskade/protocol';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/edge.ts';
import { FAST_CONTROL_PLANE_ENV, FAST_MESH_ENV } from '../helpers/mesh.ts';

/**
 * Chat over real processes: nats-server, redis-server, the control plane and two edges in
 * each of two regions. Participants join the edge a test names; a moderator's actions go
 * from its edge to the control plane (room.act), which executes them and tells every edge.
 */
const MAX_CHARS = 300;
const HISTORY = 10;
const BURST = 6;
const CHAT_ENV = {
  KASKADE_CHAT_MAX_CHARS: String(MAX_CHARS),
  KASKADE_CHAT_HISTORY_MESSAGES: String(HISTORY),
  KASKADE_CHAT_MESSAGES_PER_S: '1',
  KASKADE_CHAT_MESSAGE_BURST: String(BURST),
};
const SPEAKER: Grants = { publish: true, subscribe: true };
const AUDIENCE: Grants = { publish: false, subscribe: true };
const MODERATOR: Grants = { publish: true, subscribe: true, moderate: true };

let mesh: LocalMesh;
let directory: Directory;
const bots: RtpBot[] = [];
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  mesh = await startLocalMesh({
    edgesPerRegion: 2,
    edgeEnv: { ...FAST_MESH_ENV, ...CHAT_ENV },
    controlPlaneEnv: FAST_CONTROL_PLANE_ENV,
  });
  directory = new Directory(mesh.redisUrl, logger);
}, 90_000);

afterAll(async () => {
  for (const bot of bots) await bot.close().catch(() => undefined);
  await directory?.close();
  await mesh?.stop();
});

const edge = (nodeId: string): MeshEdge => mesh.edges.find((e) => e.nodeId === nodeId)!;

/** A participant on the edge named, with everything it is told kept by kind. */
async function join(
  nodeId: string,
  identity: string,
  room: string,
  grants: Grants,
  claims: { role?: 'stage' | 'audience'; lecture?: boolean } = {},
) {
  const token = await issueToken(
    { identity, name: identity, room, grants, node: nodeId, ttlSeconds: 60, ...claims },
    { secret: mesh.edgeJwtSecret },
  );
  const bot = await RtpBot.join(edge(nodeId).url, token);
  bots.push(bot);
  const heard = {
    chatMessage: [] as ChatMessage[],
    chatDeleted: [] as NotificationData<'chatDeleted'>[],
    channelsChanged: [] as NotificationData<'channelsChanged'>[],
    questionUpdated: [] as NotificationData<'questionUpdated'>[],
  };
  for (const name of Object.keys(heard) as (keyof typeof heard)[])
    bot.channel.on(name, ((data: unknown) => (heard[name] as unknown[]).push(data)) as never);
  const texts = () => heard.chatMessage.map((m) => m.text);
  return { bot, heard, texts, id: bot.id, request: bot.channel.request.bind(bot.channel) };
}

function expectCode(promise: Promise<unknown>, code: SdkErrorCode) {
  return expect(promise).rejects.toSatisfy((e) => e instanceof RequestError && e.code === code);
}

/** Everyone here has seen what the edges deliver in order from `sender`: the marker it sent after. */
async function marker(sender: Awaited<ReturnType<typeof join>>, to: Awaited<ReturnType<typeof join>>[]) {
  const text = `marker-${Math.random()}`;
  await sender.request('sendChat', { text });
  await eventually(() => {
    for (const p of to) expect(p.texts()).toContain(text);
  });
}

describe('chat across the mesh', () => {
  it('room chat reaches every edge and region; a private message only its sender and recipient', async () => {
    const room = 'chat-room';
    const a = await join('edge-eu-1', 'alice', room, SPEAKER);
    const b = await join('edge-eu-2', 'bob', room, SPEAKER);
    const c = await join('edge-us-1', 'carol', room, SPEAKER);
    const d = await join('edge-us-2', 'dave', room, SPEAKER);

    const { message } = await a.request('sendChat', { text: '  hello, everyone \u202E ' });
    expect(message).toMatchObject({
      channel: 'general',
      from: { participantId: a.id, name: 'alice' },
      text: 'hello, everyone',
    });
    for (const p of [b, c, d]) await eventually(() => expect(p.heard.chatMessage).toContainEqual(message));
    expect(a.heard.chatMessage).toEqual([]); // the author has the answer

    // Once carol's edge knows alice (the mesh told it of her join), carol writes to her privately.
    const { message: secret } = await eventually(() =>
      c.request('sendChat', { text: 'psst, alice', to: a.id }),
    );
    expect(secret.to).toBe(a.id);
    await eventually(() => expect(a.texts()).toContain('psst, alice'));
    await marker(c, [a, b, d]);
    expect(b.texts()).not.toContain('psst, alice');
    expect(d.texts()).not.toContain('psst, alice');

    const historyOf = async (p: typeof a) =>
      (await p.request('chatHistory', { channel: 'general' })).messages.map((m) => m.text);
    expect(await historyOf(b)).not.toContain('psst, alice');
    expect(await historyOf(a)).toEqual(expect.arrayContaining(['hello, everyone', 'psst, alice']));
    expect(await historyOf(c)).toContain('psst, alice');
    const ids = (await a.request('chatHistory', { channel: 'general' })).messages.map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));

    await expectCode(a.request('sendChat', { text: 'hi', to: 'nobody-here' }), 'NOT_FOUND');
    await expectCode(a.request('sendChat', { text: 'hi', to: a.id }), 'BAD_REQUEST');
    await expectCode(a.request('sendChat', { channel: 'no-such', text: 'hi' }), 'NOT_FOUND');
  });
});

describe('channels', () => {
  it('a channel with members: only they (and moderators) see it, receive it and read its history', async () => {
    const room = 'chat-channels';
    const mod = await join('edge-us-1', 'mod', room, MODERATOR);
    const a = await join('edge-eu-1', 'ann', room, SPEAKER);
    const b = await join('edge-eu-2', 'ben', room, SPEAKER);
    const c = await join('edge-us-2', 'cid', room, SPEAKER);
    const outsider = await join('edge-eu-1', 'otto', room, SPEAKER);

    await expectCode(a.request('openChannel', { id: 'mine', name: 'Mine', kind: 'chat' }), 'FORBIDDEN');
    const { channel } = await mod.request('openChannel', {
      id: 'group-a',
      name: 'Group A',
      kind: 'chat',
      members: ['ann', 'cid'],
    });
    const seesGroup = (p: typeof a) =>
      p.heard.channelsChanged.at(-1)?.channels.some((ch) => ch.id === 'group-a');
    for (const p of [mod, a, c]) await eventually(() => expect(seesGroup(p)).toBe(true));
    for (const p of [b, outsider]) await eventually(() => expect(seesGroup(p)).toBe(false));
    expect((await a.request('listChannels', {})).channels).toEqual([
      { id: 'general', name: 'General', kind: 'chat' },
      channel,
    ]);
    expect((await b.request('listChannels', {})).channels.map((ch) => ch.id)).toEqual(['general']);

    await a.request('sendChat', { channel: 'group-a', text: 'group A only' });
    for (const p of [c, mod]) await eventually(() => expect(p.texts()).toContain('group A only'));
    await marker(a, [b, outsider, c]);
    expect(b.texts()).not.toContain('group A only');
    expect(outsider.texts()).not.toContain('group A only');
    await expectCode(b.request('chatHistory', { channel: 'group-a' }), 'NOT_FOUND');
    await expectCode(outsider.request('sendChat', { channel: 'group-a', text: 'let me in' }), 'NOT_FOUND');
    await expectCode(a.request('sendChat', { channel: 'group-a', text: 'hi', to: b.id }), 'FORBIDDEN');
    expect((await c.request('chatHistory', { channel: 'group-a' })).messages.map((m) => m.text)).toEqual([
      'group A only',
    ]);

    // Closed: gone for everyone, its history with it.
    await expectCode(a.request('closeChannel', { id: 'group-a' }), 'FORBIDDEN');
    expect(await mod.request('closeChannel', { id: 'group-a' })).toEqual({});
    for (const p of [mod, a, c]) await eventually(() => expect(seesGroup(p)).toBe(false));
    await expectCode(a.request('sendChat', { channel: 'group-a', text: 'still there?' }), 'NOT_FOUND');
    await expectCode(mod.request('closeChannel', { id: 'group-a' }), 'NOT_FOUND');
    await expectCode(mod.request('closeChannel', { id: 'general' }), 'INVALID_STATE');
  });

  it('a late joiner reads the bounded history, page by page', async () => {
    const room = 'chat-history';
    const senders = [
      await join('edge-eu-1', 's1', room, SPEAKER),
      await join('edge-eu-2', 's2', room, SPEAKER),
      await join('edge-us-1', 's3', room, SPEAKER),
    ];
    const sent: string[] = [];
    for (let round = 0; round < 5; round++)
      for (const [i, s] of senders.entries()) {
        const text = `round ${round} from s${i + 1}`;
        await s.request('sendChat', { text });
        sent.push(text);
      }
    const late = await join('edge-us-2', 'late', room, SPEAKER);
    const { messages } = await late.request('chatHistory', { channel: 'general', limit: 200 });
    expect(messages.map((m) => m.text)).toEqual(sent.slice(-HISTORY));
    const page = await late.request('chatHistory', { channel: 'general', before: messages[5]!.id, limit: 3 });
    expect(page.messages.map((m) => m.text)).toEqual(sent.slice(-HISTORY).slice(2, 5));
    const newest = await late.request('chatHistory', { channel: 'general', limit: 2 });
    expect(newest.messages.map((m) => m.text)).toEqual(sent.slice(-2));
  });

  it('size and rate limits: typed errors, and nothing refused is stored', async () => {
    const room = 'chat-limits';
    const a = await join('edge-eu-1', 'chatty', room, SPEAKER);
    await expectCode(a.request('sendChat', { text: 'x'.repeat(MAX_CHARS + 1) }), 'MESSAGE_TOO_LARGE');
    await expectCode(a.request('sendChat', { text: 'x'.repeat(2001) }), 'BAD_REQUEST');
    await expectCode(a.request('sendChat', { text: ' \n\t ' }), 'BAD_REQUEST');
    expect((await a.request('sendChat', { text: 'x'.repeat(MAX_CHARS) })).message.text).toHaveLength(
      MAX_CHARS,
    );

    const outcomes = await Promise.allSettled(
      Array.from({ length: BURST + 4 }, (_, i) => a.request('sendChat', { text: `burst ${i}` })),
    );
    const accepted = outcomes.filter((o) => o.status === 'fulfilled').length;
    const limited = outcomes.filter(
      (o) => o.status === 'rejected' && o.reason instanceof RequestError && o.reason.code === 'RATE_LIMITED',
    ).length;
    expect(accepted).toBeGreaterThanOrEqual(BURST - 1); // the burst less the long message above
    expect(accepted).toBeLessThanOrEqual(BURST + 1); // and at most a token refilled meanwhile
    expect(accepted + limited).toBe(BURST + 4);
    const stored = (await a.request('chatHistory', { channel: 'general' })).messages;
    expect(stored.filter((m) => m.text.startsWith('burst '))).toHaveLength(accepted);
  });
});

describe('lecture Q&A', () => {
  it('the audience asks, others upvote once each, the list is sorted; a moderator marks answered and deletes', async () => {
    const room = 'chat-lecture';
    const lecture = { lecture: true };
    const prof = await join('edge-eu-1', 'prof', room, MODERATOR, { ...lecture, role: 'stage' });
    const s1 = await join('edge-eu-2', 'student-1', room, AUDIENCE, { ...lecture, role: 'audience' });
    const s2 = await join('edge-us-1', 'student-2', room, AUDIENCE, { ...lecture, role: 'audience' });
    const s3 = await join('edge-us-2', 'student-3', room, AUDIENCE, { ...lecture, role: 'audience' });
    await prof.request('openChannel', { id: 'qa', name: 'Q&A', kind: 'qa' });
    for (const p of [prof, s1, s2, s3])
      await eventually(() =>
        expect(p.heard.channelsChanged.at(-1)?.channels.map((ch) => ch.id)).toContain('qa'),
      );

    const { message: q1 } = await s1.request('sendChat', { channel: 'qa', text: 'Is it on the exam?' });
    const { message: q2 } = await s1.request('sendChat', { channel: 'qa', text: 'Why is the sky blue?' });
    for (const p of [prof, s2, s3])
      await eventually(() => expect(p.heard.chatMessage.map((m) => m.id)).toContain(q2.id));
    await expectCode(s1.request('sendChat', { channel: 'qa', text: 'psst', to: s2.id }), 'BAD_REQUEST');
    await expectCode(s2.request('upvoteQuestion', { channel: 'general', messageId: q1.id }), 'INVALID_STATE');
    await expectCode(s2.request('upvoteQuestion', { channel: 'qa', messageId: '999999' }), 'NOT_FOUND');

    expect(await s2.request('upvoteQuestion', { channel: 'qa', messageId: q2.id })).toEqual({ votes: 1 });
    expect(await s3.request('upvoteQuestion', { channel: 'qa', messageId: q2.id })).toEqual({ votes: 2 });
    // Once per identity: again, no change.
    expect(await s2.request('upvoteQuestion', { channel: 'qa', messageId: q2.id })).toEqual({ votes: 2 });
    expect(await s2.request('upvoteQuestion', { channel: 'qa', messageId: q1.id })).toEqual({ votes: 1 });
    // Three votes counted (the repeated one told nobody), from two edges: in any order between them.
    for (const p of [prof, s1])
      await eventually(() => {
        expect(p.heard.questionUpdated).toHaveLength(3);
        expect(p.heard.questionUpdated).toContainEqual({
          channel: 'qa',
          messageId: q1.id,
          votes: 1,
          answered: false,
        });
        expect(p.heard.questionUpdated.filter((u) => u.messageId === q2.id).map((u) => u.votes)).toEqual([
          1, 2,
        ]);
      });
    const ranked = (await s3.request('listQuestions', { channel: 'qa' })).questions;
    expect(ranked.map((q) => [q.text, q.votes, q.answered])).toEqual([
      ['Why is the sky blue?', 2, false],
      ['Is it on the exam?', 1, false],
    ]);

    await expectCode(
      s2.request('markAnswered', { channel: 'qa', messageId: q2.id, answered: true }),
      'FORBIDDEN',
    );
    expect(await prof.request('markAnswered', { channel: 'qa', messageId: q2.id, answered: true })).toEqual({
      votes: 2,
      answered: true,
    });
    for (const p of [prof, s1, s2, s3])
      await eventually(() =>
        expect(p.heard.questionUpdated.at(-1)).toEqual({
          channel: 'qa',
          messageId: q2.id,
          votes: 2,
          answered: true,
        }),
      );
    expect((await s1.request('listQuestions', { channel: 'qa' })).questions.map((q) => q.id)).toEqual([
      q1.id,
      q2.id,
    ]);

    await expectCode(s1.request('deleteMessage', { channel: 'qa', messageId: q1.id }), 'FORBIDDEN');
    expect(await prof.request('deleteMessage', { channel: 'qa', messageId: q1.id })).toEqual({});
    for (const p of [prof, s1, s2, s3])
      await eventually(() => expect(p.heard.chatDeleted).toEqual([{ channel: 'qa', messageId: q1.id }]));
    expect((await s2.request('chatHistory', { channel: 'qa' })).messages.map((m) => m.id)).toEqual([q2.id]);
    await expectCode(s2.request('upvoteQuestion', { channel: 'qa', messageId: q1.id }), 'NOT_FOUND');
    await expectCode(prof.request('deleteMessage', { channel: 'qa', messageId: q1.id }), 'NOT_FOUND');
    await expectCode(
      prof.request('markAnswered', { channel: 'general', messageId: q2.id, answered: true }),
      'NOT_FOUND',
    );
  });
});

describe('chat and the bus', () => {
  it('an edge speaks only for its own participants; deletions and channel lists only the control plane', async () => {
    const room = 'chat-trust';
    const a = await join('edge-eu-1', 'trusted', room, SPEAKER);
    const b = await join('edge-eu-2', 'reader', room, SPEAKER);
    const { message } = await a.request('sendChat', { text: 'the real one' });
    await eventually(() => expect(b.texts()).toContain('the real one'));

    // edge-us-2's own credentials: it may publish room events, but it hosts neither of them.
    const forger = await Bus.connect(mesh.nats!.settingsFor('edge-us-2'), 'edge-us-2', logger);
    try {
      const forge = (event: RoomEvent) =>
        forger.publish(Subjects.roomEvents(room, 'edge-us-2'), RoomEvent, event);
      forge({ type: 'chatMessage', message: { ...message, id: '99999', text: 'forged in her name' } });
      forge({ type: 'chatDeleted', channel: 'general', messageId: message.id });
      forge({
        type: 'chatChannels',
        channels: [
          { id: 'general', name: 'General', kind: 'chat' },
          { id: 'fake', name: 'Fake', kind: 'chat' },
        ],
      });
      forge({
        type: 'chatQuestion',
        channel: 'general',
        messageId: message.id,
        votes: 42,
        answered: true,
        by: a.id,
      });
    } finally {
      await forger.close();
    }
    await marker(a, [b]);
    expect(b.texts()).not.toContain('forged in her name');
    expect(b.heard.chatDeleted).toEqual([]);
    expect(b.heard.channelsChanged).toEqual([]);
    expect(b.heard.questionUpdated).toEqual([]);
    expect((await b.request('listChannels', {})).channels.map((c) => c.id)).toEqual(['general']);
  });
});

describe('chat state in Redis', () => {
  it('every chat key is under the room state prefix and expires; malformed entries read back are dropped', async () => {
    const room = 'chat-keys';
    const a = await join('edge-eu-1', 'keeper', room, MODERATOR);
    await a.request('openChannel', { id: 'qa', name: 'Q&A', kind: 'qa' });
    const { message } = await eventually(() => a.request('sendChat', { channel: 'qa', text: 'kept?' }));
    await a.request('upvoteQuestion', { channel: 'qa', messageId: message.id });
    await a.request('sendChat', { text: 'in general' });

    const chatKeys = (await directory.keys('rooms')).filter((k) => k.key.includes(`{${room}}:state:chat:`));
    expect(chatKeys.map((k) => k.part).sort()).toEqual(['channels', 'messages', 'messages', 'seq', 'votes']);
    // The room's own keys name its prefix (as keys.ts spells it): the chat's are its state.
    const participants = (await directory.keys({ room })).find((k) => k.part === 'participants')!.key;
    const statePrefix = `${participants.slice(0, -'participants'.length)}state:chat:`;
    for (const k of chatKeys) {
      expect(k.key.startsWith(statePrefix)).toBe(true);
      expect(k.ttlSeconds).toBeGreaterThan(86_000);
      expect(k.ttlSeconds).toBeLessThanOrEqual(86_400);
    }

    // Something not written by an edge in a history: dropped when read, the rest still read.
    const general = chatKeys.find((k) => k.part === 'messages' && !k.key.includes(':qa:'))!;
    const redis = new Redis(mesh.redisUrl);
    try {
      await redis.lpush(general.key, 'not json', JSON.stringify({ id: '1', text: 'no schema' }));
    } finally {
      await redis.quit();
    }
    expect((await a.request('chatHistory', { channel: 'general' })).messages.map((m) => m.text)).toEqual([
      'in general',
    ]);
  });
});
