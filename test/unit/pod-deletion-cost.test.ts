import {
  type CostInput,
  costInputOf,
  DRAINING_COST,
  EMPTY_COST,
  LOAD_STEP,
  ORIGIN_COST,
  podDeletionCost,
} from '@kaskade/control-plane';
import type { NodeReport } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { heartbeat } from '../helpers/heartbeats.ts';

const serving = (load: number, extra: Partial<CostInput> = {}): CostInput => ({
  state: 'serving',
  load,
  empty: false,
  feedsOtherNodes: false,
  ...extra,
});

function node(nodeId: string, extra: Partial<NodeReport> = {}): NodeReport {
  return { ...heartbeat(), nodeId, ...extra };
}

describe('pod deletion cost (which pod a scale-down removes first)', () => {
  it('orders serving nodes by load: the least loaded has the lowest cost', () => {
    const loads = [0.9, 0.12, 0.5, 0.31, 1.4];
    const byCost = [...loads].sort((a, b) => podDeletionCost(serving(a)) - podDeletionCost(serving(b)));
    expect(byCost).toEqual([0.12, 0.31, 0.5, 0.9, 1.4]);
    expect(podDeletionCost(serving(0.3))).toBe(1 + 6); // 0.3 / 0.05 is 5.999… in floating point
    expect(podDeletionCost(serving(0))).toBeGreaterThan(EMPTY_COST); // someone on it: after the empty ones
  });

  it("gives a node feeding other nodes (a lecture's origin) a cost above every other node's", () => {
    const origin = podDeletionCost(serving(0.05, { feedsOtherNodes: true }));
    expect(origin).toBeGreaterThanOrEqual(ORIGIN_COST);
    expect(origin).toBeGreaterThan(podDeletionCost(serving(2)));
    expect(origin).toBeGreaterThan(podDeletionCost(serving(Number.POSITIVE_INFINITY)));
    // Among origins, still by load.
    expect(podDeletionCost(serving(0.8, { feedsOtherNodes: true }))).toBeGreaterThan(origin);
    // An int32, whatever the load says.
    expect(podDeletionCost(serving(1e9, { feedsOtherNodes: true }))).toBeLessThan(2 ** 31);
  });

  it('puts draining nodes first, then empty ones, whatever their load', () => {
    const draining = podDeletionCost({ ...serving(0.9, { feedsOtherNodes: true }), state: 'draining' });
    expect(draining).toBe(DRAINING_COST);
    expect(draining).toBeLessThan(0); // below pods with no annotation yet (cost 0)
    expect(podDeletionCost(serving(0.4, { empty: true }))).toBe(EMPTY_COST);
    expect(draining).toBeLessThan(podDeletionCost(serving(0.4, { empty: true })));
  });

  it('counts load in steps, and a load wavering at a step edge keeps the cost last set', () => {
    const cost = podDeletionCost(serving(0.41));
    expect(podDeletionCost(serving(0.44))).toBe(cost); // same step
    expect(podDeletionCost(serving(0.46))).toBe(cost + 1); // the next one, when nothing was set
    // Given the cost last set, small moves across the edge patch nothing...
    expect(podDeletionCost(serving(0.46), cost)).toBe(cost);
    expect(podDeletionCost(serving(0.39), cost)).toBe(cost);
    // ...a move of most of a step does.
    expect(podDeletionCost(serving(0.47), cost)).toBe(cost + 1);
    expect(podDeletionCost(serving(0.41 + 2 * LOAD_STEP), cost)).toBe(cost + 2);
    expect(podDeletionCost(serving(0.2), cost)).toBe(podDeletionCost(serving(0.2)));
    // A change of tier is never held back.
    expect(podDeletionCost(serving(0.41, { feedsOtherNodes: true }), cost)).toBeGreaterThanOrEqual(
      ORIGIN_COST,
    );
  });

  it('reads from the reports who feeds whom: an edge with streams in a room another node carries', () => {
    const presenter = node('edge-a', { participants: 1, producers: 2, rooms: ['lecture'], load: 0.01 });
    const viewers = node('edge-b', { participants: 90, consumers: 180, rooms: ['lecture'], load: 0.9 });
    const alone = node('edge-c', { participants: 3, producers: 3, rooms: ['meeting'], load: 0.03 });
    const idle = node('edge-d', { rooms: [] });
    const relay = node('relay-a', {
      kind: 'relay',
      producers: 2,
      consumers: 4,
      rooms: ['lecture'],
      load: 0.1,
    });
    const all = [presenter, viewers, alone, idle, relay];
    expect(costInputOf(presenter, all)).toMatchObject({ feedsOtherNodes: true, empty: false });
    expect(costInputOf(viewers, all)).toMatchObject({ feedsOtherNodes: false }); // no streams of its own
    expect(costInputOf(alone, all)).toMatchObject({ feedsOtherNodes: false }); // nobody else carries its room
    expect(costInputOf(idle, all)).toMatchObject({ empty: true });
    expect(costInputOf(relay, all)).toMatchObject({ feedsOtherNodes: false, empty: false }); // copies only
    expect(costInputOf(node('relay-b', { kind: 'relay' }), all)).toMatchObject({ empty: true });
    const order = all
      .map((n) => ({ id: n.nodeId, cost: podDeletionCost(costInputOf(n, all)) }))
      .sort((a, b) => a.cost - b.cost)
      .map((n) => n.id);
    expect(order).toEqual(['edge-d', 'edge-c', 'relay-a', 'edge-b', 'edge-a']);
  });
});
