import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  audioLevelExtension,
  keyframeRequests,
  OPUS_PT,
  type RtcpListener,
  rtcpSenderReport,
  rtpPacket,
  SILENCE_DBOV,
  VP8_PT,
} from './rtp.ts';
import { everyPeriod } from './send-clock.ts';

/**
 * A real presenter source: VP8 in three simulcast sizes and Opus, encoded once with
 * Debian's ffmpeg (test pattern and tone) and replayed as RTP, 30 frames/s and 20 ms
 * audio frames, looping. Key frames every 2 s, as the encoder made them.
 */
export interface RecordedMedia {
  /** VP8 frames per simulcast layer, low to high. */
  layers: Buffer[][];
  /** Opus packets, 20 ms each. */
  opus: Buffer[];
}

export const SIMULCAST_SIZES = ['320x180', '640x360', '1280x720'] as const;
const BITRATES = ['150k', '500k', '1200k'];

export function prepareRecordedMedia(dir: string, seconds = 10): RecordedMedia {
  mkdirSync(dir, { recursive: true });
  const ffmpeg = (args: string[]) =>
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
  const layers = SIMULCAST_SIZES.map((size, i) => {
    const file = join(dir, `camera-${size}.ivf`);
    if (!existsSync(file)) {
      ffmpeg([
        ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-t', String(seconds)],
        ...['-c:v', 'libvpx', '-b:v', BITRATES[i]!, '-deadline', 'realtime', '-cpu-used', '8', '-g', '60'],
        ...['-f', 'ivf', file],
      ]);
    }
    return readIvf(readFileSync(file));
  });
  const audioFile = join(dir, 'microphone.ogg');
  if (!existsSync(audioFile)) {
    ffmpeg([
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(seconds)],
      ...['-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', '-f', 'ogg', audioFile],
    ]);
  }
  return { layers, opus: readOggOpus(readFileSync(audioFile)) };
}

/** Frames of an IVF file (32-byte file header, then 12-byte frame headers). */
export function readIvf(file: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = file.readUInt16LE(6); offset + 12 <= file.length; ) {
    const size = file.readUInt32LE(offset);
    frames.push(file.subarray(offset + 12, offset + 12 + size));
    offset += 12 + size;
  }
  return frames;
}

