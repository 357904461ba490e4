import type {
  MediaKind,
  NotificationData,
  NotificationName,
  RequestData,
  ResponseData,
} from '@kaskade/protocol';
import { KaskadeError } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { LastN } from './LastN.ts';
import type { StreamDirectory } from './Participant.ts';
import type { ViewerAppData, ViewerConsumer } from './RemoteFeeds.ts';
import type { RoomRouter } from './RoomRouter.ts';

/** A viewer holds at most this many consumers of one stream: the current one and those it moves from. */
const MAX_CONSUMERS_PER_STREAM = 3;

export interface ViewerConsumersOptions {
  participantId: string;
  router: RoomRouter;
  rtpCapabilities: types.RtpCapabilities;
  directory: StreamDirectory;
  notify: <N extends NotificationName>(name: N, data: NotificationData<N>) => void;
  /** Which video consumers forward: the client's pause and resume of video go through it. */
  lastN: LastN;
  /** Closes a consumer made while its participant was closing, and says so (INVALID_STATE). */
  assertOpen: (object: { close(): void }) => void;
}

/**
 * What one participant receives: its consumers of the room's streams, on its recv
 * transport, with the layers a simulcast one should show and the news of each. They
 * close with that transport (the participant's close), so nothing here outlives it.
 */
export class ViewerConsumers {
  readonly #options: ViewerConsumersOptions;
  readonly #consumers = new Map<string, ViewerConsumer>();
  /** Simulcast consumers started on a low layer, and the layers to give them once they forward it. */
  readonly #layersToRestore = new Map<ViewerConsumer, types.ConsumerLayers>();

  constructor(options: ViewerConsumersOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#consumers.size;
  }

  /** A consumer of stream `producerId` on `transport` (the participant's recv transport). */
  async consume(transport: types.Transport, producerId: string): Promise<ResponseData<'consume'>> {
    const { participantId, router, rtpCapabilities, directory } = this.#options;
    const stream = directory.stream(producerId);
    if (!stream || stream.info.participantId === participantId) {
      throw new KaskadeError('NOT_FOUND', `no stream ${producerId} to consume`);
    }
    // While a stream moves to a new copy the viewer holds the old consumer and the new one.
    const ofStream = [...this.#consumers.values()].filter((c) => c.appData.streamId === producerId);
    if (ofStream.length >= MAX_CONSUMERS_PER_STREAM) {
      throw new KaskadeError('CONFLICT', `stream ${producerId} is consumed already`);
    }
    const localId = await directory.bringToRouter(producerId, router);
    if (ofStream.some((c) => c.producerId === localId)) {
      throw new KaskadeError('CONFLICT', `stream ${producerId} is consumed already`);
    }
    if (!router.router.canConsume({ producerId: localId, rtpCapabilities })) {
      throw new KaskadeError('BAD_REQUEST', `the client cannot decode stream ${producerId}`);
    }
    // The viewer's newest consumer of the stream (it is moving to another copy).
    const previous = ofStream.at(-1);
    const consumer = await transport.consume<ViewerAppData>({
      producerId: localId,
      rtpCapabilities,
      paused: true, // resumed by the client once its track exists, so no keyframe is lost
      // Simulcast starts on the layer the viewer had (or the lowest): see #settleLayers.
      preferredLayers: { spatialLayer: previous?.currentLayers?.spatialLayer ?? 0 },
      appData: { streamId: producerId, participantId },
    });
    this.#options.assertOpen(consumer);
    // Its producer may have gone in the same breath (a pipe moved): say so, the client retries.
    if (consumer.closed) throw new KaskadeError('UNAVAILABLE', `stream ${producerId} is moving; try again`);
    this.#track(consumer);
    if (consumer.kind === 'video') this.#options.lastN.add(consumer, stream.info);
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

  async pause({ consumerId }: RequestData<'pauseConsumer'>): Promise<void> {
    await this.#setPaused(this.#consumer(consumerId), true);
  }

  async resume({ consumerId }: RequestData<'resumeConsumer'>): Promise<void> {
    await this.#setPaused(this.#consumer(consumerId), false);
  }

  /** The client's pause: a video forwards only if last-N also chooses it. */
  async #setPaused(consumer: ViewerConsumer, paused: boolean): Promise<void> {
    const { lastN } = this.#options;
    if (lastN.has(consumer)) await lastN.setClientPaused(consumer, paused);
    else await (paused ? consumer.pause() : consumer.resume());
  }

  close({ consumerId }: RequestData<'closeConsumer'>): void {
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
    this.#options.directory.consumerLayersChanged(consumer);
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
      consumer
        .setPreferredLayers(wanted)
        .then(() => this.#options.directory.consumerLayersChanged(consumer))
        .catch(() => undefined); // closed meanwhile
    };
    consumer.on('layerschange', onLayers);
    consumer.observer.once('close', () => this.#layersToRestore.delete(consumer));
  }

  #track(consumer: ViewerConsumer): void {
    const { directory, notify } = this.#options;
    const id = consumer.id;
    this.#consumers.set(id, consumer);
    directory.consumerOpened(consumer);
    consumer.observer.once('close', () => {
      this.#consumers.delete(id);
      directory.consumerClosed(consumer);
    });
    consumer.on('producerclose', () => notify('consumerClosed', { consumerId: id }));
    consumer.on('layerschange', (layers) =>
      notify('consumerLayersChanged', {
        consumerId: id,
        spatialLayer: layers?.spatialLayer ?? null,
        temporalLayer: layers?.temporalLayer ?? null,
      }),
    );
    consumer.on('score', ({ score, producerScore }) =>
      notify('consumerScore', { consumerId: id, score, producerScore }),
    );
  }

  #consumer(id: string): ViewerConsumer {
    const consumer = this.#consumers.get(id);
    if (!consumer) throw new KaskadeError('NOT_FOUND', `no consumer ${id}`);
    return consumer;
  }
}
