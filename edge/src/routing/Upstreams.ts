import type { PipeMachinery } from '@kaskade/media-node';
import type { Bus } from '@kaskade/node-toolkit';
import { NodeHeartbeat, type NodeReport, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { FeedSource } from '../rtc/RemoteFeeds.ts';
import type { RoomManager } from '../rtc/RoomManager.ts';
import { upstreamFor } from './distributionTree.ts';

/** How long a node whose pipe went silent is kept out of the tree (unless declared dead first). */
const SUSPECT_FOR_MS = 15_000;

export interface UpstreamsOptions {
  region: string;
  /** In the origin's own region, edges beyond this many carrying a room get its streams through a relay. */
  fanoutLimit: number;
  /** How long viewers of a moved stream have to move before the old copy goes. */
  pipeSupersededMs: number;
  bus: Bus;
  pipes: PipeMachinery;
  rooms: RoomManager;
  logger: Logger;
}

/**
 * Where each remote stream comes from: the tree (distributionTree.ts) over what the
 * nodes last said of themselves and which ones not to take media from, and re-homing
 * the copies when the tree changes. The state the tree is computed from lives here;
 * the rule itself stays a pure function.
 */
export class Upstreams {
  readonly #options: UpstreamsOptions;
  /** What every node last said of itself, for choosing where a stream comes from. */
  readonly #nodes = new Map<string, NodeReport>();
  /** Nodes not to take media from (see TreeInput.unavailable), each until its timer lets it back. */
  readonly #unavailable = new Map<string, NodeJS.Timeout>();
  /** Streams being moved to another upstream now, by room and stream. */
  readonly #rerouting = new Set<string>();
  #rehomeTimer: NodeJS.Timeout | undefined;

  constructor(options: UpstreamsOptions) {
    this.#options = options;
  }

  /** Listens to the nodes' heartbeats and to pipes going silent. */
  start(): void {
    const { bus, pipes } = this.#options;
    pipes.on('suspect', (nodeId) => this.#onSuspect(nodeId));
    bus.subscribe(Subjects.heartbeat('*'), NodeHeartbeat, (heartbeat, nodeId) => {
      this.#nodes.set(nodeId, { ...heartbeat, nodeId });
      this.#scheduleRehome(); // a relay appeared, an edge took or left a room: the tree may change
    });
  }

  /** The region a node last said it is in. */
  regionOf(nodeId: string): string | undefined {
    return this.#nodes.get(nodeId)?.region;
  }

  /** A room's remote streams: fetched over the path the tree names, released and retired by the pipes. */
  feedsFor(room: string): FeedSource {
    const { pipes, logger } = this.#options;
    return {
      fetch: async (producerId, originNode) => {
        const via = this.#upstreamFor(room, originNode);
        if (via === originNode) return pipes.fetch(room, originNode, producerId);
        try {
          return await pipes.fetch(room, originNode, producerId, via);
        } catch (err) {
          logger.warn({ err, room, relay: via }, 'relay did not deliver; piping straight from the origin');
          return pipes.fetch(room, originNode, producerId);
        }
      },
      release: (producerId) => pipes.release(room, producerId),
      retire: (copy) => pipes.retire(copy),
      setDemand: (producerId, demand) => pipes.setDemand(room, producerId, demand),
    };
  }

  /** A node declared dead: what it said of itself no longer counts, nor its suspicion. */
  forget(nodeId: string): void {
    this.#nodes.delete(nodeId);
    this.#setAvailable(nodeId);
  }

  /**
   * Off a dead node: streams it relayed move first (make-before-break); its links close
   * once they had time to, those open now only (the node may be back by then, with new links).
   */
  leave(nodeId: string): void {
    this.rehome();
    this.#options.pipes.closeNode(nodeId, this.#options.pipeSupersededMs);
  }

  /**
   * The tree follows the room, make-before-break: a copy taken from another upstream
   * than the one the tree names now (a relay appeared or became unavailable, a second
   * edge of the region took the room) is fetched again over the new path; once that
   * carries media, viewers move to it and the old copy closes after them. If the new
   * path fails the current one stays, and the next pass tries again.
   */
  rehome(): void {
    const { pipes, rooms, logger } = this.#options;
    for (const copy of pipes.copies()) {
      if (!copy.current) continue;
      const { room: name, producerId: streamId, origin, upstream } = copy;
      const via = this.#upstreamFor(name, origin);
      const key = `${name}\u0000${streamId}`;
      const room = rooms.get(name);
      if (via === upstream || this.#rerouting.has(key) || !room) continue;
      // A copy nobody watches lingers and goes by itself; one whose viewers are still on
      // their way from an earlier move waits for them.
      const viewing = room.mesh.remoteStreamViewing(streamId);
      if (!viewing.watched || viewing.moving) continue;
      this.#rerouting.add(key);
      logger.info({ room: name, producer: streamId, from: upstream, to: via }, 're-homing a piped stream');
      pipes
        .reroute(name, origin, streamId, via)
        .then((fresh) => (room.closed ? pipes.retire(fresh) : room.mesh.moveRemoteStream(streamId, fresh)))
        .catch((err: unknown) =>
          logger.warn(
            { err, room: name, producer: streamId, to: via },
            're-homing failed; keeping the current path',
          ),
        )
        .finally(() => this.#rerouting.delete(key));
    }
  }

  close(): void {
    clearTimeout(this.#rehomeTimer);
    for (const timer of this.#unavailable.values()) clearTimeout(timer);
  }

  /** Where this edge takes a stream of `origin` from, by the tree rule (distributionTree.ts). */
  #upstreamFor(room: string, origin: string): string {
    const { region, fanoutLimit } = this.#options;
    return upstreamFor({
      room,
      origin,
      region,
      nodes: [...this.#nodes.values()],
      unavailable: new Set(this.#unavailable.keys()),
      fanoutLimit,
    });
  }

  /** A pipe from the node went silent: take nothing from it for a while, and move what it carried. */
  #onSuspect(nodeId: string): void {
    this.#options.logger.warn({ node: nodeId }, 'pipe from node went silent: moving its streams');
    clearTimeout(this.#unavailable.get(nodeId));
    this.#unavailable.set(
      nodeId,
      setTimeout(() => {
        this.#setAvailable(nodeId);
        this.#scheduleRehome();
      }, SUSPECT_FOR_MS),
    );
    this.rehome();
  }

  #setAvailable(nodeId: string): void {
    clearTimeout(this.#unavailable.get(nodeId));
    this.#unavailable.delete(nodeId);
  }

  #scheduleRehome(): void {
    if (this.#rehomeTimer) return;
    this.#rehomeTimer = setTimeout(() => {
      this.#rehomeTimer = undefined;
      this.rehome();
    }, 100);
  }
}
