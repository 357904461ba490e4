import { createSocket, type Socket } from 'node:dgram';
import { RequestError, SignalingChannel } from '../../client-sdk/src/SignalingChannel.ts';
import type { Source } from '../../control-plane/protocol/media.ts';
import type { ResponseData, StreamInfo } from '../../control-plane/protocol/signaling.ts';
import { type RecordedMedia, RecordedSender } from './recorded-media.ts';
import { type ReceivedStream, type RtcpListener, RtpCounter, rtpParametersFor, StreamSender } from './rtp.ts';

export type { ReceivedStream };

/**
 * A participant without a browser: joins through the real signaling, publishes
 * synthetic Opus and VP8 over plain RTP, and counts what it receives per stream.
 * For integration tests now and load bots later. Talks to loopback only.
 */
export class RtpBot {
  readonly channel: SignalingChannel;
  readonly joined: ResponseData<'join'>;
  /** Producer ids named by stream notifications, per kind, in arrival order. */
  readonly seen = {
    streamAdded: [] as string[],
    streamPaused: [] as string[],
    streamResumed: [] as string[],
    streamClosed: [] as string[],
  };
  readonly #socket: Socket;
  readonly #localIp: string;
  #sendTarget: { ip: string; port: number } | undefined;
  #sendTransportId: string | undefined;
  #recvTransportId: string | undefined;
  /** What this bot sends: each gets the RTCP coming back and is stopped on close. */
  readonly #senders: (RtcpListener & { stop(): void })[] = [];
  readonly #consumers = new Map<string, { received: ReceivedStream }>();
  /** Consumers taken again after the edge closed them under a live stream. */
  resubscriptions = 0;
  /** The id of the consumer made last, for pausing or resuming it. */
  lastConsumerId: string | undefined;

  /** The current consumer of a stream this bot consumes. */
  consumerIdOf(producerId: string): string | undefined {
    for (const [id, { received }] of this.#consumers) if (received.producerId === producerId) return id;
    return undefined;
  }
  /** The sender of each stream this bot publishes, by producer id. */
  readonly senders = new Map<string, StreamSender>();
  readonly #counter = new RtpCounter(this.#senders);

  private constructor(
    channel: SignalingChannel,
    joined: ResponseData<'join'>,
    socket: Socket,
    localIp: string,
  ) {
    this.channel = channel;
    this.joined = joined;
    this.#socket = socket;
    this.#localIp = localIp;
    socket.on('message', (packet) => this.#counter.onPacket(packet));
    for (const name of ['streamAdded', 'streamPaused', 'streamResumed', 'streamClosed'] as const) {
      channel.on(name, ({ producerId }) => this.seen[name].push(producerId));
    }
    // Like the SDK: a consumer closed under a stream that still exists (its pipe went, a
    // relay died) is taken again, and counting carries on in the same ReceivedStream.
    channel.on('consumerClosed', ({ consumerId }) => {
      const entry = this.#consumers.get(consumerId);
      if (!entry) return;
      this.#consumers.delete(consumerId);
      this.resubscriptions++;
      void this.#resubscribe(entry.received);
    });
  }

  static async join(edgeUrl: string, token: string, localIp = '127.0.0.1'): Promise<RtpBot> {
    const channel = await SignalingChannel.open(edgeUrl);
    const { rtpCapabilities } = await channel.request('getRouterRtpCapabilities', {});
    const joined = await channel.request('join', { token, rtpCapabilities });
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, localIp, resolve));
    return new RtpBot(channel, joined, socket, localIp);
  }

  get id(): string {
    return this.joined.self.id;
  }

  /** Starts sending a synthetic stream at the given packet rate; returns the producer id. */
  async publish(
    source: Source,
    {
      packetsPerSecond = 50,
      paused = false,
      keyframes = 'periodic' as 'periodic' | 'on-request',
      stamp = false,
    } = {},
  ): Promise<string> {
    const kind = source === 'microphone' || source === 'screen_audio' ? 'audio' : 'video';
    await this.#sendTransport();
    const ssrc = 0x10000000 + Math.floor(Math.random() * 0x0fffffff);
    const { producerId } = await this.channel.request('produce', {
      transportId: this.#sendTransportId!,
      kind,
      source,
      paused,
      rtpParameters: rtpParametersFor(kind, ssrc),
    });
    const target = this.#sendTarget!;
    const sender = new StreamSender({
      kind,
      ssrc,
      packetsPerSecond,
      keyframes,
      stamp,
      send: (packet) => this.#socket.send(packet, target.port, target.ip),
    });
    this.#senders.push(sender);
    this.senders.set(producerId, sender);
    return producerId;
  }

