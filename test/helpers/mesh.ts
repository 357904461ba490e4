import { joinThroughControlPlane as join, type Placed } from '../../loadtest/lib/join.ts';
import type { LinkCensus } from '../../relay/src/Relay.ts';
import type { LocalMesh } from '../../scripts/lib/local-mesh.ts';

export type { Placed };

export function joinThroughControlPlane(mesh: LocalMesh, identity: string, room: string, region?: string) {
  return join(mesh.controlPlane.url, mesh.appJwtSecret, identity, room, { region });
}

export interface NodeView {
  participants: number;
  workers: { routers: number; transports: number; producers: number; consumers: number }[];
  links: LinkCensus[];
}

export async function nodeView(url: string): Promise<NodeView> {
  return (await (await fetch(`${url}/v1/node`)).json()) as NodeView;
}
