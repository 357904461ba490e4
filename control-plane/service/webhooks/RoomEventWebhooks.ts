import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import { RoomEvent, RoomName, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import { Compile } from 'typebox/compile';
import type { WebhookEmitter } from '../actions/RoomActionExecutor.ts';

/** The queue group the replicas hear room events in: one replica makes each event's webhooks. */
export const WEBHOOK_QUEUE = 'kaskade-control-plane-webhooks';

interface RowContext {
  room: string;
  /** The edge that told the event (from the subject). */
  sender: string;
  directory: Directory;
  webhooks: WebhookEmitter;
}

type Row<T extends RoomEvent['type']> = (
  ctx: RowContext,
  event: Extract<RoomEvent, { type: T }>,
) => Promise<void>;
type Rows = { [T in RoomEvent['type']]?: Row<T> };

/**
 * Which room events become webhooks, and how. A row believes an event about a
 * participant only as far as the directory confirms it: the participant is there on
 * the sending edge (joined), or nowhere any more (left; one that moved to another edge
 * has not left). Add a row to make another event a webhook.
 */
export const webhookRows: Rows = {
  participantJoined: async ({ room, sender, directory, webhooks }, { participant }) => {
    const entry = await directory.participant(room, participant.id);
    if (entry?.node !== sender) return;
    if (await directory.lifecycle.started(room)) webhooks.emit('roomStarted', room, {});
    webhooks.emit('participantJoined', room, {
      participant: {
        participantId: entry.id,
        identity: entry.identity,
        name: entry.name,
        role: entry.role,
        node: entry.node,
      },
    });
  },
  participantLeft: async ({ room, directory, webhooks }, { participantId }) => {
    if ((await directory.participant(room, participantId)) !== null) return;
    webhooks.emit('participantLeft', room, { participantId });
    if (await directory.lifecycle.endedIfEmpty(room)) webhooks.emit('roomEnded', room, {});
  },
  // An edge put a join in the lobby (or one left it): the queue is read from the directory,
  // and each wait is told once, whichever replica hears which edge's nudge.
  lobbyChanged: async ({ room, directory, webhooks }) => {
    const waiting = await directory.governance.lobby(room);
    const fresh = new Set(
      await directory.lifecycle.firstNoticed(
        room,
        waiting.map((e) => e.participantId),
      ),
    );
    for (const { participantId, identity, name } of waiting)
      if (fresh.has(participantId)) webhooks.emit('lobbyWaiting', room, { participantId, identity, name });
  },
};

const ROOM_TOKEN = Subjects.roomEvents('ROOM', 'FROM').split('.').indexOf('ROOM');
const roomNameCheck = Compile(RoomName);

/**
 * Hears every room's events (in the replicas' queue group) and makes webhooks of those
 * webhookRows lists. The directory is read for each: an event it cannot confirm (Redis
 * away) makes no webhook, logged at debug.
 */
export class RoomEventWebhooks {
  readonly #unsubscribe: () => void;

  constructor(opts: { bus: Bus; directory: Directory; webhooks: WebhookEmitter; logger: Logger }) {
    const { bus, directory, webhooks, logger } = opts;
    this.#unsubscribe = bus.subscribe(
      Subjects.roomEvents('*', '*'),
      RoomEvent,
      (event, sender, subject) => {
        const row = webhookRows[event.type] as Row<typeof event.type> | undefined;
        const room = subject.split('.')[ROOM_TOKEN] ?? '';
        if (!row || !roomNameCheck.Check(room)) return;
        row({ room, sender, directory, webhooks }, event).catch((error: unknown) =>
          logger.debug({ err: error, type: event.type }, 'room event made no webhook'),
        );
      },
      { queue: WEBHOOK_QUEUE },
    );
  }

  close(): void {
    this.#unsubscribe();
  }
}
