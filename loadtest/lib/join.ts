import { issueToken } from '@kaskade/node-toolkit';
import {
  type ErrorBody,
  type Grants,
  type HttpJoinReply,
  type HttpJoinRequest,
  httpJoinPath,
} from '@kaskade/protocol';
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
  const request: HttpJoinRequest = { token, region, avoid };
  const response = await fetch(`${controlPlaneUrl}${httpJoinPath(room)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const answer: unknown = await response.json();
  if (!response.ok) throw new Error(`join refused (${response.status}): ${(answer as ErrorBody).message}`);
  const placed = answer as HttpJoinReply;
  onPlaced?.(placed.nodeId);
  const options = resume ? { resume, reconnect: true } : {};
  return { bot: await RtpBot.join(placed.edgeUrl, placed.edgeToken, options), nodeId: placed.nodeId };
}
