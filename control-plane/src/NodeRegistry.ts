import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Bus } from '../common/bus.ts';
import type { Directory } from '../directory/Directory.ts';
import { NodeDead, NodeHeartbeat, type NodeReport, Subjects } from '../protocol/nats.ts';

interface Entry {
  heartbeat: NodeReport;
  lastSeen: number;
  /**
   * When joins were placed here since this report, so a join storm spreads before the
   * next heartbeat (which starts a new entry). Each counts for the hold time at most:
   * joins that never connect must not make a node look full.
   */
  placements: number[];
}

/**
 * The live nodes, from their NATS heartbeats, each known by the id its subject (its
 * credentials) carries. The URL an edge is known by is the operator's, when the
 * operator configured edge URLs (an edge not listed is tracked for liveness but
 * never placed), else the one the edge announces on its own subject. A node silent for longer than the
 * timeout is declared dead: one control-plane replica (the one that wins a Redis
 * lock) removes its participants and streams from the directory and tells every
 * node, which drop its streams and links.
 */
export class NodeRegistry extends EventEmitter<{ dead: [nodeId: string] }> {
  readonly #nodes = new Map<string, Entry>();
  readonly #placementHoldMs: number;
  readonly #bus: Bus;
  readonly #directory: Directory;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #deaf = false;
  readonly #trustedUrls: ReadonlyMap<string, string> | undefined;

  constructor(
    bus: Bus,
    directory: Directory,
    timeoutMs: number,
    logger: Logger,
    options: { trustedUrls?: ReadonlyMap<string, string>; placementHoldMs?: number } = {},
  ) {
    super();
    this.#trustedUrls = options.trustedUrls;
    this.#placementHoldMs = options.placementHoldMs ?? 1000;
    this.#bus = bus;
    this.#directory = directory;
    this.#timeoutMs = timeoutMs;
    this.#logger = logger.child({ component: 'registry' });
  }

  start(): void {
    this.#bus.subscribe(Subjects.heartbeat('*'), NodeHeartbeat, (hb, nodeId) => {
      const url = this.#trustedUrls ? (this.#trustedUrls.get(nodeId) ?? '') : hb.url;
      if (this.#trustedUrls && hb.kind === 'edge' && url === '' && !this.#nodes.has(nodeId))
        this.#logger.warn({ node: nodeId }, 'edge not in KASKADE_EDGE_URLS: tracked, never placed');
      this.#nodes.set(nodeId, { heartbeat: { ...hb, nodeId, url }, lastSeen: Date.now(), placements: [] });
    });
    // Without NATS this replica hears nobody: that says nothing about the nodes. Stop
    // judging while away, and give every node a full timeout again on return.
    this.#bus.onConnectionChange({
      lost: () => {
        this.#deaf = true;
      },
      back: () => {
        this.#deaf = false;
        for (const entry of this.#nodes.values()) entry.lastSeen = Date.now();
      },
    });
    this.#timer = setInterval(() => void this.#sweep(), Math.max(100, Math.floor(this.#timeoutMs / 4)));
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Live nodes; the participant counts include placements not yet reported. */
  nodes(): NodeReport[] {
    return [...this.#nodes.values()].map((e) => {
      const participants = e.heartbeat.participants + this.#pendingPlacements(e);
      const load = Math.max(e.heartbeat.load, participants / Math.max(1, e.heartbeat.capacity));
      return { ...e.heartbeat, participants, load };
    });
  }

  /** Live nodes as last heard, with when. */
  entries(): { heartbeat: NodeReport; lastSeen: number }[] {
    return [...this.#nodes.values()];
  }

  /** A join was sent to this node. */
  placed(nodeId: string): void {
    const entry = this.#nodes.get(nodeId);
    if (!entry) return;
    entry.placements.push(Date.now());
    this.#pendingPlacements(entry); // prunes, so the list stays as long as the hold allows
  }

  /** Placements on the node since its last heartbeat and younger than the hold time. */
  #pendingPlacements(entry: Entry): number {
    const since = Date.now() - this.#placementHoldMs;
    const stale = entry.placements.findIndex((t) => t > since);
    entry.placements.splice(0, stale === -1 ? entry.placements.length : stale);
    return entry.placements.length;
  }

  async #sweep(): Promise<void> {
    if (this.#deaf) return;
    const now = Date.now();
    for (const [nodeId, entry] of this.#nodes) {
      if (now - entry.lastSeen <= this.#timeoutMs) continue;
      this.#nodes.delete(nodeId);
      await this.#declareDead(nodeId, `no heartbeat for ${now - entry.lastSeen} ms`);
    }
  }

  async #declareDead(nodeId: string, reason: string): Promise<void> {
    this.#logger.warn({ deadNode: nodeId, reason }, 'node declared dead');
    this.emit('dead', nodeId);
    try {
      // Every replica notices; one cleans up.
      const won = await this.#directory.redis.set(
        `kaskade:node:{${nodeId}}:dead`,
        '1',
        'PX',
        this.#timeoutMs,
        'NX',
      );
      if (!won) return;
      for (const room of await this.#directory.roomsOfNode(nodeId)) {
        await this.#directory.purgeNode(room, nodeId);
        await this.#directory.leaveRoom(room, nodeId);
      }
      await this.#directory.forgetNode(nodeId);
    } catch (err) {
      this.#logger.warn({ err, deadNode: nodeId }, 'directory clean-up after a dead node failed');
    }
    this.#bus.publish(Subjects.nodeDead, NodeDead, { nodeId, reason });
  }
}
