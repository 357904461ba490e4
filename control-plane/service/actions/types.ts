import type { Directory } from '@kaskade/directory';
import type { RoomActionName, RoomActions, RoomEvent } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';

// A minimal copy of the contract's shape (issue 13), until helper A1's executor lands.

export interface ActionContext {
  room: string; // the room acted on (from the RPC or the URL)
  actor: { kind: 'moderator'; participantId: string; node: string } | { kind: 'application' };
  directory: Directory;
  controlPlaneId: string;
  publish(event: RoomEvent, room?: string): void; // Subjects.roomControl(room ?? ctx.room, cpId)
  logger: Logger;
}
export type ActionHandler<N extends RoomActionName> = (
  ctx: ActionContext,
  params: Static<(typeof RoomActions)[N]['request']>,
) => Promise<Static<(typeof RoomActions)[N]['response']>>;
export type ActionHandlers<N extends RoomActionName> = { [K in N]: ActionHandler<K> };
