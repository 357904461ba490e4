import { randomBytes, randomInt } from 'node:crypto';
import type { StoredBreakouts } from '@kaskade/directory';
import {
  type BreakoutActions,
  type BreakoutState,
  breakoutRoomName,
  KaskadeError,
  type MoveReason,
  NO_BREAKOUTS,
} from '@kaskade/protocol';
import type { ActionContext, ActionHandlers } from './types.ts';

/**
 * The breakout actions (protocol/breakouts.ts), executed here: the plan changes in Redis
 * (directory.breakouts, one atomic compare-and-set each), then the edges carrying the
 * rooms are told on room control: the new plan, and who moves where (the edge hosting a
 * participant fetches its ticket with `breakout.place` and sends it `moveToRoom`).
 */
export const breakoutActionHandlers: ActionHandlers<keyof typeof BreakoutActions> = {
  createBreakouts: async (ctx, { count, names }) => {
    if ((await readable(ctx.directory.breakouts.parentOf(ctx.room))) !== null)
      throw new KaskadeError('INVALID_STATE', 'a breakout room has no breakouts of its own');
    const session = randomBytes(3).toString('hex');
    const { after } = await ctx.directory.breakouts.change(ctx.room, (current) => {
      if (current?.status === 'open')
        throw new KaskadeError('INVALID_STATE', 'the breakouts are open; close them first');
      return {
        status: 'created',
        session,
        endsAt: null,
        rooms: Array.from({ length: count }, (_, i) => ({
          room: breakoutRoomName(ctx.room, i + 1, session),
          name: names?.[i] ?? `Room ${i + 1}`,
          identities: [],
        })),
      };
    });
    return { state: announce(ctx, after) };
  },

  assignBreakouts: async (ctx, params) => {
    const { participants } = await readable(ctx.directory.room(ctx.room));
    const identityOf = new Map(participants.map((p) => [p.id, p.identity]));
    let wanted: Map<string, string>; // identity -> breakout room
    if ('random' in params) {
      // Everyone but the moderator who asks (the directory does not hold grants).
      const acting = ctx.actor.kind === 'moderator' ? identityOf.get(ctx.actor.participantId) : undefined;
      wanted = new Map(
        shuffled(participants.map((p) => p.identity).filter((i) => i !== acting)).map((i) => [i, '']),
      );
    } else {
      wanted = new Map();
      for (const { participantId, room } of params.assignments) {
        const identity = identityOf.get(participantId);
        if (identity === undefined)
          throw new KaskadeError('NOT_FOUND', `no participant ${participantId} in ${ctx.room}`);
        wanted.set(identity, room);
      }
    }
    const { after } = await ctx.directory.breakouts.change(ctx.room, (current) => {
      const plan = created(current);
      const rooms = plan.rooms.map((r) => ({ ...r, identities: r.identities.filter((i) => !wanted.has(i)) }));
      [...wanted].forEach(([identity, room], n) => {
        // Random: round robin over a shuffled list, so the rooms differ by one at most.
        const target = room === '' ? rooms[n % rooms.length] : rooms.find((r) => r.room === room);
        if (!target) throw new KaskadeError('NOT_FOUND', `no breakout room ${room} in ${ctx.room}`);
        target.identities.push(identity);
      });
      if ('random' in params) for (const r of rooms) r.identities = r.identities.filter((i) => wanted.has(i));
      return { ...plan, rooms };
    });
    return { state: announce(ctx, after) };
  },

  openBreakouts: async (ctx, { durationSeconds }) => {
    const endsAt = durationSeconds === undefined ? null : Date.now() + durationSeconds * 1000;
    const { after } = await ctx.directory.breakouts.change(ctx.room, (current) => ({
      ...created(current),
      status: 'open',
      endsAt,
    }));
    const state = announce(ctx, after);
    const roomOf = new Map(state.rooms.flatMap((r) => r.identities.map((i) => [i, r.room] as const)));
    const { participants } = await readable(ctx.directory.room(ctx.room));
    const moves = participants.flatMap((p) => {
      const room = roomOf.get(p.identity);
      return room ? [{ participantId: p.id, room, reason: 'breakout' as MoveReason }] : [];
    });
    if (moves.length > 0) ctx.publish({ type: 'breakoutMoves', moves });
    ctx.webhook('breakoutsOpened', { rooms: state.rooms, endsAt: state.endsAt });
    ctx.logger.debug({ room: ctx.room, rooms: state.rooms.length, moves: moves.length }, 'breakouts opened');
    return { state };
  },

  broadcastToBreakouts: async (ctx, { text }) => {
    const plan = await readable(ctx.directory.breakouts.state(ctx.room));
    if (plan?.status !== 'open') throw new KaskadeError('INVALID_STATE', 'the breakouts are not open');
    for (const { room } of plan.rooms) ctx.publish({ type: 'breakoutBroadcast', text }, room);
    return {};
  },

  closeBreakouts: async (ctx) => {
    await closeBreakouts(ctx, () => true);
    return {};
  },
};

/**
 * Closes the main room's (ctx.room) breakouts if `when` holds for the plan, atomically:
 * of a moderator's close and the timer's, or of two replicas' timers, exactly one finds
 * them open and moves everyone back. Created breakouts are discarded; true when open
 * breakouts closed here.
 */
export async function closeBreakouts(
  ctx: ActionContext,
  when: (plan: StoredBreakouts) => boolean,
): Promise<boolean> {
  const { before, changed } = await ctx.directory.breakouts.change(ctx.room, (current) =>
    current && when(current) ? null : undefined,
  );
  if (!changed || !before) return false;
  announce(ctx, null, before.rooms);
  if (before.status !== 'open') return false;
  ctx.webhook('breakoutsClosed', { rooms: before.rooms.map((r) => r.room) });
  for (const { room } of before.rooms) {
    const { participants } = await readable(ctx.directory.room(room));
    const moves = participants.map((p) => ({
      participantId: p.id,
      room: ctx.room,
      reason: 'return' as MoveReason,
    }));
    if (moves.length > 0) ctx.publish({ type: 'breakoutMoves', moves }, room);
  }
  ctx.logger.debug({ room: ctx.room, rooms: before.rooms.length }, 'breakouts closed');
  return true;
}

/** Tells the main room and every breakout room of the plan now (none: NO_BREAKOUTS); returns the state. */
function announce(
  ctx: ActionContext,
  plan: StoredBreakouts | null,
  rooms = plan?.rooms ?? [],
): BreakoutState {
  const state: BreakoutState = plan
    ? { status: plan.status, rooms: plan.rooms, endsAt: plan.endsAt }
    : NO_BREAKOUTS;
  const event = { type: 'breakoutsChanged', main: ctx.room, state } as const;
  ctx.publish(event);
  for (const { room } of rooms) ctx.publish(event, room);
  return state;
}

/** A plan still being prepared (assignments, opening); INVALID_STATE otherwise. */
function created(plan: StoredBreakouts | null): StoredBreakouts {
  if (!plan) throw new KaskadeError('INVALID_STATE', 'no breakouts: create them first');
  if (plan.status !== 'created') throw new KaskadeError('INVALID_STATE', 'the breakouts are open already');
  return plan;
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A directory read; Redis away is UNAVAILABLE (retry), not a fault of ours. */
function readable<T>(read: Promise<T>): Promise<T> {
  return read.catch((error: unknown) => {
    throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
  });
}
