import { joinThroughControlPlane as join, type Placed } from '../../loadtest/lib/join.ts';
import type { LinkCensus } from '../../relay/src/pipe/index.ts';
import type { LocalMesh } from '../../scripts/lib/local-mesh.ts';
import { operatorJson } from '../../scripts/lib/operator-client.ts';

export type { Placed };

export function joinThroughControlPlane(mesh: LocalMesh, identity: string, room: string, region?: string) {
  return join(mesh.controlPlane.url, mesh.appJwtSecret, identity, room, { region });
}

export interface NodeView {
  participants: number;
  workers: { routers: number; transports: number; producers: number; consumers: number }[];
  links: LinkCensus[];
}

/** GET /v1/node of a media node's operator API. */
export function nodeView(operatorUrl: string, operatorToken: string): Promise<NodeView> {
  return operatorJson<NodeView>(operatorUrl, operatorToken, '/v1/node');
}
