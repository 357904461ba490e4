import type { Directory } from '@kaskade/directory';
import type { MediaMetrics } from '@kaskade/media-node';
import { PipeMachinery } from '@kaskade/media-node';
import type { Bus } from '@kaskade/node-toolkit';
import type { ParticipantInfo, StreamInfo } from '@kaskade/protocol';
import {
  NodeDead,
  NodeHeartbeat,
  type NodeReport,
  type NodeState,
  RoomEvent,
  Subjects,
} from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Participant } from '../rtc/Participant.ts';
import type { Room, RoomLink } from '../rtc/Room.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { WorkerPool } from '../rtc/WorkerPool.ts';
import { upstreamFor } from './distributionTree.ts';
import { EdgePipeHost } from './EdgePipeHost.ts';
import { applyRoomEvent } from './roomEvents.ts';

export interface MeshOptions {
  nodeId: string;
  region: string;
  /** In the origin's own region, edges beyond this many carrying a room get its streams through a relay. */
  fanoutLimit: number;
  capacity: number;
  heartbeatMs: number;
  resyncMs: number;
  pipeLingerMs: number;
  /** See PipeMachineryOptions: silenceMs, firstPacketTimeoutMs, supersededMs (viewers' time to move). */
  pipeSilenceMs: number;
  pipeFirstPacketTimeoutMs: number;
  pipeSupersededMs: number;
  listenIp: string;
  announcedAddress?: string;
  /** UDP ports pipe transports take theirs from. */
  pipePortRange: { min: number; max: number };
  bus: Bus;
  directory: Directory;
  registry: Registry;
  /** The node's load ratio and bitrate, from the stats sampling loop. */
  media: MediaMetrics;
  pool: WorkerPool;
  rooms: RoomManager;
  logger: Logger;
}

/**
 * This edge's place in the mesh (routing, apart from rtc): it announces the node
 * over NATS, keeps the Redis directory up to date with what happens here, tells the
 * other nodes carrying a room, applies what they tell, and fetches remote streams
 * through the relay. Writers write the directory before publishing; readers
 * subscribe before reading it; a periodic resync repairs what a NATS or Redis outage
 * made anyone miss.
 */
/** How long a node whose pipe went silent is kept out of the tree (unless declared dead first). */
const SUSPECT_FOR_MS = 15_000;

export class Mesh {
  readonly pipes: PipeMachinery;
  state: NodeState = 'serving';
  readonly #options: MeshOptions;
  readonly #logger: Logger;
  readonly #unsubscribe = new Map<string, () => void>();
  readonly #timers: NodeJS.Timeout[] = [];
  #publicUrl = '';
  readonly #pendingWrites = new Set<Promise<unknown>>();
  /** Each local participant's first directory write, until it lands (identity checks wait for it). */
  readonly #joinWrites = new Map<string, Promise<unknown>>();
  /** What every node last said of itself, for choosing where a stream comes from. */
  readonly #nodes = new Map<string, NodeReport>();
  /** Nodes not to take media from (see TreeInput.unavailable), each until its timer lets it back. */
  readonly #unavailable = new Map<string, NodeJS.Timeout>();
  /** Streams being moved to another upstream now, by room and stream. */
  readonly #rerouting = new Set<string>();
  #rehomeTimer: NodeJS.Timeout | undefined;
  /** Joins admitted here since the start, for the control plane's placement accounting. */
  #admitted = 0;

