import type { NodeReport } from '@kaskade/protocol';

/** The annotation a ReplicaSet reads when it scales down: the pod with the lowest cost goes first. */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

/** Load ratios are counted in steps of this: changes within a step patch nothing. */
export const LOAD_STEP = 0.05;
/** Loads past this (a node over its capacity) all count alike. */
const MAX_LOAD = 2;
/** A draining node goes first: below the 0 of pods with no annotation (just started, still empty). */
export const DRAINING_COST = -1;
/** A serving node with nobody on it: nothing to migrate. */
export const EMPTY_COST = 0;
/**
 * Nodes holding the origin of a stream other nodes carry (a lecture's presenter, a
 * meeting spread over edges) cost this much more than any other serving node, so they
 * go last. Far below int32's limit (2^31 - 1).
 */
export const ORIGIN_COST = 1_000_000;

/** What the cost of a node's pod is made from. */
export interface CostInput {
  state: NodeReport['state'];
  /** 0..1 (more when over capacity): the largest of the node's CPU, bandwidth, consumer and participant shares. */
  load: number;
  /** Nothing on it: no participants (an edge), no streams carried (a relay). */
  empty: boolean;
  /** It hosts the origin of a stream that other nodes carry: removing it moves what they all watch. */
  feedsOtherNodes: boolean;
}

/**
 * The node's report as the cost needs it. A node feeds others when it is an edge
 * with streams of its own (a relay's streams are all copies) in a room that another
 * node carries too: its streams are then piped to them (an edge that carries a room
 * whose publishers sit elsewhere has none of its own there to feed with).
 */
export function costInputOf(node: NodeReport, all: readonly NodeReport[]): CostInput {
  const empty = node.kind === 'edge' ? node.participants === 0 : node.producers === 0 && node.consumers === 0;
  let feedsOtherNodes = false;
  if (node.kind === 'edge' && node.producers > 0) {
    const rooms = new Set(node.rooms);
    feedsOtherNodes = all.some(
      (other) => other.nodeId !== node.nodeId && other.rooms.some((r) => rooms.has(r)),
    );
  }
  return { state: node.state, load: node.load, empty, feedsOtherNodes };
}

/**
 * The pod deletion cost of a node: an int32, lowest for the pod a scale-down should
 * remove first. Draining nodes first, then empty ones, then serving nodes by load (the
 * least loaded first: fewest participants to migrate), and last the nodes feeding
 * other nodes, by load among them. A load is counted in steps of LOAD_STEP; given the
 * cost last set (`previous`), a load that moved less than three quarters of a step from
 * that cost's step keeps it, so a load wavering at a step's edge patches nothing.
 */
export function podDeletionCost(input: CostInput, previous?: number): number {
  if (input.state === 'draining') return DRAINING_COST;
  if (input.empty) return EMPTY_COST;
  const base = input.feedsOtherNodes ? ORIGIN_COST : 1;
  const load = Math.min(MAX_LOAD, Math.max(0, Number.isFinite(input.load) ? input.load : MAX_LOAD));
  if (previous !== undefined) {
    const step = previous - base;
    const maxStep = Math.round(MAX_LOAD / LOAD_STEP);
    if (step >= 0 && step <= maxStep && Math.abs(load - (step + 0.5) * LOAD_STEP) < 0.75 * LOAD_STEP)
      return previous;
  }
  // The epsilon keeps 0.3 in step 6 although 0.3 / 0.05 is 5.999… in floating point.
  return base + Math.min(Math.floor(load / LOAD_STEP + 1e-9), Math.round(MAX_LOAD / LOAD_STEP));
}
