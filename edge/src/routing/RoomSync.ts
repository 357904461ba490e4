import type { Directory } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import type { ParticipantInfo } from '@kaskade/protocol';
import { DEFAULT_SETTINGS, RoomEvent, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { FeedSource } from '../rtc/RemoteFeeds.ts';
import type { Room, RoomLink } from '../rtc/Room.ts';
import { breakoutLink } from './breakoutLink.ts';
import { type EventOrigin, rowFor } from './roomEvents.ts';

export interface RoomSyncOptions {
  nodeId: string;
  bus: Bus;
  directory: Directory;
  /** A room's remote streams, over the paths the tree names. */
  feeds: (room: string) => FeedSource;
  /** The room closed here: its pipe links go. */
  roomClosed: (room: string) => void;
  logger: Logger;
}

/**
 * Keeps the rooms of the nodes in step: what happens in a room here is written to the
 * directory and then told to the other nodes carrying it, and what they tell is applied
 * here; both by the table in roomEvents.ts. Writers write the directory before
 * publishing; readers subscribe before reading it (attach), so nothing is missed;
 * what a NATS or Redis outage made anyone miss is Resync's.
 */
export class RoomSync {
  readonly #options: RoomSyncOptions;
  readonly #unsubscribe = new Map<string, () => void>();
  readonly #pendingWrites = new Set<Promise<unknown>>();
  /** Each local participant's first directory write, until it lands (identity checks wait for it). */
  readonly #joinWrites = new Map<string, Promise<unknown>>();
  #admitted = 0;

  constructor(options: RoomSyncOptions) {
    this.#options = options;
  }

  /** Joins admitted here since the start, for the control plane's placement accounting. */
  get admitted(): number {
    return this.#admitted;
  }

  /** Connects a new room here to the mesh, with what the directory knows of the other nodes. */
  async attach(room: Room): Promise<void> {
    const { bus, directory, nodeId, logger } = this.#options;
    // Subscribe before reading the directory: whatever happens in between is seen once or twice, never missed.
    const fromNodes = bus.subscribe(Subjects.roomEvents(room.name, '*'), RoomEvent, (event, sender) =>
      this.#onRoomEvent(room, event, sender, 'node'),
    );
    const fromControlPlane = bus.subscribe(Subjects.roomControl(room.name, '*'), RoomEvent, (event, sender) =>
      this.#onRoomEvent(room, event, sender, 'control-plane'),
    );
    this.#unsubscribe.set(room.name, () => {
      fromNodes();
      fromControlPlane();
    });
    const [state, settings] = await Promise.all([
      directory.room(room.name).catch((err: unknown) => {
        logger.warn({ err, room: room.name }, 'directory unavailable; the resync loop will fill in the room');
        return { participants: [], streams: [], nodes: [] };
      }),
      // Each join reads the settings again (RoomRules.admission): the defaults only bridge an outage.
      directory.governance.settings(room.name).catch(() => DEFAULT_SETTINGS),
    ]);
    room.attach(this.#linkFor(room), {
      participants: state.participants.filter((p) => p.node !== nodeId),
      streams: state.streams.filter((s) => s.node !== nodeId),
      settings,
    });
  }

  /**
   * Identity is unique in a room across the mesh: the directory maps each identity to
   * the participant that joined last (written with the participant). When someone
   * with the identity of a participant here joins elsewhere and the directory says
   * the identity now belongs to another participant, the one here is replaced. Two
   * joins at once end with exactly one: the last writer's.
   */
  checkIdentity(room: Room, joined: ParticipantInfo): void {
    const local = room.localWithIdentity(joined.identity);
    if (!local || local.id === joined.id) return;
    // Read only after our own participant's write landed: each side then sees the last
    // writer, and with two joins at once exactly one side finds the other holds the identity.
    const ownWrite = this.#joinWrites.get(local.id) ?? Promise.resolve();
    void ownWrite
      .then(() => this.#options.directory.identityOwner(room.name, joined.identity))
      .then(
        (owner) => {
          if (owner !== null && owner !== local.id && !local.closed) local.close('replaced');
        },
        (err: unknown) =>
          this.#options.logger.warn(
            { err, room: room.name },
            'directory unavailable; identity check skipped',
          ),
      );
  }

  /** Once the writes under way landed (a closing room's last writes go out), hears no more. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#pendingWrites);
    for (const unsubscribe of this.#unsubscribe.values()) unsubscribe();
    this.#unsubscribe.clear();
  }

  #linkFor(room: Room): RoomLink {
    const { directory, nodeId, feeds, roomClosed } = this.#options;
    const name = room.name;
    return {
      participantJoined: (participant) => {
        this.#admitted++;
        const written = this.#announce(room, { type: 'participantJoined', participant });
        this.#joinWrites.set(participant.id, written);
        void written.finally(() => this.#joinWrites.delete(participant.id));
      },
      participantLeft: (participantId) =>
        void this.#announce(room, { type: 'participantLeft', participantId }),
      streamAdded: (stream) => void this.#announce(room, { type: 'streamAdded', stream }),
      streamClosed: (producerId) => void this.#announce(room, { type: 'streamClosed', producerId }),
      streamPaused: (producerId, paused) =>
        void this.#announce(room, { type: paused ? 'streamPaused' : 'streamResumed', producerId }),
      handRaised: (hand) => void this.#announce(room, { type: 'handRaised', hand }),
      handLowered: (participantId) => void this.#announce(room, { type: 'handLowered', participantId }),
      speakerLevels: (levels) => void this.#announce(room, { type: 'speakerLevels', levels }),
      roleChanged: (participantId, role, by) =>
        void this.#announce(
          room,
          by === undefined
            ? { type: 'roleChanged', participantId, role }
            : { type: 'roleChanged', participantId, role, by },
        ),
      mayResume: async (identity, participantId) => {
        try {
          const owner = await directory.identityOwner(name, identity);
          if (owner !== null) return owner === participantId;
          // Nobody holds the identity (its node died and was purged): the id may come
          // back, unless it is in the room under another identity.
          return (await directory.participant(name, participantId)) === null;
        } catch {
          return false; // directory away: a fresh id, as a plain join
        }
      },
      chatStore: directory.chat,
      chatSent: (message) => void this.#announce(room, { type: 'chatMessage', message }),
      chatVoted: (update) => void this.#announce(room, { type: 'chatQuestion', ...update }),
      // The room's moderation state (RoomRules, Lobby): directory.governance, for this room.
      admission: (identity) => directory.governance.admission(name, identity),
      admitted: (identity) => directory.governance.admit(name, identity),
      clearMuted: (identity, source) => directory.governance.clearMuted(name, identity, source),
      enqueue: (entry) => directory.governance.enqueue(name, { ...entry, node: nodeId }),
      leaveLobby: (identity, participantId) =>
        directory.governance.leaveLobby(name, identity, participantId, nodeId),
      lobby: () => directory.governance.lobby(name),
      lobbyChanged: () => void this.#announce(room, { type: 'lobbyChanged' }),
      ...feeds(name),
      ...breakoutLink(room, this.#options),
      close: () => {
        this.#unsubscribe.get(name)?.();
        this.#unsubscribe.delete(name);
        roomClosed(name);
        void this.#write(name, 'room', directory.leaveRoom(name, nodeId));
      },
    };
  }

  /**
   * Tells the other nodes carrying the room, by the event's row: its directory write
   * first, then the event, so a reader that subscribed and then read misses neither.
   * Resolves once the write landed (or failed).
   */
  #announce(room: Room, event: RoomEvent): Promise<unknown> {
    const { directory, nodeId } = this.#options;
    const row = rowFor(event);
    const work = row.write?.({ directory, room, nodeId }, event);
    if (!work) {
      this.#publish(room.name, event);
      return Promise.resolve();
    }
    const written = this.#write(room.name, event.type, work);
    void written.then((result) => {
      if (row.publishIf?.(result) ?? true) this.#publish(room.name, event);
    });
    return written;
  }

  #publish(room: string, event: RoomEvent): void {
    this.#options.bus.publish(Subjects.roomEvents(room, this.#options.nodeId), RoomEvent, event);
  }

  /** A directory write kept until it lands (close waits for it); a failure is resync's to repair. */
  #write(room: string, what: string, work: Promise<unknown>): Promise<unknown> {
    const done = work.catch((err: unknown) =>
      this.#options.logger.warn({ err, room, what }, 'directory write failed; resync repairs it'),
    );
    this.#pendingWrites.add(done);
    void done.finally(() => this.#pendingWrites.delete(done));
    return done;
  }

  #onRoomEvent(room: Room, event: RoomEvent, sender: string, origin: EventOrigin): void {
    const row = rowFor(event);
    if ((sender === this.#options.nodeId && !row.ownToo) || room.closed) return;
    row.apply(room, event, sender, origin);
    if (event.type === 'participantJoined') this.checkIdentity(room, event.participant);
  }
}
