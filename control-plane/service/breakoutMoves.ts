import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import { KaskadeError } from '@kaskade/protocol';
import type { Logger } from 'pino';
import { closeBreakouts } from './actions/breakouts.ts';
import type { RoomActionExecutor } from './actions/RoomActionExecutor.ts';
import { type EdgeTickets, hostedParticipant } from './edgeTickets.ts';
import type { NodeRegistry } from './NodeRegistry.ts';

export interface BreakoutMoveOptions {
  bus: Bus;
  registry: NodeRegistry;
  directory: Directory;
  tickets: EdgeTickets;
  executor: RoomActionExecutor;
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
  const { bus, directory, registry } = opts;
  bus.serveControlRpc('breakout.place', async ({ room, participantId, target, grants, lecture }, sender) => {
    const entry = await hostedParticipant(directory, room, participantId, sender);
    if (!(await mayMove(directory, room, target, entry.identity)))
      throw new KaskadeError(
        'FORBIDDEN',
        `the breakouts of ${room} do not send ${participantId} to ${target}`,
      );
    const ticket = await opts.tickets.issue({
      room: target,
      identity: entry.identity,
      name: entry.name,
      role: entry.role,
      grants,
      lecture,
      // Same region as the edge it is on first; the same edge is fine (no pipe to set up).
      region: registry.nodes().find((n) => n.nodeId === sender)?.region,
    });
    opts.logger.debug({ room, target, to: ticket.nodeId }, 'breakout move placed');
    return ticket;
  });
  bus.serveControlRpc('breakout.due', async ({ main }) => {
    const ctx = opts.executor.contextFor(main, { kind: 'application' });
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
