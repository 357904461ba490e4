import type { Directory } from '@kaskade/directory';
import { KaskadeError, type RoomSummary, type RoomSummaryParts } from '@kaskade/protocol';
import type { Static } from 'typebox';

/** The directory's view of a room, read once for the parts that come from it. */
type RoomState = Awaited<ReturnType<Directory['room']>>;

type PartReaders = {
  [K in keyof typeof RoomSummaryParts]: (
    directory: Directory,
    room: string,
    state: RoomState,
  ) => Promise<Static<(typeof RoomSummaryParts)[K]>>;
};

/** How each part of the summary is read: one row per part of RoomSummaryParts (features add theirs). */
const partReaders: PartReaders = {
  participants: async (_d, _room, state) => state.participants,
  streams: async (_d, _room, state) => state.streams,
  nodes: async (_d, _room, state) => state.nodes,
};

/** A room's summary (GET /v1/rooms/{room}) from Redis; UNAVAILABLE while Redis is away. */
export async function roomSummary(directory: Directory, room: string): Promise<RoomSummary> {
  try {
    const state = await directory.room(room);
    const entries = await Promise.all(
      Object.entries(partReaders).map(
        async ([part, read]) => [part, await read(directory, room, state)] as const,
      ),
    );
    return { room, ...Object.fromEntries(entries) } as RoomSummary;
  } catch (error) {
    throw new KaskadeError('UNAVAILABLE', 'the directory cannot be read now; retry', { cause: error });
  }
}
