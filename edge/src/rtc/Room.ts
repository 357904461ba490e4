import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mediaCodecs } from '@kaskade/media-node';
import type {
  HandInfo,
  JoinClaims,
  MeshParticipant,
  NotificationData,
  NotificationName,
  ParticipantInfo,
  RemoteStream,
  Role,
  Source,
  StreamInfo,
} from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { type LeaveReason, Participant, type StreamDirectory } from './Participant.ts';
import { type FeedSource, RemoteFeeds, type StreamCopy, type ViewerConsumer } from './RemoteFeeds.ts';
import type { RoomRouter } from './RoomRouter.ts';
import type { WorkerPool } from './WorkerPool.ts';

interface Stream {
  info: StreamInfo;
  /** The router holding the local producer (remote streams reach the home router through RemoteFeeds). */
  router?: RoomRouter;
  /** The local producer, for streams that originate on this node. */
  producer?: types.Producer;
  /** The origin node, for streams that originate elsewhere. */
  node?: string;
}

/**
 * What a room tells the rest of the mesh, and asks of it. Implemented by the
 * routing layer; a room on a node without a mesh has none.
 */
export interface RoomLink extends FeedSource {
  participantJoined(participant: ParticipantInfo): void;
  participantLeft(participantId: string): void;
  streamAdded(stream: StreamInfo): void;
  streamClosed(producerId: string): void;
  streamPaused(producerId: string, paused: boolean): void;
  handRaised(hand: HandInfo): void;
  handLowered(participantId: string): void;
  /**
   * A role change: asked by moderator `by` of the node hosting the participant, or
   * (no `by`) announced by that node once applied.
   */
  roleChanged(participantId: string, role: Role, by: string | undefined): void;
  /**
   * Whether a participant coming back (`join.resume`) may keep its id: the directory
   * still gives the identity (from the verified token) to that participant id.
   */
  mayResume(identity: string, participantId: string): Promise<boolean>;
  /** The room closed on this node. */
  close(): void;
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
  readonly #remoteParticipants = new Map<string, MeshParticipant>();
  readonly #feeds: RemoteFeeds;
  /**
   * Local participants that joined again on another node (a migration or a reconnect):
   * participant id -> that node. When the session here ends they stay in the room as
   * remote participants, with no leave told to anyone.
   */
  readonly #movedAway = new Map<string, string>();
  /** Local participants being replaced by a session of the same id (a resume on this node). */
  readonly #handedOver = new Set<string>();
  #link: RoomLink | undefined;
  /** Lecture mode: presence only for the stage, a count for everyone (any lecture token turns it on). */
  #lecture = false;
  readonly #hands = new Map<string, HandInfo>();
  #countTimer: NodeJS.Timeout | undefined;
  #lastCount = -1;
  #emptyTimer: NodeJS.Timeout | undefined;
  /** Joins under way: the room is not idle while one is (its participant is not added yet). */
  #joinsUnderWay = 0;
  #placement: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(name: string, options: RoomOptions) {
    this.name = name;
    this.#options = options;
    this.#logger = options.logger.child({ room: name });
    this.#feeds = new RemoteFeeds({
      source: () => this.#link,
      tellMoved: (participantId, streamId) =>
        this.#participants.get(participantId)?.notify('streamMoved', { producerId: streamId }),
      logger: this.#logger,
    });
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

  /** Everyone else in the room, on this node or another. */
  participantsFor(participant: Participant): ParticipantInfo[] {
    return this.#everyone().filter((p) => p.id !== participant.id && this.#announced(p));
  }

  get lecture(): boolean {
    return this.#lecture;
  }

  /** Everyone in the room, on every node. */
  get participantTotal(): number {
    return this.#participants.size + this.#remoteParticipants.size;
  }

  /** The router other nodes' pipe links attach to. */
  get homeRouter(): types.Router {
    return this.#routers[0]!.router;
  }

  /**
   * Makes `copy` (a copy of remote stream `producerId` that already receives, over the
   * path the tree names now) the one viewers take; viewers of the previous copy move.
   */
  moveRemoteStream(producerId: string, copy: StreamCopy): void {
    this.#feeds.move(producerId, copy);
  }

  /** Whether a local viewer watches a remote stream, and whether one is still moving to a new copy. */
  remoteStreamViewing(producerId: string): { watched: boolean; moving: boolean } {
    return { watched: this.#feeds.watched(producerId), moving: this.#feeds.moving(producerId) };
  }

  /** A stream that originates here, on the home router (brought there if needed), for the relay. */
  async localProducer(producerId: string) {
    const stream = this.#streams.get(producerId);
    if (!stream?.producer) return undefined;
    await this.bringToRouter(producerId, this.#routers[0]!);
    return {
      producer: stream.producer,
      source: stream.info.source,
      participantId: stream.info.participantId,
    };
  }

  /** Connects the room to the mesh and takes in what the directory knows of the other nodes. */
  attach(link: RoomLink, others: { participants: MeshParticipant[]; streams: RemoteStream[] }): void {
    this.#link = link;
    for (const p of others.participants) this.addRemoteParticipant(p);
    for (const s of others.streams) this.addRemoteStream(s);
  }

  /** Streams that originate on this node. */
  localStreams(): StreamInfo[] {
    return [...this.#streams.values()].flatMap((s) => (s.producer ? [s.info] : []));
  }

  remoteParticipants(): MeshParticipant[] {
    return [...this.#remoteParticipants.values()];
  }

  /** The node hosting a participant of another node, as this room's mirror knows it. */
  remoteHostOf(participantId: string): string | undefined {
    return this.#remoteParticipants.get(participantId)?.node ?? this.#movedAway.get(participantId);
  }

  /** The node a remote stream originates on. */
  remoteOriginOf(producerId: string): string | undefined {
    return this.#streams.get(producerId)?.node;
  }

  hostsLocally(participantId: string): boolean {
    return this.#participants.has(participantId);
  }

  /** The participant on this node with this identity, if any. */
  localWithIdentity(identity: string): Participant | undefined {
    return this.#participantByIdentity(identity);
  }

  remoteStreams(): { producerId: string; node: string; paused: boolean }[] {
    return [...this.#streams.values()].flatMap((s) =>
      s.node ? [{ producerId: s.info.producerId, node: s.node, paused: s.info.paused }] : [],
    );
  }

  /**
   * A participant of another node. One already known on a third node, or hosted here, has
   * moved to `participant.node` (it joined there with `resume`): only its host changes,
   * nobody is told. Callers pass the node the news came from (the event's sender, or the
   * directory), so a node only ever moves a participant to itself.
   */
  addRemoteParticipant(participant: MeshParticipant): void {
    if (this.#participants.has(participant.id)) {
      this.#movedAway.set(participant.id, participant.node);
      return;
    }
    const known = this.#remoteParticipants.get(participant.id);
    if (known) {
      known.node = participant.node;
      return;
    }
    this.#remoteParticipants.set(participant.id, participant);
    const { node: _node, ...info } = participant;
    if (this.#announced(info)) this.#notifyAll('participantJoined', info);
    this.#scheduleCount();
  }

  removeRemoteParticipant(participantId: string): void {
    const participant = this.#remoteParticipants.get(participantId);
    if (!participant) return;
    this.#remoteParticipants.delete(participantId);
    this.#dropHand(participantId, false);
    if (this.#announced(participant)) this.#notifyAll('participantLeft', { participantId });
    this.#scheduleCount();
  }

  // --- Stage and audience -------------------------------------------------

  raiseHand(participant: Participant): void {
    if (participant.role !== 'audience')
      throw new KaskadeError('INVALID_STATE', 'only the audience raises hands');
    if (this.#hands.has(participant.id)) return;
    const hand = { participantId: participant.id, name: participant.name, raisedAt: Date.now() };
    this.#addHand(hand);
    this.#link?.handRaised(hand);
  }

  lowerHand(by: Participant, participantId = by.id): void {
    if (participantId !== by.id && !by.grants.moderate) {
      throw new KaskadeError('FORBIDDEN', "only moderators lower someone else's hand");
    }
    this.#dropHand(participantId, true);
  }

  hands(by: Participant): HandInfo[] {
    if (!by.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators see the raised hands');
    return [...this.#hands.values()].sort((a, b) => a.raisedAt - b.raisedAt);
  }

  addRemoteHand(hand: HandInfo): void {
    if (this.#participants.has(hand.participantId) || this.#hands.has(hand.participantId)) return;
    this.#addHand(hand);
  }

  removeRemoteHand(participantId: string): void {
    this.#dropHand(participantId, false);
  }

  /** A moderator promotes or demotes someone, on this node or another. */
  setRole(by: Participant, participantId: string, role: Role): void {
    if (!by.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators change roles');
    const local = this.#participants.get(participantId);
    if (local) {
      this.#applyRole(local, role);
      return;
    }
    if (!this.#remoteParticipants.has(participantId)) {
      throw new KaskadeError('NOT_FOUND', `no participant ${participantId}`);
    }
    this.#link?.roleChanged(participantId, role, by.id);
  }

  /** A role change from another node: applied here if the participant is here, else noted and announced. */
  onRemoteRoleChanged(participantId: string, role: Role): void {
    const local = this.#participants.get(participantId);
    if (local) {
      this.#applyRole(local, role);
      return;
    }
    const remote = this.#remoteParticipants.get(participantId);
    if (!remote || remote.role === role) return;
    remote.role = role;
    this.#dropHand(participantId, false);
    const { node: _node, ...info } = remote;
    this.#announceRole(info, undefined);
  }

  /** Moderators page through everyone (ordered by id). */
  listParticipants(by: Participant, after: string | undefined, limit = 100) {
    if (!by.grants.moderate) throw new KaskadeError('FORBIDDEN', 'only moderators list the participants');
    const all = this.#everyone()
      .filter((p) => after === undefined || p.id > after)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const page = all.slice(0, limit);
    return { participants: page, next: all.length > limit ? page[page.length - 1]!.id : null };
  }

  addRemoteStream(remote: RemoteStream): void {
    if (this.#streams.has(remote.producerId)) return;
    const { node, ...info } = remote;
    this.#streams.set(remote.producerId, { info, node });
    this.#feeds.add(remote.producerId, node);
    // Not to its own publisher's old session here (it moved to the stream's node).
    this.#notifyAll('streamAdded', info, (p) => p.grants.subscribe && p.id !== info.participantId);
  }

  removeRemoteStream(producerId: string): void {
    const stream = this.#streams.get(producerId);
    if (!stream?.node) return;
    this.#streams.delete(producerId);
    this.#feeds.remove(producerId);
    this.#notifyAll('streamClosed', { producerId });
  }

  setRemoteStreamPaused(producerId: string, paused: boolean): void {
    const stream = this.#streams.get(producerId);
    if (!stream?.node || stream.info.paused === paused) return;
    stream.info.paused = paused;
    this.#notifyAll(paused ? 'streamPaused' : 'streamResumed', { producerId });
  }

  /** A node died: its participants and streams are gone. */
  removeNode(nodeId: string): void {
    for (const s of this.remoteStreams()) if (s.node === nodeId) this.removeRemoteStream(s.producerId);
    for (const p of this.remoteParticipants()) if (p.node === nodeId) this.removeRemoteParticipant(p.id);
  }

  consumerOpened(consumer: ViewerConsumer): void {
    this.#feeds.consumerOpened(consumer);
  }

  consumerClosed(consumer: ViewerConsumer): void {
    this.#feeds.consumerClosed(consumer);
  }

  /** Streams a participant may receive: everyone else's. */
  streamsFor(participant: Participant): StreamInfo[] {
    if (!participant.grants.subscribe) return [];
    return [...this.#streams.values()].map((s) => s.info).filter((s) => s.participantId !== participant.id);
  }

  /**
   * Adds a participant; a participant with the same identity is replaced. With `resume`
   * (the id it had, see #participantIdFor) it carries on under that id: nobody is told
   * it joined, and the session it replaces leaves without a word.
   */
  async join(
    claims: JoinClaims,
    rtpCapabilities: types.RtpCapabilities,
    resume?: string,
  ): Promise<Participant> {
    if (this.#closed) throw new KaskadeError('UNAVAILABLE', 'the room closed; join again');
    clearTimeout(this.#emptyTimer);
    this.#joinsUnderWay++;
    let router: RoomRouter;
    let id: string;
    try {
      id = await this.#participantIdFor(claims.sub, resume);
      const previous = this.#participantByIdentity(claims.sub);
      if (previous?.id === id) this.#handedOver.add(id);
      previous?.close('replaced');
      router = await this.#serialized(() => this.#routerForNewcomer());
    } catch (error) {
      this.#joinsUnderWay--;
      this.closeWhenIdle(); // nobody got in: the room must not stay for good
      throw error;
    }
    this.#joinsUnderWay--; // from here to adding the participant nothing waits
    if (claims.lecture) this.#lecture = true;
    const participant = new Participant({
      id,
      identity: claims.sub,
      name: claims.name,
      grants: claims.grants,
      role: claims.role ?? (claims.grants.publish ? 'stage' : 'audience'),
      rtpCapabilities,
      router,
      directory: this,
    });
    if (this.#closed) {
      participant.close('room-closed');
      throw new KaskadeError('UNAVAILABLE', 'the room closed; join again');
    }
    // Known already (from another node, or the session it replaces): it carries on, silently.
    const movedIn = this.#remoteParticipants.delete(id);
    const carriesOn = this.#handedOver.delete(id) || movedIn;
    this.#movedAway.delete(id);
    if (this.#announced(participant) && !carriesOn)
      this.#broadcast(participant, 'participantJoined', participant.info());
    this.#participants.set(participant.id, participant);
    this.#link?.participantJoined(participant.info());
    this.#scheduleCount();
    participant.on('newproducer', (producer, source) => this.#addStream(participant, producer, source));
    participant.observer.once('close', (reason) => this.#removeParticipant(participant, reason));
    this.#logger.info({ participant: participant.id, router: router.worker.index }, 'participant joined');
    return participant;
  }

  /**
   * Brings a stream to `target` and answers the id it has there: the producer's own for
   * a local stream, the current copy's for a remote one (fetched through the mesh).
   */
  async bringToRouter(producerId: string, target: RoomRouter): Promise<string> {
    const stream = this.#streams.get(producerId);
    if (!stream) throw new KaskadeError('NOT_FOUND', `no stream ${producerId}`);
    const localId = stream.producer ? producerId : await this.#feeds.localCopy(producerId);
    const source = stream.producer ? stream.router : this.#routers[0];
    // The copy went again while we waited (its pipe moved): the client may retry.
    if (localId === undefined || !source)
      throw new KaskadeError('UNAVAILABLE', `stream ${producerId} is moving; try again`);
    if (source === target) return localId;
    const key = `${target.router.id}:${localId}`;
    let pipe = this.#pipes.get(key);
    if (!pipe) {
      pipe = source.router
        .pipeToRouter({ producerId: localId, router: target.router, enableSctp: false })
        .then(
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
    return localId;
  }

  /** Closes every participant and every router of the room. */
  close(reason: LeaveReason = 'room-closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#emptyTimer);
    clearTimeout(this.#countTimer);
    this.#feeds.close();
    for (const participant of [...this.#participants.values()]) participant.close(reason);
    this.#link?.close();
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
    this.#streams.set(producer.id, { info, router: owner.router, producer });
    this.#broadcast(owner, 'streamAdded', info, (p) => p.grants.subscribe);
    this.#link?.streamAdded(info);
    producer.observer.on('pause', () => {
      info.paused = true;
      this.#broadcast(owner, 'streamPaused', { producerId: producer.id });
      this.#link?.streamPaused(producer.id, true);
    });
    producer.observer.on('resume', () => {
      info.paused = false;
      this.#broadcast(owner, 'streamResumed', { producerId: producer.id });
      this.#link?.streamPaused(producer.id, false);
    });
    producer.observer.once('close', () => {
      this.#streams.delete(producer.id);
      if (this.#activeSpeaker === owner.id && source === 'microphone') this.#setActiveSpeaker(null);
      this.#broadcast(owner, 'streamClosed', { producerId: producer.id });
      this.#link?.streamClosed(producer.id);
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
    const { id } = participant;
    if (this.#participants.get(id) !== participant) return;
    this.#participants.delete(id);
    const movedTo = this.#movedAway.get(id);
    this.#movedAway.delete(id);
    this.#logger.info({ participant: id, reason, moved: movedTo !== undefined }, 'participant left');
    if (this.#handedOver.has(id)) {
      // Replaced by its own resumed session on this node: the newcomer takes over its entries.
    } else if (movedTo !== undefined) {
      // It lives on at the node it moved to: a remote participant now, still in everyone's list.
      this.#remoteParticipants.set(id, { ...participant.info(), node: movedTo });
      this.#link?.participantLeft(id); // the directory keeps the other node's entry
    } else {
      if (this.#announced(participant))
        this.#broadcast(participant, 'participantLeft', { participantId: id });
      this.#link?.participantLeft(id);
      this.#dropHand(id, true);
    }
    this.#scheduleCount();
    this.closeWhenIdle();
  }

  /**
   * The id a joining participant gets: the one it asks to resume when that is still its
   * own (the session it replaces here has it, or the mesh's directory gives the token's
   * identity to it), else a fresh one. The identity is the verified token's, never the
   * client's word; an id held here by someone else is never handed out.
   */
  async #participantIdFor(identity: string, resume: string | undefined): Promise<string> {
    if (resume === undefined) return randomUUID();
    const holder = this.#participants.get(resume);
    if (holder) return holder.identity === identity ? resume : randomUUID();
    if (this.#link && (await this.#link.mayResume(identity, resume))) return resume;
    return randomUUID();
  }

  /**
   * Closes the room after the empty grace unless someone joins first. Also armed for a
   * new room, so one created for a join that never completed does not stay for good.
   */
  closeWhenIdle(): void {
    if (!this.#idle) return;
    clearTimeout(this.#emptyTimer);
    // Checked again when it fires: a join that started since keeps the room.
    this.#emptyTimer = setTimeout(() => this.#idle && this.close(), this.#options.emptyGraceMs);
  }

  get #idle(): boolean {
    return this.#participants.size === 0 && this.#joinsUnderWay === 0 && !this.#closed;
  }

  #everyone(): ParticipantInfo[] {
    const local = [...this.#participants.values()].map((p) => p.info());
    const remote = [...this.#remoteParticipants.values()].map(({ node: _node, ...info }) => info);
    return [...local, ...remote];
  }

  /** In a lecture only the stage is announced one by one; the audience is a count. */
  #announced(p: { role: Role }): boolean {
    return !this.#lecture || p.role === 'stage';
  }

  #scheduleCount(): void {
    if (!this.#lecture || this.#countTimer || this.#closed) return;
    this.#countTimer = setTimeout(() => {
      this.#countTimer = undefined;
      const count = this.participantTotal;
      if (count === this.#lastCount) return;
      this.#lastCount = count;
      this.#notifyAll('participantCount', { count });
    }, 1000);
  }

  #addHand(hand: HandInfo): void {
    this.#hands.set(hand.participantId, hand);
    this.#notifyAll('handRaised', hand, (p) => Boolean(p.grants.moderate));
  }

  #dropHand(participantId: string, tellOthers: boolean): void {
    if (!this.#hands.delete(participantId)) return;
    this.#notifyAll('handLowered', { participantId }, (p) => Boolean(p.grants.moderate));
    if (tellOthers) this.#link?.handLowered(participantId);
  }

  #applyRole(participant: Participant, role: Role): void {
    if (participant.role === role) return;
    participant.setRole(role);
    this.#dropHand(participant.id, true);
    this.#announceRole(participant.info(), participant);
    this.#link?.roleChanged(participant.id, role, undefined);
  }

  /** Tells the room about a role change: in a lecture, as the stage roster changing. */
  #announceRole(info: ParticipantInfo, except: Participant | undefined): void {
    for (const p of this.#participants.values()) {
      if (p === except) continue;
      if (!this.#lecture) p.notify('roleChanged', { participantId: info.id, role: info.role });
      else if (info.role === 'stage') p.notify('participantJoined', info);
      else p.notify('participantLeft', { participantId: info.id });
    }
  }

  #notifyAll<N extends NotificationName>(
    name: N,
    data: NotificationData<N>,
    filter: (p: Participant) => boolean = () => true,
  ): void {
    for (const p of this.#participants.values()) if (filter(p)) p.notify(name, data);
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