  /**
   * Publishes the recording as a presenter would: camera as three simulcast layers
   * (one SSRC each) and microphone. Returns the producer ids and the sender.
   */
  async publishRecorded(
    media: RecordedMedia,
    { audio = true } = {},
  ): Promise<{ camera: string; microphone: string | undefined; sender: RecordedSender }> {
    const target = await this.#sendTransport();
    const videoSsrcs = [1, 2, 3].map(() => 0x30000000 + Math.floor(Math.random() * 0x0fffffff));
    const audioSsrc = 0x40000000 + Math.floor(Math.random() * 0x0fffffff);
    const produce = async (source: Source, kind: 'audio' | 'video', ssrc: number | number[]) =>
      (
        await this.channel.request('produce', {
          transportId: this.#sendTransportId!,
          kind,
          source,
          rtpParameters: rtpParametersFor(kind, ssrc),
        })
      ).producerId;
    const camera = await produce('camera', 'video', videoSsrcs);
    const microphone = audio ? await produce('microphone', 'audio', audioSsrc) : undefined;
    const sender = new RecordedSender({
      media,
      videoSsrcs,
      audioSsrc: audio ? audioSsrc : undefined,
      send: (packet) => this.#socket.send(packet, target.port, target.ip),
    });
    this.#senders.push(sender);
    return { camera, microphone, sender };
  }

  /** Consumes a stream over this bot's plain recv transport. */
  async consume(stream: Pick<StreamInfo, 'producerId'>): Promise<ReceivedStream> {
    if (!this.#recvTransportId) {
      const t = await this.channel.request('createPlainTransport', { direction: 'recv' });
      const port = this.#socket.address().port;
      await this.channel.request('connectPlainTransport', { transportId: t.id, ip: this.#localIp, port });
      this.#recvTransportId = t.id;
    }
    const received = this.#counter.expect(stream.producerId, 'audio', -1);
    await this.#consumeInto(received);
    return received;
  }

  /** Takes a stream again, retrying while it still exists (its new path may take a moment). */
  async #resubscribe(received: ReceivedStream): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 300 + attempt * 200));
      if (this.seen.streamClosed.includes(received.producerId) || !this.channel.open) return;
      try {
        await this.#consumeInto(received);
        return;
      } catch {
        // not there yet: try again
      }
    }
  }

  async #sendTransport(): Promise<{ ip: string; port: number }> {
    if (!this.#sendTransportId) {
      const t = await this.channel.request('createPlainTransport', { direction: 'send' });
      const port = this.#socket.address().port;
      await this.channel.request('connectPlainTransport', { transportId: t.id, ip: this.#localIp, port });
      this.#sendTransportId = t.id;
      this.#sendTarget = { ip: t.ip, port: t.port };
    }
    return this.#sendTarget!;
  }

  async #consumeInto(received: ReceivedStream): Promise<void> {
    const answer = await this.channel.request('consume', { producerId: received.producerId });
    const ssrc = answer.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) throw new Error('consumer has no ssrc');
    received.kind = answer.kind;
    this.#counter.rebind(received, ssrc);
    this.#consumers.set(answer.consumerId, { received });
    this.lastConsumerId = answer.consumerId;
    await this.channel
      .request('resumeConsumer', { consumerId: answer.consumerId })
      .catch((error: unknown) => {
        if (!(error instanceof RequestError && error.code === 'NOT_FOUND')) throw error;
        // Closed under us already (the tree moved), maybe before we knew its id: take it again.
        if (this.#consumers.delete(answer.consumerId)) {
          this.resubscriptions++;
          void this.#resubscribe(received);
        }
      });
  }

  async close(): Promise<void> {
    for (const sender of this.#senders.splice(0)) sender.stop();
    if (this.channel.open) await this.channel.request('leave', {}).catch(() => undefined);
    this.channel.close();
    this.#socket.close();
  }
}
