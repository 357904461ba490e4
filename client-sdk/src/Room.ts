import { Device } from 'mediasoup-client';
import type {
  Consumer,
  Producer,
  RtpCapabilities,
  RtpEncodingParameters,
  Transport,
} from 'mediasoup-client/types';
import type { Role, Source } from '../../control-plane/protocol/media.ts';
import type {
  HandInfo,
  ParticipantInfo,
  ResponseData,
  StreamInfo,
} from '../../control-plane/protocol/signaling.ts';
import { CloseCodes } from '../../control-plane/protocol/signaling-constants.ts';
import type { Grants } from '../../control-plane/protocol/token.ts';
import { Emitter } from './Emitter.ts';
import { RequestError, SignalingChannel } from './SignalingChannel.ts';
import { streamKey, waitUntilReceiving } from './switching.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';
export type Quality = 'low' | 'medium' | 'high';

/** Where to join: an edge and a token for it (from the control plane's join, or minted by hand). */
export interface JoinTicket {
  url: string;
  token: string;
}

export interface ConnectOptions {
  /** Base URL of the edge, e.g. http://127.0.0.1:7880 (when `token` is not a ticket provider). */
  url?: string;
  /**
   * A join token, or a function called on every (re)connect that returns a fresh token or
   * a whole ticket: with a ticket, a reconnect may land on another edge (placement decides).
   * Edges in a mesh accept each edge token once, so there a reconnect needs the function
   * (it asks the control plane again); a fixed token suits a standalone edge only.
   */
  token: string | (() => string | JoinTicket | Promise<string | JoinTicket>);
  /** Receive every stream of the room as it appears (default true). */
  autoSubscribe?: boolean;
  /** ICE over TCP only, for networks that block UDP. */
  forceTcp?: boolean;
  /** Give up reconnecting after this long (default 60 s). */
  reconnectTimeoutMs?: number;
}

export interface RemoteParticipant extends ParticipantInfo {}

/**
 * A stream of another participant, received as a MediaStreamTrack. It is the same object
 * for as long as the participant publishes that source: across a path change on the edge
 * (streamMoved), its migration to another edge, and our own reconnects or migrations, the
 * SDK switches the media inside it (make-before-break) and emits `trackReplaced`.
 */
export interface RemoteTrack {
  /** Stable key of the stream: participant id and source (`<participantId>/<source>`). */
  id: string;
  /** The producer that feeds it now; changes when the participant migrates or reconnects. */
  producerId: string;
  participant: RemoteParticipant;
  kind: 'audio' | 'video';
  source: Source;
  /** The current MediaStreamTrack; replaced on a switch (see `stream` and `trackReplaced`). */
  track: MediaStreamTrack;
  /** A MediaStream the SDK keeps holding the current track: attach it once (video.srcObject). */
  stream: MediaStream;
  /** The sender paused it (muted camera or microphone). */
  paused: boolean;
  /** The edge's score of what reaches us, 0-10. */
  score: number;
}

export interface PublishOptions {
  source: Source;
  /** Three layers for a camera (default true for camera, false otherwise). */
  simulcast?: boolean;
}

/** A local track this client publishes; survives reconnects. */
export interface LocalPublication {
  readonly source: Source;
  readonly track: MediaStreamTrack;
  /** The stream id others see; changes after a reconnect. */
  readonly id: string | undefined;
  readonly paused: boolean;
}

interface RoomEvents extends Record<string, unknown[]> {
  connectionStateChanged: [state: ConnectionState];
  /** A reconnect attempt is about to start (1, 2, ...). */
  reconnecting: [attempt: number, reason: string];
  reconnected: [];
  /** The room is closed for good: left, replaced, refused, or reconnect gave up. */
  disconnected: [reason: string];
  participantJoined: [participant: RemoteParticipant];
  participantLeft: [participant: RemoteParticipant];
  trackAdded: [track: RemoteTrack];
  trackRemoved: [track: RemoteTrack];
  /** The media inside a RemoteTrack switched to a new MediaStreamTrack (`stream` already holds it). */
  trackReplaced: [track: RemoteTrack, previous: MediaStreamTrack];
  /** The edge drained and the SDK moved to another one (nobody else saw it leave). */
  migrated: [];
  trackPaused: [track: RemoteTrack];
  trackResumed: [track: RemoteTrack];
  activeSpeaker: [participant: RemoteParticipant | null, isSelf: boolean];
  /** A moderator moved this participant to the stage or the audience; grants follow at once. */
  roleChanged: [role: Role, grants: Grants];
  /** Another participant's role changed (outside lecture mode; in a lecture the roster changes instead). */
  participantRoleChanged: [participant: RemoteParticipant];
  /** Lecture mode: how many are in the room. */
  participantCount: [count: number];
  /** To moderators: someone raised or lowered a hand. */
  handRaised: [hand: HandInfo];
  handLowered: [participantId: string];
}

