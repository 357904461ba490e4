import {
  ChatChannel,
  type ChatChannel as ChatChannelType,
  ChatMessage,
  type ChatMessage as ChatMessageType,
  GENERAL_CHANNEL,
} from '@kaskade/protocol';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Compile } from 'typebox/compile';
import { chatKeys } from './keys.ts';

/**
 * A stored message starts with its id, `{"id":"<n>",…`: the scripts find messages by it
 * without decoding JSON (whose numbers Lua's cjson would round), and build each stored
 * entry by putting the id the room's counter gave in front of the rest.
 */
const ID_OF = `string.match(entry, '^{"id":"(%d+)"')`;
const FIND = `
local function find(key, wanted)
  for _, entry in ipairs(redis.call('LRANGE', key, 0, -1)) do
    if ${ID_OF} == wanted then return entry end
  end
  return nil
end
`;

// Appends a message to a channel that exists (general always does): the id is the room's
// next, the history keeps the newest ARGV[3]; a question that falls out takes its votes
// and answered flag with it. Nil when the channel is closed.
const APPEND = `
if ARGV[2] ~= ARGV[7] and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return false end
local id = redis.call('INCR', KEYS[1])
redis.call('LPUSH', KEYS[3], '{"id":"' .. id .. '",' .. ARGV[1])
while redis.call('LLEN', KEYS[3]) > tonumber(ARGV[3]) do
  local entry = redis.call('RPOP', KEYS[3])
  local old = ${ID_OF}
  if old then
    redis.call('DEL', ARGV[5] .. old .. ARGV[6])
    redis.call('SREM', KEYS[4], old)
  end
end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return id
`;

// A channel's history, oldest first, as [entry, votes, answered] triples.
const HISTORY = `
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
local out = {}
for i = #entries, 1, -1 do
  local entry = entries[i]
  local id = ${ID_OF}
  table.insert(out, entry)
  if id then
    table.insert(out, redis.call('SCARD', ARGV[1] .. id .. ARGV[2]))
    table.insert(out, redis.call('SISMEMBER', KEYS[2], id))
  else
    table.insert(out, 0)
    table.insert(out, 0)
  end
end
return out
`;

// One identity's vote for a message of the history: {added, votes, answered}; nil if no such message.
const UPVOTE = `${FIND}
if not find(KEYS[1], ARGV[1]) then return false end
local key = ARGV[3] .. ARGV[1] .. ARGV[4]
local added = redis.call('SADD', key, ARGV[2])
redis.call('EXPIRE', key, ARGV[5])
return {added, redis.call('SCARD', key), redis.call('SISMEMBER', KEYS[2], ARGV[1])}
`;

// Marks a message of the history answered (ARGV[2] '1') or not: {votes, answered}; nil if no such message.
const SET_ANSWERED = `${FIND}
if not find(KEYS[1], ARGV[1]) then return false end
if ARGV[2] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {redis.call('SCARD', ARGV[3] .. ARGV[1] .. ARGV[4]), redis.call('SISMEMBER', KEYS[2], ARGV[1])}
`;

// Deletes a message of the history with its votes and answered flag: 1, or 0 if no such message.
const DELETE = `${FIND}
local entry = find(KEYS[1], ARGV[1])
if not entry then return 0 end
redis.call('LREM', KEYS[1], 1, entry)
redis.call('DEL', ARGV[2] .. ARGV[1] .. ARGV[3])
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`;

// Opens (or changes) a channel, unless the room has ARGV[3] already: 1 opened, 0 changed, -1 full.
const OPEN_CHANNEL = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) + 1 >= tonumber(ARGV[3]) then
  return -1
end
local opened = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return opened
`;

// Closes a channel with its history, votes and answered flags: 1, or 0 if it was not open.
const CLOSE_CHANNEL = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
for _, entry in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  local id = ${ID_OF}
  if id then redis.call('DEL', ARGV[2] .. id .. ARGV[3]) end
end
redis.call('DEL', KEYS[2], KEYS[3])
return 1
`;

