import type { Grants, HandInfo, ParticipantInfo, Role, Source } from '@kaskade/protocol';
import { Device } from 'mediasoup-client';
import { EdgeSession, Publication } from './EdgeSession.ts';
import { Emitter } from './Emitter.ts';
import { RemoteTracks } from './RemoteTracks.ts';
import { asTicket, backoffMs, edgeGone, isFinalClose, UnreachableEdges } from './recovery.ts';
import type {
  ConnectionState,
  ConnectOptions,
  JoinTicket,
  LocalPublication,
  PublishOptions,
  Quality,
  RemoteParticipant,
  RemoteTrack,
  RoomEvents,
} from './types.ts';

const QUALITY_LAYER: Record<Quality, number> = { low: 0, medium: 1, high: 2 };

/**
 * How long a migrating client keeps publishing on both edges once its own side is set up,
 * so that the others' switches to its new streams (a key frame to decode, which Firefox may
 * take a second to send) complete before its old streams end.
 */
const MIGRATION_OVERLAP_MS = 2500;

/**
 * A connection to a Kaskade room. `Room.connect()` joins; the room then keeps
 * itself connected: a dropped WebSocket rejoins (republishing local tracks), a
 * failed ICE connection restarts ICE. Events tell the application what changed.
 *
 * The room is the façade: its edge connection is an EdgeSession (replaced whole on a
 * reconnect or a migration: open a second, switch, close the first), its remote tracks
 * and their consumers are RemoteTracks; the room keeps the roster and the state.
 */
export class Room extends Emitter<RoomEvents> {
  readonly #options: Required<Omit<ConnectOptions, 'url'>> & { url?: string };
  readonly #device = new Device();
  readonly #publications = new Map<Source, Publication>();
  readonly #participants = new Map<string, RemoteParticipant>();
  readonly #tracks: RemoteTracks;
  /** Edges lost during the current recovery: the ticket provider is asked to avoid them. */
  readonly #unreachable = new UnreachableEdges();
  /** The session that speaks for the room now; during a migration the old one only winds down. */
  #session: EdgeSession | undefined;
  #self: ParticipantInfo | undefined;
  #grants: Grants | undefined;
  #state: ConnectionState = 'connecting';
  #leaving = false;
  #migrating = false;
  /** The reconnect loop runs: it handles the failures of the sessions it opens itself. */
  #recovering = false;
  #activeSpeakerId: string | null = null;
  #lecture = false;
  #participantCount = 0;

