import { joinThroughControlPlane as join, type Placed } from '@kaskade/load-tools';
import type { LocalMesh } from '@kaskade/local-mesh';
import { operatorJson } from '@kaskade/local-mesh';
import type { LinkCensus } from '@kaskade/media-node';

export type { Placed };

/** Edge (and relay) settings that let a test mesh react in fractions of a second. */
export const FAST_MESH_ENV = {
  KASKADE_ALLOW_PLAIN_RTP: 'true',
  KASKADE_HEARTBEAT_MS: '300',
  KASKADE_RESYNC_MS: '1000',
  KASKADE_PIPE_LINGER_MS: '300',
  KASKADE_ROOM_EMPTY_GRACE_MS: '300',
  KASKADE_LOG_LEVEL: 'warn',
};
/** How long the test control plane gives a node before it judges it dead. */
export const TEST_NODE_TIMEOUT_MS = 1500;
export const FAST_CONTROL_PLANE_ENV = {
  KASKADE_NODE_TIMEOUT_MS: String(TEST_NODE_TIMEOUT_MS),
  KASKADE_LOG_LEVEL: 'warn',
};

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
