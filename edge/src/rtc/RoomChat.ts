import type { ChatHistory } from '@kaskade/directory';
import { type Rate, RateLimiter } from '@kaskade/node-toolkit';
import {
  type ChatChannel,
  type ChatMessage,
  GENERAL_CHANNEL,
  KaskadeError,
  type NotificationData,
  type RequestData,
  type ResponseData,
} from '@kaskade/protocol';
import type { Logger } from 'pino';
import {
  type ChatPolicies,
  chatRefusal,
  historyPage,
  maySeeChannel,
  maySeeMessage,
  rankQuestions,
} from './chatRules.ts';
import type { LocalRoster } from './LocalRoster.ts';
import type { Participant } from './Participant.ts';

type QuestionUpdate = NotificationData<'questionUpdated'>;

/** What the chat needs of the mesh: the store every node shares, and telling the other nodes. */
export interface ChatLink {
  /** The chat as the directory keeps it (Redis): history, channels, votes. */
  readonly chatStore: ChatHistory;
  /** A message stored here: the other nodes deliver it to their participants who may see it. */
  chatSent(message: ChatMessage): void;
  /** A participant here (`by`) upvoted a question. */
  chatVoted(update: QuestionUpdate & { by: string }): void;
}

/** The edge's chat limits (its config). */
export interface ChatLimits {
  /** The longest text taken (characters); longer: MESSAGE_TOO_LARGE. */
  maxChars: number;
  /** Messages each channel keeps for late joiners. */
  historyMessages: number;
  /** Messages one participant may send (RATE_LIMITED past it). */
  rate: Rate;
}

export interface RoomChatOptions {
  room: string;
  local: LocalRoster;
  /** The identity of a participant on another node of the room, if it is in the room. */
  remoteIdentity: (participantId: string) => string | undefined;
  link: () => ChatLink | undefined;
  /** The room's policies in force (its settings). */
  policies: () => ChatPolicies;
  lecture: () => boolean;
  limits: ChatLimits;
  logger: Logger;
}

/** A page of history when the request names no limit. */
const DEFAULT_PAGE = 50;
/** Channels read from the store are trusted this long; the control plane's events keep them current meanwhile. */
const CHANNELS_FRESH_MS = 5000;
/** Participants whose send rate is remembered (least recently sending forgotten first). */
const RATE_KEYS = 10_000;
/** Controls and invisible bidi marks (newlines and tabs stay): text must read as what it is. */
const UNSAFE_IN_TEXT = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;
const cleanText = (text: string) =>
  text.replace(UNSAFE_IN_TEXT, (c) => (c === '\n' || c === '\t' ? c : '')).trim();

/**
 * The room's chat on this edge: takes a participant's message (validated, allowed by the
 * room's policy, within its rate), stores it in the directory, tells the other nodes and
 * delivers it here; delivers what the other nodes and the control plane tell to the local
 * participants who may see it; answers history, channels and questions from the store.
 * Every delivery goes through one queue, so each participant gets the room's chat in
 * the order this edge heard it.
 */
