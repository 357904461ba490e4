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
import { KaskadeError, kindOfSource, type MediaKind, type Role, type Source } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { ViewerAppData, ViewerConsumer } from './RemoteFeeds.ts';
import type { RoomRouter } from './RoomRouter.ts';

/** A viewer holds at most this many consumers of one stream: the current one and those it moves from. */
const MAX_CONSUMERS_PER_STREAM = 3;

type MediaTransport =
  | types.WebRtcTransport<{ direction: Direction }>
  | types.PlainTransport<{ direction: Direction }>;

/** What a promotion lets a participant publish when its token grants no publishing of its own. */
export const STAGE_SOURCES: readonly Source[] = ['camera', 'microphone', 'screen'];

/**
 * The room's stage policy, the one place it is written: on stage a participant
 * publishes what its token grants; one whose token grants no publishing, once
 * promoted, publishes the sources its token names in publishSources, or else
 * STAGE_SOURCES, never more.
 */
export function stageGrants(token: Grants): Grants {
  if (token.publish) return token;
  return { ...token, publish: true, publishSources: token.publishSources ?? [...STAGE_SOURCES] };
}

/** Why a participant went away; the signaling layer maps it to a close code. */
export type LeaveReason = 'left' | 'disconnected' | 'replaced' | 'room-closed' | 'shutdown';

/** What a participant needs from its room: finding streams and bringing them to its router. */
export interface StreamDirectory {
  stream(producerId: string): { info: StreamInfo } | undefined;
  /** Answers the id the stream has on that router (a remote stream's current copy). */
  bringToRouter(producerId: string, router: RoomRouter): Promise<string>;
  consumerOpened(consumer: ViewerConsumer): void;
  consumerClosed(consumer: ViewerConsumer): void;
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
}

