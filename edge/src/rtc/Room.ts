import { EventEmitter } from 'node:events';
import type { Admission } from '@kaskade/directory';
import type {
  JoinClaims,
  MeshParticipant,
  ParticipantInfo,
  RemoteStream,
  RoomSettings,
  StreamInfo,
} from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { ActiveSpeaker, type SpeakerLink, type SpeakerSettings } from './ActiveSpeaker.ts';
import { type BreakoutLink, Breakouts } from './Breakouts.ts';
import { Handover, type HandoverLink } from './Handover.ts';
import { Lobby, type LobbyLink } from './Lobby.ts';
import { LocalRoster } from './LocalRoster.ts';
import { MeshMirror } from './MeshMirror.ts';
import { type LeaveReason, Participant } from './Participant.ts';
import { type FeedSource, RemoteFeeds } from './RemoteFeeds.ts';
import { RemoteRoster } from './RemoteRoster.ts';
import { type ChatLimits, type ChatLink, RoomChat } from './RoomChat.ts';
import type { RoomRouter } from './RoomRouter.ts';
import { RoomRouters } from './RoomRouters.ts';
import { RoomRules, type RulesLink } from './RoomRules.ts';
import { RoomStreams, type StreamLink } from './RoomStreams.ts';
import { Stage, type StageLink } from './Stage.ts';
import type { WorkerPool } from './WorkerPool.ts';

/**
 * What a room tells the rest of the mesh, and asks of it: what each collaborator needs
 * of the other nodes, and presence. Implemented by the routing layer; a room on a node
 * without a mesh has none.
 */
export interface RoomLink
  extends FeedSource,
    StreamLink,
    StageLink,
    HandoverLink,
    SpeakerLink,
    ChatLink,
    RulesLink,
    LobbyLink,
    BreakoutLink {
  participantJoined(participant: ParticipantInfo): void;
  participantLeft(participantId: string): void;
  /** The room closed on this node. */
  close(): void;
}

export interface RoomOptions {
  pool: WorkerPool;
  emptyGraceMs: number;
  speakers: SpeakerSettings;
  /** Key-frame requests coalesced on the producers of this room's participants. */
  keyFrameRequestDelayMs: number;
  chat: ChatLimits;
  logger: Logger;
}

/**
 * A room on this edge: the parent of its participants here and of the collaborators
 * that each keep one concern of the room (routers, streams, the mirror of other nodes,
 * remote feeds, stage, active speaker, handover). The room admits participants and lets
 * them go, answers the mesh by delegating, and closes, routers and all, after it has
 * been empty for a grace period. A new meeting feature is a new collaborator beside these.
 */
export class Room {
  readonly name: string;
  readonly observer = new EventEmitter<{ close: [] }>();
  readonly #options: RoomOptions;
  readonly #logger: Logger;
  readonly #local = new LocalRoster();
  readonly #remote = new RemoteRoster();
  readonly #routers: RoomRouters;
  readonly #feeds: RemoteFeeds;
  readonly #streams: RoomStreams;
  readonly #stage: Stage;
  readonly #handover: Handover;
  readonly #chat: RoomChat;
  readonly #rules: RoomRules;
  readonly #lobby: Lobby;
  readonly #breakouts: Breakouts;
  readonly #mesh: MeshMirror;
  #speaker!: ActiveSpeaker;
  #link: RoomLink | undefined;
  #emptyTimer: NodeJS.Timeout | undefined;
  /** Joins under way: the room is not idle while one is (its participant is not added yet). */
  #joinsUnderWay = 0;
  #closed = false;

