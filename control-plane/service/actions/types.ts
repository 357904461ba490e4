import type { Directory } from '@kaskade/directory';
import type { RoomActionName, RoomActions, RoomEvent } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';

// The action plumbing's shapes as issue 13's contract gives them; helper A1 (branch
// i13-plumbing) owns this file and its executor, so this copy goes when that branch is in.

export interface ActionContext {
  /** The room acted on (from the RPC or the URL). */
  room: string;
  actor: { kind: 'moderator'; participantId: string; node: string } | { kind: 'application' };
  directory: Directory;
  controlPlaneId: string;
  /** Publishes on Subjects.roomControl(room ?? ctx.room, controlPlaneId): the edges carrying the room apply it. */
  publish(event: RoomEvent, room?: string): void;
  logger: Logger;
}

/** Executes one action; refusals throw KaskadeError (NOT_FOUND, FORBIDDEN, INVALID_STATE...). */
export type ActionHandler<N extends RoomActionName> = (
  ctx: ActionContext,
  params: Static<(typeof RoomActions)[N]['request']>,
) => Promise<Static<(typeof RoomActions)[N]['response']>>;

export type ActionHandlers<N extends RoomActionName> = { [K in N]: ActionHandler<K> };