  private constructor(options: ConnectOptions) {
    super();
    this.#options = { autoSubscribe: true, forceTcp: false, reconnectTimeoutMs: 60_000, ...options };
    this.#tracks = new RemoteTracks({
      current: () => this.#session,
      participant: (id) => this.#participants.get(id),
      autoSubscribe: this.#options.autoSubscribe,
      emit: (event, ...args) => this.emit(event, ...args),
    });
  }

  static async connect(options: ConnectOptions): Promise<Room> {
    const room = new Room(options);
    await room.#establish();
    room.#setState('connected');
    return room;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get self(): ParticipantInfo {
    return this.#self!;
  }

  get grants(): Grants {
    return this.#grants!;
  }

  /** The participant who spoke last (possibly this one), or null. */
  get activeSpeakerId(): string | null {
    return this.#activeSpeakerId;
  }

  get role(): Role {
    return this.#self!.role;
  }

  /** Lecture mode: `participants` holds the stage only; `participantCount` counts everyone. */
  get lecture(): boolean {
    return this.#lecture;
  }

  get participantCount(): number {
    return this.#participantCount;
  }

  /** Audience: ask to speak. */
  async raiseHand(): Promise<void> {
    await this.#channel.request('raiseHand', {});
  }

  /** Lower one's own hand, or (moderators) someone else's. */
  async lowerHand(participantId?: string): Promise<void> {
    await this.#channel.request('lowerHand', participantId ? { participantId } : {});
  }

  /** Moderators: the raised hands, oldest first. */
  async listHands(): Promise<HandInfo[]> {
    return (await this.#channel.request('listHands', {})).hands;
  }

  /** Moderators: move someone to the stage or back to the audience. */
  async setRole(participantId: string, role: Role): Promise<void> {
    await this.#channel.request('setRole', { participantId, role });
  }

  /** Moderators: everyone in the room, a page at a time. */
  listParticipants(after?: string, limit?: number) {
    return this.#channel.request('listParticipants', { after, limit });
  }

  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#participants;
  }

  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks.all;
  }

  get publications(): LocalPublication[] {
    return [...this.#publications.values()];
  }

  /** Publishes a track (camera with simulcast, microphone, screen...). */
  async publish(track: MediaStreamTrack, options: PublishOptions): Promise<LocalPublication> {
    if (this.#publications.has(options.source)) throw new Error(`${options.source} is published already`);
    const publication = new Publication(track, options, () => this.#session);
    this.#publications.set(options.source, publication);
    const session = this.#session;
    // Without an open session it is published on the next (re)connect.
    if (!session?.channel.open) return publication;
    try {
      await session.produce(publication);
    } catch (error) {
      this.#publications.delete(options.source);
      throw error;
    }
    return publication;
  }

  async unpublish(source: Source): Promise<void> {
    if (!this.#publications.delete(source)) return;
    await this.#session?.unpublish(source);
  }

  /** Mutes (pauses) or unmutes a published track for everyone. */
  async setPublicationPaused(source: Source, paused: boolean): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) throw new Error(`${source} is not published`);
    publication.paused = paused;
    await this.#session?.setPaused(source, paused);
  }

  /** Stops (or restarts) receiving a remote stream without unsubscribing. */
  async setTrackEnabled(trackId: string, enabled: boolean): Promise<void> {
    const { consumer, session } = this.#tracks.feedOf(trackId);
    if (enabled) consumer.resume();
    else consumer.pause();
    await session.channel.request(enabled ? 'resumeConsumer' : 'pauseConsumer', { consumerId: consumer.id });
  }

  /** Chooses the simulcast layer the edge sends us for a remote video. */
  async setPreferredQuality(trackId: string, quality: Quality): Promise<void> {
    const { consumer, session } = this.#tracks.feedOf(trackId);
    await session.channel.request('setPreferredLayers', {
      consumerId: consumer.id,
      spatialLayer: QUALITY_LAYER[quality],
    });
  }

  /** WebRTC statistics of a remote track's receiver. */
  getTrackStats(trackId: string): Promise<RTCStatsReport> {
    return this.#tracks.feedOf(trackId).consumer.getStats();
  }

  /** WebRTC statistics of a local publication's sender. */
  getPublicationStats(source: Source): Promise<RTCStatsReport> {
    const producer = this.#session?.producer(source);
    if (!producer) throw new Error(`${source} is not published`);
    return producer.getStats();
  }

  /** Leaves the room; local tracks are left running (the application owns them). */
  async leave(): Promise<void> {
    if (this.#leaving) return;
    this.#leaving = true;
    await this.#session?.leave();
    this.#tracks.dropAll();
    this.#setState('closed');
    this.emit('disconnected', 'left');
  }

  /** Test hook: drops the signaling socket as a network failure would. */
  simulateSignalingDrop(): void {
    this.#session?.channel.close(4000, 'simulated drop');
  }

  get #channel() {
    const session = this.#session;
    if (!session) throw new Error('not connected');
    return session.channel;
  }

  async #ticket(): Promise<JoinTicket> {
    const { token, url } = this.#options;
    const given = typeof token === 'function' ? await token({ avoid: this.#unreachable.list() }) : token;
    return asTicket(given, url);
  }

  /**
   * Opens a session and joins the room through it (with our id when coming back, so the
   * others see the same participant carry on), then makes it the room's session: publishes
   * there and switches every remote track into it. A failed attempt closes its session.
   */
  async #establish(ticket?: JoinTicket): Promise<void> {
    const target = ticket ?? (await this.#ticket());
    let session: EdgeSession;
    try {
      session = await EdgeSession.open(target, this.#device, this.#options.forceTcp);
    } catch (error) {
      this.#unreachable.add(target.node);
      throw error;
    }
    this.#wire(session);
    try {
      const joined = await session.join({
        token: target.token,
        reconnect: this.#state === 'reconnecting',
        ...(this.#self ? { resume: this.#self.id } : {}),
      });
      // From here on this session speaks for the room. Synchronously up to the first await:
      // notifications arriving while we set up build on the join's picture, not before it.
      this.#session = session;
      this.#self = joined.self;
      this.#grants = joined.grants;
      this.#lecture = joined.lecture;
      this.#participantCount = joined.participantCount;
      this.#reconcileParticipants(joined.participants);
      this.#emitActiveSpeaker(joined.activeSpeaker);
      this.#tracks.offer(joined.streams);
      if (joined.grants.subscribe) await session.openRecv();
      for (const publication of this.#publications.values()) await session.produce(publication);
      await this.#tracks.subscribe();
      this.#unreachable.clear();
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /**
   * The edge drains: join the room at the edge it names (with our id), publish and
   * subscribe there, switching every RemoteTrack inside itself, keep publishing on both
   * for a moment so the others switch to our new streams, then leave the old edge.
   */
  async #migrate(
    from: EdgeSession,
    { url, token, deadlineMs }: { url: string; token: string; deadlineMs: number },
  ) {
    if (this.#migrating || from !== this.#session) return;
    this.#migrating = true;
    const deadline = Date.now() + deadlineMs;
    try {
      await this.#establish({ url, token });
    } catch (error) {
      // Stay where we are: at the deadline the old edge closes us and we reconnect as after a crash.
      if (!from.closed) this.#session = from;
      this.#migrating = false;
      console.warn('kaskade: migration failed; staying until the edge closes', error);
      return;
    }
    const overlap = Math.max(0, Math.min(MIGRATION_OVERLAP_MS, deadline - Date.now()));
    await new Promise((r) => setTimeout(r, overlap));
    await from.leave();
    this.#migrating = false;
    this.emit('migrated');
  }

  /**
   * Notifications count only from the session that speaks for the room now; a session
   * being left still retires its own consumers.
   */
  #wire(session: EdgeSession): void {
    const { channel } = session;
    const current = () => session === this.#session;
    channel.on('participantJoined', (p) => {
      if (!current()) return;
      const known = this.#participants.has(p.id);
      this.#participants.set(p.id, p);
      if (!known) this.emit('participantJoined', p);
    });
    channel.on('participantLeft', ({ participantId }) => {
      if (current()) this.#removeParticipant(participantId);
    });
    channel.on('streamAdded', (stream) => current() && this.#tracks.streamAdded(stream));
    channel.on('streamMoved', ({ producerId }) => current() && this.#tracks.streamMoved(producerId));
    channel.on('streamClosed', ({ producerId }) => this.#tracks.streamClosed(session, producerId));
    channel.on('consumerClosed', ({ consumerId }) => this.#tracks.consumerClosed(session, consumerId));
    channel.on('streamPaused', ({ producerId }) => current() && this.#tracks.setPaused(producerId, true));
    channel.on('streamResumed', ({ producerId }) => current() && this.#tracks.setPaused(producerId, false));
    channel.on('consumerScore', ({ consumerId, score }) => this.#tracks.setScore(consumerId, score));
    channel.on('migrate', (notice) => void this.#migrate(session, notice));
    channel.on('activeSpeaker', ({ participantId }) => current() && this.#emitActiveSpeaker(participantId));
    channel.on('participantCount', ({ count }) => {
      if (!current()) return;
      this.#participantCount = count;
      this.emit('participantCount', count);
    });
    channel.on('handRaised', (hand) => current() && this.emit('handRaised', hand));
    channel.on('handLowered', ({ participantId }) => current() && this.emit('handLowered', participantId));
    channel.on('roleChanged', ({ participantId, role, grants }) => {
      if (current()) this.#onRoleChanged(participantId, role, grants);
    });
    channel.on('close', (code, reason) => this.#onClosed(session, code, reason));
  }

  #onClosed(session: EdgeSession, code: number, reason: string): void {
    if (session !== this.#session || this.#leaving || this.#recovering || this.#state === 'closed') return;
    // Its edge went away (crashed, drained past its deadline): the way back avoids it.
    if (edgeGone(code)) this.#unreachable.add(session.node);
    session.close();
    if (isFinalClose(code)) {
      this.#tracks.dropAll();
      this.#setState('closed');
      this.emit('disconnected', reason || `closed (${code})`);
      return;
    }
    void this.#reconnect(reason || `signaling closed (${code})`);
  }

  /**
   * Back into the room through the ticket provider (the control plane places us on a live
   * edge, avoiding those we lost), keeping our participant id; the remote tracks stay and
   * their media switches into them, our publications are produced again.
   */
  async #reconnect(reason: string): Promise<void> {
    this.#recovering = true;
    this.#setState('reconnecting');
    const deadline = Date.now() + this.#options.reconnectTimeoutMs;
    try {
      for (let attempt = 1; Date.now() < deadline && !this.#leaving; attempt++) {
        this.emit('reconnecting', attempt, reason);
        try {
          await this.#establish();
          this.#setState('connected');
          this.emit('reconnected');
          return;
        } catch (error) {
          reason = error instanceof Error ? error.message : String(error);
          await new Promise((r) => setTimeout(r, backoffMs(attempt)));
        }
      }
      if (this.#leaving) return;
      this.#tracks.dropAll();
      this.#setState('closed');
      this.emit('disconnected', `reconnect gave up: ${reason}`);
    } finally {
      this.#recovering = false;
    }
  }

  #removeParticipant(participantId: string): void {
    const p = this.#participants.get(participantId);
    if (!p) return;
    this.#participants.delete(participantId);
    this.#tracks.dropParticipant(participantId);
    this.emit('participantLeft', p);
  }

  #reconcileParticipants(current: ParticipantInfo[]): void {
    const ids = new Set(current.map((p) => p.id));
    for (const id of [...this.#participants.keys()]) if (!ids.has(id)) this.#removeParticipant(id);
    for (const p of current) {
      if (this.#participants.has(p.id)) continue;
      this.#participants.set(p.id, p);
      this.emit('participantJoined', p);
    }
  }

  #emitActiveSpeaker(participantId: string | null): void {
    this.#activeSpeakerId = participantId;
    const isSelf = participantId !== null && participantId === this.#self?.id;
    const participant =
      participantId === null || isSelf ? null : (this.#participants.get(participantId) ?? null);
    if (participantId !== null && !isSelf && !participant) return;
    this.emit('activeSpeaker', participant, isSelf);
  }

  #onRoleChanged(participantId: string, role: Role, grants: Grants | undefined): void {
    if (participantId === this.#self?.id) {
      this.#self = { ...this.#self, role };
      if (grants) this.#grants = grants;
      if (role === 'audience') {
        this.#publications.clear();
        this.#session?.stopPublishing();
      }
      this.emit('roleChanged', role, this.#grants!);
      return;
    }
    const participant = this.#participants.get(participantId);
    if (!participant) return;
    participant.role = role;
    this.emit('participantRoleChanged', participant);
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('connectionStateChanged', state);
  }
}
