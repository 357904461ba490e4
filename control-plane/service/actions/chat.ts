import { type ChatActions, GENERAL_CHANNEL, KaskadeError, MAX_CHAT_CHANNELS } from '@kaskade/protocol';
import type { ActionContext, ActionHandlers } from './types.ts';

/** `general` is every room's own: no action opens, changes or closes it. */
function refuseGeneral(id: string): void {
  if (id === GENERAL_CHANNEL)
    throw new KaskadeError('INVALID_STATE', `${GENERAL_CHANNEL} always exists as it is`);
}

/** After a channel opened or closed: every edge of the room gets the whole list (a later list replaces an earlier). */
async function publishChannels(ctx: ActionContext): Promise<void> {
  ctx.publish({ type: 'chatChannels', channels: await ctx.directory.chat.channels(ctx.room) });
}

/**
 * The chat actions (protocol/chat.ts), executed by the control plane: each writes the
 * directory's chat first, then tells the edges carrying the room on its control subject,
 * which apply it to their participants who may see the channel (edge routing/chatEvents.ts).
 */
export const chatActionHandlers: ActionHandlers<keyof typeof ChatActions> = {
  openChannel: async (ctx, channel) => {
    refuseGeneral(channel.id);
    const opened = await ctx.directory.chat.openChannel(ctx.room, channel, MAX_CHAT_CHANNELS);
    if (opened === 'full')
      throw new KaskadeError(
        'INVALID_STATE',
        `a room has at most ${MAX_CHAT_CHANNELS} channels; close one first`,
      );
    await publishChannels(ctx);
    return { channel };
  },
  closeChannel: async (ctx, { id }) => {
    refuseGeneral(id);
    if (!(await ctx.directory.chat.closeChannel(ctx.room, id)))
      throw new KaskadeError('NOT_FOUND', `no channel ${id}`);
    await publishChannels(ctx);
    return {};
  },
  deleteMessage: async (ctx, { channel, messageId }) => {
    if (!(await ctx.directory.chat.deleteMessage(ctx.room, channel, messageId)))
      throw new KaskadeError('NOT_FOUND', `no message ${messageId} in ${channel}`);
    ctx.publish({ type: 'chatDeleted', channel, messageId });
    return {};
  },
  markAnswered: async (ctx, { channel, messageId, answered }) => {
    const kind = (await ctx.directory.chat.channels(ctx.room)).find((c) => c.id === channel)?.kind;
    if (kind !== 'qa') throw new KaskadeError('NOT_FOUND', `no Q&A channel ${channel}`);
    const state = await ctx.directory.chat.setAnswered(ctx.room, channel, messageId, answered);
    if (!state) throw new KaskadeError('NOT_FOUND', `no question ${messageId} in ${channel}`);
    ctx.publish({ type: 'chatQuestion', channel, messageId, ...state });
    return state;
  },
};
