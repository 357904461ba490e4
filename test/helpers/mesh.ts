import { issueToken } from '../../control-plane/common/tokens.ts';
import type { LocalMesh } from '../../scripts/lib/local-mesh.ts';
import { ALL_GRANTS } from './edge.ts';
import { RtpBot } from './rtp-bot.ts';

export interface Placed {
  bot: RtpBot;
  nodeId: string;
}

/** Joins like an application would: its token to the control plane, then the edge it names. */
export async function joinThroughControlPlane(
  mesh: LocalMesh,
  identity: string,
  room: string,
  region?: string,
): Promise<Placed> {
  const token = await issueToken(
    { identity, name: identity, room, grants: ALL_GRANTS },
    { secret: mesh.appJwtSecret },
  );
  const response = await fetch(`${mesh.controlPlane.url}/v1/rooms/${room}/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, region }),
  });
  const body = (await response.json()) as {
    edgeUrl: string;
    edgeToken: string;
    nodeId: string;
    message?: string;
  };
  if (!response.ok) throw new Error(`join refused (${response.status}): ${body.message}`);
  return { bot: await RtpBot.join(body.edgeUrl, body.edgeToken), nodeId: body.nodeId };
}

export interface NodeView {
  participants: number;
  workers: { routers: number; transports: number; producers: number; consumers: number }[];
  links: { room: string; remoteNode: string; copies: number; sends: number }[];
}

export async function nodeView(url: string): Promise<NodeView> {
  return (await (await fetch(`${url}/v1/node`)).json()) as NodeView;
}