const CAMERA_LAYERS: RtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];
const QUALITY_LAYER: Record<Quality, number> = { low: 0, medium: 1, high: 2 };
// A refused token or misuse before the join would fail again just the same.
const FINAL_CLOSE_CODES = new Set<number>([
  CloseCodes.unauthorized,
  CloseCodes.replaced,
  CloseCodes.normal,
  CloseCodes.tooManyBeforeJoin,
]);

/** What feeds a RemoteTrack: one consumer on one edge session. */
interface Feed {
  consumer: Consumer;
  channel: SignalingChannel;
  producerId: string;
}

interface Track extends RemoteTrack {
  feed: Feed;
  /** A newer feed being switched to, once it receives. */
  pending?: Feed;
}

/** One edge session's transports, kept apart while a migration overlaps two. */
interface Transports {
  send: Transport | undefined;
  recv: Transport | undefined;
}

/**
 * How long a migrating client keeps publishing on both edges once its own side is set up,
 * so that the others' switches to its new streams (a key frame to decode, which Firefox may
 * take a second to send) complete before its old streams end.
 */
const MIGRATION_OVERLAP_MS = 2500;

class Publication implements LocalPublication {
  readonly source: Source;
  readonly track: MediaStreamTrack;
  readonly simulcast: boolean;
  producer: Producer | undefined;
  paused = false;
  constructor(track: MediaStreamTrack, options: PublishOptions) {
    this.source = options.source;
    this.track = track;
    this.simulcast = options.simulcast ?? options.source === 'camera';
  }
  get id() {
    return this.producer?.id;
  }
}

/**
 * A connection to a Kaskade room. `Room.connect()` joins; the room then keeps
 * itself connected: a dropped WebSocket rejoins (republishing local tracks), a
 * failed ICE connection restarts ICE. Events tell the application what changed.
 */
export class Room extends Emitter<RoomEvents> {
  readonly #options: Required<Omit<ConnectOptions, 'forceTcp' | 'url'>> & { forceTcp: boolean; url?: string };
  readonly #device = new Device();
  readonly #publications = new Map<Source, Publication>();
  readonly #participants = new Map<string, RemoteParticipant>();
  /** Remote tracks by stream key (participant + source). */
  readonly #tracks = new Map<string, Track>();
  /** Streams the room offers us now, by producer id. */
  readonly #streams = new Map<string, StreamInfo>();
  #channel: SignalingChannel | undefined;
  #send: Transport | undefined;
  #recv: Transport | undefined;
  #self: ParticipantInfo | undefined;
  #grants: Grants | undefined;
  #state: ConnectionState = 'connecting';
  #leaving = false;
  #migrating = false;
  #activeSpeakerId: string | null = null;
  #lecture = false;
  #participantCount = 0;

