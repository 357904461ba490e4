import { createHash } from 'node:crypto';
import type { LinkEndpoint, StreamDemand } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import { ALL_LAYERS } from './demand.ts';
import { LayerShaper } from './LayerShaper.ts';
import type { LinkShaping } from './LinkShaping.ts';
import type { CopyAppData, LinkAppData, LinkInfo, SendAppData, SendCensus } from './types.ts';

/** A local stream carried to the remote: its pipe consumer, the shaper it consumes (simulcast) and the demand it serves. */
interface Send {
  consumer: types.Consumer<SendAppData>;
  shaper: LayerShaper | undefined;
  demand: StreamDemand;
  /** The demand being applied: changes apply one after the other, the latest last. */
  applied: Promise<void>;
}

/** Pipe transports made by the machinery, so the stats sampler can name a link's remote region. */
const linkOfTransport = new WeakMap<types.Transport, PipeLink>();

/** The region at the other end of a pipe transport the machinery made, if it is one. */
export function pipeRemoteRegion(transport: types.Transport): string | undefined {
  return linkOfTransport.get(transport)?.remoteRegion || undefined;
}

/**
 * One PipeTransport of a (room, this node, remote node) link. Every stream of the
 * room between the two nodes crosses it: copies are producers this node receives
 * from the remote, sends are pipe consumers carrying local producers to it. Both are
 * keyed by the origin's producer id: a link carries a stream at most once each way
 * (the remote keys its sends the same way). A simulcast send crosses the link's
 * layer shaping, so it carries only the layers its demand names. Only the machinery
 * holds a PipeLink.
 */
export class PipeLink {
  readonly room: string;
  readonly remoteNode: string;
  readonly #transport: types.PipeTransport<LinkAppData>;
  readonly #copies = new Map<string, types.Producer<CopyAppData>>();
  readonly #sends = new Map<string, Send>();
  readonly #shaping: LinkShaping;
  /** Copies being set up right now: the link is not idle while any is. */
  #pending = 0;
  /** The remote end's link id (see linkId), learnt when connecting to it. */
  #remoteLinkId: string | undefined;

  constructor(transport: types.PipeTransport<LinkAppData>, shaping: LinkShaping) {
    this.room = transport.appData.room;
    this.remoteNode = transport.appData.remoteNode;
    this.#transport = transport;
    this.#shaping = shaping;
    linkOfTransport.set(transport, this);
    transport.observer.once('close', () => shaping.close());
  }

  get remoteRegion(): string {
    return this.#transport.appData.remoteRegion;
  }

  /** The region comes in the openLink exchange, after the transport exists. */
  learnRegion(region: string): void {
    this.#transport.appData.remoteRegion = region;
  }

  get endpoint(): LinkEndpoint {
    const { tuple, srtpParameters } = this.#transport;
    if (!srtpParameters) throw new Error('pipe transport without SRTP');
    return { ip: tuple.localAddress ?? tuple.localIp, port: tuple.localPort, srtpParameters };
  }

  connect(endpoint: LinkEndpoint): Promise<void> {
    this.#remoteLinkId = linkIdOf(endpoint);
    return this.#transport.connect(endpoint);
  }

  /**
   * Names this end of the link apart from earlier and later links between the same
   * nodes for the same room (a digest of its SRTP key, new with every transport), so
   * the remote can tell a close meant for a link it has since replaced.
   */
  get linkId(): string {
    return linkIdOf(this.endpoint);
  }

  /** Whether `linkId` names the remote end this link is connected to. */
  connectedTo(linkId: string): boolean {
    return this.#remoteLinkId === linkId;
  }

  get closed(): boolean {
    return this.#transport.closed;
  }

  get empty(): boolean {
    return this.#copies.size === 0 && this.#sends.size === 0 && this.#pending === 0;
  }

  /** Bytes received so far (RTP and RTCP), or undefined once the transport is gone. */
  async bytesReceived(): Promise<number | undefined> {
    const [stats] = await this.#transport.getStats().catch(() => []);
    return stats?.bytesReceived;
  }

  async census(): Promise<{ bytesIn: number; bytesOut: number }> {
    const [stats] = await this.#transport.getStats().catch(() => []);
    return { bytesIn: stats?.bytesReceived ?? 0, bytesOut: stats?.bytesSent ?? 0 };
  }