export class RoomChat {
  readonly #options: RoomChatOptions;
  readonly #rate: RateLimiter;
  #channels: Map<string, ChatChannel> | undefined;
  #channelsAt = 0;
  /** Bumped by the control plane's channel lists: a store read older than one does not overwrite it. */
  #generation = 0;
  #deliveries: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: RoomChatOptions) {
    this.#options = options;
    this.#rate = new RateLimiter(options.limits.rate, { maxKeys: RATE_KEYS });
  }

  async send(sender: Participant, { channel: id = GENERAL_CHANNEL, to, text }: RequestData<'sendChat'>) {
    const { maxChars, historyMessages } = this.#options.limits;
    const cleaned = cleanText(text);
    if (cleaned.length === 0) throw new KaskadeError('BAD_REQUEST', 'the message is empty');
    if (cleaned.length > maxChars)
      throw new KaskadeError('MESSAGE_TOO_LARGE', `messages are limited to ${maxChars} characters`);
    const channel = await this.#visibleChannel(sender, id);
    const refusal = chatRefusal(sender, channel, this.#options.policies(), this.#options.lecture());
    if (refusal) throw new KaskadeError('FORBIDDEN', refusal);
    if (to !== undefined) this.#checkRecipient(sender, channel, to);
    const waitMs = this.#rate.take(sender.id);
    if (waitMs > 0) throw new KaskadeError('RATE_LIMITED', `too many messages; retry in ${waitMs} ms`);
    const draft = {
      channel: channel.id,
      from: { participantId: sender.id, name: sender.name },
      ...(to === undefined ? {} : { to }),
      text: cleaned,
      sentAt: Date.now(),
    };
    const message = await this.#stored((store) => store.append(this.#options.room, draft, historyMessages));
    if (!message) throw new KaskadeError('NOT_FOUND', `no channel ${id}`);
    this.#link().chatSent(message);
    this.#enqueue(() => this.#fanOut(message, channel, sender));
    return { message };
  }

  async history(viewer: Participant, { channel: id, before, limit }: RequestData<'chatHistory'>) {
    const channel = await this.#visibleChannel(viewer, id);
    const all = await this.#stored((store) =>
      store.history(this.#options.room, channel.id, { questions: channel.kind === 'qa' }),
    );
    const visible = all.filter((m) => maySeeMessage(m, channel, viewer));
    return { messages: historyPage(visible, before, limit ?? DEFAULT_PAGE) };
  }

  async channelsFor(viewer: Participant): Promise<ResponseData<'listChannels'>> {
    const channels = await this.#channelMap(true);
    return { channels: [...channels.values()].filter((c) => maySeeChannel(c, viewer)) };
  }

  async upvote(voter: Participant, { channel: id, messageId }: RequestData<'upvoteQuestion'>) {
    const channel = await this.#questionChannel(voter, id);
    const vote = await this.#stored((store) =>
      store.upvote(this.#options.room, channel.id, messageId, voter.identity),
    );
    if (!vote) throw new KaskadeError('NOT_FOUND', `no question ${messageId} in ${id}`);
    if (vote.added) {
      const update = { channel: channel.id, messageId, votes: vote.votes, answered: vote.answered };
      this.#link().chatVoted({ ...update, by: voter.id });
      this.#enqueue(() => this.#tell(channel, 'questionUpdated', update));
    }
    return { votes: vote.votes };
  }

  async questions(viewer: Participant, { channel: id }: RequestData<'listQuestions'>) {
    const channel = await this.#questionChannel(viewer, id);
    const all = await this.#stored((store) =>
      store.history(this.#options.room, channel.id, { questions: true }),
    );
    return { questions: rankQuestions(all.filter((m) => maySeeMessage(m, channel, viewer))) };
  }

  // --- What the mesh tells -------------------------------------------------

  /** A message another node stored. */
  deliver(message: ChatMessage): void {
    this.#enqueue(async () => {
      const channel = (await this.#channelMap()).get(message.channel);
      if (channel) this.#fanOut(message, channel, undefined);
    });
  }

  /** The control plane deleted a message. */
  deleted(channel: string, messageId: string): void {
    this.#enqueue(async () => {
      const known = (await this.#channelMap()).get(channel);
      if (known) this.#tell(known, 'chatDeleted', { channel, messageId });
    });
  }

  /** A question's new state: a vote on another node, or the control plane's mark. */
  questionChanged(update: QuestionUpdate): void {
    this.#enqueue(async () => {
      const known = (await this.#channelMap()).get(update.channel);
      if (known) this.#tell(known, 'questionUpdated', update);
    });
  }

  /** The control plane's list of the room's channels after one opened or closed: everyone hears what they may see. */
  channelsChanged(channels: ChatChannel[]): void {
    this.#generation++;
    this.#setChannels(channels);
    this.#enqueue(() => {
      for (const p of this.#options.local.values())
        p.notify('channelsChanged', { channels: channels.filter((c) => maySeeChannel(c, p)) });
    });
  }

  close(): void {
    this.#closed = true;
  }

  // -------------------------------------------------------------------------

  #fanOut(message: ChatMessage, channel: ChatChannel, author: Participant | undefined): void {
    for (const p of this.#options.local.values())
      if (p !== author && maySeeMessage(message, channel, p)) p.notify('chatMessage', message);
  }

  #tell<N extends 'chatDeleted' | 'questionUpdated'>(
    channel: ChatChannel,
    name: N,
    data: NotificationData<N>,
  ): void {
    this.#options.local.notifyAll(name, data, (p) => maySeeChannel(channel, p));
  }

  /** A private message goes to someone in the room who may see its channel, and never into Q&A. */
  #checkRecipient(sender: Participant, channel: ChatChannel, to: string): void {
    if (to === sender.id) throw new KaskadeError('BAD_REQUEST', 'a private message goes to someone else');
    if (channel.kind === 'qa') throw new KaskadeError('BAD_REQUEST', 'questions are public; no `to` in Q&A');
    const local = this.#options.local.get(to);
    const identity = local?.identity ?? this.#options.remoteIdentity(to);
    if (identity === undefined) throw new KaskadeError('NOT_FOUND', `no participant ${to}`);
    if (!maySeeChannel(channel, local ?? { identity, grants: { publish: false, subscribe: false } }))
      throw new KaskadeError('FORBIDDEN', `${to} is not a member of ${channel.id}`);
  }

  /** A channel the participant may see: unknown and hidden ones alike are NOT_FOUND (nothing leaks). */
  async #visibleChannel(viewer: Participant, id: string): Promise<ChatChannel> {
    const channel = (await this.#channelMap()).get(id);
    if (!channel || !maySeeChannel(channel, viewer)) throw new KaskadeError('NOT_FOUND', `no channel ${id}`);
    return channel;
  }

  async #questionChannel(viewer: Participant, id: string): Promise<ChatChannel> {
    const channel = await this.#visibleChannel(viewer, id);
    if (channel.kind !== 'qa') throw new KaskadeError('INVALID_STATE', `${id} is not a Q&A channel`);
    return channel;
  }

  /** The room's channels, from the store when what this edge holds is older than CHANNELS_FRESH_MS (or `fresh`). */
  async #channelMap(fresh = false): Promise<Map<string, ChatChannel>> {
    if (this.#channels && !fresh && performance.now() - this.#channelsAt < CHANNELS_FRESH_MS)
      return this.#channels;
    const generation = this.#generation;
    const channels = await this.#stored((store) => store.channels(this.#options.room));
    if (generation === this.#generation) this.#setChannels(channels);
    return this.#channels ?? new Map(channels.map((c) => [c.id, c]));
  }

  #setChannels(channels: ChatChannel[]): void {
    this.#channels = new Map(channels.map((c) => [c.id, c]));
    this.#channelsAt = performance.now();
  }

  #link(): ChatLink {
    const link = this.#options.link();
    if (!link) throw new KaskadeError('UNAVAILABLE', 'chat needs the mesh: this edge has no directory');
    return link;
  }

  /** A store operation; a store that cannot answer is UNAVAILABLE (retry), never INTERNAL. */
  async #stored<T>(operation: (store: ChatHistory) => Promise<T>): Promise<T> {
    const store = this.#link().chatStore;
    try {
      return await operation(store);
    } catch (error) {
      throw new KaskadeError('UNAVAILABLE', 'the chat is unavailable now; retry', { cause: error });
    }
  }

  #enqueue(work: () => void | Promise<void>): void {
    this.#deliveries = this.#deliveries
      .then(() => (this.#closed ? undefined : work()))
      .catch((err: unknown) =>
        this.#options.logger.warn({ err, room: this.#options.room }, 'chat delivery failed'),
      );
  }
}
