import { createSocket, type Socket } from 'node:dgram';
import { type ReceivedStream, RtpCounter, rtpParametersFor, StreamSender } from '@kaskade/load-tools';
import type { types } from 'mediasoup';

/**
 * Sends and receives plain RTP directly on a router, for tests of the media
 * machinery below the signaling (pipes, relays). Loopback only.
 */
export class PlainPeer {
  readonly #router: types.Router;
  readonly #socket: Socket;
  readonly #senders: StreamSender[] = [];
  readonly #counter = new RtpCounter(this.#senders);
  readonly #transports: types.PlainTransport[] = [];

  private constructor(router: types.Router, socket: Socket) {
    this.#router = router;
    this.#socket = socket;
    socket.on('message', (packet) => this.#counter.onPacket(packet));
  }

  static async create(router: types.Router): Promise<PlainPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new PlainPeer(router, socket);
  }

  async publish(
    kind: 'audio' | 'video',
    { packetsPerSecond = 50, keyframes = 'periodic' as 'periodic' | 'on-request' } = {},
  ): Promise<{ producer: types.Producer; sender: StreamSender }> {
    const transport = await this.#transport();
    const ssrc = 0x20000000 + Math.floor(Math.random() * 0x0fffffff);
    const producer = await transport.produce({ kind, rtpParameters: rtpParametersFor(kind, ssrc) });
    const { localAddress, localIp, localPort } = transport.tuple;
    const sender = new StreamSender({
      kind,
      ssrc,
      packetsPerSecond,
      keyframes,
      send: (packet) => this.#socket.send(packet, localPort, localAddress ?? localIp),
    });
    this.#senders.push(sender);
    return { producer, sender };
  }

  /** Consumes a producer present on this peer's router; counts what arrives. */
  async consume(producerId: string): Promise<{ consumer: types.Consumer; received: ReceivedStream }> {
    const transport = await this.#transport();
    const consumer = await transport.consume({ producerId, rtpCapabilities: this.#router.rtpCapabilities });
    const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) throw new Error('consumer has no ssrc');
    return { consumer, received: this.#counter.expect(producerId, consumer.kind, ssrc) };
  }

  close(): void {
    for (const sender of this.#senders.splice(0)) sender.stop();
    for (const transport of this.#transports) transport.close();
    this.#socket.close();
  }

  /** One plain transport per consumer or producer, all talking to this peer's socket. */
  async #transport(): Promise<types.PlainTransport> {
    const transport = await this.#router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
      rtcpMux: true,
      comedia: false,
    });
    await transport.connect({ ip: '127.0.0.1', port: this.#socket.address().port });
    this.#transports.push(transport);
    return transport;
  }
}
