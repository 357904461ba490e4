import Type, { type Static, type TSchema } from 'typebox';
import { MAX_CHANNEL_MEMBERS, MAX_CHAT_CHANNELS, MAX_CHAT_PAGE, MAX_CHAT_TEXT } from './chat-constants.ts';
import { DisplayName, Id, SafeName } from './names.ts';
import type { RoomActionSchema } from './room-actions.ts';

export * from './chat-constants.ts';

/** Chat: room chat, private messages, named channels, lecture Q&A: the wire contracts. */

export const ChatChannelKind = Type.Union([Type.Literal('chat'), Type.Literal('qa')]);
export type ChatChannelKind = Static<typeof ChatChannelKind>;

/** A channel of the room's chat; `members` (identities) absent: everyone in the room. */
export const ChatChannel = Type.Object(
  {
    id: SafeName,
    name: DisplayName,
    kind: ChatChannelKind,
    members: Type.Optional(Type.Array(Id, { maxItems: MAX_CHANNEL_MEMBERS, uniqueItems: true })),
  },
  { additionalProperties: false },
);
export type ChatChannel = Static<typeof ChatChannel>;

/** A message id: a decimal number, growing with every message of the room (the order of sending). */
export const ChatMessageId = Type.String({ minLength: 1, maxLength: 16, pattern: '^[1-9][0-9]*$' });

const ChatText = Type.String({ minLength: 1, maxLength: MAX_CHAT_TEXT });

/** One message; `to` (a participant id): a private message, seen by its sender and recipient only. */
export const ChatMessage = Type.Object(
  {
    id: ChatMessageId,
    channel: SafeName,
    from: Type.Object({ participantId: Id, name: DisplayName }, { additionalProperties: false }),
    to: Type.Optional(Id),
    text: ChatText,
    /** When the author's edge took it (ms since the epoch). */
    sentAt: Type.Integer({ minimum: 0 }),
    /** Q&A: how many identities upvoted the question. */
    votes: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Q&A: a moderator marked the question answered. */
    answered: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ChatMessage = Static<typeof ChatMessage>;

const QuestionRef = { channel: SafeName, messageId: ChatMessageId };
const Empty = Type.Object({});

/** Signaling requests (besides the actions) a participant makes. */
export const ChatRequests = {
  /** Sends a message (to `general` unless named; `to`: privately); answers it as stored. */
  sendChat: {
    request: Type.Object({ channel: Type.Optional(SafeName), to: Type.Optional(Id), text: ChatText }),
    response: Type.Object({ message: ChatMessage }),
  },
  /** The messages of a channel this participant may see, oldest first: the last `limit` before `before`. */
  chatHistory: {
    request: Type.Object({
      channel: SafeName,
      before: Type.Optional(ChatMessageId),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CHAT_PAGE })),
    }),
    response: Type.Object({ messages: Type.Array(ChatMessage, { maxItems: MAX_CHAT_PAGE }) }),
  },
  /** The channels this participant may see, `general` first. */
  listChannels: {
    request: Empty,
    response: Type.Object({ channels: Type.Array(ChatChannel, { maxItems: MAX_CHAT_CHANNELS }) }),
  },
  /** Upvotes a question of a Q&A channel, once per identity (again: no change); answers its votes. */
  upvoteQuestion: {
    request: Type.Object(QuestionRef),
    response: Type.Object({ votes: Type.Integer({ minimum: 0 }) }),
  },
  /** The questions of a Q&A channel: open ones first, most votes first, then the oldest. */
  listQuestions: {
    request: Type.Object({ channel: SafeName }),
    response: Type.Object({ questions: Type.Array(ChatMessage) }),
  },
} as const satisfies Record<string, { request: TSchema; response: TSchema }>;

/** Signaling notifications the edge sends. */
export const ChatNotifications = {
  /** A message someone else sent, to everyone who may see it (the author has its answer). */
  chatMessage: ChatMessage,
  /** A moderator deleted a message. */
  chatDeleted: Type.Object(QuestionRef),
  /** The channels this participant may see changed (one opened, closed or changed its members). */
  channelsChanged: Type.Object({ channels: Type.Array(ChatChannel, { maxItems: MAX_CHAT_CHANNELS }) }),
  /** A question got a vote, or a moderator marked it answered (or not). */
  questionUpdated: Type.Object({
    ...QuestionRef,
    votes: Type.Integer({ minimum: 0 }),
    answered: Type.Boolean(),
  }),
} as const satisfies Record<string, TSchema>;

/** Room actions (see room-actions.ts): executed by the control plane. */
export const ChatActions = {
  openChannel: {
    request: ChatChannel,
    response: Type.Object({ channel: ChatChannel }),
    description:
      'Opens a channel (or changes the name, kind or members of an open one); `members` lists the identities that may see it, absent: everyone. At most 20 channels per room.',
  },
  closeChannel: {
    request: Type.Object({ id: SafeName }),
    response: Empty,
    description: 'Closes a channel and deletes its messages; `general` cannot be closed.',
  },
  deleteMessage: {
    request: Type.Object(QuestionRef),
    response: Empty,
    description: 'Deletes a message from its channel: gone from the history, and every client is told.',
  },
  markAnswered: {
    request: Type.Object({ ...QuestionRef, answered: Type.Boolean() }),
    response: Type.Object({ votes: Type.Integer({ minimum: 0 }), answered: Type.Boolean() }),
    description: 'Marks a question of a Q&A channel answered (or open again).',
  },
} as const satisfies Record<string, RoomActionSchema>;

/** Room events (nats.ts RoomEvent members), from an edge or from the control plane. */
export const ChatEvents = [
  /** From the author's edge (it stored the message first). */
  Type.Object({ type: Type.Literal('chatMessage'), message: ChatMessage }),
  /** From the control plane (deleteMessage). */
  Type.Object({ type: Type.Literal('chatDeleted'), ...QuestionRef }),
  /** From the control plane (openChannel, closeChannel): every channel of the room now. */
  Type.Object({
    type: Type.Literal('chatChannels'),
    channels: Type.Array(ChatChannel, { maxItems: MAX_CHAT_CHANNELS }),
  }),
  /** A question's state: from the voter's edge (`by`, the voter), or from the control plane (markAnswered). */
  Type.Object({
    type: Type.Literal('chatQuestion'),
    ...QuestionRef,
    votes: Type.Integer({ minimum: 0 }),
    answered: Type.Boolean(),
    by: Type.Optional(Id),
  }),
] as const satisfies readonly TSchema[];