  private constructor(options: ConnectOptions) {
    super();
    this.#options = {
      autoSubscribe: true,
      forceTcp: false,
      reconnectTimeoutMs: 60_000,
      ...options,
    };
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
    await this.#channel!.request('raiseHand', {});
  }

  /** Lower one's own hand, or (moderators) someone else's. */
  async lowerHand(participantId?: string): Promise<void> {
    await this.#channel!.request('lowerHand', participantId ? { participantId } : {});
  }

  /** Moderators: the raised hands, oldest first. */
  async listHands(): Promise<HandInfo[]> {
    return (await this.#channel!.request('listHands', {})).hands;
  }

  /** Moderators: move someone to the stage or back to the audience. */
  async setRole(participantId: string, role: Role): Promise<void> {
    await this.#channel!.request('setRole', { participantId, role });
  }

  /** Moderators: everyone in the room, a page at a time. */
  listParticipants(after?: string, limit?: number) {
    return this.#channel!.request('listParticipants', { after, limit });
  }

  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#participants;
  }

  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks;
  }

  get publications(): LocalPublication[] {
    return [...this.#publications.values()];
  }

  /** Publishes a track (camera with simulcast, microphone, screen...). */
  async publish(track: MediaStreamTrack, options: PublishOptions): Promise<LocalPublication> {
    if (this.#publications.has(options.source)) throw new Error(`${options.source} is published already`);
    const publication = new Publication(track, options);
    this.#publications.set(options.source, publication);
    try {
      await this.#produce(publication);
    } catch (error) {
      this.#publications.delete(options.source);
      throw error;
    }
    return publication;
  }

  async unpublish(source: Source): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) return;
    this.#publications.delete(source);
    const producer = publication.producer;
    producer?.close();
    if (producer && this.#channel?.open)
      await this.#channel.request('closeProducer', { producerId: producer.id });
  }

  /** Mutes (pauses) or unmutes a published track for everyone. */
  async setPublicationPaused(source: Source, paused: boolean): Promise<void> {
    const publication = this.#publications.get(source);
    if (!publication) throw new Error(`${source} is not published`);
    publication.paused = paused;
    const producer = publication.producer;
    if (!producer || !this.#channel) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.#channel.request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  /** Stops (or restarts) receiving a remote stream without unsubscribing. */
  async setTrackEnabled(trackId: string, enabled: boolean): Promise<void> {
    const consumer = this.#consumerOf(trackId);
    if (enabled) consumer.resume();
    else consumer.pause();
    await this.#channel!.request(enabled ? 'resumeConsumer' : 'pauseConsumer', { consumerId: consumer.id });
  }

  /** Chooses the simulcast layer the edge sends us for a remote video. */
  async setPreferredQuality(trackId: string, quality: Quality): Promise<void> {
    const consumer = this.#consumerOf(trackId);
    await this.#channel!.request('setPreferredLayers', {
      consumerId: consumer.id,
      spatialLayer: QUALITY_LAYER[quality],
    });
  }

  /** WebRTC statistics of a remote track's receiver. */
  getTrackStats(trackId: string): Promise<RTCStatsReport> {
    return this.#consumerOf(trackId).getStats();
  }

  /** WebRTC statistics of a local publication's sender. */
  getPublicationStats(source: Source): Promise<RTCStatsReport> {
    const producer = this.#publications.get(source)?.producer;
    if (!producer) throw new Error(`${source} is not published`);
    return producer.getStats();
  }

  /** Leaves the room; local tracks are left running (the application owns them). */
  async leave(): Promise<void> {
    if (this.#leaving) return;
    this.#leaving = true;
    try {
      if (this.#channel?.open) await this.#channel.request('leave', {});
    } catch {
      // Leaving anyway.
    }
    this.#teardown(true);
    this.#channel?.close();
    this.#setState('closed');
    this.emit('disconnected', 'left');
  }

  /** Test hook: drops the signaling socket as a network failure would. */
  simulateSignalingDrop(): void {
    this.#channel?.close(4000, 'simulated drop');
  }

  async #ticket(): Promise<JoinTicket> {
    const given =
      typeof this.#options.token === 'function' ? await this.#options.token() : this.#options.token;
    if (typeof given !== 'string') return given;
    if (!this.#options.url)
      throw new Error('Room.connect needs a url, or a token provider that returns tickets');
    return { url: this.#options.url, token: given };
  }

  async #establish(ticket?: JoinTicket): Promise<void> {
    const { url, token } = ticket ?? (await this.#ticket());
    const channel = await SignalingChannel.open(url);
    this.#wireChannel(channel);
    try {
      if (!this.#device.loaded) {
        const { rtpCapabilities } = await channel.request('getRouterRtpCapabilities', {});
        await this.#device.load({ routerRtpCapabilities: rtpCapabilities as RtpCapabilities });
      }
      const joined = await channel.request('join', {
        token,
        reconnect: this.#state === 'reconnecting',
        // Coming back (a reconnect, a migration): the edge keeps our id when the directory agrees.
        ...(this.#self ? { resume: this.#self.id } : {}),
        rtpCapabilities: this.#device
          .recvRtpCapabilities as ResponseData<'getRouterRtpCapabilities'>['rtpCapabilities'],
      });
      // From here on this channel speaks for the room; the previous one (a migration's) only winds down.
      this.#channel = channel;
      this.#self = joined.self;
      this.#grants = joined.grants;
      this.#lecture = joined.lecture;
      this.#participantCount = joined.participantCount;
      this.#reconcileParticipants(joined.participants);
      // Before any await: a newer activeSpeaker notification may arrive while we set up.
      this.#emitActiveSpeaker(joined.activeSpeaker);
      this.#send = undefined;
      this.#recv = joined.grants.subscribe ? await this.#createTransport('recv') : undefined;
      for (const publication of this.#publications.values()) await this.#produce(publication);
      this.#streams.clear();
      for (const stream of joined.streams) this.#streams.set(stream.producerId, stream);
      // Tracks this edge does not offer any more went while we were away.
      const offered = new Set(joined.streams.map(streamKey));
      for (const key of [...this.#tracks.keys()]) if (!offered.has(key)) this.#dropTrack(key);
      // The newest stream of each key (a publisher that moved too has two for a moment); one
      // stream the edge will not give (a consumer cap, a rate limit) must not fail the whole
      // connect: the others still come. Known tracks switch inside the same RemoteTrack.
      const newest = new Map(joined.streams.map((s) => [streamKey(s), s]));
      await Promise.all(
        [...newest.values()]
          .filter((s) => this.#options.autoSubscribe || this.#tracks.has(streamKey(s)))
          .map((s) => this.#consume(s).catch((e) => console.warn('kaskade: consume failed', e))),
      );
    } catch (error) {
      if (this.#channel !== channel) channel.close();
      throw error;
    }
  }

  /**
   * The edge drains: join the room at the edge it names (with our id), publish and
   * subscribe there, switching every RemoteTrack inside itself, keep publishing on both
   * for a moment so the others switch to our new streams, then leave the old edge.
   */
  async #migrate(
    from: SignalingChannel,
    { url, token, deadlineMs }: { url: string; token: string; deadlineMs: number },
  ) {
    if (this.#migrating || from !== this.#channel) return;
    this.#migrating = true;
    const deadline = Date.now() + deadlineMs;
    const old: Transports = { send: this.#send, recv: this.#recv };
    const producers = new Map([...this.#publications].map(([source, p]) => [source, p.producer]));
    try {
      await this.#establish({ url, token });
    } catch (error) {
      // Stay where we are: at the deadline the old edge closes us and we reconnect as after a crash.
      if (this.#send !== old.send) this.#send?.close();
      if (this.#recv !== old.recv) this.#recv?.close();
      if (this.#channel !== from) this.#channel?.close();
      this.#channel = from;
      this.#send = old.send;
      this.#recv = old.recv;
      for (const [source, p] of this.#publications) p.producer = producers.get(source);
      this.#migrating = false;
      console.warn('kaskade: migration failed; staying until the edge closes', error);
      return;
    }
    const overlap = Math.max(0, Math.min(MIGRATION_OVERLAP_MS, deadline - Date.now()));
    await new Promise((r) => setTimeout(r, overlap));
    if (from.open) await from.request('leave', {}).catch(() => undefined);
    from.close();
    old.send?.close();
    old.recv?.close();
    this.#migrating = false;
    this.emit('migrated');
  }

  /**
   * Notifications count only from the channel that speaks for the room now; a channel
   * being left (a migration) still retires its own consumers.
   */
  #wireChannel(channel: SignalingChannel): void {
    const current = () => channel === this.#channel;
    channel.on('participantJoined', (p) => {
      if (!current()) return;
      const known = this.#participants.has(p.id);
      this.#participants.set(p.id, p);
      if (!known) this.emit('participantJoined', p);
    });
    channel.on('participantLeft', ({ participantId }) => {
      const p = this.#participants.get(participantId);
      if (!p || !current()) return;
      this.#participants.delete(participantId);
      for (const t of [...this.#tracks.values()])
        if (t.participant.id === participantId) this.#dropTrack(t.id);
      this.emit('participantLeft', p);
    });
    channel.on('streamAdded', (stream) => {
      if (!current()) return;
      this.#streams.set(stream.producerId, stream);
      // A stream with the key of a track we have is that track coming back (its publisher
      // migrated or reconnected): switched inside the same RemoteTrack.
      if (this.#options.autoSubscribe || this.#tracks.has(streamKey(stream)))
        this.#consume(stream).catch((e) => console.warn('kaskade: consume failed', e));
    });
    channel.on('streamMoved', ({ producerId }) => {
      const stream = this.#streams.get(producerId);
      if (!stream || !current()) return;
      this.#consume(stream, true).catch((e) => console.warn('kaskade: consume failed', e));
    });
    channel.on('streamClosed', ({ producerId }) => {
      if (current()) this.#streams.delete(producerId);
      for (const t of [...this.#tracks.values()]) {
        if (t.pending?.producerId === producerId && t.pending.channel === channel) this.#cancelPending(t);
        if (t.feed.producerId !== producerId || t.feed.channel !== channel) continue;
        // Switching to its successor already: the old feed just retires with the switch.
        if (!t.pending) this.#dropTrack(t.id);
      }
    });
    channel.on('consumerClosed', ({ consumerId }) => {
      for (const t of [...this.#tracks.values()]) {
        if (t.pending?.consumer.id === consumerId) this.#cancelPending(t);
        if (t.feed.consumer.id !== consumerId || t.pending) continue;
        t.feed.consumer.close(); // gone on the edge: no media will come through it
        // The stream lives on (its pipe or relay went away): take it again shortly, into the same track.
        void this.#resubscribe(t.id, channel);
      }
    });
    channel.on('streamPaused', ({ producerId }) => current() && this.#setTrackPaused(producerId, true));
    channel.on('streamResumed', ({ producerId }) => current() && this.#setTrackPaused(producerId, false));
    channel.on('consumerScore', ({ consumerId, score }) => {
      for (const track of this.#tracks.values())
        if (track.feed.consumer.id === consumerId) track.score = score;
    });
    channel.on('migrate', (notice) => void this.#migrate(channel, notice));
    channel.on('activeSpeaker', ({ participantId }) => this.#emitActiveSpeaker(participantId));
    channel.on('participantCount', ({ count }) => {
      this.#participantCount = count;
      this.emit('participantCount', count);
    });
    channel.on('handRaised', (hand) => this.emit('handRaised', hand));
    channel.on('handLowered', ({ participantId }) => this.emit('handLowered', participantId));
    channel.on('roleChanged', ({ participantId, role, grants }) =>
      this.#onRoleChanged(participantId, role, grants),
    );
    channel.on('close', (code, reason) => this.#onChannelClosed(channel, code, reason));
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<Transport> {
    const channel = this.#channel!;
    const params = await channel.request('createTransport', { direction, forceTcp: this.#options.forceTcp });
    const options = params as Parameters<Device['createSendTransport']>[0];
    const transport =
      direction === 'send'
        ? this.#device.createSendTransport(options)
        : this.#device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      channel
        .request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as never })
        .then(callback, errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      channel
        .request('produce', {
          transportId: transport.id,
          kind,
          source: appData.source as Source,
          rtpParameters: rtpParameters as never,
          paused: appData.paused as boolean,
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    transport.on('connectionstatechange', (state) => this.#onTransportState(transport, state));
    return transport;
  }

  async #produce(publication: Publication): Promise<void> {
    if (!this.#channel?.open) return; // published on the next (re)connect
    this.#send ??= await this.#createTransport('send');
    const isVideo = publication.track.kind === 'video';
    const vp8 = this.#device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
    publication.producer = await this.#send.produce({
      track: publication.track,
      encodings: isVideo && publication.simulcast ? CAMERA_LAYERS : undefined,
      codec: isVideo ? vp8 : undefined,
      codecOptions: isVideo ? { videoGoogleStartBitrate: 1000 } : { opusDtx: true, opusFec: true },
      stopTracks: false, // the application owns its tracks; they outlive reconnects
      zeroRtpOnPause: true,
      disableTrackOnPause: false,
      appData: { source: publication.source, paused: publication.paused },
    });
    if (publication.paused) publication.producer.pause();
  }

  /**
   * Receives a stream on the current session. A stream whose key has no track yet becomes
   * a new RemoteTrack; one whose key has a track (its publisher came back under a new
   * producer, our own session changed, or `again`: the edge moved it) is switched into
   * that track make-before-break: the new consumer takes over once it receives.
   */
  async #consume(stream: StreamInfo, again = false): Promise<void> {
    const participant = this.#participants.get(stream.participantId);
    const channel = this.#channel!;
    const recv = this.#recv;
    if (!recv || !participant) return;
    const key = streamKey(stream);
    const existing = this.#tracks.get(key);
    const fedBy = (feed: Feed | undefined) =>
      feed?.producerId === stream.producerId && feed.channel === channel;
    if (existing && !again && (fedBy(existing.feed) || fedBy(existing.pending))) return;
    const answer = await channel.request('consume', { producerId: stream.producerId });
    const consumer = await recv.consume({
      id: answer.consumerId,
      producerId: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as Parameters<Transport['consume']>[0]['rtpParameters'],
    });
    const feed: Feed = { consumer, channel, producerId: stream.producerId };
    const track = this.#tracks.get(key);
    if (track) {
      if (track.pending) this.#retire(track.pending);
      track.pending = feed;
    }
    try {
      await channel.request('resumeConsumer', { consumerId: consumer.id });
    } catch (error) {
      consumer.close();
      if (!(error instanceof RequestError && error.code === 'NOT_FOUND')) throw error;
      // Closed under us already (its pipe moved), maybe before we knew its id: take it again.
      if (track?.pending === feed) track.pending = undefined;
      void this.#resubscribe(key, channel, stream.producerId);
      return;
    }
    if (!track) {
      if (this.#tracks.has(key) || channel !== this.#channel) return void consumer.close();
      const created: Track = {
        id: key,
        producerId: stream.producerId,
        participant,
        kind: answer.kind,
        source: answer.source,
        track: consumer.track,
        stream: new MediaStream([consumer.track]),
        paused: answer.producerPaused,
        score: 10,
        feed,
      };
      this.#tracks.set(key, created);
      this.emit('trackAdded', created);
      return;
    }
    await waitUntilReceiving(() => consumer.getStats() as never, answer.kind, {
      cancelled: () => track.pending !== feed || this.#tracks.get(key) !== track,
    });
    if (track.pending !== feed || this.#tracks.get(key) !== track) return;
    const previous = track.feed;
    track.feed = feed;
    track.pending = undefined;
    track.producerId = stream.producerId;
    track.paused = answer.producerPaused;
    const old = track.track;
    track.stream.removeTrack(old);
    track.stream.addTrack(consumer.track);
    track.track = consumer.track;
    this.#retire(previous);
    this.emit('trackReplaced', track, old);
  }

  /** Closes a feed that was switched away from (on its edge too, if that session is still open). */
  #retire(feed: Feed): void {
    if (feed.consumer.closed) return;
    feed.consumer.close();
    if (feed.channel.open)
      void feed.channel.request('closeConsumer', { consumerId: feed.consumer.id }).catch(() => undefined);
  }

  #cancelPending(track: Track): void {
    if (track.pending) track.pending.consumer.close();
    track.pending = undefined;
  }

  async #resubscribe(trackId: string, channel: SignalingChannel, producerId?: string): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 300 + attempt * 200));
      const id = producerId ?? this.#tracks.get(trackId)?.producerId;
      const stream = id === undefined ? undefined : this.#streams.get(id);
      if (!stream || channel !== this.#channel) return;
      const track = this.#tracks.get(trackId);
      if (track && !track.feed.consumer.closed && track.feed.channel === channel) return;
      try {
        await this.#consume(stream, true);
        return;
      } catch {
        // its new path is not ready yet
      }
    }
  }

  #dropTrack(trackId: string): void {
    const track = this.#tracks.get(trackId);
    if (!track) return;
    track.feed.consumer.close();
    this.#cancelPending(track);
    this.#tracks.delete(trackId);
    this.emit('trackRemoved', track);
  }

  #setTrackPaused(producerId: string, paused: boolean): void {
    const track = [...this.#tracks.values()].find((t) => t.producerId === producerId);
    if (!track || track.paused === paused) return;
    track.paused = paused;
    this.emit(paused ? 'trackPaused' : 'trackResumed', track);
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
        // The edge closed what we published; let go of it here too.
        for (const publication of this.#publications.values()) publication.producer?.close();
        this.#publications.clear();
        this.#send?.close();
        this.#send = undefined;
      }
      this.emit('roleChanged', role, this.#grants!);
      return;
    }
    const participant = this.#participants.get(participantId);
    if (!participant) return;
    participant.role = role;
    this.emit('participantRoleChanged', participant);
  }

  #reconcileParticipants(current: ParticipantInfo[]): void {
    const ids = new Set(current.map((p) => p.id));
    for (const p of [...this.#participants.values()]) {
      if (ids.has(p.id)) continue;
      this.#participants.delete(p.id);
      for (const t of [...this.#tracks.values()]) if (t.participant.id === p.id) this.#dropTrack(t.id);
      this.emit('participantLeft', p);
    }
    for (const p of current) {
      if (this.#participants.has(p.id)) continue;
      this.#participants.set(p.id, p);
      this.emit('participantJoined', p);
    }
  }

  #onTransportState(transport: Transport, state: RTCPeerConnectionState): void {
    if (transport.closed || this.#state === 'closed') return;
    if (state === 'failed') this.#restartIce(transport);
    if (state === 'disconnected') {
      // Often recovers by itself; restart only if it does not.
      setTimeout(() => {
        if (!transport.closed && transport.connectionState === 'disconnected') this.#restartIce(transport);
      }, 2000);
    }
  }

  #restartIce(transport: Transport): void {
    const channel = this.#channel;
    if (!channel?.open) return; // the signaling reconnect rebuilds the transport
    channel
      .request('restartIce', { transportId: transport.id })
      .then(({ iceParameters }) => transport.restartIce({ iceParameters: iceParameters as never }))
      .catch((error) => console.warn('kaskade: ICE restart failed', error));
  }

  #onChannelClosed(channel: SignalingChannel, code: number, reason: string): void {
    if (channel !== this.#channel || this.#leaving || this.#state === 'closed') return;
    const final = FINAL_CLOSE_CODES.has(code);
    this.#teardown(final);
    if (final) {
      this.#setState('closed');
      this.emit('disconnected', reason || `closed (${code})`);
      return;
    }
    void this.#reconnect(reason || `signaling closed (${code})`);
  }

  async #reconnect(reason: string): Promise<void> {
    this.#setState('reconnecting');
    const deadline = Date.now() + this.#options.reconnectTimeoutMs;
    for (let attempt = 1; Date.now() < deadline && !this.#leaving; attempt++) {
      this.emit('reconnecting', attempt, reason);
      try {
        await this.#establish();
        this.#setState('connected');
        this.emit('reconnected');
        return;
      } catch (error) {
        this.#teardown();
        this.#channel?.close();
        reason = error instanceof Error ? error.message : String(error);
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 5000)));
      }
    }
    if (this.#leaving) return;
    this.#teardown(true);
    this.#setState('closed');
    this.emit('disconnected', `reconnect gave up: ${reason}`);
  }

  /**
   * Closes local transports; publications are kept for the rejoin, and so are the remote
   * tracks (their consumers die with the transport): the rejoin switches new media into
   * them, or removes those the room no longer offers. `forget` (leaving, or closed for
   * good) removes them too.
   */
  #teardown(forget = false): void {
    if (forget) for (const trackId of [...this.#tracks.keys()]) this.#dropTrack(trackId);
    for (const publication of this.#publications.values()) publication.producer = undefined;
    this.#send?.close();
    this.#recv?.close();
    this.#send = undefined;
    this.#recv = undefined;
  }

  #consumerOf(trackId: string): Consumer {
    const consumer = this.#tracks.get(trackId)?.feed.consumer;
    if (!consumer) throw new Error(`no remote track ${trackId}`);
    return consumer;
  }

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('connectionStateChanged', state);
  }
}
