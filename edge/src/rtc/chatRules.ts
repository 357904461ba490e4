import type { ChatChannel, ChatMessage, Grants, Role, RoomPolicies } from '@kaskade/protocol';

/**
 * The chat's rules, pure, written once: who sees a channel and a message, who may write,
 * how a page of history is cut and how questions are ranked. RoomChat applies them to
 * the sender on its edge and again to every recipient on each edge.
 */

/** The room policies chat follows: who may write in the chat channels (Q&A stays open to everyone). */
export type ChatPolicies = Pick<RoomPolicies, 'chat' | 'audienceChat'>;

/** Who is reading or writing. */
export interface Chatter {
  id: string;
  identity: string;
  role: Role;
  grants: Grants;
}

/** A channel is seen by its members, by everyone when it lists none, and by moderators always (they keep order in it). */
export function maySeeChannel(channel: ChatChannel, viewer: Pick<Chatter, 'identity' | 'grants'>): boolean {
  return !channel.members || channel.members.includes(viewer.identity) || viewer.grants.moderate === true;
}

/** A message is seen by whoever sees its channel; a private one only by its sender and recipient. */
export function maySeeMessage(message: ChatMessage, channel: ChatChannel, viewer: Chatter): boolean {
  if (!maySeeChannel(channel, viewer)) return false;
  return message.to === undefined || message.to === viewer.id || message.from.participantId === viewer.id;
}

/**
 * Why `sender` may not write in `channel` now, or undefined when it may. Moderators always
 * may; a Q&A channel is open to everyone who sees it (the audience asks there); elsewhere
 * the room's `chat` policy, and in a lecture `audienceChat` for the audience.
 */
export function chatRefusal(
  sender: Chatter,
  channel: ChatChannel,
  policies: ChatPolicies,
  lecture: boolean,
): string | undefined {
  if (sender.grants.moderate) return undefined;
  if (channel.kind === 'qa') return undefined;
  if (policies.chat === 'moderators') return 'only moderators may chat in this room';
  if (lecture && sender.role === 'audience' && !policies.audienceChat)
    return 'the audience may not chat in this lecture; ask in the Q&A channel';
  return undefined;
}

/** The last `limit` messages before `before` (a message id), oldest first, of a history in id order. */
export function historyPage(
  messages: ChatMessage[],
  before: string | undefined,
  limit: number,
): ChatMessage[] {
  const bound = before === undefined ? Number.POSITIVE_INFINITY : Number(before);
  const earlier = messages.filter((m) => Number(m.id) < bound);
  return earlier.slice(Math.max(0, earlier.length - limit));
}

/** Questions as the Q&A list shows them: open ones before answered ones, most votes first, then the oldest. */
export function rankQuestions(questions: ChatMessage[]): ChatMessage[] {
  return [...questions].sort(
    (a, b) =>
      Number(a.answered === true) - Number(b.answered === true) ||
      (b.votes ?? 0) - (a.votes ?? 0) ||
      Number(a.id) - Number(b.id),
  );
}
