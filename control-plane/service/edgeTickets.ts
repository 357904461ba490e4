import type { Directory } from '@kaskade/directory';
import { issueToken } from '@kaskade/node-toolkit';
import { type Grants, KaskadeError, type MeshParticipant, type Role } from '@kaskade/protocol';
import type { NodeRegistry } from './NodeRegistry.ts';
import { place } from './placement.ts';

/** Who is to be placed, as the caller has verified it (the directory, a verified token). */
export interface TicketRequest {
  room: string;
  identity: string;
  name: string;
  role: Role;
  grants: Grants;
  lecture: boolean;
  /** The region to place in first (placement's order); absent: anywhere. */
  region?: string;
  /** An edge never to place on (the one a participant leaves). */
  except?: string;
}

/** Where to go and the single-use edge token to get in there. */
export interface EdgeTicket {
  url: string;
  token: string;
  nodeId: string;
}

export interface EdgeTicketOptions {
  registry: NodeRegistry;
  directory: Directory;
  edgeJwtSecret: string;
  edgeTokenTtlSeconds: number;
}

/**
 * Places someone on an edge for a room and issues the edge token for it: what a
 * migration (migration.place) and a move to a breakout room need. The token is bound
 * to the chosen edge, single use and short-lived, like the join's.
 */
export class EdgeTickets {
  readonly #options: EdgeTicketOptions;

  constructor(options: EdgeTicketOptions) {
    this.#options = options;
  }

  async issue(request: TicketRequest): Promise<EdgeTicket> {
    const { registry, directory } = this.#options;
    const roomNodes = new Set(
      await directory.roomNodes(request.room).catch((error: unknown) => {
        throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
      }),
    );
    const nodes = registry.nodes().filter((n) => n.nodeId !== request.except);
    const placement = place({ nodes, liveness: registry.liveness(), roomNodes, region: request.region });
    if (!placement.ok)
      throw new KaskadeError('UNAVAILABLE', `no edge can take the participant (${placement.reason})`);
    const { node } = placement;
    registry.placed(node.nodeId);
    const token = await issueToken(
      {
        identity: request.identity,
        name: request.name,
        room: request.room,
        grants: request.grants,
        role: request.role,
        lecture: request.lecture,
        node: node.nodeId,
        ttlSeconds: this.#options.edgeTokenTtlSeconds,
      },
      { secret: this.#options.edgeJwtSecret },
    );
    return { url: node.url, token, nodeId: node.nodeId };
  }
}

const unavailable = (error: unknown): never => {
  throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
};

/**
 * The directory's entry of a participant that node `sender` (from the bus subject) hosts
 * in `room` and that still holds its identity there; FORBIDDEN otherwise, so no edge can
 * get a ticket to move, rename or impersonate anyone it does not host.
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
