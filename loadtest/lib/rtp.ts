// RTP packets for tests and bots: synthetic Opus and VP8 that mediasoup parses as real.
export const OPUS_PT = 100;
export const VP8_PT = 101;

/** The RFC 6464 audio level header extension (what mediasoup's level observers read), and its id here. */
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' as const;
export const AUDIO_LEVEL_EXT_ID = 1;
/** The level a synthetic microphone reports until told otherwise: digital silence. */
export const SILENCE_DBOV = -127;

/** A one-byte-header extension block carrying the audio level `dBov` (-127..0), voice flagged above silence. */
export function audioLevelExtension(dBov: number): Buffer {
  const level = Math.min(127, Math.max(0, Math.round(-dBov)));
  const voice = level < 127 ? 0x80 : 0;
  return Buffer.from([0xbe, 0xde, 0x00, 0x01, AUDIO_LEVEL_EXT_ID << 4, voice | level, 0x00, 0x00]);
}

export function rtpPacket(
  pt: number,
  seq: number,
  ts: number,
  ssrc: number,
  payload: Buffer,
  extension?: Buffer,
): Buffer {
  const header = Buffer.alloc(12);
  header[0] = extension ? 0x90 : 0x80;
  header[1] = 0x80 | pt; // marker: one packet per frame
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(ts >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  return Buffer.concat(extension ? [header, extension, payload] : [header, payload]);
}

/** VP8 payload descriptor (RFC 7741: X, S, I with a 15-bit picture id) and a tiny frame. */
export function vp8Payload(pictureId: number, keyframe: boolean): Buffer {
  const descriptor = Buffer.from([0x90, 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff]);
  // Frame tag: bit 0 clear means key frame; key frames carry the start code and 320x240.
  const frame = keyframe
    ? Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00])
    : Buffer.from([0x11, 0x02, 0x00]);
  return Buffer.concat([descriptor, frame, Buffer.alloc(200, 0x33)]);
}

export function isRtcp(packet: Buffer): boolean {
  const pt = packet[1]! & 0x7f;
  return packet.length >= 8 && pt >= 72 && pt <= 79; // 200-207 with the marker bit folded in
}

/** SSRCs asked for a keyframe (PLI or FIR) in a compound RTCP packet. */
export function keyframeRequests(packet: Buffer): number[] {
  const ssrcs: number[] = [];
  for (let offset = 0; offset + 12 <= packet.length; ) {
    const fmt = packet[offset]! & 0x1f;
    const pt = packet[offset + 1]!;
    const length = (packet.readUInt16BE(offset + 2) + 1) * 4;
    if (pt === 206 && fmt === 1) ssrcs.push(packet.readUInt32BE(offset + 8)); // PLI: media source SSRC
    if (pt === 206 && fmt === 4 && offset + 16 <= packet.length) ssrcs.push(packet.readUInt32BE(offset + 12)); // FIR
    offset += length;
  }
  return ssrcs;
}

/** Where the payload of an RTP packet starts (after CSRCs and header extensions). */
export function payloadOffset(packet: Buffer): number {
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  return offset;
}

/** Where a VP8 frame starts in an RTP packet (after the RFC 7741 descriptor); -1 if it does not start here. */
function vp8FrameStart(packet: Buffer): number {
  const offset = payloadOffset(packet);
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
  return s ? p : -1;
}

export function isVp8Keyframe(packet: Buffer): boolean {
  const p = vp8FrameStart(packet);
  return p >= 0 && (packet[p]! & 0x01) === 0;
}

/**
 * The picture height a VP8 key frame carries (RFC 6386 9.1: after the 3-byte frame tag,
 * the start code, then width and height, 14 bits each, little-endian); undefined for
 * any other packet. Which simulcast layer arrives, told from the media itself.
 */
export function vp8KeyframeHeight(packet: Buffer): number | undefined {
  const p = vp8FrameStart(packet);
  if (p < 0 || (packet[p]! & 0x01) !== 0 || p + 10 > packet.length) return undefined;
  if (packet[p + 3] !== 0x9d || packet[p + 4] !== 0x01 || packet[p + 5] !== 0x2a) return undefined;
  return packet.readUInt16LE(p + 8) & 0x3fff;
}

export interface StreamSenderOptions {
  kind: 'audio' | 'video';
  ssrc: number;
  packetsPerSecond: number;
  /** 'periodic': a key frame every 25 frames; 'on-request': only the first and when asked (PLI/FIR). */
  keyframes?: 'periodic' | 'on-request';
  /** Audio only: the first 8 payload bytes carry the send time (ns, this machine's monotonic clock). */
  stamp?: boolean;
  send: (packet: Buffer) => void;
}

