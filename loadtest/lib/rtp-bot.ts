import { createSocket, type Socket } from 'node:dgram';
import { RequestError, type SignalingChannel } from '@kaskade/client-sdk/internals';
import type { MediaKind, NotificationData, ResponseData, Source, StreamInfo } from '@kaskade/protocol';
import { BotLeg, streamKey } from './bot-leg.ts';
import { BotPublications, type SyntheticOptions } from './bot-publications.ts';
import { ReceiverReports } from './receiver-reports.ts';
import type { RecordedMedia, RecordedSender } from './recorded-media.ts';
import { layerMix, type ReceivedStream, type RtcpListener, RtpCounter, type StreamSender } from './rtp.ts';

export type { ReceivedStream };

/** One consumer of a stream this bot counts; `live` once its packets are the ones counted. */
interface ConsumerEntry {
  received: ReceivedStream;
  leg: BotLeg;
  ssrc: number;
  /** Order of creation: a consumer that starts receiving retires only older ones. */
  seq: number;
  live: boolean;
}

/** How long a switch to a new consumer may wait for its first packet before the migration goes on. */
const SWITCH_BOUND_MS = 3000;

/** Layers a viewer asks for: the spatial (0 = lowest simulcast encoding) and temporal layer. */
export type PreferredLayers = { spatialLayer: number; temporalLayer?: number };

export interface RtpBotOptions {
  localIp?: string;
  /**
   * On a migration, how long the bot keeps publishing to both edges once its own streams
   * are switched, so viewers elsewhere switch to its new producers before the old ones close.
   */
  migrationOverlapMs?: number;
  /** Join as the participant this bot was before (`join.resume`), as the SDK does after a crash. */
  resume?: string;
  /** Tell the edge this join is a reconnect (counted, like the SDK's). */
  reconnect?: boolean;
}

/**
 * A participant without a browser: joins through the real signaling, publishes
 * synthetic Opus and VP8 over plain RTP, and counts what it receives per stream.
 * For integration tests now and load bots later. Talks to loopback only.
 *
 * It follows the edge's make-before-break notices as the SDK does: `streamMoved` and a
 * stream coming back under the same key (participant + source) are consumed again into
 * the same ReceivedStream, the old consumer closed after the new SSRC's first packet;
 * `migrate` joins the named edge with `resume`, publishes and consumes there, then
 * leaves the old edge.
 */
