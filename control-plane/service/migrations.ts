import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import type { Logger } from 'pino';
import { type EdgeTickets, hostedParticipant } from './edgeTickets.ts';
import type { NodeRegistry } from './NodeRegistry.ts';

export interface MigrationOptions {
  bus: Bus;
  registry: NodeRegistry;
  directory: Directory;
  tickets: EdgeTickets;
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
  const { bus, registry, directory, tickets } = opts;
  bus.serveControlRpc('migration.place', async ({ room, participantId, grants, lecture }, sender) => {
    const entry = await hostedParticipant(directory, room, participantId, sender);
    // Same region first (placement's order), never back to the asking edge.
    const region = registry.nodes().find((n) => n.nodeId === sender)?.region;
    const ticket = await tickets.issue({
      room,
      identity: entry.identity,
      name: entry.name,
      role: entry.role,
      grants,
      lecture,
      region,
      except: sender,
    });
    opts.logger.debug({ room, from: sender, to: ticket.nodeId }, 'migration placed');
    return ticket;
  });
}
