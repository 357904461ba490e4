import { RoomChat, type SignalingChannel } from '@kaskade/client-sdk';
import { describe, expect, it } from 'vitest';
import { FakeChannel } from '../helpers/fake-channel.ts';

const QA = { id: 'qa', name: 'Q&A', kind: 'qa' } as const;
const GENERAL = { id: 'general', name: 'General', kind: 'chat' } as const;
const message = {
  id: '7',
  channel: 'qa',
  from: { participantId: 'p1', name: 'Ada' },
  text: 'Why?',
  sentAt: 1,
};

function setUp(isCurrent = true) {
  const channel = new FakeChannel();
  const acts: { name: string; params: unknown }[] = [];
  const chat = new RoomChat(() => channel as unknown as SignalingChannel, (async (
    name: string,
    params: unknown,
  ) => {
    acts.push({ name, params });
    return name === 'openChannel' ? { channel: params } : {};
  }) as never);
  chat.wire(channel as unknown as SignalingChannel, () => isCurrent);
  return { channel, acts, chat };
}

describe('SDK: the room chat', () => {
  it('general always, first, whatever order the edge lists channels in', async () => {
    const { channel, chat } = setUp();
    expect(chat.channels).toEqual([GENERAL]);
    const seen: unknown[] = [];
    chat.on('channelsChanged', (channels) => seen.push(channels.map((c) => c.id)));
    channel.answers.listChannels = { channels: [QA, GENERAL] };
    expect((await chat.refreshChannels()).map((c) => c.id)).toEqual(['general', 'qa']);
    channel.fire('channelsChanged', { channels: [QA] });
    expect(chat.channels.map((c) => c.id)).toEqual(['general', 'qa']);
    expect(seen).toEqual([
      ['general', 'qa'],
      ['general', 'qa'],
    ]);
  });

  it("sends, reads and votes with the contract's requests; the host's calls are room actions", async () => {
    const { channel, acts, chat } = setUp();
    channel.answers = {
      sendChat: { message },
      chatHistory: { messages: [message] },
      upvoteQuestion: { votes: 3 },
      listQuestions: { questions: [message] },
    };
    expect(await chat.send('Why?', { channel: 'qa' })).toEqual(message);
    await chat.send('psst', { to: 'p2' });
    expect(await chat.history()).toEqual([message]);
    await chat.history('qa', { before: '7', limit: 10 });
    expect(await chat.upvote('qa', '7')).toBe(3);
    expect(await chat.questions('qa')).toEqual([message]);
    expect(channel.requests).toEqual([
      { method: 'sendChat', data: { text: 'Why?', channel: 'qa' } },
      { method: 'sendChat', data: { text: 'psst', to: 'p2' } },
      { method: 'chatHistory', data: { channel: 'general' } },
      { method: 'chatHistory', data: { channel: 'qa', before: '7', limit: 10 } },
      { method: 'upvoteQuestion', data: { channel: 'qa', messageId: '7' } },
      { method: 'listQuestions', data: { channel: 'qa' } },
    ]);
    expect(await chat.openChannel(QA)).toEqual(QA);
    await chat.markAnswered('qa', '7');
    await chat.deleteMessage('qa', '7');
    await chat.closeChannel('qa');
    expect(acts).toEqual([
      { name: 'openChannel', params: QA },
      { name: 'markAnswered', params: { channel: 'qa', messageId: '7', answered: true } },
      { name: 'deleteMessage', params: { channel: 'qa', messageId: '7' } },
      { name: 'closeChannel', params: { id: 'qa' } },
    ]);
  });

  it("the notifications of the session that speaks for the room become events; another session's do not", () => {
    const events: unknown[] = [];
    for (const current of [true, false]) {
      const { channel, chat } = setUp(current);
      chat.on('chatMessage', (m) => events.push(['chatMessage', current, m.id]));
      chat.on('chatDeleted', (c, id) => events.push(['chatDeleted', current, c, id]));
      chat.on('questionUpdated', (u) => events.push(['questionUpdated', current, u.votes]));
      channel.fire('chatMessage', message);
      channel.fire('chatDeleted', { channel: 'qa', messageId: '7' });
      channel.fire('questionUpdated', { channel: 'qa', messageId: '7', votes: 2, answered: false });
    }
    expect(events).toEqual([
      ['chatMessage', true, '7'],
      ['chatDeleted', true, 'qa', '7'],
      ['questionUpdated', true, 2],
    ]);
  });
});
