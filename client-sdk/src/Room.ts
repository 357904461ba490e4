import type {
  Grants,
  HandInfo,
  LobbyEntry,
  ParticipantInfo,
  RequestData,
  ResponseData,
  Role,
  RoomActionName,
  RoomPolicies,
  RoomSettings,
  Source,
} from '@kaskade/protocol';
import { type Act, actOn, channelOf } from './act.ts';
import { Breakouts } from './Breakouts.ts';
import { Connection } from './Connection.ts';
import type { EdgeSession } from './EdgeSession.ts';
import { Emitter } from './Emitter.ts';
import { LastNChoice } from './LastNChoice.ts';
import { Moderation } from './Moderation.ts';
import { Publications } from './Publications.ts';
import { RemoteTracks } from './RemoteTracks.ts';
import { RoomChat } from './RoomChat.ts';
import { RoomModeration } from './RoomModeration.ts';
import { Roster } from './Roster.ts';
import type {
  ConnectionState,
  ConnectOptions,
  LocalPublication,
  PublishOptions,
  Quality,
  RemoteParticipant,
  RemoteTrack,
  RoomEvents,
} from './types.ts';

/**
 * A connection to a Kaskade room. `Room.connect()` joins; the room then keeps
 * itself connected: a dropped WebSocket rejoins (republishing local tracks), a
 * failed ICE connection restarts ICE. Events tell the application what changed.
 *
 * The room is the façade over its collaborators: the Connection (which EdgeSession speaks
 * for the room, replaced whole on a reconnect or a migration), the Roster (the others),
 * RemoteTracks (what we receive), Publications (what we send) and Moderation (the stage
 * and its hands). The room keeps who we are, and routes each session's notifications.
 */
export class Room extends Emitter<RoomEvents> {
  readonly #connection: Connection;
  readonly #roster: Roster;
  readonly #tracks: RemoteTracks;
  readonly #publications: Publications;
  readonly #moderation: Moderation;
  readonly #lastN: LastNChoice;
  readonly #act: Act;
  readonly #host: RoomModeration;
  /** The room's chat: channels, messages, Q&A votes; its events are its own. */
  readonly chat: RoomChat;
  /** Breakout rooms: the moderators' calls, and the state (see Breakouts.ts). */
  readonly breakouts: Breakouts;
  #name = '';
  #self: ParticipantInfo | undefined;
  #grants: Grants | undefined;

