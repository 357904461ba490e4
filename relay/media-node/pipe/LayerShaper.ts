import type { StreamDemand } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { ALL_LAYERS, demandedLayers } from './demand.ts';

/**
 * How long a shaper forwards every layer it may (the stream wanted), after it starts
 * and after its source resumes. A mediasoup SimulcastConsumer switches to a layer only
 * once that layer's capture instants are known (from a sender report, then a packet),
 * and it looks again only on the layer's score or first sender report: a layer that
 * first reaches the receiving node long after the others can have its first report
 * come before it is known, and its viewers stay below it for good (seen: a stage
 * viewer kept on 180p). Once a receiving copy knew a layer it does not forget, so
 * every layer crosses once at the start; the sender reports of the slowest layer
 * come about every second.
 */
const WARM_UP_MS = 3000;

/** The loopback pair a link's shapers share: layer consumers send on `out`, shaped producers receive on `in`. */
export interface LoopbackPair {
  out: types.PlainTransport;
  in: types.PlainTransport;
}

/**
 * Consumer capabilities for the layer consumers: the router's, without congestion
 * control (transport-cc, REMB and their header extensions: over loopback a bandwidth
 * estimate would only hold layers back) and without MID (the shaped producer is found
 * by SSRC).
 */
function layerCapabilities(router: types.RtpCapabilities): types.RtpCapabilities {
  const unwantedFeedback = new Set(['transport-cc', 'goog-remb']);
  return {
    codecs: router.codecs?.map((codec) => ({
      ...codec,
      rtcpFeedback: codec.rtcpFeedback?.filter((f) => !unwantedFeedback.has(f.type)),
    })),
    headerExtensions: router.headerExtensions?.filter(
      (h) => !/transport-wide-cc|abs-send-time|sdes:mid/.test(h.uri),
    ),
  };
}

/**
 * One simulcast stream as one link carries it: a SimulcastConsumer per spatial layer
 * of the source, each fixed on its layer (all temporal layers), sending over the
 * link's loopback into ONE simulcast producer whose encodings are those consumers'
 * SSRCs. The link's pipe consumer consumes that producer instead of the source, so a
 * layer whose consumer is paused does not cross the link, while the receiving node
 * still gets a simulcast stream its viewers switch layers in. RTCP flows back over
 * the loopback: the shaped producer's receiver reports score the layer consumers,
 * its key-frame requests reach the source through them (coalesced by
 * keyFrameRequestDelay). Closing it closes its consumers and its producer, which
 * closes the pipe consumer of it; the source's pause, resume and close reach the
 * shaped producer and so the pipe consumer as if it consumed the source.
 */
export class LayerShaper {
  readonly producer: types.Producer;
  readonly #layers: types.Consumer[];
  #demand: StreamDemand = ALL_LAYERS;
  #warmUntil = 0;
  #warmTimer: NodeJS.Timeout | undefined;
  /** Demand changes apply one after the other, each with the latest demand. */
  #applied: Promise<void> = Promise.resolve();

  private constructor(producer: types.Producer, layers: types.Consumer[]) {
    this.producer = producer;
    this.#layers = layers;
  }

  /** Whether a producer is shaped per layer: video of several encodings (simulcast). */
  static shapes(producer: types.Producer): boolean {
    return producer.kind === 'video' && (producer.rtpParameters.encodings?.length ?? 0) > 1;
  }

  static async create(
    pair: LoopbackPair,
    source: types.Producer,
    capabilities: types.RtpCapabilities,
    keyFrameRequestDelay: number,
  ): Promise<LayerShaper> {
    const rtpCapabilities = layerCapabilities(capabilities);
    const layers: types.Consumer[] = [];
    try {
      for (let spatialLayer = 0; spatialLayer < source.rtpParameters.encodings!.length; spatialLayer++) {
        layers.push(
          await pair.out.consume({
            producerId: source.id,
            rtpCapabilities,
            preferredLayers: { spatialLayer, temporalLayer: 255 },
          }),
        );
      }
      const first = layers[0]!.rtpParameters;
      // The source's temporal layers, per encoding ('L3T3' for the source is 'L1T3' for each layer).
      const temporal = /T(\d+)/.exec(first.encodings?.[0]?.scalabilityMode ?? '')?.[1] ?? '1';
      const producer = await pair.in.produce({
        kind: 'video',
        paused: source.paused,
        keyFrameRequestDelay,
        rtpParameters: {
          codecs: first.codecs,
          headerExtensions: first.headerExtensions,
          encodings: layers.map((layer) => {
            const { ssrc, rtx } = layer.rtpParameters.encodings![0]!;
            return { ssrc, ...(rtx ? { rtx } : {}), scalabilityMode: `L1T${temporal}` };
          }),
          rtcp: { cname: first.rtcp?.cname, reducedSize: true },
        },
      });
      const shaper = new LayerShaper(producer, layers);
      shaper.#follow(layers[0]!);
      if (!producer.paused) shaper.#warmUp();
      return shaper;
    } catch (error) {
      for (const layer of layers) layer.close();
      throw error;
    }
  }

  /** Spatial layers forwarded now (their consumers resumed). */
  get forwarding(): number[] {
    return this.#layers.flatMap((c, layer) => (c.paused ? [] : [layer]));
  }

  get layerCount(): number {
    return this.#layers.length;
  }

  get closed(): boolean {
    return this.producer.closed;
  }

  /**
   * Forwards the layers the demand asks for and pauses the others (all, when not
   * wanted; every layer while warming up). Layers that start are resumed before those
   * that stop are paused, so what flows never stops while the set changes.
   */
  setDemand(demand: StreamDemand): Promise<void> {
    this.#demand = demand;
    const applied = this.#applied.then(() => this.#apply());
    this.#applied = applied.catch(() => undefined);
    return applied;
  }

  async #apply(): Promise<void> {
    const warming = this.#demand.wanted && performance.now() < this.#warmUntil;
    const wanted = demandedLayers(warming ? ALL_LAYERS : this.#demand, this.#layers.length);
    const layers = [...this.#layers.entries()].filter(([, c]) => !c.closed);
    await Promise.all(layers.map(([l, c]) => (wanted.has(l) && c.paused ? c.resume() : undefined)));
    await Promise.all(layers.map(([l, c]) => (!wanted.has(l) && !c.paused ? c.pause() : undefined)));
  }

  close(): void {
    clearTimeout(this.#warmTimer);
    for (const layer of this.#layers) layer.close();
    this.producer.close();
  }

  /** Every layer for WARM_UP_MS, then the demand again. */
  #warmUp(): void {
    this.#warmUntil = performance.now() + WARM_UP_MS;
    clearTimeout(this.#warmTimer);
    this.#warmTimer = setTimeout(() => {
      if (!this.closed) this.setDemand(this.#demand).catch(() => undefined);
    }, WARM_UP_MS + 50); // after warmUntil, whatever the timer's precision
    this.setDemand(this.#demand).catch(() => undefined);
  }

  /** The source's pause, resume and close, as its pipe consumer would have seen them. */
  #follow(layer: types.Consumer): void {
    layer.on('producerpause', () => void this.producer.pause().catch(() => undefined));
    layer.on('producerresume', () => {
      void this.producer.resume().catch(() => undefined);
      this.#warmUp();
    });
    layer.observer.once('close', () => this.close());
  }
}
