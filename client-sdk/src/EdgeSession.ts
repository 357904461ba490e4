import type { RequestData, ResponseData, Source } from '@kaskade/protocol';
import type { Device } from 'mediasoup-client';
import type { Producer, RtpCapabilities, RtpEncodingParameters, Transport } from 'mediasoup-client/types';
import { restartIceWhenLost } from './iceRestart.ts';
import type { Publication } from './Publications.ts';
import { SignalingChannel } from './SignalingChannel.ts';
import type { JoinTicket } from './types.ts';

const CAMERA_LAYERS: RtpEncodingParameters[] = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

type JoinRequest = Omit<RequestData<'join'>, 'rtpCapabilities'>;

/**
 * One connection to one edge: its signaling channel, its transports and what it publishes.
 * A room has one at a time, except while it migrates or recovers: then it opens a second
 * session, switches the remote tracks over, and closes the first; nothing of one session
 * leaks into the other, so undoing a failed move is closing the new session.
 */
export class EdgeSession {
  readonly channel: SignalingChannel;
  readonly #device: Device;
  readonly #forceTcp: boolean;
  readonly #producers = new Map<Source, Producer>();
  #node: string | undefined;
  #send: Transport | undefined;
  #recv: Transport | undefined;
  #closed = false;

  private constructor(
    channel: SignalingChannel,
    device: Device,
    forceTcp: boolean,
    node: string | undefined,
  ) {
    this.channel = channel;
    this.#device = device;
    this.#forceTcp = forceTcp;
    this.#node = node;
  }

  /** Opens the signaling channel to the ticket's edge (rejects when it cannot be reached). */
  static async open(ticket: JoinTicket, device: Device, forceTcp: boolean): Promise<EdgeSession> {
    const channel = await SignalingChannel.open(ticket.url);
    return new EdgeSession(channel, device, forceTcp, ticket.node);
  }

  /** The edge's node id: as the edge itself answered the join, or as the ticket named it before. */
  get node(): string | undefined {
    return this.#node;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The receiving transport, once joined with the subscribe grant. */
  get recv(): Transport | undefined {
    return this.#recv;
  }

  /**
   * Joins the room on this edge (loading the device from its codecs first, once per room).
   * In a room with a lobby the edge holds the answer until a moderator admits us, telling
   * us our place (`lobbyWaiting`, to `onLobby`) meanwhile: the join then waits as long as
   * that takes. Denied, it fails FORBIDDEN.
   */
  async join(request: JoinRequest, onLobby?: (position: number) => void): Promise<ResponseData<'join'>> {
    if (!this.#device.loaded) {
      const { rtpCapabilities } = await this.channel.request('getRouterRtpCapabilities', {});
      await this.#device.load({ routerRtpCapabilities: rtpCapabilities as RtpCapabilities });
    }
    const offLobby = this.channel.on('lobbyWaiting', ({ position }) => onLobby?.(position));
    try {
      const joined = await this.channel.request(
        'join',
        {
          ...request,
          rtpCapabilities: this.#device
            .recvRtpCapabilities as ResponseData<'getRouterRtpCapabilities'>['rtpCapabilities'],
        },
        { heldBy: 'lobbyWaiting' },
      );
      this.#node = joined.node;
      return joined;
    } finally {
      offLobby();
    }
  }

  /** A moderator paused what we publish of `source` at the edge: pause our side too, saying nothing. */
  pausedByModerator(source: Source): void {
    this.#producers.get(source)?.pause();
  }

  /** A moderator closed what we published of `source` (a screen share) at the edge: let go of it here. */
  closedByModerator(source: Source): void {
    this.#producers.get(source)?.close();
    this.#producers.delete(source);
  }

  /** Makes the receiving transport (once joined with the subscribe grant). */
  async openRecv(): Promise<void> {
    this.#recv ??= await this.#createTransport('recv');
  }

  producer(source: Source): Producer | undefined {
    return this.#producers.get(source);
  }

  /** Publishes a publication on this edge (the send transport is made on the first). */
  async produce(publication: Publication): Promise<void> {
    this.#send ??= await this.#createTransport('send');
    const isVideo = publication.track.kind === 'video';
    const vp8 = this.#device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
    const producer = await this.#send.produce({
      track: publication.track,
      encodings: isVideo && publication.simulcast ? CAMERA_LAYERS : undefined,
      codec: isVideo ? vp8 : undefined,
      codecOptions: isVideo ? { videoGoogleStartBitrate: 1000 } : { opusDtx: true, opusFec: true },
      stopTracks: false, // the application owns its tracks; they outlive reconnects
      zeroRtpOnPause: true,
      disableTrackOnPause: false,
      appData: { source: publication.source, paused: publication.paused },
    });
    if (this.#closed) return void producer.close();
    this.#producers.set(publication.source, producer);
    if (publication.paused) producer.pause();
  }

  async unpublish(source: Source): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    this.#producers.delete(source);
    producer.close();
    if (this.channel.open) await this.channel.request('closeProducer', { producerId: producer.id });
  }

  async setPaused(source: Source, paused: boolean): Promise<void> {
    const producer = this.#producers.get(source);
    if (!producer) return;
    if (paused) producer.pause();
    else producer.resume();
    await this.channel.request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  /** Moved to the audience: the edge closed what we published; let go of it here too. */
  stopPublishing(): void {
    for (const producer of this.#producers.values()) producer.close();
    this.#producers.clear();
    this.#send?.close();
    this.#send = undefined;
  }

  /** Says goodbye to the edge (when it still listens), then closes. */
  async leave(): Promise<void> {
    try {
      if (this.channel.open) await this.channel.request('leave', {});
    } catch {
      // Leaving anyway.
    }
    this.close();
  }

  /** Closes the transports (their producers and consumers with them) and the channel. */
  close(code?: number, reason?: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#producers.clear();
    this.#send?.close();
    this.#recv?.close();
    this.channel.close(code, reason);
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<Transport> {
    const { channel } = this;
    const params = await channel.request('createTransport', { direction, forceTcp: this.#forceTcp });
    const options = params as Parameters<Device['createSendTransport']>[0];
    const transport =
      direction === 'send'
        ? this.#device.createSendTransport(options)
        : this.#device.createRecvTransport(options);
    if (this.#closed) {
      transport.close();
      throw new Error('the edge session closed while setting up');
    }
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      channel
        .request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as never })
        .then(callback, errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      channel
        .request('produce', {
          transportId: transport.id,
          kind,
          source: appData.source as Source,
          rtpParameters: rtpParameters as never,
          paused: appData.paused as boolean,
        })
        .then(({ producerId }) => callback({ id: producerId }), errback);
    });
    restartIceWhenLost(transport, channel, () => this.#closed);
    return transport;
  }
}
