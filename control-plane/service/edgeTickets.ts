import type { Directory } from '@kaskade/directory';
import { issueToken } from '@kaskade/node-toolkit';
import type { Grants, MeshParticipant } from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { NodeRegistry } from './NodeRegistry.ts';
import { place } from './placement.ts';

/** What issuing a ticket takes: the nodes, and the key and lifetime of edge tokens. */
export interface TicketIssuer {
  registry: NodeRegistry;
  directory: Directory;
  edgeJwtSecret: string;
  edgeTokenTtlSeconds: number;
}

const unavailable = (error: unknown): never => {
  throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
};

/**
 * The directory's entry of a participant that node `sender` (from the bus subject) hosts
 * in `room` and that still holds its identity there; FORBIDDEN otherwise, so no edge
 * can move, rename or impersonate anyone it does not host.
 */
export async function hostedParticipant(
  directory: Directory,
  room: string,
  participantId: string,
  sender: string,
): Promise<MeshParticipant> {
  const entry = await directory.participant(room, participantId).catch(unavailable);
  if (!entry || entry.node !== sender)
    throw new KaskadeError('FORBIDDEN', `participant ${participantId} is not hosted by ${sender}`);
  const owner = await directory.identityOwner(room, entry.identity).catch(unavailable);
  if (owner !== participantId)
    throw new KaskadeError('FORBIDDEN', `participant ${participantId} no longer holds its identity`);
  return entry;
}

/**
 * A place in room `target` for a participant (its directory entry) of node `sender`, and
 * a ticket to get in there: an edge token like the join's (bound to the chosen edge,
 * single use, short-lived) with the entry's identity, name and role. Same region as the
 * sender first, then placement's order; `leaveSender` never places on the sender (a
 * draining edge).
 */
export async function issueTicket(
  issuer: TicketIssuer,
  ticket: {
    sender: string;
    target: string;
    entry: MeshParticipant;
    grants: Grants;
    lecture: boolean;
    leaveSender: boolean;
  },
): Promise<{ url: string; token: string; nodeId: string }> {
  const { registry } = issuer;
  const { sender, target, entry } = ticket;
  const roomNodes = new Set((await issuer.directory.room(target).catch(unavailable)).nodes);
  const nodes = registry.nodes();
  const region = nodes.find((n) => n.nodeId === sender)?.region;
  const placement = place({
    nodes: ticket.leaveSender ? nodes.filter((n) => n.nodeId !== sender) : nodes,
    liveness: registry.liveness(),
    roomNodes,
    region,
  });
  if (!placement.ok)
    throw new KaskadeError('UNAVAILABLE', `no edge can take the participant (${placement.reason})`);
  const { node } = placement;
  registry.placed(node.nodeId);
  const token = await issueToken(
    {
      identity: entry.identity,
      name: entry.name,
      room: target,
      grants: ticket.grants,
      role: entry.role,
      lecture: ticket.lecture,
      node: node.nodeId,
      ttlSeconds: issuer.edgeTokenTtlSeconds,
    },
    { secret: issuer.edgeJwtSecret },
  );
  return { url: node.url, token, nodeId: node.nodeId };
}
