import type { Directory } from '@kaskade/directory';
import type { MediaMetrics } from '@kaskade/media-node';
import { Heartbeat, PipeMachinery } from '@kaskade/media-node';
import type { Bus } from '@kaskade/node-toolkit';
import { NodeDead, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Participant } from '../rtc/Participant.ts';
import type { Room } from '../rtc/Room.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import type { WorkerPool } from '../rtc/WorkerPool.ts';
import { EdgePipeHost } from './EdgePipeHost.ts';
import { Resync } from './Resync.ts';
import { RoomSync } from './RoomSync.ts';
import { Upstreams } from './Upstreams.ts';

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
  /** Key-frame requests coalesced on pipe copies (see PipeMachineryOptions). */
  keyFrameRequestDelayMs: number;
  listenIp: string;
  announcedAddress?: string;
  /** UDP ports pipe transports take theirs from. */
  pipePortRange: { min: number; max: number };
  pipeSocketBufferBytes: number;
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
 * This edge's place in the mesh (routing, apart from rtc), as the parent of its
 * concerns: the heartbeat announces the node over NATS; RoomSync keeps the Redis
 * directory up to date with what happens here and tells and hears the other nodes
 * carrying a room; Upstreams chooses where remote streams come from and moves them
 * when the tree changes; Resync repairs what a NATS or Redis outage made anyone miss.
 * The mesh wires them together, sends node deaths to each, and closes them.
 */
export class Mesh {
  readonly pipes: PipeMachinery;
  readonly #options: MeshOptions;
  readonly #logger: Logger;
  readonly #heartbeat: Heartbeat;
  readonly #sync: RoomSync;
  readonly #upstreams: Upstreams;
  readonly #resync: Resync;
  #publicUrl = '';

  constructor(options: MeshOptions) {
    this.#options = options;
    const logger = options.logger.child({ component: 'mesh' });
    this.#logger = logger;
    const { nodeId, bus, directory, rooms, pool } = options;
    this.pipes = new PipeMachinery({
      nodeId,
      region: options.region,
      registry: options.registry,
      regionOf: (id) => this.#upstreams.regionOf(id),
      bus,
      host: new EdgePipeHost(rooms),
      listenIp: options.listenIp,
      announcedAddress: options.announcedAddress,
      portRange: options.pipePortRange,
      socketBufferBytes: options.pipeSocketBufferBytes,
      lingerMs: options.pipeLingerMs,
      silenceMs: options.pipeSilenceMs,
      firstPacketTimeoutMs: options.pipeFirstPacketTimeoutMs,
      supersededMs: options.pipeSupersededMs,
      keyFrameRequestDelayMs: options.keyFrameRequestDelayMs,
      logger: options.logger,
    });
    this.#upstreams = new Upstreams({
      region: options.region,
      fanoutLimit: options.fanoutLimit,
      pipeSupersededMs: options.pipeSupersededMs,
      bus,
      pipes: this.pipes,
      rooms,
      logger,
    });
    this.#sync = new RoomSync({
      nodeId,
      bus,
      directory,
      feeds: (room) => this.#upstreams.feedsFor(room),
      roomClosed: (room) => this.pipes.closeRoom(room),
      logger,
    });
    this.#resync = new Resync({
      nodeId,
      bus,
      directory,
      rooms,
      resyncMs: options.resyncMs,
      rehome: () => this.#upstreams.rehome(),
      checkIdentity: (room, participant) => this.#sync.checkIdentity(room, participant),
      logger,
    });
    this.#heartbeat = new Heartbeat({
      nodeId,
      kind: 'edge',
      region: options.region,
      bus,
      intervalMs: options.heartbeatMs,
      media: options.media,
      holdings: () => {
        const open = rooms.openRooms();
        return {
          url: this.#publicUrl,
          workers: pool.workers.length,
          participants: rooms.connectedParticipants,
          consumers: pool.consumers,
          producers: open.reduce((n, r) => n + r.localStreams().length, 0),
          capacity: options.capacity,
          rooms: open.map((r) => r.name),
          admitted: this.#sync.admitted,
        };
      },
      refreshLiveness: (heartbeat) => directory.refresh(heartbeat.rooms, nodeId),
      logger,
    });
  }

  /** Rooms created from now on are attached to the mesh; heartbeats start once the edge listens. */
  start(publicUrl: string): void {
    const { bus, rooms } = this.#options;
    this.#publicUrl = publicUrl;
    this.pipes.start();
    this.#upstreams.start();
    rooms.onCreate = (room) => this.#sync.attach(room);
    bus.subscribe(Subjects.nodeDead, NodeDead, ({ nodeId }) => this.#onNodeDead(nodeId), {
      senderInSubject: false,
    });
    this.#resync.start();
    this.#heartbeat.start();
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
    this.#heartbeat.drain();
  }

  async close(): Promise<void> {
    this.#heartbeat.close();
    this.#resync.close();
    this.#upstreams.close();
    await this.#sync.close(); // a closing room's last writes go out first
    this.pipes.close();
  }

  #onNodeDead(nodeId: string): void {
    this.#upstreams.forget(nodeId);
    // Declared dead while alive (its liveness could not reach Redis for a while): the
    // directory lost its entries, so write them again; the others' resync adds them back.
    if (nodeId === this.#options.nodeId) return void this.#resync.republishAll();
    this.#logger.warn(
      { deadNode: nodeId },
      'node declared dead: dropping its participants, streams and links',
    );
    for (const room of this.#options.rooms.openRooms()) room.mesh.removeNode(nodeId);
    this.#upstreams.leave(nodeId);
  }
}
