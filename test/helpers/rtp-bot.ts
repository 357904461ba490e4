import { createSocket, type Socket } from 'node:dgram';
import { SignalingChannel } from '../../client-sdk/src/SignalingChannel.ts';
import type { Source } from '../../control-plane/protocol/media.ts';
import type { ResponseData, StreamInfo } from '../../control-plane/protocol/signaling.ts';

const OPUS_PT = 100;
const VP8_PT = 101;

export interface ReceivedStream {
  producerId: string;
  kind: 'audio' | 'video';
  ssrc: number;
  packets: number;
  keyframes: number;
}

/**
 * A participant without a browser: joins through the real signaling, publishes
 * synthetic Opus and VP8 over plain RTP, and counts what it receives per stream.
 * For integration tests now and load bots later. Talks to loopback only.
 */
export class RtpBot {
  readonly channel: SignalingChannel;
  readonly joined: ResponseData<'join'>;
  readonly received = new Map<number, ReceivedStream>();
  readonly #socket: Socket;
  readonly #localIp: string;
  #sendTarget: { ip: string; port: number } | undefined;
  #sendTransportId: string | undefined;
  #recvTransportId: string | undefined;
  #timers: NodeJS.Timeout[] = [];

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
    socket.on('message', (packet) => this.#onRtp(packet));
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
  async publish(source: Source, { packetsPerSecond = 50, paused = false } = {}): Promise<string> {
    const kind = source === 'microphone' || source === 'screen_audio' ? 'audio' : 'video';
    if (!this.#sendTransportId) {
      const t = await this.channel.request('createPlainTransport', { direction: 'send' });
      const port = this.#socket.address().port;
      await this.channel.request('connectPlainTransport', { transportId: t.id, ip: this.#localIp, port });
      this.#sendTransportId = t.id;
      this.#sendTarget = { ip: t.ip, port: t.port };
    }
    const ssrc = 0x10000000 + Math.floor(Math.random() * 0x0fffffff);
    const pt = kind === 'audio' ? OPUS_PT : VP8_PT;
    const { producerId } = await this.channel.request('produce', {
      transportId: this.#sendTransportId,
      kind,
      source,
      paused,
      rtpParameters: {
        codecs:
          kind === 'audio'
            ? [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }]
            : [{ mimeType: 'video/VP8', payloadType: VP8_PT, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
    });
    let seq = Math.floor(Math.random() * 60000);
    let frame = 0;
    const target = this.#sendTarget!;
    const timer = setInterval(() => {
      const payload = kind === 'audio' ? Buffer.alloc(60, 0x5a) : vp8Payload(frame, frame % 25 === 0);
      const ts = frame * (kind === 'audio' ? 960 : 3000);
      this.#socket.send(rtpPacket(pt, seq, ts, ssrc, payload), target.port, target.ip);
      seq = (seq + 1) & 0xffff;
      frame++;
    }, 1000 / packetsPerSecond);
    this.#timers.push(timer);
    return producerId;
  }

  /** Consumes a stream over this bot's plain recv transport. */
  async consume(stream: Pick<StreamInfo, 'producerId'>): Promise<ReceivedStream> {
    if (!this.#recvTransportId) {
      const t = await this.channel.request('createPlainTransport', { direction: 'recv' });
      const port = this.#socket.address().port;
      await this.channel.request('connectPlainTransport', { transportId: t.id, ip: this.#localIp, port });
      this.#recvTransportId = t.id;
    }
    const answer = await this.channel.request('consume', { producerId: stream.producerId });
    const ssrc = answer.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) throw new Error('consumer has no ssrc');
    const received: ReceivedStream = {
      producerId: stream.producerId,
      kind: answer.kind,
      ssrc,
      packets: 0,
      keyframes: 0,
    };
    this.received.set(ssrc, received);
    await this.channel.request('resumeConsumer', { consumerId: answer.consumerId });
    return received;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (this.channel.open) await this.channel.request('leave', {}).catch(() => undefined);
    this.channel.close();
    this.#socket.close();
  }

  #onRtp(packet: Buffer): void {
    if (packet.length < 12 || packet[0]! >> 6 !== 2) return;
    const pt = packet[1]! & 0x7f;
    if (pt >= 72 && pt <= 79) return; // RTCP on the muxed port
    const stream = this.received.get(packet.readUInt32BE(8));
    if (!stream) return;
    stream.packets++;
    if (stream.kind === 'video' && isVp8Keyframe(packet)) stream.keyframes++;
  }
}

function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 0x80 | pt; // marker: one packet per frame
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(ts >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat([header, payload]);
}

/** VP8 payload descriptor (RFC 7741: X, S, I with a 15-bit picture id) and a tiny frame. */
function vp8Payload(pictureId: number, keyframe: boolean): Buffer {
  const descriptor = Buffer.from([0x90, 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff]);
  // Frame tag: bit 0 clear means key frame; key frames carry the start code and 320x240.
  const frame = keyframe
    ? Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00])
    : Buffer.from([0x11, 0x02, 0x00]);
  return Buffer.concat([descriptor, frame, Buffer.alloc(200, 0x33)]);
}

function isVp8Keyframe(packet: Buffer): boolean {
  const csrcCount = packet[0]! & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2); // header extensions
  const x = packet[offset]! & 0x80;
  const s = packet[offset]! & 0x10;
  let p = offset + 1;
  if (x) {
    const ext = packet[p]!;
    p++;
    if (ext & 0x80) p += packet[p]! & 0x80 ? 2 : 1;
    if (ext & 0x40) p++;
    if (ext & 0x30) p++;
  }
  return Boolean(s) && (packet[p]! & 0x01) === 0;
}
