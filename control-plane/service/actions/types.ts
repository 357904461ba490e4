import type { Directory } from '@kaskade/directory';
import type { RoomActionName, RoomActions, RoomEvent } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';

// Written by the breakouts helper as the contract gives it, until the plumbing's own lands.

export interface ActionContext {
  /** The room acted on (from the RPC or the URL). */
  room: string;
  actor: { kind: 'moderator'; participantId: string; node: string } | { kind: 'application' };
  directory: Directory;
  controlPlaneId: string;
  /** Publishes on Subjects.roomControl(room ?? ctx.room, controlPlaneId). */
  publish(event: RoomEvent, room?: string): void;
  logger: Logger;
}

export type ActionHandler<N extends RoomActionName> = (
  ctx: ActionContext,
  params: Static<(typeof RoomActions)[N]['request']>,
) => Promise<Static<(typeof RoomActions)[N]['response']>>;

export type ActionHandlers<N extends RoomActionName> = { [K in N]: ActionHandler<K> };
