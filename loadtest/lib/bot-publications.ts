import type { Socket } from 'node:dgram';
import type { Source } from '@kaskade/protocol';
import { type BotLeg, type Publication, recordedPublications, syntheticPublication } from './bot-leg.ts';
import { type RecordedMedia, RecordedSender } from './recorded-media.ts';
import { type RtcpListener, StreamSender } from './rtp.ts';

export interface SyntheticOptions {
  packetsPerSecond?: number;
  paused?: boolean;
  keyframes?: 'periodic' | 'on-request';
  stamp?: boolean;
}

/**
 * What a bot sends: its publications, their senders and where their RTP goes (one send
 * transport per edge, two while it migrates). Kept apart from what the bot receives, so a
 * migration republishes everything here on the new edge and then drops the old target.
 */
export class BotPublications {
  /** The sender of each stream published, by producer id (every edge's ids). */
  readonly senders = new Map<string, StreamSender>();
  readonly #socket: Socket;
  readonly #localIp: string;
  /** Every sender, shared with the bot's RTP counter, which hands each the RTCP coming back. */
  readonly #listeners: (RtcpListener & { stop(): void })[];
  readonly #published: { publication: Publication; sender: StreamSender | RecordedSender }[] = [];
  readonly #targets: { ip: string; port: number }[] = [];

  constructor(socket: Socket, localIp: string, listeners: (RtcpListener & { stop(): void })[]) {
    this.#socket = socket;
    this.#localIp = localIp;
    this.#listeners = listeners;
  }

  async publish(
    leg: BotLeg,
    source: Source,
    { packetsPerSecond = 50, paused = false, keyframes = 'periodic', stamp = false }: SyntheticOptions,
  ): Promise<string> {
    const { kind, ssrc, publication } = syntheticPublication(source, paused);
    const producerId = await this.#produce(leg, publication);
    const sender = new StreamSender({
      kind,
      ssrc,
      packetsPerSecond,
      keyframes,
      stamp,
      send: (p) => this.#send(p),
    });
    this.#listeners.push(sender);
    this.senders.set(producerId, sender);
    this.#published.push({ publication, sender });
    return producerId;
  }

  async publishRecorded(
    leg: BotLeg,
    media: RecordedMedia,
    { audio = true }: { audio?: boolean },
  ): Promise<{ camera: string; microphone: string | undefined; sender: RecordedSender }> {
    const { videoSsrcs, audioSsrc, publications } = recordedPublications(audio);
    const ids: string[] = [];
    for (const publication of publications) ids.push(await this.#produce(leg, publication));
    const sender = new RecordedSender({
      media,
      videoSsrcs,
      audioSsrc: audio ? audioSsrc : undefined,
      send: (packet) => this.#send(packet),
    });
    this.#listeners.push(sender);
    for (const publication of publications) this.#published.push({ publication, sender });
    return { camera: ids[0]!, microphone: ids[1], sender };
  }

  /** The level every microphone published says it has, in each packet's audio level extension. */
  setAudioLevel(dBov: number): void {
    for (const { sender } of this.#published) sender.audioLevel = dBov;
  }

  /** Publishes everything again on the edge a migration moves to; the senders send to both meanwhile. */
  async republish(leg: BotLeg): Promise<void> {
    for (const { publication, sender } of this.#published) {
      const producerId = await this.#produce(leg, publication);
      if (sender instanceof StreamSender) this.senders.set(producerId, sender);
    }
  }

  /** The edge left: RTP stops going there. */
  leave(leg: BotLeg): void {
    if (leg.send) this.#targets.splice(this.#targets.indexOf(leg.send.target), 1);
  }

  #send(packet: Buffer): void {
    for (const { ip, port } of this.#targets) this.#socket.send(packet, port, ip);
  }

  async #produce(leg: BotLeg, publication: Publication): Promise<string> {
    const { producerId, newTarget } = await leg.produce(
      publication,
      this.#localIp,
      this.#socket.address().port,
    );
    if (newTarget) this.#targets.push(newTarget);
    return producerId;
  }
}