  /** Each send's bytes so far and the layers it forwards, for census endpoints and benchmarks. */
  async sendCensus(): Promise<SendCensus[]> {
    return Promise.all(
      [...this.#sends.entries()].map(async ([producerId, { consumer }]) => {
        const stats = await consumer.getStats().catch(() => []);
        const bytesOut = stats.reduce((n, s) => n + (s.type === 'outbound-rtp' ? s.byteCount : 0), 0);
        return { producerId, bytesOut, spatialLayers: this.forwardedLayers(producerId) };
      }),
    );
  }

  info(): LinkInfo {
    const shapers = [...this.#sends.values()].flatMap((s) => (s.shaper ? [s] : []));
    const forwarding = shapers.reduce((n, s) => n + (s.consumer.paused ? 0 : s.shaper!.forwarding.length), 0);
    const layers = shapers.reduce((n, s) => n + s.shaper!.layerCount, 0);
    return {
      room: this.room,
      remoteNode: this.remoteNode,
      remoteRegion: this.remoteRegion,
      copies: this.#copies.size,
      sends: this.#sends.size,
      localPort: this.#transport.tuple.localPort,
      shapedLayers: { forwarding, paused: layers - forwarding },
    };
  }

  // Copies (this node receives).

  /** Marks a copy being set up, so the link is not closed as idle meanwhile; returns its end. */
  begin(): () => void {
    this.#pending++;
    let done = false;
    return () => {
      if (!done) this.#pending--;
      done = true;
    };
  }

  /** A copy of `streamId` produced on this link; it leaves the link when it closes. */
  async produce(options: types.ProducerOptions<CopyAppData>): Promise<types.Producer<CopyAppData>> {
    const { streamId } = options.appData!;
    const copy = await this.#transport.produce(options);
    this.#copies.set(streamId, copy);
    copy.observer.once('close', () => {
      if (this.#copies.get(streamId) === copy) this.#copies.delete(streamId);
    });
    return copy;
  }

  copy(streamId: string): types.Producer<CopyAppData> | undefined {
    return this.#copies.get(streamId);
  }

  copies(): types.Producer<CopyAppData>[] {
    return [...this.#copies.values()];
  }

  // Sends (this node sends).

  /**
   * Carries `producer` to the remote: a pipe consumer of it, or for simulcast of a
   * shaper of it on this link. Starts with every layer, as a send without layers did.
   */
  async send(producer: types.Producer, appData: SendAppData): Promise<types.Consumer<SendAppData>> {
    const shaper = LayerShaper.shapes(producer) ? await this.#shaping.shape(producer) : undefined;
    let consumer: types.Consumer<SendAppData>;
    try {
      consumer = await this.#transport.consume({ producerId: shaper?.producer.id ?? producer.id, appData });
    } catch (error) {
      shaper?.close();
      throw error;
    }
    const send: Send = { consumer, shaper, demand: ALL_LAYERS, applied: Promise.resolve() };
    this.#sends.set(appData.streamId, send);
    consumer.observer.once('close', () => {
      shaper?.close();
      if (this.#sends.get(appData.streamId) === send) this.#sends.delete(appData.streamId);
    });
    return consumer;
  }

  sends(): types.Consumer<SendAppData>[] {
    return [...this.#sends.values()].map((s) => s.consumer);
  }

  sendOf(streamId: string): types.Consumer<SendAppData> | undefined {
    return this.#sends.get(streamId)?.consumer;
  }

  /** The spatial layers a simulcast send forwards now (none while paused); null for other streams. */
  forwardedLayers(streamId: string): number[] | null {
    const send = this.#sends.get(streamId);
    if (!send?.shaper) return null;
    return send.consumer.paused ? [] : send.shaper.forwarding;
  }

  /** What the remote last asked of a stream this link carries. */
  demandOf(streamId: string): StreamDemand | undefined {
    return this.#sends.get(streamId)?.demand;
  }

  /**
   * Gives a send what the remote asks: nothing (its pipe consumer and layers paused)
   * or the layers named. Layers start before the pipe consumer resumes and stop after
   * it paused, so a key frame requested on resume finds them flowing.
   */
  async setDemand(streamId: string, demand: StreamDemand): Promise<boolean> {
    const send = this.#sends.get(streamId);
    if (!send) return false;
    send.demand = demand;
    const applied = send.applied.then(() => PipeLink.#apply(send));
    send.applied = applied.catch(() => undefined);
    await applied;
    return true;
  }

  static async #apply({ consumer, shaper, demand }: Send): Promise<void> {
    if (consumer.closed) return;
    if (demand.wanted) {
      await shaper?.setDemand(demand);
      await consumer.resume();
    } else {
      await consumer.pause();
      await shaper?.setDemand(demand);
    }
  }

  /** Closing the transport closes every copy and send on it. */
  close(): void {
    this.#transport.close();
  }

  onClose(listener: () => void): void {
    this.#transport.observer.once('close', listener);
  }
}

function linkIdOf(endpoint: LinkEndpoint): string {
  return createHash('sha256').update(endpoint.srtpParameters.keyBase64).digest('hex').slice(0, 32);
}
