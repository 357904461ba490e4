import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import type { ParticipantInfo } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Room } from '../rtc/Room.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';

export interface ResyncOptions {
  nodeId: string;
  bus: Bus;
  directory: Directory;
  rooms: RoomManager;
  resyncMs: number;
  /** Re-homes the piped streams first (the tree may have changed while nobody heard). */
  rehome: () => void;
  /** Checks a participant found in the directory against a local one of the same identity. */
  checkIdentity: (room: Room, participant: ParticipantInfo) => void;
  logger: Logger;
}

/**
 * Repairs what a NATS or Redis outage made anyone miss: every resyncMs and when the bus
 * is back, each room's view of the other nodes is made to match the directory; when
 * Redis is back (possibly empty), or this node was declared dead while alive, what
 * this node holds is written to the directory again. RoomSync is the normal path;
 * this is what makes a lost message or write harmless.
 */
export class Resync {
  readonly #options: ResyncOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ResyncOptions) {
    this.#options = options;
  }

  start(): void {
    const { bus, directory, resyncMs } = this.#options;
    bus.onConnectionChange({ back: () => void this.resyncAll() });
    directory.onReady(() => void this.republishAll());
    this.#timer = setInterval(() => void this.resyncAll(), resyncMs);
  }

  /** Makes each room's view of the other nodes match the directory. */
  async resyncAll(): Promise<void> {
    const { directory, nodeId, rooms, rehome, checkIdentity } = this.#options;
    rehome();
    for (const room of rooms.openRooms()) {
      let state: Awaited<ReturnType<Directory['room']>>;
      try {
        state = await directory.room(room.name);
      } catch {
        return; // directory away: keep what we have
      }
      const participants = state.participants.filter((p) => p.node !== nodeId);
      const streams = state.streams.filter((s) => s.node !== nodeId);
      const participantIds = new Set(participants.map((p) => p.id));
      const streamIds = new Set(streams.map((s) => s.producerId));
      // An entry is gone only if its node has written the room since (it is in the nodes
      // hash) and left it out. A node missing from the hash has not republished yet (Redis
      // lost it) or is dead, which NodeDead handles.
      const reporting = new Set(state.nodes);
      for (const p of room.mesh.remoteParticipants()) {
        if (reporting.has(p.node) && !participantIds.has(p.id)) room.mesh.removeRemoteParticipant(p.id);
      }
      for (const s of room.mesh.remoteStreams()) {
        if (reporting.has(s.node) && !streamIds.has(s.producerId)) room.mesh.removeRemoteStream(s.producerId);
      }
      for (const p of participants) {
        room.mesh.addRemoteParticipant(p);
        checkIdentity(room, p); // a join elsewhere whose event was missed
      }
      for (const s of streams) {
        room.mesh.addRemoteStream(s);
        room.mesh.setRemoteStreamPaused(s.producerId, s.paused);
      }
    }
  }

  /** Writes again what this node holds, room by room. */
  async republishAll(): Promise<void> {
    const { directory, nodeId, rooms, logger } = this.#options;
    for (const room of rooms.openRooms()) {
      const participants = [...room.participants()].map((p) => ({ ...p.info(), node: nodeId }));
      const streams = room.localStreams().map((s) => ({ ...s, node: nodeId }));
      await directory
        .republish(room.name, nodeId, participants, streams)
        .catch((err: unknown) => logger.warn({ err, room: room.name }, 'republish to the directory failed'));
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
