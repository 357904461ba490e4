import type { ChatChannel, ChatMessage, NotificationData } from '@kaskade/protocol';
import type { Act } from './act.ts';
import { Emitter } from './Emitter.ts';
import type { SignalingChannel } from './SignalingChannel.ts';

export type QuestionUpdate = NotificationData<'questionUpdated'>;

export interface RoomChatEvents extends Record<string, unknown[]> {
  /** A message for us: in a channel we see, or private (`to` is set). */
  chatMessage: [message: ChatMessage];
  /** A moderator deleted a message. */
  chatDeleted: [channel: string, messageId: string];
  /** A moderator opened or closed a channel: the channels we see now. */
  channelsChanged: [channels: readonly ChatChannel[]];
  /** A question of a Q&A channel got a vote or was marked answered. */
  questionUpdated: [update: QuestionUpdate];
}

/** The channel every room has. */
export const GENERAL: ChatChannel = { id: 'general', name: 'General', kind: 'chat' };

export interface SendOptions {
  /** The channel's id (default `general`). */
  channel?: string;
  /** A participant id: a private message to that participant only. */
  to?: string;
}

/**
 * The room's chat: messages in channels (general always; the channels a moderator opens,
 * Q&A among them) and private ones, their history for who came late, votes on questions.
 * Everything goes through the edge, which applies the room's chat policy and limits;
 * what others write arrives as this object's events.
 */
export class RoomChat extends Emitter<RoomChatEvents> {
  readonly #channel: () => SignalingChannel;
  readonly #act: Act;
  #channels: readonly ChatChannel[] = [GENERAL];

  /** `channel`: the channel of the session that speaks for the room now. */
  constructor(channel: () => SignalingChannel, act: Act) {
    super();
    this.#channel = channel;
    this.#act = act;
  }

  /** The channels we see, general first, as the edge last said. */
  get channels(): readonly ChatChannel[] {
    return this.#channels;
  }

  async send(text: string, { channel, to }: SendOptions = {}): Promise<ChatMessage> {
    const { message } = await this.#channel().request('sendChat', {
      text,
      ...(channel ? { channel } : {}),
      ...(to ? { to } : {}),
    });
    return message;
  }

  /** A channel's messages, oldest first (`before` a message id: the page before it). */
  async history(channel = GENERAL.id, { before, limit }: { before?: string; limit?: number } = {}) {
    const { messages } = await this.#channel().request('chatHistory', {
      channel,
      ...(before ? { before } : {}),
      ...(limit ? { limit } : {}),
    });
    return messages;
  }

  /** Asks the edge for the channels we see (a session that just joined does). */
  async refreshChannels(): Promise<readonly ChatChannel[]> {
    const { channels } = await this.#channel().request('listChannels', {});
    this.#setChannels(channels);
    this.emit('channelsChanged', this.#channels);
    return this.#channels;
  }

  /** A vote for a question (once per person): the votes it has now. */
  async upvote(channel: string, messageId: string): Promise<number> {
    return (await this.#channel().request('upvoteQuestion', { channel, messageId })).votes;
  }

  /** A Q&A channel's questions, most votes first. */
  async questions(channel: string): Promise<ChatMessage[]> {
    return (await this.#channel().request('listQuestions', { channel })).questions;
  }

  /** Moderators: opens a channel (a Q&A beside general, one per group...). */
  async openChannel(channel: ChatChannel): Promise<ChatChannel> {
    return (await this.#act('openChannel', channel)).channel;
  }

  async closeChannel(id: string): Promise<void> {
    await this.#act('closeChannel', { id });
  }

  async deleteMessage(channel: string, messageId: string): Promise<void> {
    await this.#act('deleteMessage', { channel, messageId });
  }

  async markAnswered(channel: string, messageId: string, answered = true): Promise<void> {
    await this.#act('markAnswered', { channel, messageId, answered });
  }

  /** The chat notifications of a session; `current` says whether it speaks for the room. */
  wire(channel: SignalingChannel, current: () => boolean): void {
    channel.on('chatMessage', (message) => current() && this.emit('chatMessage', message));
    channel.on(
      'chatDeleted',
      ({ channel: id, messageId }) => current() && this.emit('chatDeleted', id, messageId),
    );
    channel.on('questionUpdated', (update) => current() && this.emit('questionUpdated', update));
    channel.on('channelsChanged', ({ channels }) => {
      if (!current()) return;
      this.#setChannels(channels);
      this.emit('channelsChanged', this.#channels);
    });
  }

  /** General first, then the others in the edge's order. */
  #setChannels(channels: readonly ChatChannel[]): void {
    const general = channels.find((c) => c.id === GENERAL.id) ?? GENERAL;
    this.#channels = [general, ...channels.filter((c) => c.id !== GENERAL.id)];
  }
}
