import { EventEmitter } from 'node:events';
import type {
  Direction,
  Grants,
  NotificationData,
  NotificationName,
  ParticipantInfo,
  RequestData,
  ResponseData,
  StreamInfo,
} from '@kaskade/protocol';
import { KaskadeError, kindOfSource, type Role, type Source } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { LastN } from './LastN.ts';
import type { ViewerConsumer } from './RemoteFeeds.ts';
import type { RoomRouter } from './RoomRouter.ts';
import type { PublishRules } from './RoomRules.ts';
import { stageGrants } from './Stage.ts';
import { ViewerConsumers } from './ViewerConsumers.ts';

type MediaTransport =
  | types.WebRtcTransport<{ direction: Direction }>
  | types.PlainTransport<{ direction: Direction }>;

/** Why a participant went away; the signaling layer maps it to a close code. */
export type LeaveReason =
  | 'left'
  | 'disconnected'
  | 'replaced'
  | 'room-closed'
  | 'shutdown'
  | 'removed' // by a moderator
  | 'ended'; // a moderator ended the meeting

/** What a participant needs from its room: finding streams and bringing them to its router. */
export interface StreamDirectory {
  stream(producerId: string): { info: StreamInfo } | undefined;
  /** Answers the id the stream has on that router (a remote stream's current copy). */
  bringToRouter(producerId: string, router: RoomRouter): Promise<string>;
  consumerOpened(consumer: ViewerConsumer): void;
  consumerClosed(consumer: ViewerConsumer): void;
  /** A consumer's preferred layers changed (what crosses a pipe link follows them). */
  consumerLayersChanged(consumer: ViewerConsumer): void;
}

interface ParticipantEvents {
  notification: [name: NotificationName, data: unknown];
  newproducer: [producer: types.Producer, source: Source];
}

export interface ParticipantInit {
  id: string;
  identity: string;
  name: string;
  /** What the token grants; an audience member publishes only once promoted. */
  grants: Grants;
  role: Role;
  rtpCapabilities: types.RtpCapabilities;
  router: RoomRouter;
  directory: StreamDirectory;
  /** mediasoup keyFrameRequestDelay of this participant's producers: its viewers' requests coalesce. */
  keyFrameRequestDelayMs: number;
  /** The room's recent speakers, most relevant first: last-N forwards their videos first. */
  speakerOrder: () => readonly string[];
  /** The room's policies and the moderators' mutes, checked before publishing or unmuting. */
  rules: PublishRules;
}

/**
 * One participant of a room on this edge: owns its WebRTC transports, and through
 * them its producers and consumers (what it receives is kept by ViewerConsumers).
 * close() closes the transports, which closes everything else; nothing it created
 * outlives it.
 */
export class Participant extends EventEmitter<ParticipantEvents> {
  readonly id: string;
  readonly identity: string;
  readonly name: string;
  readonly router: RoomRouter;
  #tokenGrants: Grants;
  #role: Role;
  readonly observer = new EventEmitter<{
    close: [reason: LeaveReason];
    newtransport: [transport: MediaTransport];
  }>();
  readonly #transports = new Map<string, MediaTransport>();
  readonly #producers = new Map<string, types.Producer<{ source: Source }>>();
  readonly #consumers: ViewerConsumers;
  readonly #lastN: LastN;
  readonly #keyFrameRequestDelayMs: number;
  readonly #rules: PublishRules;
  #closed = false;