interface Scripts {
  chatAppend(...args: string[]): Promise<number | null>;
  chatHistory(...args: string[]): Promise<(string | number)[]>;
  chatUpvote(...args: string[]): Promise<[number, number, number] | null>;
  chatSetAnswered(...args: string[]): Promise<[number, number] | null>;
  chatDelete(...args: string[]): Promise<number>;
  chatOpenChannel(...args: string[]): Promise<number>;
  chatCloseChannel(...args: string[]): Promise<number>;
}

/** The room chat everyone has, and the first of every room's channels. */
export const GENERAL: ChatChannelType = { id: GENERAL_CHANNEL, name: 'General', kind: 'chat' };

/** What a message is before the room's counter gives it its id. */
export type ChatDraft = Omit<ChatMessageType, 'id' | 'votes' | 'answered'>;

/** A question's state after a vote or a mark. */
export interface QuestionState {
  votes: number;
  answered: boolean;
}

/** The operations the directory's metrics time, each a method of ChatHistory. */
export const CHAT_OPERATIONS = [
  'channels',
  'openChannel',
  'closeChannel',
  'append',
  'history',
  'upvote',
  'setAnswered',
  'deleteMessage',
] as const;

const checkMessage = Compile(ChatMessage);
const checkChannel = Compile(ChatChannel);

export interface ChatHistoryOptions {
  /** Every write gives the keys it touches this lifetime (the room-state TTL). */
  ttlSeconds: number;
  logger: Logger;
}

/**
 * The chat of every room in Redis (the directory's `chat`): its channels, each channel's
 * bounded history, the votes of questions (a set of identities each, so once per
 * identity) and which are answered. Every key is under the room's state prefix and gets
 * the room-state TTL on every write; a message id comes from one counter per room, so ids
 * grow in the order messages were stored, across every edge. Entries that fail their
 * schema when read back are dropped and logged.
 */
export class ChatHistory {
  readonly #redis: Redis;
  readonly #ttl: string;
  readonly #logger: Logger;

  constructor(redis: Redis, { ttlSeconds, logger }: ChatHistoryOptions) {
    this.#redis = redis;
    this.#ttl = String(ttlSeconds);
    this.#logger = logger;
    redis.defineCommand('chatAppend', { numberOfKeys: 4, lua: APPEND });
    redis.defineCommand('chatHistory', { numberOfKeys: 2, lua: HISTORY });
    redis.defineCommand('chatUpvote', { numberOfKeys: 2, lua: UPVOTE });
    redis.defineCommand('chatSetAnswered', { numberOfKeys: 2, lua: SET_ANSWERED });
    redis.defineCommand('chatDelete', { numberOfKeys: 2, lua: DELETE });
    redis.defineCommand('chatOpenChannel', { numberOfKeys: 1, lua: OPEN_CHANNEL });
    redis.defineCommand('chatCloseChannel', { numberOfKeys: 3, lua: CLOSE_CHANNEL });
  }

  /** The room's channels: `general` first, then the opened ones by id. */
  async channels(room: string): Promise<ChatChannelType[]> {
    const stored = await this.#redis.hgetall(chatKeys(room).channels);
    const opened = this.#parse(Object.values(stored), checkChannel, room) as ChatChannelType[];
    return [
      GENERAL,
      ...opened.filter((c) => c.id !== GENERAL_CHANNEL).sort((a, b) => (a.id < b.id ? -1 : 1)),
    ];
  }

