import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import { KaskadeError, RoomEvent, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import { closeBreakouts } from './actions/breakouts.ts';
import type { ActionContext } from './actions/types.ts';
import { hostedParticipant, issueTicket, type TicketIssuer } from './edgeTickets.ts';

export interface BreakoutMoveOptions extends TicketIssuer {
  bus: Bus;
  logger: Logger;
}

/**
 * Serves what edges ask of breakouts: `breakout.place`, a ticket into another room of a
 * plan for a participant the asking edge hosts (the sender from the subject; placement
 * and token as for migrations, edgeTickets.ts), and `breakout.due`, the timer of open
 * breakouts. Every edge carrying the main room or one of its breakouts holds that timer
 * (it knows the plan from the room's events and the directory), rather than the replica
 * that opened them: a replica's restart then loses no timer, and the breakouts close even
 * when nobody is left in the main room. Whoever asks first closes them; the close is one
 * compare-and-set of the plan, so it happens once.
 */
export function serveBreakoutMoves(opts: BreakoutMoveOptions): void {
  const { bus, directory } = opts;
  bus.serveControlRpc('breakout.place', async ({ room, participantId, target, grants, lecture }, sender) => {
    const entry = await hostedParticipant(directory, room, participantId, sender);
    if (!(await mayMove(directory, room, target, entry.identity)))
      throw new KaskadeError(
        'FORBIDDEN',
        `the breakouts of ${room} send ${participantId} nowhere near ${target}`,
      );
    const ticket = await issueTicket(opts, { sender, target, entry, grants, lecture, leaveSender: false });
    opts.logger.debug({ room, target, to: ticket.nodeId }, 'breakout move placed');
    return ticket;
  });
  bus.serveControlRpc('breakout.due', async ({ main }) => {
    const ctx: ActionContext = {
      room: main,
      actor: { kind: 'application' },
      directory,
      controlPlaneId: bus.nodeId,
      publish: (event, room = main) => bus.publish(Subjects.roomControl(room, bus.nodeId), RoomEvent, event),
      logger: opts.logger,
    };
    const closed = await closeBreakouts(
      ctx,
      (plan) => plan.status === 'open' && plan.endsAt !== null && plan.endsAt <= Date.now(),
    );
    return { closed };
  });
}

/**
 * Whether the plan sends `identity` from `room` to `target`: back to the main room from
 * one of its breakouts (always: closed or not, everyone may go back), or into the
 * breakout room it is assigned to while they are open.
 */
async function mayMove(
  directory: Directory,
  room: string,
  target: string,
  identity: string,
): Promise<boolean> {
  try {
    if ((await directory.breakouts.parentOf(room)) === target) return true;
    const plan = await directory.breakouts.state(room);
    return (
      plan?.status === 'open' && plan.rooms.some((r) => r.room === target && r.identities.includes(identity))
    );
  } catch (error) {
    throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
  }
}