  constructor(init: ParticipantInit) {
    super();
    this.id = init.id;
    this.identity = init.identity;
    this.name = init.name;
    this.#tokenGrants = init.grants;
    this.#role = init.role;
    this.router = init.router;
    this.#keyFrameRequestDelayMs = init.keyFrameRequestDelayMs;
    this.#rules = init.rules;
    this.#lastN = new LastN({
      speakerOrder: init.speakerOrder,
      notify: (data) => this.notify('videoForwarding', data),
    });
    this.#consumers = new ViewerConsumers({
      lastN: this.#lastN,
      participantId: init.id,
      router: init.router,
      rtpCapabilities: init.rtpCapabilities,
      directory: init.directory,
      notify: (name, data) => this.notify(name, data),
      assertOpen: (object) => this.#assertOpen(object),
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Streams this participant receives now. */
  get consumerCount(): number {
    return this.#consumers.size;
  }

  info(): ParticipantInfo {
    return { id: this.id, identity: this.identity, name: this.name, role: this.#role };
  }

  get role(): Role {
    return this.#role;
  }

  /** The grants in force: the token's, with publishing only while on stage. */
  get grants(): Grants {
    if (this.#role === 'stage') return this.#tokenGrants;
    return { ...this.#tokenGrants, publish: false, publishSources: undefined };
  }

  /**
   * Moves the participant between stage and audience, live. Promotion grants what
   * the stage policy allows (stageGrants); demotion closes what it publishes and its
   * send transport.
   */
  setRole(role: Role): void {
    if (role === this.#role || this.#closed) return;
    this.#role = role;
    if (role === 'stage') this.#tokenGrants = stageGrants(this.#tokenGrants);
    if (role === 'audience') this.#transportFor('send')?.close();
    this.notify('roleChanged', { participantId: this.id, role, grants: this.grants });
  }

  producers(): IterableIterator<types.Producer<{ source: Source }>> {
    return this.#producers.values();
  }

  notify<N extends NotificationName>(name: N, data: NotificationData<N>): void {
    if (!this.#closed) this.emit('notification', name, data);
  }

  async createTransport({
    direction,
    forceTcp,
  }: RequestData<'createTransport'>): Promise<ResponseData<'createTransport'>> {
    this.#assertMayOpen(direction);
    const transport = this.#adopt(
      await this.router.router.createWebRtcTransport<{ direction: Direction }>({
        webRtcServer: this.router.worker.webRtcServer,
        iceConsentTimeout: this.router.worker.iceConsentTimeoutSeconds,
        enableUdp: !forceTcp,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData: { direction },
      }),
    );
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  async createPlainTransport({
    direction,
  }: RequestData<'createPlainTransport'>): Promise<ResponseData<'createPlainTransport'>> {
    const listenInfo = this.router.worker.plainRtpListenInfo;
    if (!listenInfo) throw new KaskadeError('FORBIDDEN', 'plain RTP is not enabled on this edge');
    this.#assertMayOpen(direction);
    const transport = this.#adopt(
      await this.router.router.createPlainTransport<{ direction: Direction }>({
        listenInfo,
        rtcpMux: true,
        comedia: false,
        appData: { direction },
      }),
    );
    return {
      id: transport.id,
      ip: transport.tuple.localAddress ?? transport.tuple.localIp,
      port: transport.tuple.localPort,
    };
  }

  async connectPlainTransport({
    transportId,
    ip,
    port,
  }: RequestData<'connectPlainTransport'>): Promise<void> {
    const transport = this.#transport(transportId);
    if (transport.type !== 'plain') throw new KaskadeError('BAD_REQUEST', 'not a plain transport');
    await transport.connect({ ip, port });
  }

  async connectTransport({ transportId, dtlsParameters }: RequestData<'connectTransport'>): Promise<void> {
    const transport = this.#webRtcTransport(transportId);
    if (transport.dtlsState !== 'new')
      throw new KaskadeError('INVALID_STATE', 'transport is connected already');
    await transport.connect({ dtlsParameters });
  }

  async restartIce({ transportId }: RequestData<'restartIce'>): Promise<ResponseData<'restartIce'>> {
    return { iceParameters: await this.#webRtcTransport(transportId).restartIce() };
  }

  async produce({
    transportId,
    kind,
    source,
    rtpParameters,
    paused,
  }: RequestData<'produce'>): Promise<ResponseData<'produce'>> {
    if (!this.grants.publish) throw new KaskadeError('FORBIDDEN', 'this token does not grant publishing');
    if (this.grants.publishSources && !this.grants.publishSources.includes(source)) {
      throw new KaskadeError('FORBIDDEN', `this token does not grant publishing ${source}`);
    }
    this.#rules.assertMayProduce(this, source, paused !== true);
    if (kindOfSource[source] !== kind) {
      throw new KaskadeError('BAD_REQUEST', `source ${source} carries ${kindOfSource[source]}, not ${kind}`);
    }
    const transport = this.#transport(transportId);
    if (transport.appData.direction !== 'send') throw new KaskadeError('BAD_REQUEST', 'not a send transport');
    if ([...this.#producers.values()].some((p) => p.appData.source === source)) {
      throw new KaskadeError('CONFLICT', `a ${source} stream is published already`);
    }
    const producer = await transport.produce<{ source: Source }>({
      kind,
      rtpParameters,
      paused: paused ?? false,
      keyFrameRequestDelay: this.#keyFrameRequestDelayMs,
      appData: { source },
    });
    this.#assertOpen(producer);
    this.#producers.set(producer.id, producer);
    producer.observer.once('close', () => this.#producers.delete(producer.id));
    this.emit('newproducer', producer, source);
    if (!producer.paused) this.#rules.unmuted(this, source);
    return { producerId: producer.id };
  }

  async pauseProducer({ producerId }: RequestData<'pauseProducer'>): Promise<void> {
    await this.#producer(producerId).pause();
  }

  async resumeProducer({ producerId }: RequestData<'resumeProducer'>): Promise<void> {
    const producer = this.#producer(producerId);
    this.#rules.assertMayUnmute(this, producer.appData.source);
    await producer.resume();
    this.#rules.unmuted(this, producer.appData.source);
  }

  /**
   * A moderator muted `source`: a microphone or camera is paused at the server (everyone
   * is told as for a pause of the participant's own), a screen share is stopped.
   */
  async muteSource(source: Source): Promise<void> {
    const screen = source === 'screen' || source === 'screen_audio';
    for (const producer of [...this.#producers.values()]) {
      const own = producer.appData.source;
      if (screen && (own === 'screen' || own === 'screen_audio')) producer.close();
      else if (own === source) await producer.pause();
    }
  }

  closeProducer({ producerId }: RequestData<'closeProducer'>): void {
    this.#producer(producerId).close();
  }

  async consume({ producerId }: RequestData<'consume'>): Promise<ResponseData<'consume'>> {
    if (!this.grants.subscribe) throw new KaskadeError('FORBIDDEN', 'this token does not grant subscribing');
    const transport = this.#transportFor('recv');
    if (!transport) throw new KaskadeError('INVALID_STATE', 'create a recv transport before consuming');
    return this.#consumers.consume(transport, producerId);
  }

  async pauseConsumer(data: RequestData<'pauseConsumer'>): Promise<void> {
    await this.#consumers.pause(data);
  }

  async resumeConsumer(data: RequestData<'resumeConsumer'>): Promise<void> {
    await this.#consumers.resume(data);
  }

  closeConsumer(data: RequestData<'closeConsumer'>): void {
    this.#consumers.close(data);
  }

  async setPreferredLayers(data: RequestData<'setPreferredLayers'>): Promise<void> {
    await this.#consumers.setPreferredLayers(data);
  }

  /** Last-N: the cameras of `n` remote participants only (`n` already within the edge's maximum). */
  setLastN(data: RequestData<'setLastN'>): void {
    this.#lastN.set(data);
  }

  /** The room's speaker order changed: last-N may forward other videos. */
  speakerOrderChanged(): void {
    this.#lastN.speakerOrderChanged();
  }

  /** Closes every transport (and so every producer and consumer) of this participant. */
  close(reason: LeaveReason): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of this.#transports.values()) transport.close();
    this.#transports.clear();
    this.#lastN.close();
    this.removeAllListeners();
    this.observer.emit('close', reason);
  }

  /** A mediasoup object created while the participant was closing must not outlive it. */
  #assertOpen(object: { close(): void }): void {
    if (!this.#closed) return;
    object.close();
    throw new KaskadeError('INVALID_STATE', 'participant has left');
  }

  #assertMayOpen(direction: Direction): void {
    if (direction === 'send' && !this.grants.publish) {
      throw new KaskadeError('FORBIDDEN', 'this token does not grant publishing');
    }
    if (direction === 'recv' && !this.grants.subscribe) {
      throw new KaskadeError('FORBIDDEN', 'this token does not grant subscribing');
    }
    if (this.#transportFor(direction)) {
      throw new KaskadeError(
        'CONFLICT',
        `a ${direction} transport exists already; use restartIce to recover it`,
      );
    }
  }

  #adopt<T extends MediaTransport>(transport: T): T {
    this.#assertOpen(transport);
    this.#transports.set(transport.id, transport);
    (transport.observer as types.TransportObserver).once('close', () =>
      this.#transports.delete(transport.id),
    );
    this.observer.emit('newtransport', transport);
    return transport;
  }

  #webRtcTransport(id: string): types.WebRtcTransport {
    const transport = this.#transport(id);
    if (transport.type !== 'webrtc') throw new KaskadeError('BAD_REQUEST', 'not a WebRTC transport');
    return transport;
  }

  #transportFor(direction: Direction) {
    return [...this.#transports.values()].find((t) => t.appData.direction === direction);
  }

  #transport(id: string) {
    const transport = this.#transports.get(id);
    if (!transport) throw new KaskadeError('NOT_FOUND', `no transport ${id}`);
    return transport;
  }

  #producer(id: string) {
    const producer = this.#producers.get(id);
    if (!producer) throw new KaskadeError('NOT_FOUND', `no producer ${id}`);
    return producer;
  }
}