/**
 * One participant of a room on this edge: owns its WebRTC transports, and through
 * them its producers and consumers. close() closes the transports, which closes
 * everything else; nothing it created outlives it.
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
  readonly #rtpCapabilities: types.RtpCapabilities;
  readonly #directory: StreamDirectory;
  readonly #transports = new Map<string, MediaTransport>();
  readonly #producers = new Map<string, types.Producer<{ source: Source }>>();
  readonly #consumers = new Map<string, ViewerConsumer>();
  /** Simulcast consumers started on a low layer, and the layers to give them once they forward it. */
  readonly #layersToRestore = new Map<ViewerConsumer, types.ConsumerLayers>();
  #closed = false;

  constructor(init: ParticipantInit) {
    super();
    this.id = init.id;
    this.identity = init.identity;
    this.name = init.name;
    this.#tokenGrants = init.grants;
    this.#role = init.role;
    this.router = init.router;
    this.#rtpCapabilities = init.rtpCapabilities;
    this.#directory = init.directory;
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
      appData: { source },
    });
    this.#assertOpen(producer);
    this.#producers.set(producer.id, producer);
    producer.observer.once('close', () => this.#producers.delete(producer.id));
    this.emit('newproducer', producer, source);
    return { producerId: producer.id };
  }

  async pauseProducer({ producerId }: RequestData<'pauseProducer'>): Promise<void> {
    await this.#producer(producerId).pause();
  }

  async resumeProducer({ producerId }: RequestData<'resumeProducer'>): Promise<void> {
    await this.#producer(producerId).resume();
  }

  closeProducer({ producerId }: RequestData<'closeProducer'>): void {
    this.#producer(producerId).close();
  }

  async consume({ producerId }: RequestData<'consume'>): Promise<ResponseData<'consume'>> {
    if (!this.grants.subscribe) throw new KaskadeError('FORBIDDEN', 'this token does not grant subscribing');
    const transport = this.#transportFor('recv');
    if (!transport) throw new KaskadeError('INVALID_STATE', 'create a recv transport before consuming');
    const stream = this.#directory.stream(producerId);
    if (!stream || stream.info.participantId === this.id) {
      throw new KaskadeError('NOT_FOUND', `no stream ${producerId} to consume`);
    }
    // While a stream moves to a new copy the viewer holds the old consumer and the new one.
    const ofStream = [...this.#consumers.values()].filter((c) => c.appData.streamId === producerId);
    if (ofStream.length >= MAX_CONSUMERS_PER_STREAM) {
      throw new KaskadeError('CONFLICT', `stream ${producerId} is consumed already`);
    }
    const localId = await this.#directory.bringToRouter(producerId, this.router);
    if (ofStream.some((c) => c.producerId === localId)) {
      throw new KaskadeError('CONFLICT', `stream ${producerId} is consumed already`);
    }
    if (!this.router.router.canConsume({ producerId: localId, rtpCapabilities: this.#rtpCapabilities })) {
      throw new KaskadeError('BAD_REQUEST', `the client cannot decode stream ${producerId}`);
    }
    // The viewer's newest consumer of the stream (it is moving to another copy).
    const previous = ofStream.at(-1);
    const consumer = await transport.consume<ViewerAppData>({
      producerId: localId,
      rtpCapabilities: this.#rtpCapabilities,
      paused: true, // resumed by the client once its track exists, so no keyframe is lost
      // Simulcast starts on the layer the viewer had (or the lowest): see #settleLayers.
      preferredLayers: { spatialLayer: previous?.currentLayers?.spatialLayer ?? 0 },
      appData: { streamId: producerId, participantId: this.id },
    });
    this.#assertOpen(consumer);
    // Its producer may have gone in the same breath (a pipe moved): say so, the client retries.
    if (consumer.closed) throw new KaskadeError('UNAVAILABLE', `stream ${producerId} is moving; try again`);
    this.#trackConsumer(consumer);
    this.#settleLayers(consumer, previous);
    return {
      consumerId: consumer.id,
      producerId,
      participantId: stream.info.participantId,
      kind: consumer.kind as MediaKind,
      source: stream.info.source,
      rtpParameters: consumer.rtpParameters,
      producerPaused: consumer.producerPaused,
    };
  }

  async pauseConsumer({ consumerId }: RequestData<'pauseConsumer'>): Promise<void> {
    await this.#consumer(consumerId).pause();
  }

  async resumeConsumer({ consumerId }: RequestData<'resumeConsumer'>): Promise<void> {
    await this.#consumer(consumerId).resume();
  }

  closeConsumer({ consumerId }: RequestData<'closeConsumer'>): void {
    this.#consumer(consumerId).close();
  }

  async setPreferredLayers({
    consumerId,
    spatialLayer,
    temporalLayer,
  }: RequestData<'setPreferredLayers'>): Promise<void> {
    const consumer = this.#consumer(consumerId);
    if (consumer.kind !== 'video') throw new KaskadeError('BAD_REQUEST', 'layers apply to video only');
    this.#layersToRestore.delete(consumer); // the client's choice wins over the one restored
    await consumer.setPreferredLayers({ spatialLayer, temporalLayer });
  }

  /** Closes every transport (and so every producer and consumer) of this participant. */
  close(reason: LeaveReason): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const transport of this.#transports.values()) transport.close();
    this.#transports.clear();
    this.removeAllListeners();
    this.observer.emit('close', reason);
  }

  /**
   * A simulcast consumer fixes its RTP timestamp reference on the first layer it
   * forwards, and may switch to another layer only once that layer's capture instants
   * are known (from three Sender Reports of its copy's pipe: ~3 s on a new pipe link).
   * Started on the highest layer, a consumer whose bandwidth estimate cannot carry it
   * is left with no layer at all until then: video stops for seconds after a move.
   * So it starts on the layer the viewer's previous consumer forwarded (or the lowest),
   * which the estimate carries, and once it forwards that layer the layers the viewer
   * wanted are restored: it moves up when the copy can switch, keeping the one it has.
   */
  #settleLayers(consumer: ViewerConsumer, previous: ViewerConsumer | undefined): void {
    if (consumer.type !== 'simulcast') return;
    // What the viewer wants: what it wanted of the previous consumer (restored or not yet), or the best.
    const wanted = previous && (this.#layersToRestore.get(previous) ?? previous.preferredLayers);
    this.#layersToRestore.set(consumer, wanted ?? { spatialLayer: 255, temporalLayer: 255 });
    const onLayers = (layers: types.ConsumerLayers | undefined) => {
      if (!layers) return;
      consumer.off('layerschange', onLayers);
      const wanted = this.#layersToRestore.get(consumer);
      this.#layersToRestore.delete(consumer);
      if (!wanted || consumer.closed) return;
      consumer.setPreferredLayers(wanted).catch(() => undefined); // closed meanwhile
    };
    consumer.on('layerschange', onLayers);
    consumer.observer.once('close', () => this.#layersToRestore.delete(consumer));
  }

  #trackConsumer(consumer: ViewerConsumer): void {
    const id = consumer.id;
    this.#consumers.set(id, consumer);
    this.#directory.consumerOpened(consumer);
    consumer.observer.once('close', () => {
      this.#consumers.delete(id);
      this.#directory.consumerClosed(consumer);
    });
    consumer.on('producerclose', () => this.notify('consumerClosed', { consumerId: id }));
    consumer.on('layerschange', (layers) =>
      this.notify('consumerLayersChanged', {
        consumerId: id,
        spatialLayer: layers?.spatialLayer ?? null,
        temporalLayer: layers?.temporalLayer ?? null,
      }),
    );
    consumer.on('score', ({ score, producerScore }) =>
      this.notify('consumerScore', { consumerId: id, score, producerScore }),
    );
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

  #consumer(id: string) {
    const consumer = this.#consumers.get(id);
    if (!consumer) throw new KaskadeError('NOT_FOUND', `no consumer ${id}`);
    return consumer;
  }
}