  constructor(options: MeshOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'mesh' });
    this.pipes = new PipeMachinery({
      nodeId: options.nodeId,
      region: options.region,
      registry: options.registry,
      regionOf: (nodeId) => this.#nodes.get(nodeId)?.region,
      bus: options.bus,
      host: new EdgePipeHost(options.rooms),
      listenIp: options.listenIp,
      announcedAddress: options.announcedAddress,
      portRange: options.pipePortRange,
      lingerMs: options.pipeLingerMs,
      silenceMs: options.pipeSilenceMs,
      firstPacketTimeoutMs: options.pipeFirstPacketTimeoutMs,
      supersededMs: options.pipeSupersededMs,
      logger: options.logger,
    });
  }

  /** Rooms created from now on are attached to the mesh; heartbeats start once the edge listens. */
  start(publicUrl: string): void {
    const { bus, rooms, directory } = this.#options;
    this.#publicUrl = publicUrl;
    this.pipes.start();
    this.pipes.on('suspect', (nodeId) => this.#onSuspect(nodeId));
    rooms.onCreate = (room) => this.#attach(room);
    bus.subscribe(Subjects.nodeDead, NodeDead, ({ nodeId }) => this.#onNodeDead(nodeId), {
      senderInSubject: false,
    });
    bus.subscribe(Subjects.heartbeat('*'), NodeHeartbeat, (heartbeat, nodeId) => {
      this.#nodes.set(nodeId, { ...heartbeat, nodeId });
      this.#scheduleRehome(); // a relay appeared, an edge took or left a room: the tree may change
    });
    bus.onConnectionChange({ back: () => void this.#resyncAll() });
    directory.onReady(() => void this.#republishAll());
    this.#timers.push(setInterval(() => this.#heartbeat(), this.#options.heartbeatMs));
    this.#timers.push(setInterval(() => void this.#resyncAll(), this.#options.resyncMs));
    this.#heartbeat();
  }

  /**
   * Where a participant of this draining node goes on: the control plane's placement
   * and a single-use ticket for that edge (ControlRpc 'migration.place').
   */
  migrationFor(room: Room, participant: Participant) {
    return this.#options.bus.controlRpc('migration.place', {
      room: room.name,
      participantId: participant.id,
      grants: participant.grants,
      lecture: room.lecture,
    });
  }

  /** Tells the mesh this node takes no more joins, at once. */
  drain(): void {
    this.state = 'draining';
    this.#heartbeat();
  }

  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    clearTimeout(this.#rehomeTimer);
    for (const timer of this.#unavailable.values()) clearTimeout(timer);
    await Promise.allSettled(this.#pendingWrites); // a closing room's last writes go out first
    this.pipes.close();
    for (const unsubscribe of this.#unsubscribe.values()) unsubscribe();
  }

  async #attach(room: Room): Promise<void> {
    const { bus, directory, nodeId } = this.#options;
    // Subscribe before reading the directory: whatever happens in between is seen once or twice, never missed.
    this.#unsubscribe.set(
      room.name,
      bus.subscribe(Subjects.roomEvents(room.name, '*'), RoomEvent, (event, sender) =>
        this.#onRoomEvent(room, event, sender),
      ),
    );
    const state = await directory.room(room.name).catch((err: unknown) => {
      this.#logger.warn(
        { err, room: room.name },
        'directory unavailable; the resync loop will fill in the room',
      );
      return { participants: [], streams: [], nodes: [] };
    });
    room.attach(this.#linkFor(room), {
      participants: state.participants.filter((p) => p.node !== nodeId),
      streams: state.streams.filter((s) => s.node !== nodeId),
    });
  }

  #linkFor(room: Room): RoomLink {
    const { directory, bus, nodeId } = this.#options;
    const name = room.name;
    const publish = (event: RoomEvent) => bus.publish(Subjects.roomEvents(name, nodeId), RoomEvent, event);
    const write = (what: string, work: Promise<unknown>) => {
      const done = work.catch((err: unknown) =>
        this.#logger.warn({ err, room: name, what }, 'directory write failed; resync repairs it'),
      );
      this.#pendingWrites.add(done);
      void done.finally(() => this.#pendingWrites.delete(done));
      return done;
    };
    // The directory first, then the event: a reader that subscribed and then read misses neither.
    const announce = (work: Promise<unknown>, event: RoomEvent) => {
      const done = write(event.type, work);
      void done.then(() => publish(event));
      return done;
    };
    return {
      participantJoined: (participant: ParticipantInfo) => {
        this.#admitted++;
        const written = announce(directory.addParticipant(name, { ...participant, node: nodeId }), {
          type: 'participantJoined',
          participant,
        });
        this.#joinWrites.set(participant.id, written);
        void written.finally(() => this.#joinWrites.delete(participant.id));
      },
      participantLeft: (participantId: string) => {
        // Only this node's own entry goes; one that moved elsewhere (a migration, a
        // reconnect) is the new node's, and nobody is told it left.
        const done = write('participantLeft', directory.removeParticipant(name, participantId, nodeId));
        void done.then((removed) => {
          if (removed !== false) publish({ type: 'participantLeft', participantId });
        });
      },
      mayResume: async (identity: string, participantId: string) => {
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
      streamAdded: (stream: StreamInfo) =>
        announce(directory.addStream(name, { ...stream, node: nodeId }), { type: 'streamAdded', stream }),
      streamClosed: (producerId: string) =>
        announce(directory.removeStream(name, producerId), { type: 'streamClosed', producerId }),
      streamPaused: (producerId: string, paused: boolean) =>
        announce(directory.setStreamPaused(name, producerId, paused), {
          type: paused ? 'streamPaused' : 'streamResumed',
          producerId,
        }),
      handRaised: (hand) => publish({ type: 'handRaised', hand }),
      handLowered: (participantId) => publish({ type: 'handLowered', participantId }),
      roleChanged: (participantId, role, by) => {
        if (by !== undefined) return publish({ type: 'roleChanged', participantId, role, by });
        // The hosting node records the new role in the directory before telling the others.
        const local = [...room.participants()].find((p) => p.id === participantId);
        const work = local
          ? directory.addParticipant(name, { ...local.info(), node: nodeId })
          : Promise.resolve();
        announce(work, { type: 'roleChanged', participantId, role });
      },
      fetch: async (producerId: string, originNode: string) => {
        const via = this.#upstreamFor(name, originNode);
        if (via === originNode) return this.pipes.fetch(name, originNode, producerId);
        try {
          return await this.pipes.fetch(name, originNode, producerId, via);
        } catch (err) {
          this.#logger.warn(
            { err, room: name, relay: via },
            'relay did not deliver; piping straight from the origin',
          );
          return this.pipes.fetch(name, originNode, producerId);
        }
      },
      release: (producerId: string) => this.pipes.release(name, producerId),
      retire: (copy) => this.pipes.retire(copy),
      setDemand: (producerId: string, wanted: boolean) => this.pipes.setDemand(name, producerId, wanted),
      close: () => {
        this.#unsubscribe.get(name)?.();
        this.#unsubscribe.delete(name);
        this.pipes.closeRoom(name);
        void write('room', directory.leaveRoom(name, nodeId));
      },
    };
  }

  #onRoomEvent(room: Room, event: RoomEvent, sender: string): void {
    if (sender === this.#options.nodeId || room.closed) return;
    applyRoomEvent(room, event, sender);
    if (event.type === 'participantJoined') this.#checkIdentity(room, event.participant);
  }

  /**
   * Identity is unique in a room across the mesh: the directory maps each identity to
   * the participant that joined last (written with the participant). When someone
   * with the identity of a participant here joins elsewhere and the directory says
   * the identity now belongs to another participant, the one here is replaced. Two
   * joins at once end with exactly one: the last writer's.
   */
  #checkIdentity(room: Room, joined: ParticipantInfo): void {
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
          this.#logger.warn({ err, room: room.name }, 'directory unavailable; identity check skipped'),
      );
  }

  /** Where this edge takes a stream of `origin` from, by the tree rule (distributionTree.ts). */
  #upstreamFor(room: string, origin: string): string {
    const { region, fanoutLimit } = this.#options;
    return upstreamFor({
      room,
      origin,
      region,
      nodes: [...this.#nodes.values()],
      unavailable: new Set(this.#unavailable.keys()),
      fanoutLimit,
    });
  }

  #onNodeDead(nodeId: string): void {
    this.#nodes.delete(nodeId);
    this.#setAvailable(nodeId);
    // Declared dead while alive (its liveness could not reach Redis for a while): the
    // directory lost its entries, so write them again; the others' resync adds them back.
    if (nodeId === this.#options.nodeId) return void this.#republishAll();
    this.#logger.warn(
      { deadNode: nodeId },
      'node declared dead: dropping its participants, streams and links',
    );
    for (const room of this.#options.rooms.openRooms()) room.removeNode(nodeId);
    // Streams it relayed move first (make-before-break); its links close once they had
    // time to, those open now only (the node may be back by then, with new links).
    this.#rehome();
    this.pipes.closeNode(nodeId, this.#options.pipeSupersededMs);
  }

  /** A pipe from the node went silent: take nothing from it for a while, and move what it carried. */
  #onSuspect(nodeId: string): void {
    this.#logger.warn({ node: nodeId }, 'pipe from node went silent: moving its streams');
    clearTimeout(this.#unavailable.get(nodeId));
    this.#unavailable.set(
      nodeId,
      setTimeout(() => {
        this.#setAvailable(nodeId);
        this.#scheduleRehome();
      }, SUSPECT_FOR_MS),
    );
    this.#rehome();
  }

  #setAvailable(nodeId: string): void {
    clearTimeout(this.#unavailable.get(nodeId));
    this.#unavailable.delete(nodeId);
  }

  #scheduleRehome(): void {
    if (this.#rehomeTimer) return;
    this.#rehomeTimer = setTimeout(() => {
      this.#rehomeTimer = undefined;
      this.#rehome();
    }, 100);
  }

  /**
   * The tree follows the room, make-before-break: a copy taken from another upstream
   * than the one the tree names now (a relay appeared or became unavailable, a second
   * edge of the region took the room) is fetched again over the new path; once that
   * carries media, viewers move to it and the old copy closes after them. If the new
   * path fails the current one stays, and the next pass tries again.
   */
  #rehome(): void {
    for (const copy of this.pipes.copies()) {
      if (!copy.current) continue;
      const { room: name, producerId: streamId, origin, upstream } = copy;
      const via = this.#upstreamFor(name, origin);
      const key = `${name}\u0000${streamId}`;
      const room = this.#options.rooms.get(name);
      if (via === upstream || this.#rerouting.has(key) || !room) continue;
      // A copy nobody watches lingers and goes by itself; one whose viewers are still on
      // their way from an earlier move waits for them.
      const viewing = room.remoteStreamViewing(streamId);
      if (!viewing.watched || viewing.moving) continue;
      this.#rerouting.add(key);
      this.#logger.info(
        { room: name, producer: streamId, from: upstream, to: via },
        're-homing a piped stream',
      );
      this.pipes
        .reroute(name, origin, streamId, via)
        .then((fresh) => (room.closed ? this.pipes.retire(fresh) : room.moveRemoteStream(streamId, fresh)))
        .catch((err: unknown) =>
          this.#logger.warn(
            { err, room: name, producer: streamId, to: via },
            're-homing failed; keeping the current path',
          ),
        )
        .finally(() => this.#rerouting.delete(key));
    }
  }

  /** Makes each room's view of the other nodes match the directory. */
  async #resyncAll(): Promise<void> {
    this.#rehome();
    const { directory, nodeId } = this.#options;
    for (const room of this.#options.rooms.openRooms()) {
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
      for (const p of room.remoteParticipants()) {
        if (reporting.has(p.node) && !participantIds.has(p.id)) room.removeRemoteParticipant(p.id);
      }
      for (const s of room.remoteStreams()) {
        if (reporting.has(s.node) && !streamIds.has(s.producerId)) room.removeRemoteStream(s.producerId);
      }
      for (const p of participants) {
        room.addRemoteParticipant(p);
        this.#checkIdentity(room, p); // a join elsewhere whose event was missed
      }
      for (const s of streams) {
        room.addRemoteStream(s);
        room.setRemoteStreamPaused(s.producerId, s.paused);
      }
    }
  }

  /** After Redis came back (possibly empty), writes again what this node holds. */
  async #republishAll(): Promise<void> {
    const { directory, nodeId } = this.#options;
    for (const room of this.#options.rooms.openRooms()) {
      const participants = [...room.participants()].map((p) => ({ ...p.info(), node: nodeId }));
      const streams = room.localStreams().map((s) => ({ ...s, node: nodeId }));
      await directory
        .republish(room.name, nodeId, participants, streams)
        .catch((err: unknown) =>
          this.#logger.warn({ err, room: room.name }, 'republish to the directory failed'),
        );
    }
  }

  #heartbeat(): void {
    const { bus, directory, pool, rooms, media, nodeId, region, capacity } = this.#options;
    const publicUrl = this.#publicUrl;
    const open = rooms.openRooms();
    const heartbeat: NodeHeartbeat = {
      kind: 'edge',
      region,
      url: publicUrl,
      state: this.state,
      workers: pool.workers.length,
      participants: rooms.connectedParticipants,
      consumers: pool.consumers,
      producers: open.reduce((n, r) => n + r.localStreams().length, 0),
      load: media.load,
      bitrateBps: media.bitrateBps,
      capacity,
      rooms: open.map((r) => r.name),
      admitted: this.#admitted,
      ts: Date.now(),
    };
    try {
      bus.publish(Subjects.heartbeat(nodeId), NodeHeartbeat, heartbeat);
    } catch (err) {
      this.#logger.warn({ err }, 'heartbeat not sent');
    }
    directory.refresh(heartbeat.rooms, nodeId).catch(() => undefined);
  }
}
