import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import { KaskadeError } from '@kaskade/protocol';
import type { RoomActionExecutor } from './RoomActionExecutor.ts';

/**
 * Answers `room.act` (protocol/nats.ts): a moderator's action, forwarded by the edge
 * that hosts it and verified its `moderate` grant. The asking edge is the sender from
 * the subject; the action runs only if the directory has the moderator `by` on that
 * edge, so no edge can act in the name of a participant it does not host.
 */
export function serveRoomActions(opts: {
  bus: Bus;
  directory: Directory;
  executor: RoomActionExecutor;
}): void {
  const { bus, directory, executor } = opts;
  bus.serveControlRpc('room.act', async ({ room, by, action, params }, sender) => {
    const entry = await directory.participant(room, by).catch((error: unknown) => {
      throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
    });
    if (!entry || entry.node !== sender)
      throw new KaskadeError('FORBIDDEN', `participant ${by} is not hosted by ${sender}`);
    return executor.execute(room, { kind: 'moderator', participantId: by, node: sender }, action, params);
  });
}
