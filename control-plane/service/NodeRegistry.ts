import { EventEmitter } from 'node:events';
import type { Directory, LivenessSnapshot } from '@kaskade/directory';
import type { Bus } from '@kaskade/node-toolkit';
import { NodeDead, NodeHeartbeat, type NodeReport, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { LivenessView } from './placement.ts';

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

export interface NodeRegistryOptions {
  /** A node absent from Redis's liveness record and silent on NATS this long is declared dead. */
  timeoutMs: number;
  /** How often the liveness record in Redis is read and judged. */
  sweepMs: number;
  trustedUrls?: ReadonlyMap<string, string>;
  placementHoldMs?: number;
}

/**
 * The nodes, from their NATS heartbeats (placement figures), each known by the id its
 * subject (its credentials) carries, and their liveness, from Redis. The URL an edge is
 * known by is the operator's, when the operator configured edge URLs (an edge not
 * listed is tracked but never placed), else the one the edge announces on its own
 * subject.
 *
 * Death is judged from Redis (NodeLiveness.ts), never from NATS alone: every replica
 * reads the liveness record each sweep, so one started after a death finds it too. A
 * node whose liveness lapsed is declared dead: one replica (the one that wins a Redis
 * lock) removes its participants and streams from the directory and tells every node,
 * which drop its streams and links. While Redis is away nobody is judged, and after it
 * returns every node gets a full timeout to write again. A node with no liveness record
 * at all (Redis lost its data, or a node that writes none) is judged by its heartbeats
 * as before, except while NATS is away. A node declared dead that beats again is simply
 * live again.
 */
export class NodeRegistry extends EventEmitter<{ dead: [nodeId: string] }> {
  readonly #nodes = new Map<string, Entry>();
  readonly #placementHoldMs: number;
  readonly #bus: Bus;
  readonly #directory: Directory;
  readonly #timeoutMs: number;
  readonly #sweepMs: number;
  readonly #logger: Logger;
  readonly #trustedUrls: ReadonlyMap<string, string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #deaf = false;
  /** The last liveness read, and when it arrived (local clock). */
  #liveness: { snapshot: LivenessSnapshot; readAt: number } | undefined;
  #redisAway = false;
  /** Until then (local clock) nobody is judged from Redis: nodes are writing again after an outage. */
  #graceUntil = 0;
  #sweeping = false;
  /** Nodes this replica declared dead, with the lapsed expiry it judged; their record goes later. */
  readonly #declared = new Map<string, number>();

  constructor(bus: Bus, directory: Directory, logger: Logger, options: NodeRegistryOptions) {
    super();
    this.#trustedUrls = options.trustedUrls;
    this.#placementHoldMs = options.placementHoldMs ?? 1000;
    this.#bus = bus;
    this.#directory = directory;
    this.#timeoutMs = options.timeoutMs;
    this.#sweepMs = options.sweepMs;
    this.#logger = logger.child({ component: 'registry' });
  }

  start(): void {
    this.#bus.subscribe(Subjects.heartbeat('*'), NodeHeartbeat, (hb, nodeId) => {
      const url = this.#trustedUrls ? (this.#trustedUrls.get(nodeId) ?? '') : hb.url;
      if (this.#trustedUrls && hb.kind === 'edge' && url === '' && !this.#nodes.has(nodeId))
        this.#logger.warn({ node: nodeId }, 'edge not in KASKADE_EDGE_URLS: tracked, never placed');
      this.#nodes.set(nodeId, {
        heartbeat: { ...hb, nodeId, url },
        lastSeen: Date.now(),
        placements: this.#unredeemed(this.#nodes.get(nodeId), hb),
      });
    });
    // Without NATS this replica hears nobody: that says nothing about the nodes. Stop
    // judging by heartbeats while away, and give every node a full timeout again on return.
    this.#bus.onConnectionChange({
      lost: () => {
        this.#deaf = true;
      },
      back: () => {
        this.#deaf = false;
        for (const entry of this.#nodes.values()) entry.lastSeen = Date.now();
      },
    });
    this.#timer = setInterval(() => void this.#sweep(), this.#sweepMs);
    void this.#sweep(); // a replica started after a death declares it at once
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Nodes as last heard; the participant counts include placements not yet reported. */
  nodes(): NodeReport[] {
    return [...this.#nodes.values()].map((e) => {
      const participants = e.heartbeat.participants + this.#pendingPlacements(e);
      const load = Math.max(e.heartbeat.load, participants / Math.max(1, e.heartbeat.capacity));
      return { ...e.heartbeat, participants, load };
    });
  }

  /** Nodes as last heard, with when. */
  entries(): { heartbeat: NodeReport; lastSeen: number }[] {
    return [...this.#nodes.values()];
  }

  /**
   * The nodes' liveness as of the last read of Redis, for placement; undefined when it
   * is not known (Redis away, or just back and nodes still writing again).
   */
  liveness(): LivenessView | undefined {
    const last = this.#liveness;
    const now = Date.now();
    if (!last || now - last.readAt > 3 * this.#sweepMs || now < this.#graceUntil) return undefined;
    return { expiries: last.snapshot.expiries, now: last.snapshot.now };
  }

  /** A join was sent to this node. */
  placed(nodeId: string): void {
    const entry = this.#nodes.get(nodeId);
    if (!entry) return;
    entry.placements.push(Date.now());
    this.#pendingPlacements(entry); // prunes, so the list stays as long as the hold allows
  }

  /**
   * The placements a new heartbeat does not cover yet: the node says how many joins it
   * admitted since the last one, which redeems the oldest placements. (A heartbeat sent
   * between a placement and its join must not make the node look emptier than it is.)
   * A node that does not count (a relay, an older edge) starts afresh with each heartbeat.
   */
  #unredeemed(previous: Entry | undefined, hb: NodeHeartbeat): number[] {
    const before = previous?.heartbeat.admitted;
    if (!previous || before === undefined || hb.admitted === undefined) return [];
    return previous.placements.slice(Math.max(0, hb.admitted - before));
  }

  /** Placements on the node not yet redeemed by its heartbeats and younger than the hold time. */
  #pendingPlacements(entry: Entry): number {
    const since = Date.now() - this.#placementHoldMs;
    const stale = entry.placements.findIndex((t) => t > since);
    entry.placements.splice(0, stale === -1 ? entry.placements.length : stale);
    return entry.placements.length;
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping) return; // a long clean-up: the next sweep reads afresh
    this.#sweeping = true;
    try {
      await this.#judge();
    } catch (err) {
      this.#logger.warn({ err }, 'liveness sweep failed');
    } finally {
      this.#sweeping = false;
    }
  }

  async #judge(): Promise<void> {
    const started = Date.now();
    let snapshot: LivenessSnapshot;
    try {
      snapshot = await this.#directory.liveness.read();
    } catch (err) {
      if (!this.#redisAway)
        this.#logger.warn({ err }, 'Redis unreachable: no node is judged until it is back');
      this.#redisAway = true;
      return;
    }
    const readAt = Date.now();
    // After Redis was away, or so slow that it may have been (paused, failing over), the
    // nodes may not have written either: a full timeout to beat again before judging.
    if (this.#redisAway || readAt - started > this.#sweepMs) {
      this.#graceUntil = readAt + this.#timeoutMs;
      this.#redisAway = false;
      this.#logger.info('Redis answers again: judging liveness after a full node timeout');
    }
    this.#liveness = { snapshot, readAt };
    if (readAt < this.#graceUntil) return;
    for (const [nodeId, expiry] of snapshot.expiries) {
      const lapsedMs = snapshot.now - expiry;
      if (lapsedMs < 0) {
        this.#declared.delete(nodeId); // live (again)
      } else if (this.#declared.get(nodeId) === expiry) {
        // Declared by this replica; the record stays a timeout longer so every replica sees it
        // lapsed (and stops placing on the node) before it goes.
        if (lapsedMs >= this.#timeoutMs) await this.#forget(nodeId, expiry);
      } else {
        this.#nodes.delete(nodeId);
        await this.#declareDead(nodeId, expiry, `liveness lapsed ${lapsedMs} ms ago`);
      }
    }
    for (const nodeId of this.#declared.keys())
      if (!snapshot.expiries.has(nodeId)) this.#declared.delete(nodeId);
    if (this.#deaf) return;
    for (const [nodeId, entry] of this.#nodes) {
      const silentMs = readAt - entry.lastSeen;
      if (snapshot.expiries.has(nodeId) || silentMs <= this.#timeoutMs) continue;
      this.#nodes.delete(nodeId);
      await this.#declareDead(nodeId, undefined, `no liveness in Redis and no heartbeat for ${silentMs} ms`);
    }
  }

  /** Claims the clean-up after a node; the winner removes its entries and tells every node. */
  async #declareDead(nodeId: string, expiry: number | undefined, reason: string): Promise<void> {
    try {
      // Every replica notices; one cleans up. The claim outlives the record's last sweep.
      if (!(await this.#directory.liveness.claimDeadNode(nodeId, 3 * this.#timeoutMs))) return;
    } catch (err) {
      this.#logger.warn({ err, deadNode: nodeId }, 'could not claim the clean-up after a dead node');
      return;
    }
    this.#logger.warn({ deadNode: nodeId, reason }, 'node declared dead');
    this.emit('dead', nodeId);
    try {
      // Its own index of rooms expires with the directory TTL; a replica started later
      // finds the rooms through the room index, which the other nodes keep alive.
      const rooms = new Set([
        ...(await this.#directory.roomsOfNode(nodeId)),
        ...(await this.#directory.rooms()),
      ]);
      for (const room of rooms) await this.#directory.leaveRoom(room, nodeId);
      await this.#directory.forgetNode(nodeId);
    } catch (err) {
      this.#logger.warn({ err, deadNode: nodeId }, 'directory clean-up after a dead node failed');
    }
    try {
      this.#bus.publish(Subjects.nodeDead, NodeDead, { nodeId, reason });
    } catch (err) {
      this.#logger.warn({ err, deadNode: nodeId }, 'node-dead not sent');
    }
    if (expiry !== undefined) this.#declared.set(nodeId, expiry);
  }

  async #forget(nodeId: string, expiry: number): Promise<void> {
    this.#declared.delete(nodeId);
    await this.#directory.liveness.forgetLapsed(nodeId, expiry).catch((err: unknown) => {
      this.#logger.debug({ err, deadNode: nodeId }, 'liveness record of a dead node not removed yet');
    });
  }
}
