import type { LocalMesh } from '@kaskade/local-mesh';
import { issueToken } from '@kaskade/node-toolkit';
import type { Grants, Source, StreamInfo } from '@kaskade/protocol';
import type { GapMeter, GapTrack } from './gap-meter.ts';
import { joinThroughControlPlane } from './join.ts';
import type { RecordedMedia } from './recorded-media.ts';
import { RtpBot } from './rtp-bot.ts';

/** What the presenter sends and every viewer receives. */
export const LECTURE_SOURCES = ['camera', 'microphone'] as const satisfies readonly Source[];
type LectureSource = (typeof LECTURE_SOURCES)[number];

const VIEWER_GRANTS: Grants = { publish: false, subscribe: true };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sameHost = (a: string, b: string) => new URL(a).host === new URL(b).host;

/** Joins one named edge with an edge token (the benchmark lays out its audience itself). */
export async function joinEdge(
  mesh: LocalMesh,
  nodeId: string,
  identity: string,
  room: string,
  grants: Grants = VIEWER_GRANTS,
): Promise<RtpBot> {
  const edge = mesh.edges.find((e) => e.nodeId === nodeId);
  if (!edge) throw new Error(`no edge ${nodeId}`);
  const token = await issueToken(
    { identity, name: identity, room, grants, node: nodeId, ttlSeconds: 3600 },
    { secret: mesh.edgeJwtSecret },
  );
  return RtpBot.join(edge.url, token);
}

/**
 * A participant that, like the SDK, joins again through the control plane when its
 * signaling closes under it (edge killed or drained): backoff 250 ms doubling to 5 s,
 * for at most `reconnectTimeoutMs`. Subclasses say what to do once joined.
 */
abstract class Rejoiner {
  readonly identity: string;
  readonly region: string;
  protected readonly mesh: LocalMesh;
  protected readonly room: string;
  bot: RtpBot;
  nodeId: string;
  /** Nodes placement chose for each rejoin attempt, and the close codes seen. */
  readonly placements: string[] = [];
  readonly closeCodes: number[] = [];
  rejoins = 0;
  /** Migrations the bot followed (a drained edge's `migrate`), no rejoin needed. */
  migrations = 0;
  /** Rejoins that kept the participant id (`join.resume` accepted). */
  resumed = 0;
  #closed = false;
  #rejoining = false;

  constructor(mesh: LocalMesh, room: string, identity: string, region: string, bot: RtpBot, nodeId: string) {
    this.mesh = mesh;
    this.room = room;
    this.identity = identity;
    this.region = region;
    this.bot = bot;
    this.nodeId = nodeId;
  }

  protected abstract grants: Grants;
  /** Sets up what this participant does on a (new) bot. */
  protected abstract attached(bot: RtpBot): Promise<void>;

  protected async attach(bot: RtpBot, nodeId: string): Promise<void> {
    this.bot = bot;
    this.nodeId = nodeId;
    this.#watch(bot, bot.channel);
    await this.attached(bot);
  }

  /**
   * Rejoins when `channel` closes under a bot still in use, unless the bot moved off it:
   * RtpBot follows `migrate` itself (it joins the named edge, then closes the old channel),
   * so a close during or after a migration that landed means watching the new channel instead.
   */
  #watch(bot: RtpBot, channel: RtpBot['channel']): void {
    channel.on('close', (code) => {
      if (this.#closed || this.#rejoining || bot !== this.bot) return;
      void (async () => {
        await bot.migration?.catch(() => undefined);
        if (this.#closed || this.#rejoining || bot !== this.bot) return;
        if (bot.channel !== channel && bot.channel.open) {
          this.migrations++;
          this.nodeId = this.mesh.edges.find((e) => sameHost(e.url, bot.url))?.nodeId ?? bot.url;
          this.#watch(bot, bot.channel);
          return;
        }
        this.closeCodes.push(code);
        await this.#rejoin(bot);
      })();
    });
  }

  async #rejoin(dead: RtpBot, reconnectTimeoutMs = 60_000): Promise<void> {
    this.#rejoining = true;
    try {
      // Like the SDK: back as the same participant (the edge keeps the id if the directory agrees).
      const resume = dead.id;
      // Like the SDK too: the edge it lost is not where it wants to be sent back to.
      const lost = this.nodeId;
      await dead.close().catch(() => undefined);
      await this.#rejoinLoop(resume, [lost], reconnectTimeoutMs);
    } finally {
      this.#rejoining = false;
    }
  }

  async #rejoinLoop(resume: string, avoid: string[], reconnectTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + reconnectTimeoutMs;
    for (let attempt = 1; Date.now() < deadline && !this.#closed; attempt++) {
      let bot: RtpBot | undefined;
      try {
        const placed = await joinThroughControlPlane(
          this.mesh.controlPlane.url,
          this.mesh.appJwtSecret,
          this.identity,
          this.room,
          {
            region: this.region,
            grants: this.grants,
            resume,
            avoid,
            onPlaced: (n) => this.placements.push(n),
          },
        );
        bot = placed.bot;
        if (this.#closed) {
          await bot.close();
          return;
        }
        await this.attach(bot, placed.nodeId);
        this.rejoins++;
        if (bot.id === resume) this.resumed++;
        return;
      } catch {
        await bot?.close().catch(() => undefined);
        await sleep(Math.min(250 * 2 ** (attempt - 1), 5000));
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.bot.close().catch(() => undefined);
  }
}

/** The recorded VP8 simulcast + Opus presenter; publishes again after a rejoin. */
export class Presenter extends Rejoiner {
  protected grants: Grants = { publish: true, subscribe: true };
  readonly #media: RecordedMedia;
  /** When it published last (performance.now() ms) and the producer ids. */
  publishedAt = 0;
  producers: Record<LectureSource, string> = { camera: '', microphone: '' };

