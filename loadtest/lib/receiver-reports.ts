import type { ReceivedStream } from './rtp.ts';

/** How often a bot reports what it receives (RTCP RR), as a browser does about once a second. */
const RECEIVER_REPORT_MS = 1000;

type Target = { ip: string; port: number };

/**
 * A viewer's receiver reports: every second, to each recv transport the bot has (two
 * while it migrates), an RR about the streams that transport sends it. mediasoup
 * scores a consumer (and so judges what it may forward) by the loss its viewer reports.
 */
export class ReceiverReports {
  /** The SSRC the reports come from (the bot sends no media under it). */
  readonly #ssrc = 0x50000000 + Math.floor(Math.random() * 0x0fffffff);
  readonly #timer: NodeJS.Timeout;

  constructor(receiving: () => Map<Target, ReceivedStream[]>, send: (packet: Buffer, to: Target) => void) {
    this.#timer = setInterval(() => {
      for (const [to, streams] of receiving()) {
        const report = rtcpReceiverReport(this.#ssrc, streams);
        if (report) send(report, to);
      }
    }, RECEIVER_REPORT_MS);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

/**
 * An RTCP receiver report (RFC 3550 6.4.2) from `reporterSsrc` with a block per stream
 * that has received packets: loss since the last report and in all, highest sequence
 * number, LSR/DLSR. What a viewer sends; mediasoup scores its consumers by it.
 */
export function rtcpReceiverReport(reporterSsrc: number, streams: ReceivedStream[]): Buffer | undefined {
  const live = streams.filter((s) => s.seq !== undefined).slice(0, 31);
  if (live.length === 0) return undefined;
  const packet = Buffer.alloc(8 + 24 * live.length);
  packet[0] = 0x80 | live.length;
  packet[1] = 201;
  packet.writeUInt16BE(packet.length / 4 - 1, 2);
  packet.writeUInt32BE(reporterSsrc >>> 0, 4);
  const now = performance.now();
  for (const [i, s] of live.entries()) {
    const at = 8 + 24 * i;
    const previous = s.reported ?? { expected: s.expectedBefore ?? 0, packets: 0 };
    const expected = s.expected - previous.expected;
    const lost = expected - (s.packets - previous.packets);
    s.reported = { expected: s.expected, packets: s.packets };
    packet.writeUInt32BE(s.ssrc >>> 0, at);
    packet[at + 4] = expected > 0 && lost > 0 ? Math.min(255, Math.floor((lost * 256) / expected)) : 0;
    packet.writeUIntBE(Math.min(0x7fffff, Math.max(0, s.expected - s.packets)), at + 5, 3);
    packet.writeUInt32BE(s.seq!.highest >>> 0, at + 8);
    // Jitter (at + 12) stays 0: the bots' clocks tell nothing about the network's.
    if (s.lastSr) {
      packet.writeUInt32BE(s.lastSr.ntpMiddle >>> 0, at + 16);
      packet.writeUInt32BE(Math.floor(((now - s.lastSr.at) / 1000) * 65536) >>> 0, at + 20);
    }
  }
  return packet;
}
