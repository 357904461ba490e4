import { SignalingChannel } from '@kaskade/client-sdk/internals';
import type { MediaKind, RequestData, ResponseData, Source, StreamInfo } from '@kaskade/protocol';

type RtpCapabilities = ResponseData<'getRouterRtpCapabilities'>['rtpCapabilities'];

import { rtpParametersFor } from './rtp.ts';

/** What a bot published, to publish it again on the edge it migrates to. */
export type Publication = Omit<RequestData<'produce'>, 'transportId'>;

const randomSsrc = (base: number) => base + Math.floor(Math.random() * 0x0fffffff);

/** A synthetic stream of one source, on a random SSRC. */
export function syntheticPublication(source: Source, paused: boolean) {
  const kind: MediaKind = source === 'microphone' || source === 'screen_audio' ? 'audio' : 'video';
  const ssrc = randomSsrc(0x10000000);
  const publication = { kind, source, paused, rtpParameters: rtpParametersFor(kind, ssrc) } as const;
  return { kind, ssrc, publication };
}

/** A recording as a presenter publishes it: camera as three simulcast layers (an SSRC each), microphone. */
export function recordedPublications(audio: boolean) {
  const videoSsrcs = [1, 2, 3].map(() => randomSsrc(0x30000000));
  const audioSsrc = randomSsrc(0x40000000);
  const publications: Publication[] = [
    { kind: 'video', source: 'camera', rtpParameters: rtpParametersFor('video', videoSsrcs) },
    ...(audio
      ? [
          {
            kind: 'audio',
            source: 'microphone',
            rtpParameters: rtpParametersFor('audio', audioSsrc),
          } as const,
        ]
      : []),
  ];
  return { videoSsrcs, audioSsrc, publications };
}

/**
 * The router's capabilities as a plain-RTP bot can honour them: without transport-cc
 * and REMB (and their header extensions). A bot sends no congestion-control feedback,
 * and a consumer that negotiated it has its bitrate managed by an estimate that never
 * grows past its start (600 kb/s): simulcast then stays below the 720p layer, at a
 * different mix of 180p and 360p each run. Without it the consumer forwards the layer
 * the bot asks for (setPreferredLayers), scored by the bot's receiver reports.
 */
export function botRtpCapabilities(caps: RtpCapabilities): RtpCapabilities {
  return {
    ...caps,
    codecs: caps.codecs?.map((c) => ({
      ...c,
      rtcpFeedback: c.rtcpFeedback?.filter((f) => f.type !== 'transport-cc' && f.type !== 'goog-remb'),
    })),
    headerExtensions: caps.headerExtensions?.filter(
      (h) => !h.uri.includes('transport-wide-cc') && !h.uri.includes('abs-send-time'),
    ),
  };
}

/** The key of a stream that outlives its producer id: its participant and source. */
export const streamKey = (s: Pick<StreamInfo, 'participantId' | 'source'>) =>
  `${s.participantId}/${s.source}`;

/**
 * A bot's session with one edge: its signaling and its plain transports there. A bot
 * has one, and two while it migrates from one edge to the next.
 */
export class BotLeg {
  /** The edge's URL (the one joined, or the one a migration named). */
  readonly url: string;
  readonly channel: SignalingChannel;
  readonly joined: ResponseData<'join'>;
  /** The newest stream of each key (participant + source) this edge offers, by key. */
  readonly latest: Map<string, string>;
  send: { transportId: string; target: { ip: string; port: number } } | undefined;
  /** Where this edge's recv transport listens: the bot's receiver reports go there. */
  recvTarget: { ip: string; port: number } | undefined;

  private constructor(url: string, channel: SignalingChannel, joined: ResponseData<'join'>) {
    this.url = url;
    this.channel = channel;
    this.joined = joined;
    this.latest = new Map(joined.streams.map((s) => [streamKey(s), s.producerId]));
  }

  /** Joins the edge at `url` (as participant `resume`, if given). */
  static async open(
    url: string,
    token: string,
    resume: string | undefined,
    reconnect = false,
  ): Promise<BotLeg> {
    const channel = await SignalingChannel.open(url);
    try {
      const { rtpCapabilities } = await channel.request('getRouterRtpCapabilities', {});
      const joined = await channel.request('join', {
        token,
        rtpCapabilities: botRtpCapabilities(rtpCapabilities),
        ...(resume ? { resume } : {}),
        ...(reconnect ? { reconnect } : {}),
      });
      return new BotLeg(url, channel, joined);
    } catch (error) {
      channel.close();
      throw error;
    }
  }

  /**
   * Produces over this edge's send transport, made on first use towards the bot's socket
   * at `ip`:`port`; `newTarget` is where the bot's RTP must now go as well.
   */
  async produce(
    publication: Publication,
    ip: string,
    port: number,
  ): Promise<{ producerId: string; newTarget?: { ip: string; port: number } }> {
    let newTarget: { ip: string; port: number } | undefined;
    if (!this.send) {
      const t = await this.channel.request('createPlainTransport', { direction: 'send' });
      await this.channel.request('connectPlainTransport', { transportId: t.id, ip, port });
      this.send = { transportId: t.id, target: { ip: t.ip, port: t.port } };
      newTarget = this.send.target;
    }
    const { producerId } = await this.channel.request('produce', {
      transportId: this.send.transportId,
      ...publication,
    });
    return newTarget ? { producerId, newTarget } : { producerId };
  }

  /** This edge's recv transport towards the bot's socket, made on first use. */
  async recvTransport(ip: string, port: number): Promise<void> {
    if (this.recvTarget) return;
    const t = await this.channel.request('createPlainTransport', { direction: 'recv' });
    await this.channel.request('connectPlainTransport', { transportId: t.id, ip, port });
    this.recvTarget = { ip: t.ip, port: t.port };
  }
}
