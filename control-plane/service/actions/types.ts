import type { Directory } from '@kaskade/directory';
import type { RoomActionName, RoomActions, RoomEvent, WebhookDataOf, WebhookType } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import type { EdgeTicket, TicketRequest } from '../edgeTickets.ts';

/** Who performs an action: a moderator over signaling (hosted on `node`), or the application over the API. */
export type ActionActor =
  | { kind: 'moderator'; participantId: string; node: string }
  | { kind: 'application' };

/** What an action handler works with: the room, who acts, and the control plane's means. */
export interface ActionContext {
  /** The room acted on (from the RPC or the URL). */
  room: string;
  actor: ActionActor;
  directory: Directory;
  controlPlaneId: string;
  /** Publishes on Subjects.roomControl(room ?? ctx.room, controlPlaneId): the edges carrying the room apply it. */
  publish(event: RoomEvent, room?: string): void;
  /**
   * Places someone on an edge for a room (region first when given) and issues the
   * single-use edge token to get in there: a move to a breakout room.
   */
  placeAndIssue(request: TicketRequest): Promise<EdgeTicket>;
  /** Sends a webhook about this room (or `room`) to the application (queued; never throws). */
  webhook<T extends WebhookType>(type: T, data: WebhookDataOf<T>, room?: string): void;
  logger: Logger;
}

export type ActionParams<N extends RoomActionName> = Static<(typeof RoomActions)[N]['request']>;
export type ActionResult<N extends RoomActionName> = Static<(typeof RoomActions)[N]['response']>;

/** Executes one action; refusals throw KaskadeError (NOT_FOUND, FORBIDDEN, INVALID_STATE...). */
export type ActionHandler<N extends RoomActionName> = (
  ctx: ActionContext,
  params: ActionParams<N>,
) => Promise<ActionResult<N>>;

export type ActionHandlers<N extends RoomActionName> = { [K in N]: ActionHandler<K> };