/** Sends one synthetic stream at a fixed packet rate until stopped. */
export class StreamSender {
  readonly #options: StreamSenderOptions;
  readonly #timer: NodeJS.Timeout;
  #seq = Math.floor(Math.random() * 60000);
  #frame = 0;
  #keyframeWanted = true;
  /** Audio only: the level (dBov) each packet's audio level extension reports. */
  audioLevel = SILENCE_DBOV;
  keyframesSent = 0;
  packetsSent = 0;
  /** Key-frame requests (PLI/FIR) for this stream that reached the sending socket. */
  keyframeRequests = 0;

  constructor(options: StreamSenderOptions) {
    this.#options = options;
    this.#timer = setInterval(() => this.#tick(), 1000 / options.packetsPerSecond);
  }

  /** Feed RTCP received on the sending socket: keyframe requests are honoured. */
  onRtcp(packet: Buffer): void {
    const asked = keyframeRequests(packet).filter((ssrc) => ssrc === this.#options.ssrc).length;
    this.keyframeRequests += asked;
    if (asked > 0) this.#keyframeWanted = true;
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const { kind, ssrc, send, keyframes = 'periodic' } = this.#options;
    const pt = kind === 'audio' ? OPUS_PT : VP8_PT;
    let payload: Buffer;
    if (kind === 'audio') {
      payload = Buffer.alloc(60, 0x5a);
      if (this.#options.stamp) payload.writeBigUInt64BE(process.hrtime.bigint(), 0);
    } else {
      const key = this.#keyframeWanted || (keyframes === 'periodic' && this.#frame % 25 === 0);
      this.#keyframeWanted = false;
      if (key) this.keyframesSent++;
      payload = vp8Payload(this.#frame, key);
    }
    const ts = this.#frame * (kind === 'audio' ? 960 : 3000);
    const extension = kind === 'audio' ? audioLevelExtension(this.audioLevel) : undefined;
    send(rtpPacket(pt, this.#seq, ts, ssrc, payload, extension));
    this.packetsSent++;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#frame++;
  }
}

export function rtpParametersFor(kind: 'audio' | 'video', ssrc: number | number[]) {
  const ssrcs = Array.isArray(ssrc) ? ssrc : [ssrc];
  return {
    ...(kind === 'audio' ? { headerExtensions: [{ uri: AUDIO_LEVEL_URI, id: AUDIO_LEVEL_EXT_ID }] } : {}),
    codecs:
      kind === 'audio'
        ? [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }]
        : [
            {
              mimeType: 'video/VP8',
              payloadType: VP8_PT,
              clockRate: 90000,
              rtcpFeedback: [
                { type: 'nack', parameter: 'pli' },
                { type: 'ccm', parameter: 'fir' },
              ],
            },
          ],
    encodings: ssrcs.map((s) => ({ ssrc: s })),
  };
}

/** A sender that wants the RTCP coming back to its socket (key frame requests). */
export interface RtcpListener {
  onRtcp(packet: Buffer): void;
}

export interface ReceivedStream {
  producerId: string;
  kind: 'audio' | 'video';
  ssrc: number;
  packets: number;
  /** RTP bytes received (headers included), for bitrates. */
  bytes: number;
  keyframes: number;
  /** When the first packet arrived (ms, performance.now()). */
  firstPacketAt?: number;
  /** Packets the sequence numbers say were sent (highest extended seq - first + 1). */
  expected: number;
  /** Extended sequence number bookkeeping. */
  seq?: { first: number; highest: number };
  expectedBefore?: number;
  /** Send-to-receive delays (µs) of stamped audio packets, when asked for. */
  delaysUs?: number[];
  /** Told of every packet's arrival (performance.now() ms), e.g. by a gap meter; survives rebinds. */
  onPacket?: (at: number) => void;
  /** Video: packets per layer, by the height of the key frame that started it ('?' before the first). */
  layerPackets: Record<string, number>;
  /** Video: the height of the last key frame, i.e. the simulcast layer arriving now. */
  height?: number;
  /** The last sender report of this SSRC (NTP middle 32 bits, when it came): for the receiver report's LSR/DLSR. */
  lastSr?: { ntpMiddle: number; at: number };
  /** What the previous receiver report covered, for its fraction lost. */
  reported?: { expected: number; packets: number };
  /** The layers this bot asks the edge for (simulcast video), kept across its consumers. */
  preferredLayers?: { spatialLayer: number; temporalLayer?: number };
}

/** Counts RTP packets (and VP8 key frames) per expected SSRC; hands RTCP to senders. */
export class RtpCounter {
  readonly received = new Map<number, ReceivedStream>();
  readonly #senders: RtcpListener[];
  readonly #pending = new Map<number, { stream: ReceivedStream; onSwitch: () => void }>();

  constructor(senders: RtcpListener[]) {
    this.#senders = senders;
  }

  expect(producerId: string, kind: 'audio' | 'video', ssrc: number): ReceivedStream {
    const stream: ReceivedStream = {
      producerId,
      kind,
      ssrc,
      packets: 0,
      bytes: 0,
      keyframes: 0,
      expected: 0,
      layerPackets: {},
    };
    this.received.set(ssrc, stream);
    return stream;
  }

  /**
   * Make-before-break: the stream will arrive under `ssrc` too (a second consumer of it);
   * packets of the old SSRC count until the first of the new one, which rebinds the
   * stream to it and calls `onSwitch` (the caller closes the old consumer).
   */
  switchOnFirstPacket(stream: ReceivedStream, ssrc: number, onSwitch: () => void): void {
    this.#pending.set(ssrc, { stream, onSwitch });
  }

  /** Forgets a switch that will not happen (its consumer closed first). */
  cancelSwitch(ssrc: number): void {
    this.#pending.delete(ssrc);
  }

  /** The same stream arrives under a new SSRC (a new consumer after a resubscription). */
  rebind(stream: ReceivedStream, ssrc: number): void {
    this.received.delete(stream.ssrc);
    stream.ssrc = ssrc;
    // A new consumer numbers its packets afresh: what was expected so far carries over.
    stream.seq = undefined;
    stream.expectedBefore = stream.expected;
    stream.lastSr = undefined;
    this.received.set(ssrc, stream);
  }

  onPacket(packet: Buffer): void {
    if (packet.length < 12 || packet[0]! >> 6 !== 2) return;
    if (isRtcp(packet)) {
      this.#onSenderReports(packet);
      for (const sender of this.#senders) sender.onRtcp(packet);
      return;
    }
    const ssrc = packet.readUInt32BE(8);
    let stream = this.received.get(ssrc);
    if (!stream) {
      const pending = this.#pending.get(ssrc);
      if (!pending) return;
      this.#pending.delete(ssrc);
      this.rebind(pending.stream, ssrc);
      pending.onSwitch();
      stream = pending.stream;
    }
    stream.packets++;
    stream.bytes += packet.length;
    const now = performance.now();
    stream.firstPacketAt ??= now;
    stream.onPacket?.(now);
    const seq = packet.readUInt16BE(2);
    if (!stream.seq) stream.seq = { first: seq, highest: seq };
    else {
      const delta = (seq - (stream.seq.highest & 0xffff) + 0x10000) & 0xffff;
      if (delta < 0x8000) stream.seq.highest += delta;
    }
    stream.expected = (stream.expectedBefore ?? 0) + stream.seq.highest - stream.seq.first + 1;
    if (stream.delaysUs && stream.kind === 'audio') {
      const sent = packet.readBigUInt64BE(payloadOffset(packet));
      stream.delaysUs.push(Number((process.hrtime.bigint() - sent) / 1000n));
    }
    if (stream.kind === 'video') {
      const height = vp8KeyframeHeight(packet);
      if (height !== undefined) stream.height = height;
      if (height !== undefined || isVp8Keyframe(packet)) stream.keyframes++;
      const layer = stream.height === undefined ? '?' : `${stream.height}p`;
      stream.layerPackets[layer] = (stream.layerPackets[layer] ?? 0) + 1;
    }
  }

  /** Keeps the last sender report of each stream received, for the receiver reports. */
  #onSenderReports(packet: Buffer): void {
    for (let offset = 0; offset + 20 <= packet.length; ) {
      if (packet[offset + 1] === 200) {
        const stream = this.received.get(packet.readUInt32BE(offset + 4));
        if (stream) stream.lastSr = { ntpMiddle: packet.readUInt32BE(offset + 10), at: performance.now() };
      }
      offset += (packet.readUInt16BE(offset + 2) + 1) * 4;
    }
  }
}

/** Video packets per layer (e.g. { '720p': 900, '360p': 12 }) over the given streams, each counted once. */
export function layerMix(streams: Iterable<ReceivedStream>): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const s of new Set(streams))
    for (const [layer, packets] of Object.entries(s.layerPackets)) mix[layer] = (mix[layer] ?? 0) + packets;
  return mix;
}

/** An RTCP sender report (RFC 3550): receivers (mediasoup's simulcast consumers) sync layers by it. */
export function rtcpSenderReport(
  ssrc: number,
  rtpTimestamp: number,
  packets: number,
  octets: number,
): Buffer {
  const packet = Buffer.alloc(28);
  packet[0] = 0x80;
  packet[1] = 200;
  packet.writeUInt16BE(6, 2);
  packet.writeUInt32BE(ssrc, 4);
  const ms = Date.now() + 2_208_988_800_000; // NTP epoch is 1900
  packet.writeUInt32BE(Math.floor(ms / 1000) >>> 0, 8);
  packet.writeUInt32BE(Math.floor(((ms % 1000) / 1000) * 2 ** 32) >>> 0, 12);
  packet.writeUInt32BE(rtpTimestamp >>> 0, 16);
  packet.writeUInt32BE(packets >>> 0, 20);
  packet.writeUInt32BE(octets >>> 0, 24);
  return packet;
}
