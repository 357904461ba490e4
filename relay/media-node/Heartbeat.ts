import type { Bus } from '@kaskade/node-toolkit';
import { NodeHeartbeat, type NodeState, Subjects } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { MediaMetrics } from './MediaMetrics.ts';

/** What a node holds now: the part of its heartbeat only the node itself can count. */
export type NodeHoldings = Omit<NodeHeartbeat, 'kind' | 'region' | 'state' | 'load' | 'bitrateBps' | 'ts'>;

export interface HeartbeatOptions {
  nodeId: string;
  kind: NodeHeartbeat['kind'];
  region: string;
  bus: Bus;
  intervalMs: number;
  /** The load ratio and bitrate, from the node's stats sampling loop. */
  media: Pick<MediaMetrics, 'load' | 'bitrateBps'>;
  /** Read at every beat. */
  holdings: () => NodeHoldings;
  /**
   * Keeps the node alive in the directory (and the rooms it holds there) at every beat;
   * a failure waits for the next beat. None: a node without a directory.
   */
  refreshLiveness?: (heartbeat: NodeHeartbeat) => Promise<unknown> | undefined;
  logger: Logger;
}

/**
 * The one way a media node (edge or relay) tells the mesh about itself: what it says
 * (its state, load and holdings, assembled here for both kinds), how often, and that a
 * change of state goes out at once. The control plane places joins by it and the
 * edges' trees choose their upstreams by it, so both kinds must say it alike.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  #state: NodeState = 'serving';
  #timer: NodeJS.Timeout | undefined;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
  }

  get state(): NodeState {
    return this.#state;
  }

  /** Beats now, then every intervalMs. */
  start(): void {
    this.#timer ??= setInterval(() => this.beat(), this.#options.intervalMs);
    this.beat();
  }

  /** The node takes no more joins and carries nothing new: the mesh hears it at once. */
  drain(): void {
    this.#state = 'draining';
    this.beat();
  }

  beat(): void {
    const { bus, nodeId, kind, region, media, holdings, refreshLiveness, logger } = this.#options;
    const heartbeat: NodeHeartbeat = {
      kind,
      region,
      state: this.#state,
      load: media.load,
      bitrateBps: media.bitrateBps,
      ...holdings(),
      ts: Date.now(),
    };
    try {
      bus.publish(Subjects.heartbeat(nodeId), NodeHeartbeat, heartbeat);
    } catch (err) {
      logger.warn({ err }, 'heartbeat not sent');
    }
    refreshLiveness?.(heartbeat)?.catch(() => undefined);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