  private constructor(options: ConnectOptions) {
    super();
    const { autoSubscribe, forceTcp, reconnectTimeoutMs, token, url, onLobby } = {
      autoSubscribe: true,
      forceTcp: false,
      reconnectTimeoutMs: 60_000,
      ...options,
    };
    const emit = <E extends keyof RoomEvents>(event: E, ...args: RoomEvents[E]) => this.emit(event, ...args);
    const current = () => this.#connection.session;
    this.#connection = new Connection(
      {
        selfId: () => this.#self?.id,
        wire: (session) => this.#wire(session),
        adopt: (session, joined) => this.#adopt(session, joined),
        ended: () => this.#tracks.dropAll(),
        emit,
      },
      { token, url, forceTcp, reconnectTimeoutMs, onLobby },
    );
    this.#roster = new Roster({
      selfId: () => this.#self?.id,
      left: (participantId) => this.#tracks.dropParticipant(participantId),
      emit,
    });
    this.#tracks = new RemoteTracks({
      current,
      participant: (id) => this.#roster.participants.get(id),
      autoSubscribe,
      emit,
    });
    this.#publications = new Publications(current);
    this.#moderation = new Moderation(current);
    this.#lastN = new LastNChoice(current);
    this.#act = actOn(current);
    const channel = () => channelOf(current);
    this.#host = new RoomModeration({
      act: this.#act,
      channel,
      heldByModerator: (source) => this.#publications.heldByModerator(source),
      finish: (reason) => this.#connection.finish(reason),
      emit,
    });
    this.chat = new RoomChat(channel, this.#act);
    this.breakouts = new Breakouts(channel);
  }

  static async connect(options: ConnectOptions): Promise<Room> {
    const room = new Room(options);
    await room.#connection.open();
    return room;
  }

  get state(): ConnectionState {
    return this.#connection.state;
  }

  /** The room we are in now: it changes when we move to a breakout room and back (`roomSwitched`). */
  get name(): string {
    return this.#name;
  }

  get self(): ParticipantInfo {
    return this.#self!;
  }

  get grants(): Grants {
    return this.#grants!;
  }

  /** The participant who spoke last (possibly this one), or null. */
  get activeSpeakerId(): string | null {
    return this.#roster.activeSpeakerId;
  }

  /** The room's recent speakers as participant ids (ours included), most relevant first. */
  get speakerOrder(): readonly string[] {
    return this.#roster.speakerOrder;
  }

  get role(): Role {
    return this.#self!.role;
  }

  /** Lecture mode: `participants` holds the stage only; `participantCount` counts everyone. */
  get lecture(): boolean {
    return this.#roster.lecture;
  }

  get participantCount(): number {
    return this.#roster.count;
  }

  /**
   * Last-N: receive the cameras of only `n` remote participants, the most relevant ones
   * (pinned first, then the room's recent speakers; screen shares always); the edge pauses
   * the others. Answers the n in force (the edge caps it at its maximum). Until this is
   * called every video is forwarded. Which videos are on: `videoForwarding`, `track.forwarding`.
   */
  setLastN(n: number): Promise<number> {
    return this.#lastN.set(n);
  }

  /** The last-N in force (as the edge answered), or null before `setLastN`. */
  get lastN(): number | null {
    return this.#lastN.n;
  }

  /** Always receive this participant's camera under last-N (it takes one of the N places first). */
  pin(participantId: string): Promise<void> {
    return this.#lastN.pin(participantId);
  }

  unpin(participantId: string): Promise<void> {
    return this.#lastN.unpin(participantId);
  }

  /** The participants pinned, in the order pinned. */
  get pinned(): readonly string[] {
    return this.#lastN.pinned;
  }

  /** Audience: ask to speak. */
  raiseHand(): Promise<void> {
    return this.#moderation.raiseHand();
  }

  /** Lower one's own hand, or (moderators) someone else's. */
  lowerHand(participantId?: string): Promise<void> {
    return this.#moderation.lowerHand(participantId);
  }

  /** Moderators: the raised hands, oldest first. */
  listHands(): Promise<HandInfo[]> {
    return this.#moderation.listHands();
  }

  /** Moderators: move someone to the stage or back to the audience. */
  setRole(participantId: string, role: Role): Promise<void> {
    return this.#moderation.setRole(participantId, role);
  }

  /** Moderators: everyone in the room, a page at a time. */
  listParticipants(after?: string, limit?: number): Promise<ResponseData<'listParticipants'>> {
    return this.#moderation.listParticipants(after, limit);
  }

  /** Any room action by name (moderators; see RoomActions): the named calls below wrap it. */
  act<N extends RoomActionName>(name: N, params: RequestData<N>): Promise<ResponseData<N>> {
    return this.#act(name, params);
  }

  /** The room's lock and policies (from the join, then `settingsChanged`). */
  get settings(): RoomSettings {
    return this.#host.settings!;
  }

  /** What a moderator muted and forbade us to unmute; `unmuteRequested` lifts it. */
  get forbidden(): readonly Source[] {
    return this.#host.forbidden;
  }

  /** Moderators: who waits in the lobby (then `lobbyChanged`). */
  get lobby(): readonly LobbyEntry[] {
    return this.#host.lobby;
  }

  // The host's calls (moderators; the edge refuses others FORBIDDEN): RoomModeration.ts.
  /** Pauses someone's microphone or camera, or stops their screen share. */
  muteParticipant(participantId: string, source: Source, options?: { forbidUnmute?: boolean }) {
    return this.#host.muteParticipant(participantId, source, options);
  }
  /** Everyone but the moderators. */
  muteEveryone(source: 'microphone' | 'camera', options?: { forbidUnmute?: boolean }) {
    return this.#host.muteEveryone(source, options);
  }
  /** Lifts a forbid and asks the participant to unmute. */
  askToUnmute(participantId: string, source: Source) {
    return this.#host.askToUnmute(participantId, source);
  }
  /** `ban`: the identity may not come back for the room's life. */
  removeParticipant(participantId: string, options?: { reason?: string; ban?: boolean }) {
    return this.#host.removeParticipant(participantId, options);
  }
  unbanIdentity(identity: string) {
    return this.#host.unbanIdentity(identity);
  }
  /** A locked room lets in only moderators and those admitted before. */
  lockRoom(locked: boolean) {
    return this.#host.lockRoom(locked);
  }
  setPolicies(policies: Partial<RoomPolicies>) {
    return this.#host.setPolicies(policies);
  }
  listLobby() {
    return this.#host.listLobby();
  }
  /** Lets someone in from the lobby, whichever edge they wait on. */
  admit(participantId: string) {
    return this.#host.admit(participantId);
  }
  deny(participantId: string, reason?: string) {
    return this.#host.deny(participantId, reason);
  }
  /** Ends the meeting for everyone. */
  endMeeting() {
    return this.#host.endMeeting();
  }

  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#roster.participants;
  }

  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks.all;
  }

  get publications(): LocalPublication[] {
    return this.#publications.list;
  }

  /** Publishes a track (camera with simulcast, microphone, screen...). */
  async publish(track: MediaStreamTrack, options: PublishOptions): Promise<LocalPublication> {
    this.#host.assertMayUnmute(options.source, 'produce');
    return this.#publications.publish(track, options);
  }

  unpublish(source: Source): Promise<void> {
    return this.#publications.unpublish(source);
  }

  /** Mutes (pauses) or unmutes a published track for everyone. */
  /** Unmuting what a moderator forbade us to unmute fails FORBIDDEN (`forbidden` lists it). */
  async setPublicationPaused(source: Source, paused: boolean): Promise<void> {
    if (!paused) this.#host.assertMayUnmute(source, 'resumeProducer');
    return this.#publications.setPaused(source, paused);
  }

  /** Stops (or restarts) receiving a remote stream without unsubscribing. */
  setTrackEnabled(trackId: string, enabled: boolean): Promise<void> {
    return this.#tracks.setEnabled(trackId, enabled);
  }

  /** Chooses the simulcast layer the edge sends us for a remote video. */
  setPreferredQuality(trackId: string, quality: Quality): Promise<void> {
    return this.#tracks.setPreferredQuality(trackId, quality);
  }

  /** WebRTC statistics of a remote track's receiver. */
  getTrackStats(trackId: string): Promise<RTCStatsReport> {
    return this.#tracks.stats(trackId);
  }

  /** WebRTC statistics of a local publication's sender. */
  getPublicationStats(source: Source): Promise<RTCStatsReport> {
    return this.#publications.stats(source);
  }

  /** From inside a breakout room: the main room's moderators get `helpRequested`. */
  askForHelp(): Promise<void> {
    return this.breakouts.askForHelp();
  }

  /** Leaves the room; local tracks are left running (the application owns them). */
  leave(): Promise<void> {
    return this.#connection.leave();
  }

  /** Test hook: drops the signaling socket as a network failure would. */
  simulateSignalingDrop(): void {
    this.#connection.dropSignaling();
  }

  /**
   * A session joined and speaks for the room now. Synchronously up to the first await:
   * notifications arriving while we set up build on the join's picture, not before it.
   */
  async #adopt(session: EdgeSession, joined: ResponseData<'join'>): Promise<void> {
    this.#name = joined.room;
    this.#self = joined.self;
    this.#grants = joined.grants;
    this.#host.joined(joined);
    this.#roster.joined(joined);
    this.#tracks.offer(joined.streams);
    if (joined.grants.subscribe) await session.openRecv();
    await this.#lastN.resend(session); // before consuming: no video flows that last-N would pause
    await this.#publications.produceAll(session);
    await this.#tracks.subscribe();
    // The channels a moderator opened before we came (or while we moved): not worth failing the join over.
    this.chat.refreshChannels().catch((error) => console.warn('kaskade: listChannels failed', error));
  }

  /**
   * Where each notification goes. Those about the room count only from the session that
   * speaks for it now; a session being left still retires its own consumers. (The
   * connection listens for migrate and close itself.)
   */
  #wire(session: EdgeSession): void {
    const { channel } = session;
    const current = () => session === this.#connection.session;
    const roster = this.#roster;
    const tracks = this.#tracks;
    channel.on('participantJoined', (p) => current() && roster.participantJoined(p));
    channel.on('participantLeft', ({ participantId }) => current() && roster.participantLeft(participantId));
    channel.on('activeSpeaker', ({ participantId }) => current() && roster.speaker(participantId));
    channel.on('speakerOrder', ({ participantIds }) => current() && roster.speakersOrdered(participantIds));
    channel.on('participantCount', ({ count }) => current() && roster.countChanged(count));
    channel.on('streamAdded', (stream) => current() && tracks.streamAdded(stream));
    channel.on('streamMoved', ({ producerId }) => current() && tracks.streamMoved(producerId));
    channel.on('streamClosed', ({ producerId }) => tracks.streamClosed(session, producerId));
    channel.on('consumerClosed', ({ consumerId }) => tracks.consumerClosed(session, consumerId));
    channel.on('streamPaused', ({ producerId }) => current() && tracks.setPaused(producerId, true));
    channel.on('streamResumed', ({ producerId }) => current() && tracks.setPaused(producerId, false));
    channel.on('videoForwarding', (news) => tracks.videoForwarding(session, news));
    channel.on('consumerScore', ({ consumerId, score }) => tracks.setScore(consumerId, score));
    this.#host.wire(channel, current);
    this.chat.wire(channel, current);
    channel.on('handRaised', (hand) => current() && this.emit('handRaised', hand));
    channel.on('handLowered', ({ participantId }) => current() && this.emit('handLowered', participantId));
    channel.on('breakoutsChanged', (state) => current() && this.emit('breakoutsChanged', state));
    channel.on('breakoutBroadcast', ({ text }) => current() && this.emit('breakoutBroadcast', text));
    channel.on('helpRequested', (help) => current() && this.emit('helpRequested', help));
    channel.on('roleChanged', ({ participantId, role, grants }) => {
      if (current()) this.#onRoleChanged(participantId, role, grants);
    });
  }

  /** Ours: new grants, and off the stage nothing is published any more. Another's: the roster's. */
  #onRoleChanged(participantId: string, role: Role, grants: Grants | undefined): void {
    if (participantId !== this.#self?.id) {
      this.#roster.roleChanged(participantId, role);
      return;
    }
    this.#self = { ...this.#self, role };
    if (grants) this.#grants = grants;
    if (role === 'audience') this.#publications.stopAll();
    this.emit('roleChanged', role, this.#grants!);
  }
}
