import {
  type Chatter,
  chatRefusal,
  historyPage,
  maySeeChannel,
  maySeeMessage,
  rankQuestions,
} from '@kaskade/edge';
import { type ChatChannel, type ChatMessage, DEFAULT_POLICIES } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';

const chatter = (id: string, extra: Partial<Chatter> = {}): Chatter => ({
  id,
  identity: `user-${id}`,
  role: 'stage',
  grants: { publish: true, subscribe: true },
  ...extra,
});
const moderator = chatter('mod', { grants: { publish: true, subscribe: true, moderate: true } });
const student = chatter('student', { role: 'audience', grants: { publish: false, subscribe: true } });

const general: ChatChannel = { id: 'general', name: 'General', kind: 'chat' };
const qa: ChatChannel = { id: 'qa', name: 'Q&A', kind: 'qa' };
const groupA: ChatChannel = { id: 'group-a', name: 'Group A', kind: 'chat', members: ['user-a1', 'user-a2'] };

const message = (id: number, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  id: String(id),
  channel: 'general',
  from: { participantId: 'a1', name: 'A1' },
  text: `message ${id}`,
  sentAt: 1_000 + id,
  ...extra,
});

describe('chat visibility', () => {
  it('a channel without members is everyone’s; one with members only theirs and the moderators’', () => {
    expect(maySeeChannel(general, chatter('x'))).toBe(true);
    expect(maySeeChannel(groupA, chatter('a1'))).toBe(true);
    expect(maySeeChannel(groupA, chatter('b1'))).toBe(false);
    expect(maySeeChannel(groupA, moderator)).toBe(true);
  });

  it('a private message is seen by its sender and its recipient only, not even by moderators', () => {
    const secret = message(1, { to: 'b1' });
    expect(maySeeMessage(secret, general, chatter('a1'))).toBe(true);
    expect(maySeeMessage(secret, general, chatter('b1'))).toBe(true);
    expect(maySeeMessage(secret, general, chatter('c1'))).toBe(false);
    expect(maySeeMessage(secret, general, moderator)).toBe(false);
    expect(maySeeMessage(message(2), general, chatter('c1'))).toBe(true);
  });

  it('a message of a members-only channel is hidden from non-members even when addressed to them', () => {
    expect(maySeeMessage(message(3, { channel: 'group-a', to: 'b1' }), groupA, chatter('b1'))).toBe(false);
  });
});

describe('chat policy', () => {
  const moderatorsOnly = { ...DEFAULT_POLICIES, chat: 'moderators' as const };
  const quietAudience = { ...DEFAULT_POLICIES, audienceChat: false };

  it('by default everyone chats, in a lecture too', () => {
    expect(chatRefusal(chatter('x'), general, DEFAULT_POLICIES, false)).toBeUndefined();
    expect(chatRefusal(student, general, DEFAULT_POLICIES, true)).toBeUndefined();
  });

  it('chat: moderators leaves only moderators the chat channels; Q&A stays open', () => {
    expect(chatRefusal(chatter('x'), general, moderatorsOnly, false)).toMatch(/only moderators/);
    expect(chatRefusal(moderator, general, moderatorsOnly, false)).toBeUndefined();
    expect(chatRefusal(student, qa, moderatorsOnly, true)).toBeUndefined();
  });

  it('audienceChat off silences the audience of a lecture only, and never in Q&A', () => {
    expect(chatRefusal(student, general, quietAudience, true)).toMatch(/Q&A/);
    expect(chatRefusal(student, general, quietAudience, false)).toBeUndefined();
    expect(chatRefusal(chatter('speaker'), general, quietAudience, true)).toBeUndefined();
    expect(chatRefusal(student, qa, quietAudience, true)).toBeUndefined();
  });
});

describe('history pages and the question list', () => {
  const history = [1, 2, 3, 4, 5, 6].map((id) => message(id));

  it('a page is the last `limit` messages before `before`, oldest first', () => {
    expect(historyPage(history, undefined, 3).map((m) => m.id)).toEqual(['4', '5', '6']);
    expect(historyPage(history, '4', 2).map((m) => m.id)).toEqual(['2', '3']);
    expect(historyPage(history, '2', 10).map((m) => m.id)).toEqual(['1']);
    expect(historyPage(history, '1', 10)).toEqual([]);
    // Ids compare as numbers: '10' comes after '9'.
    expect(historyPage([message(9), message(10)], '10', 5).map((m) => m.id)).toEqual(['9']);
  });

  it('questions: open before answered, most votes first, ties the oldest first', () => {
    const questions = [
      message(1, { votes: 2 }),
      message(2, { votes: 5, answered: true }),
      message(3, { votes: 5 }),
      message(4, { votes: 2 }),
      message(5, { votes: 0 }),
      message(11, { votes: 3 }),
    ];
    expect(rankQuestions(questions).map((m) => m.id)).toEqual(['3', '11', '1', '4', '5', '2']);
    expect(questions.map((m) => m.id)).toEqual(['1', '2', '3', '4', '5', '11']); // not sorted in place
  });
});