/** Opus packets of an Ogg file, without the OpusHead and OpusTags headers. */
export function readOggOpus(file: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  for (
    let offset = 0;
    offset + 27 <= file.length && file.toString('latin1', offset, offset + 4) === 'OggS';
  ) {
    const segments = file[offset + 26]!;
    const table = file.subarray(offset + 27, offset + 27 + segments);
    let data = offset + 27 + segments;
    for (const length of table) {
      partial.push(file.subarray(data, data + length));
      data += length;
      if (length < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    offset = data;
  }
  return packets.slice(2);
}

const MAX_PAYLOAD = 1100;

/**
 * RFC 7741 packets of one VP8 frame, with the descriptor browsers send for simulcast:
 * a 15-bit picture id, TL0PICIDX and TID 0 (layer sync), S on the first packet; the
 * marker goes on the last.
 */
export function packetizeVp8(frame: Buffer, pictureId: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < frame.length; i += MAX_PAYLOAD) chunks.push(frame.subarray(i, i + MAX_PAYLOAD));
  return chunks.map((chunk, i) =>
    Buffer.concat([
      Buffer.from([
        i === 0 ? 0x90 : 0x80,
        0xe0,
        0x80 | ((pictureId >> 8) & 0x7f),
        pictureId & 0xff,
        pictureId & 0xff,
        0x20,
      ]),
      chunk,
    ]),
  );
}

export interface RecordedSenderOptions {
  media: RecordedMedia;
  /** SSRC of each simulcast layer, low to high; and of the audio. */
  videoSsrcs: number[];
  /** Without it, no audio is sent. */
  audioSsrc?: number;
  send: (packet: Buffer) => void;
}

/**
 * Replays the recording as RTP until stopped; counts what it sent. A key frame request
 * (PLI/FIR) makes it jump to the recording's next key frame at once, as an encoder
 * would make one, so a new viewer waits for the system, not for the recording's GOP.
 */
export class RecordedSender implements RtcpListener {
  packetsSent = 0;
  /** The level (dBov) each audio packet's audio level extension reports (the recording is not measured). */
  audioLevel = SILENCE_DBOV;
  /** Muted: no audio is sent (a paused microphone sends nothing); video goes on. */
  audioMuted = false;
  /**
   * Opus DTX, as the SDK asks browsers for: while the level says silence, one packet per
   * 400 ms instead of one per 20 ms (the recording's own frames, not comfort noise).
   */
  audioDtx = false;
  /** Key frame requests answered by jumping to the next key frame. */
  keyframeJumps = 0;
  /** Key-frame requests (PLI/FIR) that reached the sending socket, one per layer named. */
  keyframeRequests = 0;
  readonly #stops: (() => void)[] = [];
  readonly #videoSsrcs: number[];
  readonly #keyframeIndexes: number[];
  readonly #length: number;
  #cursor = 0;

  onRtcp(packet: Buffer): void {
    const asked = keyframeRequests(packet).filter((ssrc) => this.#videoSsrcs.includes(ssrc)).length;
    if (asked === 0) return;
    this.keyframeRequests += asked;
    if (this.#keyframeIndexes.length === 0) return;
    const length = this.#length;
    const position = this.#cursor % length;
    const next = this.#keyframeIndexes.find((i) => i >= position) ?? this.#keyframeIndexes[0]!;
    this.#cursor += (next - position + length) % length;
    this.keyframeJumps++;
  }

  constructor({ media, videoSsrcs, audioSsrc, send }: RecordedSenderOptions) {
    this.#videoSsrcs = videoSsrcs;
    const top = media.layers[0] ?? [];
    this.#length = top.length;
    // Key frames sit at the same indexes in every layer (one GOP setting for all sizes).
    this.#keyframeIndexes = top.flatMap((f, i) => ((f[0]! & 0x01) === 0 ? [i] : []));
    const seqs = new Map<number, number>();
    const counts = new Map<number, { packets: number; octets: number; ts: number }>();
    const sendRtp = (pt: number, ssrc: number, ts: number, payload: Buffer, marker: boolean) => {
      const seq = seqs.get(ssrc) ?? Math.floor(Math.random() * 60000);
      seqs.set(ssrc, (seq + 1) & 0xffff);
      const extension = pt === OPUS_PT ? audioLevelExtension(this.audioLevel) : undefined;
      const packet = rtpPacket(pt, seq, ts, ssrc, payload, extension);
      if (!marker) packet[1] = packet[1]! & 0x7f;
      send(packet);
      this.packetsSent++;
      const count = counts.get(ssrc) ?? { packets: 0, octets: 0, ts };
      counts.set(ssrc, { packets: count.packets + 1, octets: count.octets + payload.length, ts });
    };
    // Sender reports every second, as any real sender: simulcast layers are synced by them.
    this.#stops.push(
      everyPeriod(1000, () => {
        for (const [ssrc, c] of counts) send(rtcpSenderReport(ssrc, c.ts, c.packets, c.octets));
      }),
    );
    let frame = 0;
    this.#stops.push(
      everyPeriod(1000 / 30, () => {
        for (const [layer, frames] of media.layers.entries()) {
          const packets = packetizeVp8(frames[this.#cursor % frames.length]!, frame & 0x7fff);
          for (const [i, p] of packets.entries()) {
            sendRtp(VP8_PT, videoSsrcs[layer]!, frame * 3000, p, i === packets.length - 1);
          }
        }
        frame++;
        this.#cursor++;
      }),
    );
    let audio = 0;
    if (audioSsrc !== undefined) {
      this.#stops.push(
        everyPeriod(20, () => {
          // The timestamp runs on while muted, as a browser's does.
          const discontinued = this.audioDtx && this.audioLevel <= SILENCE_DBOV && audio % 20 !== 0;
          if (!this.audioMuted && !discontinued)
            sendRtp(OPUS_PT, audioSsrc, audio * 960, media.opus[audio % media.opus.length]!, true);
          audio++;
        }),
      );
    }
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
  }
}

/** RTP header (12) and VP8 descriptor (6) of each packet packetizeVp8 makes; RTP header and level extension of audio. */
const VIDEO_OVERHEAD = 18;
const AUDIO_OVERHEAD = 20;

/** RTP bytes the recording sends per second (headers included): each simulcast layer, low to high, and the audio. */
export function recordedByteRates(media: RecordedMedia): { layers: number[]; audio: number } {
  const perSecond = (frames: Buffer[], framesPerSecond: number, overhead: (f: Buffer) => number) =>
    frames.length === 0
      ? 0
      : (frames.reduce((n, f) => n + f.length + overhead(f), 0) / frames.length) * framesPerSecond;
  return {
    layers: media.layers.map((frames) =>
      perSecond(frames, 30, (f) => Math.ceil(f.length / MAX_PAYLOAD) * VIDEO_OVERHEAD),
    ),
    audio: perSecond(media.opus, 50, () => AUDIO_OVERHEAD),
  };
}
