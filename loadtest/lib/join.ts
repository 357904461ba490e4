import { issueToken } from '@kaskade/node-toolkit';
import type { Grants } from '@kaskade/protocol';
import { RtpBot } from './rtp-bot.ts';

export interface Placed {
  bot: RtpBot;
  nodeId: string;
}

/** Joins like an application would: its token to the control plane, then the edge it names. */
export async function joinThroughControlPlane(
  controlPlaneUrl: string,
  appSecret: string,
  identity: string,
  room: string,
  {
    region,
    grants = { publish: true, subscribe: true },
    resume,
    onPlaced,
    avoid,
  }: {
    region?: string;
    grants?: Grants;
    /** The participant id to come back as (a reconnect after a crash, as the SDK does). */
    resume?: string;
    /** Told the node placement chose, before the edge is reached (it may be dead). */
    onPlaced?: (nodeId: string) => void;
    avoid?: string[];
  } = {},
): Promise<Placed> {
  const token = await issueToken({ identity, name: identity, room, grants }, { secret: appSecret });
  const response = await fetch(`${controlPlaneUrl}/v1/rooms/${room}/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, region, avoid }),
  });
  const body = (await response.json()) as {
    edgeUrl: string;
    edgeToken: string;
    nodeId: string;
    message?: string;
  };
  if (!response.ok) throw new Error(`join refused (${response.status}): ${body.message}`);
  onPlaced?.(body.nodeId);
  const options = resume ? { resume, reconnect: true } : {};
  return { bot: await RtpBot.join(body.edgeUrl, body.edgeToken, options), nodeId: body.nodeId };
}
