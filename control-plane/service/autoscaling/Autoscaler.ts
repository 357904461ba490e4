import type { CapacityReservations } from '@kaskade/directory';
import type { CapacityReport, CapacityReservation, NodeReport } from '@kaskade/protocol';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { decideDesiredNodes } from './desiredNodes.ts';
import { type AutoscaleSettings, type Decision, emptyPolicyState, type PolicyState } from './types.ts';

export interface AutoscalerOptions {
  /** The nodes as last heard (NodeRegistry). */
  nodes: { nodes(): NodeReport[] };
  reservations: Pick<CapacityReservations, 'list'>;
  settings: AutoscaleSettings;
  intervalMs: number;
  registry: Registry;
  logger: Logger;
}

/**
 * Runs the desired-count policy (desiredNodes.ts) every interval on the nodes' heartbeats
 * and the reservations in Redis, keeps what it needs between decisions (demand history,
 * counts wanted, reservations met), and exports the result as
 * `kaskade_desired_nodes{region,kind}` for KEDA or an HPA. Every replica decides on the
 * same inputs, so any one's value will do and `max()` over them is safe. While Redis is
 * away it decides with the reservations it read last.
 */
export class Autoscaler {
  readonly #options: AutoscalerOptions;
  #state: PolicyState = emptyPolicyState();
  #decisions: Decision[] = [];
  #reservations: CapacityReservation[] = [];
  #timer: NodeJS.Timeout | undefined;
  #redisFailed = false;
  #deciding: Promise<void> | undefined;

  constructor(options: AutoscalerOptions) {
    this.#options = options;
    const registers = [options.registry];
    const autoscaler = this;
    // The metrics' own region and kind override the registry's default labels of the
    // same names (prom-client spreads a series' labels over the defaults); `node` stays
    // and names the replica.
    const perRegionAndKind = (name: string, help: string, value: (d: Decision) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['region', 'kind'],
        registers,
        collect() {
          this.reset();
          for (const d of autoscaler.#decisions) this.set({ region: d.region, kind: d.kind }, value(d));
        },
      });
    perRegionAndKind(
      'kaskade_desired_nodes',
      'Nodes the autoscaler wants per region and kind (edge, relay): load, trend, headroom, reservations, hysteresis, min/max and the floor of live rooms',
      (d) => d.desired,
    );
    perRegionAndKind(
      'kaskade_wanted_nodes',
      'Nodes the load and the reservations ask for per region and kind, before min/max and hysteresis (above kaskade_desired_nodes: capped by the max)',
      (d) => d.wanted,
    );
    new Gauge({
      name: 'kaskade_capacity_reservations',
      help: 'Pre-warm reservations stored (not yet an hour past their end), as last read from Redis',
      registers,
      collect() {
        this.set(autoscaler.#reservations.length);
      },
    });
  }

  /** Decides now, then every interval. */
  start(): void {
    this.#timer ??= setInterval(() => void this.decide(), this.#options.intervalMs);
    void this.decide();
  }

  /** Decides now (a reservation changed); a decision under way is awaited, not doubled. */
  async decide(now = Date.now()): Promise<void> {
    if (this.#deciding) return this.#deciding;
    this.#deciding = this.#decide(now).finally(() => {
      this.#deciding = undefined;
    });
    return this.#deciding;
  }

  /** The last decisions and the reservations they saw, for GET /v1/capacity. */
  report(): CapacityReport {
    return {
      regions: this.#decisions.map(({ wanted: _, ...decision }) => decision),
      reservations: this.#reservations,
    };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #decide(now: number): Promise<void> {
    const { nodes, reservations, settings, logger } = this.#options;
    try {
      this.#reservations = await reservations.list(now);
      if (this.#redisFailed) logger.info('capacity reservations readable again');
      this.#redisFailed = false;
    } catch (err) {
      if (!this.#redisFailed)
        logger.warn({ err }, 'capacity reservations unreadable: deciding with the last ones read');
      this.#redisFailed = true;
    }
    const input = { now, nodes: nodes.nodes(), reservations: this.#reservations };
    const { decisions, state } = decideDesiredNodes(input, this.#state, settings);
    const before = new Map(this.#decisions.map((d) => [`${d.region}/${d.kind}`, d.desired]));
    for (const d of decisions) {
      const was = before.get(`${d.region}/${d.kind}`);
      if (was !== undefined && was !== d.desired)
        logger.info(
          { region: d.region, kind: d.kind, from: was, to: d.desired, reasons: d.reasons },
          'desired nodes changed',
        );
    }
    this.#state = state;
    this.#decisions = decisions;
  }
}
