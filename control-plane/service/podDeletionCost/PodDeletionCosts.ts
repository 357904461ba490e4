import { KubernetesApiError, labelCombinations, preinitialisedCounter } from '@kaskade/node-toolkit';
import type { NodeReport } from '@kaskade/protocol';
import type { Logger } from 'pino';
import type { Counter, Registry } from 'prom-client';
import { costInputOf, POD_DELETION_COST_ANNOTATION, podDeletionCost } from './cost.ts';

/** The part of the Kubernetes client this needs. */
export interface PodAnnotator {
  patchPodAnnotations(name: string, annotations: Record<string, string | null>): Promise<unknown>;
  close(): void;
}

export interface PodDeletionCostsOptions {
  /** The nodes as heard (NodeRegistry): each report's node id comes from its bus subject. */
  nodes: () => readonly NodeReport[];
  client: PodAnnotator;
  intervalMs: number;
  logger: Logger;
  registry: Registry;
}

const RESULTS = ['ok', 'not_found', 'error'] as const;
/** A node whose pod was not found is tried again after this many rounds (it may be starting). */
const NOT_FOUND_ROUNDS = 10;

/**
 * Keeps `controller.kubernetes.io/pod-deletion-cost` of every edge and relay pod in
 * step with its node's load (cost.ts), so a scale-down removes the least-loaded node
 * and never the origin of a lecture while another pod can go. The pod's name is the
 * node id (the chart sets KASKADE_NODE_ID from metadata.name), and the id is the one
 * the node's bus credentials publish under, never a payload field. A pod is patched
 * only when its cost changed since this replica last set it.
 *
 * Every replica does this, without a lock: they compute from the same heartbeats, so
 * they agree but for a heartbeat's difference, and a merge patch of the same value is
 * harmless; each replica patches a pod only when its own value changes, so two that
 * disagree for a moment do not undo each other in a loop.
 */
export class PodDeletionCosts {
  readonly #options: PodDeletionCostsOptions;
  readonly #logger: Logger;
  readonly #patches: Counter<'result'>;
  /** Node id -> the cost this replica last set on its pod. */
  readonly #set = new Map<string, number>();
  /** Node id -> rounds left before a pod that was not found is tried again. */
  readonly #absent = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #round: Promise<void> | undefined;
  #failing = false;
  #closed = false;

  constructor(options: PodDeletionCostsOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'pod-deletion-cost' });
    this.#patches = preinitialisedCounter({
      name: 'kaskade_pod_deletion_cost_patches_total',
      help: "Patches of an edge or relay pod's deletion cost, by result (ok, not_found: no such pod in the namespace, error)",
      labelNames: ['result'],
      registers: [options.registry],
      zeroed: labelCombinations({ result: RESULTS }),
    });
    this.#timer = setInterval(() => void this.update(), options.intervalMs);
  }

  /** One round: patches the pods whose cost changed. A round still under way is not doubled. */
  update(): Promise<void> {
    this.#round ??= this.#patchChanged().finally(() => {
      this.#round = undefined;
    });
    return this.#round;
  }

  async #patchChanged(): Promise<void> {
    const nodes = this.#options.nodes();
    const present = new Set(nodes.map((n) => n.nodeId));
    for (const id of [...this.#set.keys(), ...this.#absent.keys()])
      if (!present.has(id)) {
        this.#set.delete(id);
        this.#absent.delete(id);
      }
    let failures = 0;
    let lastError: unknown;
    for (const node of nodes) {
      if (this.#closed) return;
      const wait = this.#absent.get(node.nodeId);
      if (wait !== undefined && wait > 0) {
        this.#absent.set(node.nodeId, wait - 1);
        continue;
      }
      const previous = this.#set.get(node.nodeId);
      const cost = podDeletionCost(costInputOf(node, nodes), previous);
      if (cost === previous) continue;
      try {
        await this.#options.client.patchPodAnnotations(node.nodeId, {
          [POD_DELETION_COST_ANNOTATION]: String(cost),
        });
        this.#set.set(node.nodeId, cost);
        this.#absent.delete(node.nodeId);
        this.#patches.inc({ result: 'ok' });
      } catch (error) {
        if (error instanceof KubernetesApiError && error.code === 'NOT_FOUND') {
          // Not a pod of this namespace (a node run outside Kubernetes, another namespace).
          this.#patches.inc({ result: 'not_found' });
          if (!this.#absent.has(node.nodeId))
            this.#logger.debug({ target: node.nodeId }, 'no pod of this name: its deletion cost is not set');
          this.#absent.set(node.nodeId, NOT_FOUND_ROUNDS);
        } else {
          this.#patches.inc({ result: 'error' });
          failures++;
          lastError = error;
          // The API server is away or silent: the rest of the round would only wait out its timeouts.
          if (error instanceof KubernetesApiError && error.code === 'UNAVAILABLE') break;
        }
      }
    }
    // One line when patching starts failing and one when it works again, not one per pod
    // and round: an API server away (or a missing RBAC rule) fails them all.
    if (failures > 0 && !this.#failing)
      this.#logger.warn({ err: lastError, failures }, 'pod deletion costs not set; trying again each round');
    else if (failures === 0 && this.#failing) this.#logger.info('pod deletion costs are set again');
    this.#failing = failures > 0;
  }

  /** Stops; a patch under way is cut short (its connection closed), not waited out. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#options.client.close();
    await this.#round;
  }
}