  /** Opens a channel or changes an open one; 'full' when the room has `maxChannels` (general included). */
  async openChannel(
    room: string,
    channel: ChatChannelType,
    maxChannels: number,
  ): Promise<'opened' | 'changed' | 'full'> {
    const k = chatKeys(room);
    const result = await this.#scripts.chatOpenChannel(
      k.channels,
      channel.id,
      JSON.stringify(channel),
      String(maxChannels),
      this.#ttl,
    );
    return result === -1 ? 'full' : result === 1 ? 'opened' : 'changed';
  }

  /** Closes a channel and deletes its messages; false if it was not open. */
  async closeChannel(room: string, id: string): Promise<boolean> {
    const k = chatKeys(room);
    const [prefix, suffix] = this.#votesParts(room, id);
    return (
      (await this.#scripts.chatCloseChannel(
        k.channels,
        k.messages(id),
        k.answered(id),
        id,
        prefix,
        suffix,
      )) === 1
    );
  }

  /**
   * Stores a message in its channel's history, keeping the newest `maxHistory`; answers
   * it with its id, or null when the channel is not open (closed meanwhile).
   */
  async append(room: string, draft: ChatDraft, maxHistory: number): Promise<ChatMessageType | null> {
    const k = chatKeys(room);
    const { channel } = draft;
    const [prefix, suffix] = this.#votesParts(room, channel);
    const body = JSON.stringify(draft).slice(1); // the entry is `{"id":"<n>",` + body
    const id = await this.#scripts.chatAppend(
      k.seq,
      k.channels,
      k.messages(channel),
      k.answered(channel),
      body,
      channel,
      String(maxHistory),
      this.#ttl,
      prefix,
      suffix,
      GENERAL_CHANNEL,
    );
    return id === null ? null : { id: String(id), ...draft };
  }

  /** A channel's history, oldest first; with `questions`, each message carries its votes and answered flag. */
  async history(room: string, channel: string, { questions = false } = {}): Promise<ChatMessageType[]> {
    const k = chatKeys(room);
    const [prefix, suffix] = this.#votesParts(room, channel);
    const flat = await this.#scripts.chatHistory(k.messages(channel), k.answered(channel), prefix, suffix);
    const messages: ChatMessageType[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const [message] = this.#parse([String(flat[i])], checkMessage, room) as ChatMessageType[];
      if (!message) continue;
      messages.push(
        questions ? { ...message, votes: Number(flat[i + 1]), answered: flat[i + 2] === 1 } : message,
      );
    }
    return messages;
  }

  /** One identity's vote for a question (again: no change, `added` false); null if no such message. */
  async upvote(
    room: string,
    channel: string,
    messageId: string,
    identity: string,
  ): Promise<(QuestionState & { added: boolean }) | null> {
    const k = chatKeys(room);
    const [prefix, suffix] = this.#votesParts(room, channel);
    const reply = await this.#scripts.chatUpvote(
      k.messages(channel),
      k.answered(channel),
      messageId,
      identity,
      prefix,
      suffix,
      this.#ttl,
    );
    return reply && { added: reply[0] === 1, votes: reply[1], answered: reply[2] === 1 };
  }

  /** Marks a question answered or open again; null if no such message. */
  async setAnswered(
    room: string,
    channel: string,
    messageId: string,
    answered: boolean,
  ): Promise<QuestionState | null> {
    const k = chatKeys(room);
    const [prefix, suffix] = this.#votesParts(room, channel);
    const reply = await this.#scripts.chatSetAnswered(
      k.messages(channel),
      k.answered(channel),
      messageId,
      answered ? '1' : '0',
      prefix,
      suffix,
      this.#ttl,
    );
    return reply && { votes: reply[0], answered: reply[1] === 1 };
  }

  /** Deletes a message (with its votes); false if no such message. */
  async deleteMessage(room: string, channel: string, messageId: string): Promise<boolean> {
    const k = chatKeys(room);
    const [prefix, suffix] = this.#votesParts(room, channel);
    return (
      (await this.#scripts.chatDelete(
        k.messages(channel),
        k.answered(channel),
        messageId,
        prefix,
        suffix,
      )) === 1
    );
  }

  /** The key of a question's votes around its id, for the scripts to build (one spelling, in keys.ts). */
  #votesParts(room: string, channel: string): [string, string] {
    const [prefix = '', suffix = ''] = chatKeys(room).votes(channel, '\0').split('\0');
    return [prefix, suffix];
  }

  #parse(raws: string[], check: { Check(value: unknown): boolean }, room: string): unknown[] {
    return raws.flatMap((raw) => {
      try {
        const value: unknown = JSON.parse(raw);
        if (check.Check(value)) return [value];
      } catch {
        // fall through
      }
      this.#logger.warn({ room }, 'malformed chat entry ignored');
      return [];
    });
  }

  get #scripts(): Scripts {
    return this.#redis as unknown as Scripts;
  }
}
