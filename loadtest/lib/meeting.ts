import type { LocalMesh } from '@kaskade/local-mesh';
import type { StreamInfo } from '@kaskade/protocol';
import { joinThroughControlPlane } from './join.ts';
import type { RecordedMedia, RecordedSender } from './recorded-media.ts';
import type { ReceivedStream } from './rtp.ts';
import type { RtpBot } from './rtp-bot.ts';

/** The layer a tile asks for: the stage shows the top speaker large, the gallery thumbnails. */
export const STAGE_LAYER = 2;
export const THUMBNAIL_LAYER = 0;

/** A stream another participant publishes, as this one receives it. */
export interface Subscription {
  info: StreamInfo;
  received: ReceivedStream;
}

/**
 * One participant of a meeting, as a browser would be one: publishes the recorded camera
 * (simulcast) and microphone (muted: the producer paused, nothing sent), receives every
 * camera and microphone of the others, shows the room's top speaker on the stage (high
 * layer) and everyone else as a thumbnail (layer 0), and follows what the edge says it
 * forwards (last-N) and who speaks. Consumes one at a time, as a page adds tiles.
 */
export class MeetingParticipant {
  readonly identity: string;
  readonly region: string;
  readonly nodeId: string;
  readonly bot: RtpBot;
  readonly camera: string;
  readonly microphone: string;
  readonly sender: RecordedSender;
  /** When the join started (performance.now()), control-plane request included. */
  readonly joinStarted: number;
  /** Others' streams received, by producer id. */
  readonly subscriptions = new Map<string, Subscription>();
  /** `activeSpeaker` news, as it arrived (performance.now()). */
  readonly speakerNews: { participantId: string | null; at: number }[] = [];
  /** The video consumers the edge said it forwards (last-N), once it said so. */
  forwarded: Set<string> | undefined;
  /** The participant shown on the stage (high layer). */
  stage: string | undefined;
  muted = true;
  /** Consumes and layer changes the edge refused, with why. */
  readonly failures: string[] = [];
  /** Consumes and layer changes, one after another. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Producer ids consumed or on their way. */
  readonly #taken = new Set<string>();