  private constructor(name: string, options: RoomOptions) {
    this.name = name;
    this.#options = options;
    this.#logger = options.logger.child({ room: name });
    const link = () => this.#link;
    this.#routers = new RoomRouters({
      room: name,
      pool: options.pool,
      logger: this.#logger,
      onWorkerClose: () => this.close('room-closed'),
    });
    this.#feeds = new RemoteFeeds({
      source: link,
      tellMoved: (participantId, streamId) =>
        this.#local.get(participantId)?.notify('streamMoved', { producerId: streamId }),
      logger: this.#logger,
    });
    this.#streams = new RoomStreams({ local: this.#local, feeds: this.#feeds, routers: this.#routers, link });
    this.#stage = new Stage({ local: this.#local, remote: this.#remote, link });
    this.#handover = new Handover({ local: this.#local, link });
    this.#chat = new RoomChat({
      room: name,
      local: this.#local,
      remoteIdentity: (id) => this.#remote.identityOf(id),
      link,
      policies: () => this.#rules.settings.policies,
      lecture: () => this.#stage.lecture,
      limits: options.chat,
      logger: this.#logger,
    });
    const onError = (err: unknown, what: string) =>
      this.#logger.warn({ err, what }, 'room state unavailable in the directory');
    this.#rules = new RoomRules({ local: this.#local, link, onError });
    this.#lobby = new Lobby({
      local: this.#local,
      link,
      onLeft: () => this.closeWhenIdle(),
      onError,
    });
    this.#breakouts = new Breakouts({ room: name, local: this.#local, link, logger: this.#logger });
    this.#mesh = new MeshMirror({
      local: this.#local,
      remote: this.#remote,
      stage: this.#stage,
      streams: this.#streams,
      feeds: this.#feeds,
      speaker: () => this.#speaker,
    });
  }

  static async create(name: string, options: RoomOptions): Promise<Room> {
    const room = new Room(name, options);
    const home = await room.#routers.openHome();
    const streams = room.#streams;
    room.#speaker = await ActiveSpeaker.create(home.router, {
      local: room.#local,
      settings: options.speakers,
      streamOf: (producerId) => {
        const stream = streams.stream(producerId);
        return stream && { ...stream.info, ...(stream.node === undefined ? {} : { node: stream.node }) };
      },
      hasMicrophone: (participantId) => streams.has(participantId, 'microphone'),
      bringHome: (producerId) => streams.bringToRouter(producerId, room.#routers.home),
      link: () => room.#link,
      orderChanged: () => {
        for (const participant of room.#local.values()) participant.speakerOrderChanged();
      },
      logger: room.#logger,
    });
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get participantCount(): number {
    return this.#local.size;
  }

  /** Everyone in the room, on every node. */
  get participantTotal(): number {
    return this.#stage.headCount;
  }

  /** Stage and audience: hands, roles, lecture mode (the moderator and audience requests). */
  get stage(): Stage {
    return this.#stage;
  }

  /** Room chat, private messages, channels and Q&A. */
  get chat(): RoomChat {
    return this.#chat;
  }

  /** Lock, policies, bans and the moderators' mutes (RoomRules): `rules.settings` is in force. */
  get rules(): RoomRules {
    return this.#rules;
  }

  /** The joins waiting here for a moderator's admission. */
  get lobby(): Lobby {
    return this.#lobby;
  }

  /** The breakout rooms of this room, or of the main room this one is a breakout of. */
  get breakouts(): Breakouts {
    return this.#breakouts;
  }

  get lecture(): boolean {
    return this.#stage.lecture;
  }

  /** The participant who spoke last, or null. */
  get activeSpeaker(): string | null {
    return this.#speaker.current;
  }

  /** The room's recent speakers, most relevant first (the same on every node). */
  get speakerOrder(): readonly string[] {
    return this.#speaker.order;
  }

  /** The router other nodes' pipe links attach to. */
  get homeRouter(): types.Router {
    return this.#routers.home.router;
  }

  participants(): IterableIterator<Participant> {
    return this.#local.values();
  }

  hostsLocally(participantId: string): boolean {
    return this.#local.has(participantId);
  }

  localWithIdentity(identity: string): Participant | undefined {
    return this.#local.withIdentity(identity);
  }

  /** Everyone else in the room this participant is told of, on this node or another. */
  participantsFor(participant: Participant): ParticipantInfo[] {
    return this.#stage.announcedTo(participant);
  }

  streamsFor(participant: Participant): StreamInfo[] {
    return this.#streams.visibleTo(participant);
  }

  localStreams(): StreamInfo[] {
    return this.#streams.local();
  }

  /** For the relay: see RoomStreams.localProducer. */
  localProducer(producerId: string) {
    return this.#streams.localProducer(producerId);
  }

  // --- The mesh ---------------------------------------------------------

  /** Connects the room to the mesh and takes in what the directory knows of the other nodes. */
  attach(
    link: RoomLink,
    others: { participants: MeshParticipant[]; streams: RemoteStream[]; settings: RoomSettings },
  ): void {
    this.#link = link;
    this.#rules.attached(others.settings);
    this.#mesh.load(others.participants, others.streams);
    this.#breakouts.load();
  }

  /** The mirror of the other nodes (participants, streams, hands, roles, speaker levels). */
  get mesh(): MeshMirror {
    return this.#mesh;
  }

  // --- Join and leave ------------------------------------------------------

  /**
   * Adds a participant; a participant with the same identity is replaced. With `resume`
   * (the id it had, see Handover) it carries on under that id: nobody is told it
   * joined, and the session it replaces leaves without a word. `admission` is what
   * rules.admission answered for it (its mutes and forbids come along).
   */
  async join(
    claims: JoinClaims,
    rtpCapabilities: types.RtpCapabilities,
    resume: string | undefined,
    admission: Admission,
  ): Promise<Participant> {
    if (this.#closed) throw new KaskadeError('UNAVAILABLE', 'the room closed; join again');
    clearTimeout(this.#emptyTimer);
    this.#joinsUnderWay++;
    let router: RoomRouter;
    let id: string;
    try {
      id = await this.#handover.admit(claims.sub, resume);
      router = await this.#routers.forNewcomer();
    } catch (error) {
      this.#joinsUnderWay--;
      this.closeWhenIdle(); // nobody got in: the room must not stay for good
      throw error;
    }
    this.#joinsUnderWay--; // from here to adding the participant nothing waits
    if (claims.lecture) this.#stage.startLecture();
    const participant = new Participant({
      id,
      identity: claims.sub,
      name: claims.name,
      grants: claims.grants,
      role: claims.role ?? (claims.grants.publish ? 'stage' : 'audience'),
      rtpCapabilities,
      router,
      directory: this.#streams,
      keyFrameRequestDelayMs: this.#options.keyFrameRequestDelayMs,
      speakerOrder: () => this.#speaker.order,
      rules: this.#rules,
    });
    if (this.#closed) {
      participant.close('room-closed');
      throw new KaskadeError('UNAVAILABLE', 'the room closed; join again');
    }
    // Known already (from another node, or the session it replaces): it carries on, silently.
    const movedIn = this.#remote.takeOver(id);
    const carriesOn = this.#handover.tookOver(id) || movedIn;
    if (carriesOn) this.#stage.headCountChanged();
    else this.#stage.arrived(participant.info());
    this.#local.add(participant);
    this.#rules.joined(participant, admission);
    this.#link?.participantJoined(participant.info());
    this.#breakouts.joined(participant);
    participant.on('newproducer', (producer, source) => {
      this.#streams.publish(participant, producer, source);
      // After the stream's own close handler: a speaker whose microphone went is not in the room's streams.
      producer.observer.once('close', () => this.#speaker.streamClosed(producer.id));
      if (source === 'microphone') this.#speaker.observe(producer.id);
    });
    participant.observer.once('close', (reason) => this.#removeParticipant(participant, reason));
    this.#logger.info({ participant: participant.id, router: router.worker.index }, 'participant joined');
    return participant;
  }

  /** Closes every participant and every router of the room. */
  close(reason: LeaveReason = 'room-closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#emptyTimer);
    this.#stage.close();
    this.#chat.close();
    this.#breakouts.close();
    this.#speaker.close();
    this.#feeds.close();
    this.#lobby.close();
    for (const participant of [...this.#local.values()]) participant.close(reason);
    this.#link?.close();
    this.#routers.close();
    this.#logger.info('room closed');
    this.observer.emit('close');
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
    return this.#local.size === 0 && this.#joinsUnderWay === 0 && this.#lobby.size === 0 && !this.#closed;
  }

  #removeParticipant(participant: Participant, reason: LeaveReason): void {
    const { id } = participant;
    if (!this.#local.remove(participant)) return;
    this.#rules.left(participant.id);
    const movedTo = this.#remote.takeMovedAway(id);
    this.#logger.info({ participant: id, reason, moved: movedTo !== undefined }, 'participant left');
    if (this.#handover.isHandedOver(id)) {
      // Replaced by its own resumed session on this node: the newcomer takes over its entries.
    } else if (movedTo !== undefined) {
      // It lives on at the node it moved to: a remote participant now, still in everyone's list.
      this.#remote.add({ ...participant.info(), node: movedTo });
      this.#link?.participantLeft(id); // the directory keeps the other node's entry
    } else {
      this.#stage.departed(participant.info());
      this.#link?.participantLeft(id);
      this.#stage.dropHand(id, true);
    }
    this.#stage.headCountChanged();
    this.closeWhenIdle();
  }
}
