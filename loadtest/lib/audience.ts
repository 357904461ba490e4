import { issueToken } from '../../control-plane/common/tokens.ts';
import type { Source } from '../../control-plane/protocol/media.ts';
import type { StreamInfo } from '../../control-plane/protocol/signaling.ts';
import type { Grants } from '../../control-plane/protocol/token.ts';
import type { LocalMesh } from '../../scripts/lib/local-mesh.ts';
import type { GapMeter, GapTrack } from './gap-meter.ts';
import { joinThroughControlPlane } from './join.ts';
import type { RecordedMedia } from './recorded-media.ts';
import { RtpBot } from './rtp-bot.ts';

/** What the presenter sends and every viewer receives. */
export const LECTURE_SOURCES = ['camera', 'microphone'] as const satisfies readonly Source[];
type LectureSource = (typeof LECTURE_SOURCES)[number];

const VIEWER_GRANTS: Grants = { publish: false, subscribe: true };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    bot.channel.on('close', (code) => {
      if (this.#closed || this.#rejoining || bot !== this.bot) return;
      this.closeCodes.push(code);
      void this.#rejoin(bot);
    });
    await this.attached(bot);
  }

  async #rejoin(dead: RtpBot, reconnectTimeoutMs = 60_000): Promise<void> {
    this.#rejoining = true;
    try {
      await dead.close().catch(() => undefined);
      await this.#rejoinLoop(reconnectTimeoutMs);
    } finally {
      this.#rejoining = false;
    }
  }

  async #rejoinLoop(reconnectTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + reconnectTimeoutMs;
    for (let attempt = 1; Date.now() < deadline && !this.#closed; attempt++) {
      let bot: RtpBot | undefined;
      try {
        const placed = await joinThroughControlPlane(
          this.mesh.controlPlane.url,
          this.mesh.appJwtSecret,
          this.identity,
          this.room,
          { region: this.region, grants: this.grants, onPlaced: (n) => this.placements.push(n) },
        );
        bot = placed.bot;
        if (this.#closed) {
          await bot.close();
          return;
        }
        await this.attach(bot, placed.nodeId);
        this.rejoins++;
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

  protected async attached(bot: RtpBot): Promise<void> {
    const taken = new Set<string>();
    const take = (stream: StreamInfo) => {
      if (!(LECTURE_SOURCES as readonly string[]).includes(stream.source) || taken.has(stream.producerId))
        return;
      taken.add(stream.producerId);
      void this.#consume(bot, stream.producerId, stream.source as LectureSource);
    };
    bot.channel.on('streamAdded', take);
    for (const stream of bot.joined.streams) take(stream);
  }

  /** Consumes, retrying a little while the edge answers that the stream is not there yet. */
  async #consume(bot: RtpBot, producerId: string, source: LectureSource): Promise<void> {
    for (let attempt = 0; attempt < 10 && bot === this.bot && bot.channel.open; attempt++) {
      if (bot.seen.streamClosed.includes(producerId)) return;
      try {
        const received = await bot.consume({ producerId });
        const track = this.#tracks[source];
        received.onPacket = (at) => track.packet(at);
        return;
      } catch {
        await sleep(200 + attempt * 200);
      }
    }
  }
}