  private constructor(
    fields: Pick<
      MeetingParticipant,
      'identity' | 'region' | 'nodeId' | 'bot' | 'camera' | 'microphone' | 'sender' | 'joinStarted'
    >,
    heard: StreamInfo[],
  ) {
    this.identity = fields.identity;
    this.region = fields.region;
    this.nodeId = fields.nodeId;
    this.bot = fields.bot;
    this.camera = fields.camera;
    this.microphone = fields.microphone;
    this.sender = fields.sender;
    this.joinStarted = fields.joinStarted;
    const { channel } = this.bot;
    channel.on('streamAdded', (stream) => this.#take(stream));
    channel.on('activeSpeaker', ({ participantId }) =>
      this.speakerNews.push({ participantId, at: performance.now() }),
    );
    channel.on('speakerOrder', ({ participantIds }) =>
      this.showOnStage(participantIds.find((id) => id !== this.id)),
    );
    channel.on('videoForwarding', ({ on }) => {
      this.forwarded = new Set(on);
    });
    for (const stream of [...this.bot.joined.streams, ...heard]) this.#take(stream);
  }

  /** Joins through the control plane (region hint), publishes muted, receives everyone. */
  static async join(
    mesh: LocalMesh,
    room: string,
    identity: string,
    region: string,
    media: RecordedMedia,
  ): Promise<MeetingParticipant> {
    const joinStarted = performance.now();
    const { bot, nodeId } = await joinThroughControlPlane(
      mesh.controlPlane.url,
      mesh.appJwtSecret,
      identity,
      room,
      {
        region,
      },
    );
    // Streams announced while this participant publishes are taken once it is there.
    const heard: StreamInfo[] = [];
    bot.channel.on('streamAdded', (stream) => heard.push(stream));
    try {
      const { camera, microphone, sender } = await bot.publishRecorded(media);
      sender.audioMuted = true;
      await bot.channel.request('pauseProducer', { producerId: microphone! });
      return new MeetingParticipant(
        {
          identity,
          region,
          nodeId,
          bot,
          camera,
          microphone: microphone!,
          sender,
          joinStarted,
        },
        heard,
      );
    } catch (error) {
      await bot.close();
      throw error;
    }
  }

  get id(): string {
    return this.bot.id;
  }

  /** What this participant publishes, as the room announces it. */
  publications(): StreamInfo[] {
    const stream = { participantId: this.id, paused: false } as const;
    return [
      { ...stream, producerId: this.camera, kind: 'video', source: 'camera', simulcast: true },
      { ...stream, producerId: this.microphone, kind: 'audio', source: 'microphone', simulcast: false },
    ];
  }

  /**
   * Receives a stream the benchmark knows the room has, if this participant does not yet:
   * one whose announcement it missed (returns true then).
   */
  receive(info: StreamInfo): boolean {
    return this.#take(info);
  }

  /** Resolves when every consume and layer change asked so far is done. */
  settled(): Promise<unknown> {
    return this.#queue;
  }

  /** Last-N: only the `n` most relevant cameras forwarded (undefined: every camera, the default). */
  async setLastN(n: number): Promise<void> {
    await this.bot.channel.request('setLastN', { n, pinned: [] });
  }

  /** Unmutes (the producer resumed, audio sent at `dBov`) or mutes (paused, nothing sent). */
  async setMuted(muted: boolean, dBov = -127): Promise<void> {
    this.bot.setAudioLevel(dBov);
    if (muted === this.muted) return;
    this.muted = muted;
    this.sender.audioMuted = muted;
    await this.bot.channel.request(muted ? 'pauseProducer' : 'resumeProducer', {
      producerId: this.microphone,
    });
  }

  /** The cameras this participant receives, and the layer each tile asks for. */
  cameraTiles(): { subscription: Subscription; layer: number }[] {
    return [...this.subscriptions.values()]
      .filter((s) => s.info.source === 'camera')
      .map((subscription) => ({
        subscription,
        layer: subscription.info.participantId === this.stage ? STAGE_LAYER : THUMBNAIL_LAYER,
      }));
  }

  /** Whether the edge forwards a camera to this participant now (every one before last-N is set). */
  isForwarded(subscription: Subscription): boolean {
    if (!this.forwarded) return true;
    const consumerId = this.bot.consumerIdOf(subscription.received.producerId);
    return consumerId !== undefined && this.forwarded.has(consumerId);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    await this.bot.close();
  }

  #enqueue(step: () => Promise<unknown>): void {
    this.#queue = this.#queue.then(step).catch((error: unknown) => {
      this.failures.push(error instanceof Error ? error.message : String(error)); // e.g. a stream gone meanwhile
    });
  }

  /** Another participant's camera or microphone: consumed (cameras at their tile's layer); false if taken already. */
  #take(info: StreamInfo): boolean {
    if (info.participantId === this.id || this.#taken.has(info.producerId)) return false;
    if (info.source !== 'camera' && info.source !== 'microphone') return false;
    this.#taken.add(info.producerId);
    this.#enqueue(async () => {
      if (this.#closed) return;
      const layer = info.participantId === this.stage ? STAGE_LAYER : THUMBNAIL_LAYER;
      try {
        const received = await this.bot.consume(
          info,
          info.source === 'camera' ? { preferredLayers: { spatialLayer: layer } } : {},
        );
        this.subscriptions.set(info.producerId, { info, received });
      } catch (error) {
        this.#taken.delete(info.producerId); // may be taken again
        throw error;
      }
    });
    return true;
  }

  /**
   * Puts a participant on the stage (undefined: nobody, every tile a thumbnail): the old
   * stage tile goes back to a thumbnail, the new one asks for the high layer. The room's
   * next speaker order decides again.
   */
  showOnStage(participantId: string | undefined): void {
    if (participantId === this.stage) return;
    const previous = this.stage;
    this.stage = participantId;
    for (const [who, layer] of [
      [previous, THUMBNAIL_LAYER],
      [participantId, STAGE_LAYER],
    ] as const) {
      const camera = [...this.subscriptions.values()].find(
        (s) => s.info.source === 'camera' && s.info.participantId === who,
      );
      if (!camera) continue;
      camera.received.preferredLayers = { spatialLayer: layer };
      this.#enqueue(async () => {
        const consumerId = this.bot.consumerIdOf(camera.info.producerId);
        if (consumerId && !this.#closed)
          await this.bot.channel.request('setPreferredLayers', { consumerId, spatialLayer: layer });
      });
    }
  }
}