  private constructor(mesh: LocalMesh, room: string, nodeId: string, bot: RtpBot, media: RecordedMedia) {
    super(mesh, room, 'presenter', mesh.edges.find((e) => e.nodeId === nodeId)!.region, bot, nodeId);
    this.#media = media;
  }

  static async start(
    mesh: LocalMesh,
    room: string,
    nodeId: string,
    media: RecordedMedia,
  ): Promise<Presenter> {
    const bot = await joinEdge(mesh, nodeId, 'presenter', room, { publish: true, subscribe: true });
    const presenter = new Presenter(mesh, room, nodeId, bot, media);
    await presenter.attach(bot, nodeId);
    return presenter;
  }

  protected async attached(bot: RtpBot): Promise<void> {
    const { camera, microphone } = await bot.publishRecorded(this.#media);
    this.producers = { camera, microphone: microphone! };
    this.publishedAt = performance.now();
  }
}

/**
 * A plain-RTP viewer of the lecture: consumes every camera and microphone stream it is
 * told of (the presenter's, again under new ids after the presenter rejoined), each
 * source feeding one gap track whatever bot or consumer carries it.
 */
export class Viewer extends Rejoiner {
  protected grants = VIEWER_GRANTS;
  readonly #tracks: Record<LectureSource, GapTrack>;
  /** The node it was on when the scenario started (who a fault concerns). */
  readonly home: string;
  /** Same-key streams the bot did not switch to by itself (should stay 0). */
  fallbacks = 0;

  private constructor(
    mesh: LocalMesh,
    room: string,
    identity: string,
    nodeId: string,
    bot: RtpBot,
    meter: GapMeter,
  ) {
    super(mesh, room, identity, mesh.edges.find((e) => e.nodeId === nodeId)!.region, bot, nodeId);
    this.home = nodeId;
    this.#tracks = { camera: meter.track(identity), microphone: meter.track(identity) };
  }

  static async join(
    mesh: LocalMesh,
    room: string,
    identity: string,
    nodeId: string,
    meter: GapMeter,
  ): Promise<Viewer> {
    const viewer = new Viewer(
      mesh,
      room,
      identity,
      nodeId,
      await joinEdge(mesh, nodeId, identity, room),
      meter,
    );
    await viewer.attach(viewer.bot, nodeId);
    return viewer;
  }

  /** Every stream received a packet within the last `withinMs`. */
  receiving(now: number, withinMs = 300): boolean {
    return LECTURE_SOURCES.every((s) => now - (this.#tracks[s].last ?? Number.NEGATIVE_INFINITY) < withinMs);
  }

  /**
   * One consumer per stream key (participant + source) on this bot, of the newest stream of
   * that key. A stream back under the same key (the presenter rejoined with `resume`, or
   * migrated) is RtpBot's to switch to, inside the same ReceivedStream (so into the same gap
   * track); should that switch not happen, the viewer consumes the new stream itself.
   */
  protected async attached(bot: RtpBot): Promise<void> {
    const latest = new Map<string, StreamInfo>();
    const taken = new Set<string>();
    const take = (stream: StreamInfo) => {
      if (!(LECTURE_SOURCES as readonly string[]).includes(stream.source)) return;
      const key = `${stream.participantId}/${stream.source}`;
      latest.set(key, stream);
      if (!taken.has(key)) {
        taken.add(key);
        void this.#consume(bot, key, latest);
        return;
      }
      void this.#fallback(bot, stream, key, latest);
    };
    bot.channel.on('streamAdded', take);
    // The last of a key in the join's list is its newest (a publisher moving has two for a moment).
    for (const stream of bot.joined.streams) latest.set(`${stream.participantId}/${stream.source}`, stream);
    for (const stream of latest.values()) take(stream);
  }

  /** Consumes the newest stream of `key`, retrying a little while the edge answers that it is not there yet. */
  async #consume(bot: RtpBot, key: string, latest: Map<string, StreamInfo>): Promise<void> {
    for (let attempt = 0; attempt < 10 && bot === this.bot && bot.channel.open; attempt++) {
      const stream = latest.get(key)!;
      // RtpBot switched a stream of this key into an earlier attempt's ReceivedStream.
      if (bot.consumerIdOf(stream.producerId)) return;
      if (!bot.seen.streamClosed.includes(stream.producerId)) {
        try {
          const track = this.#tracks[stream.source as LectureSource];
          await bot.consume(stream, { onPacket: (at) => track.packet(at) });
          return;
        } catch {
          // not there yet, or gone: the newest of the key again after a moment
        }
      }
      await sleep(200 + attempt * 200);
    }
  }

  /** A same-key stream RtpBot did not switch to within a few seconds is consumed here. */
  async #fallback(
    bot: RtpBot,
    stream: StreamInfo,
    key: string,
    latest: Map<string, StreamInfo>,
  ): Promise<void> {
    await sleep(3000);
    if (bot !== this.bot || latest.get(key) !== stream || bot.consumerIdOf(stream.producerId)) return;
    if (bot.seen.streamClosed.includes(stream.producerId)) return;
    this.fallbacks++;
    await this.#consume(bot, key, latest);
  }
}