export class RtpBot {
  /** Producer ids named by stream notifications, per kind, in arrival order. */
  readonly seen = {
    streamAdded: [] as string[],
    streamPaused: [] as string[],
    streamResumed: [] as string[],
    streamClosed: [] as string[],
  };
  #leg: BotLeg;
  readonly #socket: Socket;
  readonly #localIp: string;
  readonly #overlapMs: number;
  /** What this bot sends: each gets the RTCP coming back and is stopped on close. */
  readonly #senders: (RtcpListener & { stop(): void })[] = [];
  readonly #publications: BotPublications;
  readonly #consumers = new Map<string, ConsumerEntry>();
  #consumerSeq = 0;
  /** Streams a newer consumer is being made for (a switch under way): a close of the old one is expected. */
  readonly #switching = new Map<ReceivedStream, number>();
  /** The key (participant + source) of every stream heard of, by producer id. */
  readonly #keys = new Map<string, string>();
  /** The streams this bot counts, by key: a stream back under a new producer id counts on. */
  readonly #byKey = new Map<string, ReceivedStream>();
  #migration: Promise<void> | undefined;
  /** The edge being left during a migration: its notices start no new switches. */
  #leaving: BotLeg | undefined;
  /** Consumers taken again after the edge closed them under a live stream. */
  resubscriptions = 0;
  /** Migrations completed (joined the new edge, streams switched, old edge left). */
  migrations = 0;
  /** The id of the consumer made last, for pausing or resuming it. */
  lastConsumerId: string | undefined;
  readonly #counter = new RtpCounter(this.#senders);
  readonly #reports = new ReceiverReports(
    () => this.#receiving(),
    (packet, to) => this.#socket.send(packet, to.port, to.ip),
  );

  private constructor(leg: BotLeg, socket: Socket, { localIp = '127.0.0.1', migrationOverlapMs = 1000 }) {
    this.#leg = leg;
    this.#socket = socket;
    this.#localIp = localIp;
    this.#overlapMs = migrationOverlapMs;
    this.#publications = new BotPublications(socket, localIp, this.#senders);
    socket.on('message', (packet) => this.#counter.onPacket(packet));
    this.#listen(leg);
  }

  static async join(edgeUrl: string, token: string, options: string | RtpBotOptions = {}): Promise<RtpBot> {
    const opts = typeof options === 'string' ? { localIp: options } : options;
    // The socket first: from the join's answer on, notifications (a stream added) must find
    // the bot listening; an await between the two would drop those that arrive meanwhile.
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, opts.localIp ?? '127.0.0.1', resolve));
    try {
      return new RtpBot(await BotLeg.open(edgeUrl, token, opts.resume, opts.reconnect), socket, opts);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  /** The signaling of the edge the bot is on now. */
  get channel(): SignalingChannel {
    return this.#leg.channel;
  }

  /** The URL of the edge the bot is on now (changes when it migrates). */
  get url(): string {
    return this.#leg.url;
  }

  /** The answer to the bot's join on the edge it is on now. */
  get joined(): ResponseData<'join'> {
    return this.#leg.joined;
  }

  get id(): string {
    return this.#leg.joined.self.id;
  }

  /** Resolves when the migration under way (if any) is done. */
  get migration(): Promise<void> | undefined {
    return this.#migration;
  }

  /** The current consumer of a stream this bot consumes. */
  consumerIdOf(producerId: string): string | undefined {
    for (const [id, entry] of this.#consumers)
      if (entry.live && entry.received.producerId === producerId) return id;
    return undefined;
  }

  #listen(leg: BotLeg): void {
    const { channel } = leg;
    for (const s of leg.joined.streams) this.#keys.set(s.producerId, streamKey(s));
    for (const name of ['streamAdded', 'streamPaused', 'streamResumed', 'streamClosed'] as const) {
      channel.on(name, ({ producerId }) => this.seen[name].push(producerId));
    }
    channel.on('streamClosed', ({ producerId }) => {
      const key = this.#keys.get(producerId);
      if (key && leg.latest.get(key) === producerId) leg.latest.delete(key);
    });
    channel.on('streamAdded', (stream) => {
      const key = streamKey(stream);
      this.#keys.set(stream.producerId, key);
      leg.latest.set(key, stream.producerId);
      // The same participant's source under a new producer (it migrated or reconnected).
      const received = this.#byKey.get(key);
      if (received && received.producerId !== stream.producerId && this.#current(leg))
        void this.#swap(received, stream.producerId, leg);
    });
    channel.on('streamMoved', ({ producerId }) => {
      const received = [...this.#byKey.values()].find((r) => r.producerId === producerId);
      if (received && this.#current(leg)) void this.#swap(received, producerId, leg);
    });
    // Like the SDK: a consumer closed under a stream that still exists (its pipe went, a
    // relay died) is taken again, and counting carries on in the same ReceivedStream;
    // one with a newer consumer of the same stream was superseded: nothing to do.
    channel.on('consumerClosed', ({ consumerId }) => {
      const entry = this.#consumers.get(consumerId);
      if (!entry) return;
      this.#consumers.delete(consumerId);
      if (!entry.live) this.#counter.cancelSwitch(entry.ssrc);
      // Another consumer of the stream is there or on its way (a switch): nothing to redo.
      if (this.#entriesOf(entry.received).length > 0 || this.#switching.has(entry.received)) return;
      // The edge being left closed it: the migration takes the stream on the new edge;
      // only one it did not take is taken again once it is done.
      const migration = leg === this.#leaving ? this.#migration : undefined;
      void (migration ?? Promise.resolve()).finally(() => this.#takeAgainIfLost(entry.received));
    });
    channel.on('migrate', (notice) => {
      this.#migration ??= this.#migrate(notice).finally(() => {
        this.#migration = undefined;
      });
    });
  }

  /** Notices from an edge the bot is leaving start no new switches there. */
  #current(leg: BotLeg): boolean {
    return leg === this.#leg && leg !== this.#leaving;
  }

  /** The sender of each stream this bot publishes, by producer id (every edge's ids). */
  get senders(): ReadonlyMap<string, StreamSender> {
    return this.#publications.senders;
  }

  /** Starts sending a synthetic stream at the given packet rate; returns the producer id. */
  publish(source: Source, options: SyntheticOptions = {}): Promise<string> {
    return this.#publications.publish(this.#leg, source, options);
  }

  /**
   * What this bot's microphones (synthetic or recorded) say their level is (dBov, -127 silence to 0),
   * in every packet's audio level extension from now on: -20 is someone speaking.
   */
  setAudioLevel(dBov: number): void {
    this.#publications.setAudioLevel(dBov);
  }

  /**
   * Publishes the recording as a presenter would: camera as three simulcast layers
   * (one SSRC each) and microphone. Returns the producer ids and the sender.
   */
  publishRecorded(
    media: RecordedMedia,
    options: { audio?: boolean } = {},
  ): Promise<{ camera: string; microphone: string | undefined; sender: RecordedSender }> {
    return this.#publications.publishRecorded(this.#leg, media, options);
  }

  /**
   * Consumes a stream over this bot's plain recv transport. `onPacket` is set on the
   * ReceivedStream before anything can switch it (a same-key stream announced while this
   * consume is under way or after it failed is switched into it), so no packet goes uncounted.
   */
  async consume(
    stream: Pick<StreamInfo, 'producerId'> & Partial<StreamInfo>,
    {
      onPacket,
      preferredLayers,
    }: { onPacket?: (at: number) => void; preferredLayers?: PreferredLayers } = {},
  ): Promise<ReceivedStream> {
    const received = this.#counter.expect(stream.producerId, 'audio', -1);
    if (onPacket) received.onPacket = onPacket;
    // Asked of every consumer of the stream (a resubscription, a switch), like a tile's size.
    if (preferredLayers) received.preferredLayers = preferredLayers;
    const key =
      stream.participantId && stream.source
        ? streamKey(stream as StreamInfo)
        : this.#keys.get(stream.producerId);
    if (key) this.#byKey.set(key, received);
    await this.#consumeInto(received, this.#leg, stream.producerId, false);
    return received;
  }

  /**
   * A stream left without any consumer while it still exists is taken again (counted). One
   * whose producer closed is followed to the newest producer of the same source, if there is
   * one (its publisher moved while this consumer was being replaced): that is a switch, not a loss.
   */
  #takeAgainIfLost(received: ReceivedStream): void {
    if (this.#entriesOf(received).length > 0 || this.#switching.has(received)) return;
    if (!this.seen.streamClosed.includes(received.producerId)) {
      this.resubscriptions++;
      void this.#resubscribe(received, received.producerId);
      return;
    }
    const key = this.#keys.get(received.producerId);
    const newest = key && this.#leg.latest.get(key);
    if (newest && newest !== received.producerId) void this.#resubscribe(received, newest);
  }

  /** Takes a stream again, retrying while it still exists (its new path may take a moment). */
  async #resubscribe(received: ReceivedStream, producerId: string): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 300 + attempt * 200));
      const leg = this.#leg;
      if (this.seen.streamClosed.includes(producerId) || !leg.channel.open) return;
      if (this.#entriesOf(received).length > 0) return; // a migration or a swap took it meanwhile
      try {
        await this.#consumeInto(received, leg, producerId, false);
        return;
      } catch {
        // not there yet: try again
      }
    }
  }

  /** Make-before-break: a second consumer of the stream (new path or new producer), switched to on its first packet. */
  async #swap(received: ReceivedStream, producerId: string, leg: BotLeg): Promise<void> {
    this.#switching.set(received, (this.#switching.get(received) ?? 0) + 1);
    try {
      await this.#consumeInto(received, leg, producerId, true);
    } catch {
      // Gone meanwhile (the stream closed, the edge refused): the current consumer carries
      // on, if it is still there; if it was closed while this switch was under way, take
      // the stream again.
      this.#takeAgainIfLost(received);
    } finally {
      const left = (this.#switching.get(received) ?? 1) - 1;
      if (left > 0) this.#switching.set(received, left);
      else this.#switching.delete(received);
    }
  }

  #entriesOf(received: ReceivedStream): [string, ConsumerEntry][] {
    return [...this.#consumers].filter(([, e]) => e.received === received);
  }

  /**
   * Consumes `producerId` on `leg` into `received`: at once (a first consume, a
   * resubscription), or as a switch (make-before-break) that retires the older consumers
   * of the stream when the new one's first packet arrives.
   */
  async #consumeInto(
    received: ReceivedStream,
    leg: BotLeg,
    producerId: string,
    asSwitch: boolean,
  ): Promise<void> {
    await leg.recvTransport(this.#localIp, this.#socket.address().port);
    const answer = await leg.channel.request('consume', { producerId });
    const ssrc = answer.rtpParameters.encodings?.[0]?.ssrc;
    if (ssrc === undefined) throw new Error('consumer has no ssrc');
    const entry: ConsumerEntry = { received, leg, ssrc, seq: ++this.#consumerSeq, live: !asSwitch };
    const key = this.#keys.get(producerId);
    if (key) this.#byKey.set(key, received);
    if (asSwitch) {
      this.#counter.switchOnFirstPacket(received, ssrc, () =>
        this.#switched(answer.consumerId, entry, answer.kind, producerId),
      );
    } else {
      received.kind = answer.kind;
      received.producerId = producerId;
      this.#counter.rebind(received, ssrc);
    }
    this.#consumers.set(answer.consumerId, entry);
    this.lastConsumerId = answer.consumerId;
    const start = async () => {
      // A fresh consumer takes the layers asked for at once; a switch once it receives (#switched).
      if (!asSwitch) await this.#prefer(leg, answer.consumerId, received);
      await leg.channel.request('resumeConsumer', { consumerId: answer.consumerId });
    };
    await start().catch((error: unknown) => {
      if (!(error instanceof RequestError && error.code === 'NOT_FOUND')) throw error;
      // Closed under us already (the tree moved), maybe before we knew its id.
      if (!this.#consumers.delete(answer.consumerId)) return;
      if (asSwitch) this.#counter.cancelSwitch(ssrc);
      else this.#takeAgainIfLost(received);
    });
  }

  /** Asks the edge for the layers the stream's viewer wants (simulcast video; nothing otherwise). */
  async #prefer(leg: BotLeg, consumerId: string, received: ReceivedStream): Promise<void> {
    if (!received.preferredLayers || received.kind !== 'video') return;
    await leg.channel.request('setPreferredLayers', { consumerId, ...received.preferredLayers });
  }

  /** The streams each recv transport sends the bot now (what its receiver reports cover). */
  #receiving(): Map<{ ip: string; port: number }, ReceivedStream[]> {
    const byTarget = new Map<{ ip: string; port: number }, ReceivedStream[]>();
    for (const { live, received, ssrc, leg } of this.#consumers.values())
      if (live && received.ssrc === ssrc && leg.recvTarget)
        byTarget.set(leg.recvTarget, [...(byTarget.get(leg.recvTarget) ?? []), received]);
    return byTarget;
  }

  /** Video packets received per layer (by key-frame height, e.g. '720p'), over every stream. */
  get layerMix(): Record<string, number> {
    return layerMix(this.#counter.received.values());
  }

  /** The new consumer received: it is the stream now; older consumers of it are closed. */
  #switched(consumerId: string, entry: ConsumerEntry, kind: MediaKind, producerId: string): void {
    entry.live = true;
    entry.received.kind = kind;
    entry.received.producerId = producerId;
    void this.#prefer(entry.leg, consumerId, entry.received).catch(() => undefined); // closed meanwhile
    for (const [id, other] of this.#entriesOf(entry.received)) {
      if (id === consumerId || other.seq > entry.seq) continue;
      this.#consumers.delete(id);
      if (!other.live) this.#counter.cancelSwitch(other.ssrc);
      if (other.leg.channel.open)
        void other.leg.channel.request('closeConsumer', { consumerId: id }).catch(() => undefined);
    }
  }

  /**
   * The edge drains: join the named edge with this participant's id, publish the same
   * streams there (the senders send to both edges meanwhile), consume everything counted
   * into the same ReceivedStreams, then leave the old edge.
   */
  async #migrate({ url, token, deadlineMs }: NotificationData<'migrate'>): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    const old = this.#leg;
    this.#leaving = old;
    const leg = await BotLeg.open(url, token, this.id);
    this.#leg = leg;
    this.#listen(leg);
    await this.#publications.republish(leg);
    for (const received of new Set(this.#byKey.values())) {
      // Taken there already (its publisher's new stream was announced meanwhile).
      if (this.#entriesOf(received).some(([, e]) => e.leg === leg)) continue;
      // The newest stream of that key there (a publisher that migrated too has two for a moment).
      const key = this.#keys.get(received.producerId);
      const producerId = key && leg.latest.get(key);
      if (producerId) await this.#swap(received, producerId, leg);
    }
    // Until every stream counts from the new edge (bounded), then a moment for the
    // viewers of our own streams to switch to the new producers.
    const bound = Math.min(deadline, Date.now() + SWITCH_BOUND_MS);
    while ([...this.#consumers.values()].some((e) => e.leg === old) && Date.now() < bound)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(this.#overlapMs, deadline - Date.now()))));
    for (const [id, entry] of this.#consumers) {
      if (entry.leg !== old) continue;
      this.#consumers.delete(id);
      if (!entry.live) this.#counter.cancelSwitch(entry.ssrc);
    }
    this.#publications.leave(old);
    if (old.channel.open) await old.channel.request('leave', {}).catch(() => undefined);
    old.channel.close();
    this.migrations++;
  }

  async close(): Promise<void> {
    await this.#migration?.catch(() => undefined);
    for (const sender of this.#senders.splice(0)) sender.stop();
    this.#reports.close();
    const channel = this.#leg.channel;
    if (channel.open) await channel.request('leave', {}).catch(() => undefined);
    channel.close();
    this.#socket.close();
  }
}
