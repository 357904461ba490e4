import type { LinkEndpoint } from '@kaskade/protocol';
import type { types } from 'mediasoup';
import type { CopyAppData, LinkAppData, LinkInfo, SendAppData } from './types.ts';

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
 * (the remote keys its sends the same way). Only the machinery holds a PipeLink.
 */
export class PipeLink {
  readonly room: string;
  readonly remoteNode: string;
  readonly #transport: types.PipeTransport<LinkAppData>;
  readonly #copies = new Map<string, types.Producer<CopyAppData>>();
  readonly #sends = new Map<string, types.Consumer<SendAppData>>();
  /** Copies being set up right now: the link is not idle while any is. */
  #pending = 0;

  constructor(transport: types.PipeTransport<LinkAppData>) {
    this.room = transport.appData.room;
    this.remoteNode = transport.appData.remoteNode;
    this.#transport = transport;
    linkOfTransport.set(transport, this);
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
    return this.#transport.connect(endpoint);
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

  info(): LinkInfo {
    return {
      room: this.room,
      remoteNode: this.remoteNode,
      remoteRegion: this.remoteRegion,
      copies: this.#copies.size,
      sends: this.#sends.size,
      localPort: this.#transport.tuple.localPort,
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

  async send(producerId: string, appData: SendAppData): Promise<types.Consumer<SendAppData>> {
    const consumer = await this.#transport.consume({ producerId, appData });
    this.#sends.set(appData.streamId, consumer);
    consumer.observer.once('close', () => {
      if (this.#sends.get(appData.streamId) === consumer) this.#sends.delete(appData.streamId);
    });
    return consumer;
  }

  sends(): types.Consumer<SendAppData>[] {
    return [...this.#sends.values()];
  }

  sendOf(streamId: string): types.Consumer<SendAppData> | undefined {
    return this.#sends.get(streamId);
  }

  /** Closing the transport closes every copy and send on it. */
  close(): void {
    this.#transport.close();
  }

  onClose(listener: () => void): void {
    this.#transport.observer.once('close', listener);
  }
}
