import type { Bus } from '@kaskade/node-toolkit';
import type { Logger } from 'pino';
import { hostedParticipant, issueTicket, type TicketIssuer } from './edgeTickets.ts';

export interface MigrationOptions extends TicketIssuer {
  bus: Bus;
  logger: Logger;
}

/**
 * Answers `migration.place` (control-plane/protocol/nats.ts): where a participant of a
 * draining edge goes on, and a ticket to get in there. The asking edge is the sender
 * from the subject (its bus credentials); it gets a ticket only for a participant the
 * directory has on it and whose identity the directory still gives to that participant,
 * so no edge can move, rename or impersonate anyone it does not host. The ticket is an
 * edge token like the join's: bound to the target edge, single use, short-lived.
 */
export function serveMigrations(opts: MigrationOptions): void {
  opts.bus.serveControlRpc('migration.place', async ({ room, participantId, grants, lecture }, sender) => {
    const entry = await hostedParticipant(opts.directory, room, participantId, sender);
    // Same region first (placement's order), never back to the asking edge.
    const ticket = await issueTicket(opts, {
      sender,
      target: room,
      entry,
      grants,
      lecture,
      leaveSender: true,
    });
    opts.logger.debug({ room, from: sender, to: ticket.nodeId }, 'migration placed');
    return ticket;
  });
}
