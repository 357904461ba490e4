import type { MeshParticipant, ModerationActions } from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { ActionContext, ActionHandlers } from './types.ts';

/** The participant acted on, as the directory has it: NOT_FOUND when it is not in the room. */
async function participantOf(ctx: ActionContext, participantId: string): Promise<MeshParticipant> {
  const participant = await ctx.directory.participant(ctx.room, participantId);
  if (!participant)
    throw new KaskadeError('NOT_FOUND', `no participant ${participantId} in room ${ctx.room}`);
  return participant;
}

/**
 * Who is in the room when it locks or opens its lobby stays admitted (reconnects and
 * migrations pass); the edges admit whoever joins while either is on.
 */
async function admitEveryonePresent(ctx: ActionContext): Promise<void> {
  const { participants } = await ctx.directory.room(ctx.room);
  await ctx.directory.governance.admit(ctx.room, ...participants.map((p) => p.identity));
}

/**
 * The moderation actions, executed here once for the whole mesh: what must survive goes
 * to Redis first (directory.governance), then the edges carrying the room hear the effect
 * on room control and apply it to the participants they host.
 */
export const moderationActionHandlers: ActionHandlers<keyof typeof ModerationActions> = {
  async muteParticipant(ctx, { participantId, source, forbidUnmute = false }) {
    const { identity } = await participantOf(ctx, participantId);
    await ctx.directory.governance.restrict(ctx.room, [identity], source, forbidUnmute);
    ctx.publish({ type: 'moderationMute', participantId, source, forbidUnmute });
    return {};
  },

  async muteEveryone(ctx, { source, forbidUnmute = false }) {
    // The directory does not know who moderates: every identity but the actor's is noted,
    // and the edges, which know the grants, never hold a moderator to it.
    const { participants } = await ctx.directory.room(ctx.room);
    const actor = ctx.actor.kind === 'moderator' ? ctx.actor.participantId : undefined;
    const identities = participants.filter((p) => p.id !== actor).map((p) => p.identity);
    await ctx.directory.governance.restrict(ctx.room, identities, source, forbidUnmute);
    ctx.publish({ type: 'moderationMuteEveryone', source, forbidUnmute });
    return {};
  },

  async askToUnmute(ctx, { participantId, source }) {
    const { identity } = await participantOf(ctx, participantId);
    await ctx.directory.governance.lift(ctx.room, identity, source);
    ctx.publish({ type: 'moderationAskToUnmute', participantId, source });
    return {};
  },

  async removeParticipant(ctx, { participantId, reason = '', ban = false }) {
    const { identity } = await participantOf(ctx, participantId);
    // The ban first: a removed participant that joins again at once is refused already.
    if (ban) await ctx.directory.governance.ban(ctx.room, identity);
    ctx.publish({ type: 'moderationRemove', participantId, reason, banned: ban });
    ctx.webhook('participantRemoved', { participantId, identity, reason, banned: ban });
    ctx.logger.info({ room: ctx.room, participant: participantId, banned: ban }, 'participant removed');
    return {};
  },

  async unbanIdentity(ctx, { identity }) {
    await ctx.directory.governance.unban(ctx.room, identity);
    return {};
  },

  async lockRoom(ctx, { locked }) {
    if (locked) await admitEveryonePresent(ctx);
    const settings = await ctx.directory.governance.setLocked(ctx.room, locked);
    ctx.publish({ type: 'settingsChanged', settings });
    return {};
  },

  async setPolicies(ctx, { policies }) {
    if (policies.lobby) await admitEveryonePresent(ctx);
    const settings = await ctx.directory.governance.setPolicies(ctx.room, policies);
    ctx.publish({ type: 'settingsChanged', settings });
    return { settings };
  },

  async admitFromLobby(ctx, { participantId }) {
    const entry = await ctx.directory.governance.admitFromLobby(ctx.room, participantId);
    if (!entry) throw new KaskadeError('NOT_FOUND', `nobody waits in the lobby as ${participantId}`);
    ctx.publish({ type: 'lobbyAdmitted', participantId, identity: entry.identity });
    ctx.publish({ type: 'lobbyChanged' });
    return {};
  },

  async denyFromLobby(ctx, { participantId, reason = '' }) {
    const entry = await ctx.directory.governance.denyFromLobby(ctx.room, participantId);
    if (!entry) throw new KaskadeError('NOT_FOUND', `nobody waits in the lobby as ${participantId}`);
    ctx.publish({ type: 'lobbyDenied', participantId, identity: entry.identity, reason });
    ctx.publish({ type: 'lobbyChanged' });
    return {};
  },

  async endMeeting(ctx) {
    // The run ends here, not at the last leave: endRoom takes the lifecycle's marker along,
    // and the leaves that follow find the room ended already (roomEnded goes once).
    const ended = await ctx.directory.lifecycle.ended(ctx.room);
    // The state goes first: whoever joins after the end starts a new meeting, not this one's bans and lobby.
    await ctx.directory.governance.endRoom(ctx.room);
    ctx.publish({ type: 'meetingEnded' });
    ctx.webhook('meetingEnded', {});
    if (ended) ctx.webhook('roomEnded', {});
    ctx.logger.info({ room: ctx.room }, 'meeting ended');
    return {};
  },
};
