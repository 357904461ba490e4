import { labelCombinations, preinitialisedCounter } from '@kaskade/node-toolkit';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NodeRegistry } from './NodeRegistry.ts';
import type { Placement } from './placement.ts';

const JOIN_RESULTS: Record<number, string> = {
  200: 'ok',
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  503: 'unavailable',
  500: 'internal',
};
const OUTCOMES = ['sticky', 'region', 'sticky-elsewhere', 'elsewhere', 'no-edges', 'all-full'] as const;

/**
 * The control plane's view of the mesh: nodes by kind, state and region, the load
 * ratio each node reports, placement decisions by outcome, nodes declared dead.
 * Per-node series carry the reported node as `target_node` (the `node` label names
 * the replica that is scraped).
 */
export class ControlPlaneMetrics {
  readonly #placements: Counter<'outcome'>;
  readonly #joinRequests: Counter<'result'>;
  readonly #declaredDead: Counter;

  constructor(registry: Registry, nodes: NodeRegistry) {
    const registers = [registry];
    new Gauge({
      name: 'kaskade_nodes',
      help: 'Live nodes by kind, state and region, as this control plane hears them',
      labelNames: ['kind', 'state', 'target_region'],
      registers,
      collect() {
        this.reset();
        for (const n of nodes.nodes()) this.inc({ kind: n.kind, state: n.state, target_region: n.region });
      },
    });
    new Gauge({
      name: 'kaskade_registry_node_load_ratio',
      help: 'The load ratio (0..1) each live node reported in its last heartbeat',
      labelNames: ['target_node', 'target_region', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const n of nodes.nodes())
          this.set({ target_node: n.nodeId, target_region: n.region, kind: n.kind }, n.load);
      },
    });
    new Gauge({
      name: 'kaskade_registry_heartbeat_age_seconds',
      help: 'Time since each live node was last heard from',
      labelNames: ['target_node', 'target_region', 'kind'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const { heartbeat: n, lastSeen } of nodes.entries())
          this.set({ target_node: n.nodeId, target_region: n.region, kind: n.kind }, (now - lastSeen) / 1000);
      },
    });
    this.#placements = preinitialisedCounter({
      name: 'kaskade_placements_total',
      help: 'Join placements by outcome: the tier that chose the edge, or why none could',
      labelNames: ['outcome'],
      registers,
      zeroed: labelCombinations({ outcome: OUTCOMES }),
    });
    this.#joinRequests = preinitialisedCounter({
      name: 'kaskade_join_requests_total',
      help: 'Join requests to the control plane by result (ok, or why refused: bad_request, unauthorized, forbidden, unavailable, internal)',
      labelNames: ['result'],
      registers,
      zeroed: labelCombinations({ result: Object.values(JOIN_RESULTS) }),
    });
    this.#declaredDead = new Counter({
      name: 'kaskade_nodes_declared_dead_total',
      help: 'Nodes this control plane declared dead (their liveness in Redis lapsed) and cleaned up after',
      registers,
    });
    nodes.on('dead', () => this.#declaredDead.inc());
  }

  /** A join request was answered with this HTTP status. */
  joinAnswered(status: number): void {
    this.#joinRequests.inc({ result: JOIN_RESULTS[status] ?? 'internal' });
  }

  placed(placement: Placement): void {
    this.#placements.inc({ outcome: placement.reason });
  }
}
