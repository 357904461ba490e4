import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { Source } from '../../../control-plane/protocol/media.ts';
import type {
  NotificationData,
  NotificationName,
  StreamInfo,
} from '../../../control-plane/protocol/signaling.ts';
import type { JoinClaims } from '../../../control-plane/protocol/token.ts';
import { mediaCodecs } from './codecs.ts';
import { type LeaveReason, Participant, type StreamDirectory } from './Participant.ts';
import type { RoomRouter } from './RoomRouter.ts';
import type { WorkerPool } from './WorkerPool.ts';

interface Stream {
  info: StreamInfo;
  router: RoomRouter;
}

export interface RoomOptions {
  pool: WorkerPool;
  emptyGraceMs: number;
  logger: Logger;
}

/**
 * A room on this edge. Its first router lives on the least loaded worker; when that
 * worker's consumer budget is spent, newcomers go to a router of the same room on
 * another worker, and streams cross with pipeToRouter (the same-host case of the
 * mesh). The room closes, routers and all, after it has been empty for a grace period.
 */
export class Room implements StreamDirectory {
  readonly name: string;
  readonly observer = new EventEmitter<{ close: [] }>();
  readonly #options: RoomOptions;
  readonly #logger: Logger;
  readonly #routers: RoomRouter[] = [];
  readonly #participants = new Map<string, Participant>();
  readonly #streams = new Map<string, Stream>();
  /** One pipe per (router, producer), even under concurrent consumes. */
  readonly #pipes = new Map<string, Promise<void>>();
  #speakerObserver!: types.ActiveSpeakerObserver;
  #activeSpeaker: string | null = null;
  #emptyTimer: NodeJS.Timeout | undefined;
  #placement: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(name: string, options: RoomOptions) {
    this.name = name;
    this.#options = options;
    this.#logger = options.logger.child({ room: name });
  }

  static async create(name: string, options: RoomOptions): Promise<Room> {
    const room = new Room(name, options);
    const home = await room.#addRouter(options.pool.leastLoaded());
    room.#speakerObserver = await home.router.createActiveSpeakerObserver({ interval: 300 });
    room.#speakerObserver.on('dominantspeaker', ({ producer }) => room.#setActiveSpeaker(producer.id));
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get participantCount(): number {
    return this.#participants.size;
  }

  get routers(): readonly RoomRouter[] {
    return this.#routers;
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.#routers[0]!.router.rtpCapabilities;
  }

  /** The participant who spoke last, or null. */
  get activeSpeaker(): string | null {
    return this.#activeSpeaker;
  }

  participants(): IterableIterator<Participant> {
    return this.#participants.values();
  }

  stream(producerId: string): Stream | undefined {
    return this.#streams.get(producerId);
  }

  /** Streams a participant may receive: everyone else's. */
  streamsFor(participant: Participant): StreamInfo[] {
    if (!participant.grants.subscribe) return [];
    return [...this.#streams.values()].map((s) => s.info).filter((s) => s.participantId !== participant.id);
  }

  /** Adds a participant; a participant with the same identity is replaced. */
  async join(claims: JoinClaims, rtpCapabilities: types.RtpCapabilities): Promise<Participant> {
    if (this.#closed) throw new Error('room is closed');
    this.#participantByIdentity(claims.sub)?.close('replaced');
    clearTimeout(this.#emptyTimer);
    const router = await this.#serialized(() => this.#routerForNewcomer());
    const participant = new Participant({
      id: randomUUID(),
      identity: claims.sub,
      name: claims.name,
      grants: claims.grants,
      rtpCapabilities,
      router,
      directory: this,
    });
    if (this.#closed) {
      participant.close('room-closed');
      throw new Error('room is closed');
    }
    this.#broadcast(participant, 'participantJoined', participant.info());
    this.#participants.set(participant.id, participant);
    participant.on('newproducer', (producer, source) => this.#addStream(participant, producer, source));
    participant.observer.once('close', (reason) => this.#removeParticipant(participant, reason));
    this.#logger.info({ participant: participant.id, router: router.worker.index }, 'participant joined');
    return participant;
  }

  async bringToRouter(producerId: string, target: RoomRouter): Promise<void> {
    const stream = this.#streams.get(producerId);
    if (!stream || stream.router === target) return;
    const key = `${target.router.id}:${producerId}`;
    let pipe = this.#pipes.get(key);
    if (!pipe) {
      pipe = stream.router.router.pipeToRouter({ producerId, router: target.router, enableSctp: false }).then(
        ({ pipeProducer }) => {
          // The copy closes with its origin (mediasoup wires that); forget it then.
          pipeProducer?.observer.once('close', () => this.#pipes.delete(key));
        },
        (error) => {
          this.#pipes.delete(key);
          throw error;
        },
      );
      this.#pipes.set(key, pipe);
    }
    await pipe;
  }

  /** Closes every participant and every router of the room. */
  close(reason: LeaveReason = 'room-closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#emptyTimer);
    for (const participant of [...this.#participants.values()]) participant.close(reason);
    for (const { router } of this.#routers) router.close();
    this.#logger.info('room closed');
    this.observer.emit('close');
  }

  async #routerForNewcomer(): Promise<RoomRouter> {
    const { pool } = this.#options;
    const open = this.#routers.find((r) => pool.hasCapacity(r.worker));
    if (open) return open;
    const fresh = pool.workers.filter(
      (w) => pool.hasCapacity(w) && !this.#routers.some((r) => r.worker === w),
    );
    if (fresh.length > 0) return this.#addRouter(pool.leastLoaded(fresh));
    // Every worker is past its budget: keep the room on the least loaded of its own.
    const least = pool.leastLoaded(this.#routers.map((r) => r.worker));
    return this.#routers.find((r) => r.worker === least)!;
  }

  async #addRouter(worker: RoomRouter['worker']): Promise<RoomRouter> {
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { room: this.name } });
    const roomRouter = { router, worker };
    this.#routers.push(roomRouter);
    router.on('workerclose', () => {
      this.#logger.error({ worker: worker.index }, 'worker of this room died; closing the room');
      this.close('room-closed');
    });
    if (this.#routers.length > 1)
      this.#logger.info({ worker: worker.index }, 'room spread to another worker');
    return roomRouter;
  }

  #addStream(owner: Participant, producer: types.Producer, source: Source): void {
    const info: StreamInfo = {
      producerId: producer.id,
      participantId: owner.id,
      kind: producer.kind,
      source,
      paused: producer.paused,
      simulcast: producer.type === 'simulcast',
    };
    this.#streams.set(producer.id, { info, router: owner.router });
    this.#broadcast(owner, 'streamAdded', info, (p) => p.grants.subscribe);
    producer.observer.on('pause', () => {
      info.paused = true;
      this.#broadcast(owner, 'streamPaused', { producerId: producer.id });
    });
    producer.observer.on('resume', () => {
      info.paused = false;
      this.#broadcast(owner, 'streamResumed', { producerId: producer.id });
    });
    producer.observer.once('close', () => {
      this.#streams.delete(producer.id);
      if (this.#activeSpeaker === owner.id && source === 'microphone') this.#setActiveSpeaker(null);
      this.#broadcast(owner, 'streamClosed', { producerId: producer.id });
    });
    if (producer.kind === 'audio') this.#observeSpeaker(producer.id);
  }

  #observeSpeaker(producerId: string): void {
    const home = this.#routers[0]!;
    this.bringToRouter(producerId, home)
      .then(() => this.#speakerObserver.addProducer({ producerId }))
      .catch((err) => {
        if (this.#streams.has(producerId))
          this.#logger.warn({ err, producerId }, 'active speaker: not observed');
      });
  }

  #setActiveSpeaker(producerId: string | null): void {
    const participantId =
      producerId === null ? null : (this.#streams.get(producerId)?.info.participantId ?? null);
    if (participantId === this.#activeSpeaker) return;
    this.#activeSpeaker = participantId;
    for (const p of this.#participants.values()) p.notify('activeSpeaker', { participantId });
  }

  #removeParticipant(participant: Participant, reason: LeaveReason): void {
    if (this.#participants.get(participant.id) !== participant) return;
    this.#participants.delete(participant.id);
    this.#logger.info({ participant: participant.id, reason }, 'participant left');
    this.#broadcast(participant, 'participantLeft', { participantId: participant.id });
    if (this.#participants.size === 0 && !this.#closed) {
      this.#emptyTimer = setTimeout(() => this.close(), this.#options.emptyGraceMs);
    }
  }

  #participantByIdentity(identity: string): Participant | undefined {
    return [...this.#participants.values()].find((p) => p.identity === identity);
  }

  #broadcast<N extends NotificationName>(
    from: Participant,
    name: N,
    data: NotificationData<N>,
    filter: (p: Participant) => boolean = () => true,
  ): void {
    for (const p of this.#participants.values()) if (p !== from && filter(p)) p.notify(name, data);
  }

  /** Placement decisions run one at a time so concurrent joins see each other's routers. */
  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#placement.then(task, task);
    this.#placement = next.catch(() => undefined);
    return next;
  }
}
