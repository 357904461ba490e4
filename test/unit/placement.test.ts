import { type LivenessView, type PlacementInput, place } from '@kaskade/control-plane';
import type { NodeReport } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { heartbeat } from '../helpers/heartbeats.ts';

function edge(nodeId: string, region: string, extra: Partial<NodeReport> = {}): NodeReport {
  return { ...heartbeat({ region, url: `http://${nodeId}.test` }), nodeId, ...extra };
}

/** Which node a join lands on, and by which tier; or why none. */
function outcome(input: Partial<PlacementInput> & { nodes: NodeReport[] }): string {
  const placement = place({ roomNodes: new Set(), ...input });
  return placement.ok ? `${placement.node.nodeId}:${placement.reason}` : placement.reason;
}

const carrying = (...ids: string[]) => new Set(ids);

describe('placement (which edge a join goes to)', () => {
  const nodes = [edge('eu-1', 'eu'), edge('eu-2', 'eu'), edge('us-1', 'us'), edge('us-2', 'us')];

  it('sticky: an edge of the asked region that already carries the room', () => {
    expect(outcome({ nodes, roomNodes: carrying('eu-2', 'us-1'), region: 'eu' })).toBe('eu-2:sticky');
  });

  it('sticky wins over a less loaded edge of the region', () => {
    const loaded = [edge('eu-1', 'eu'), edge('eu-2', 'eu', { load: 0.7, participants: 70 })];
    expect(outcome({ nodes: loaded, roomNodes: carrying('eu-2'), region: 'eu' })).toBe('eu-2:sticky');
  });

  it('region: no edge of the region carries the room, the least loaded one of the region', () => {
    const inRegion = [
      edge('eu-1', 'eu', { load: 0.5 }),
      edge('eu-2', 'eu', { load: 0.2 }),
      edge('us-1', 'us'),
    ];
    expect(outcome({ nodes: inRegion, roomNodes: carrying('us-1'), region: 'eu' })).toBe('eu-2:region');
  });

  it('sticky-elsewhere: the region has no open edge, an edge elsewhere that carries the room', () => {
    const full = [edge('eu-1', 'eu', { participants: 100 }), edge('us-1', 'us'), edge('us-2', 'us')];
    expect(outcome({ nodes: full, roomNodes: carrying('us-2'), region: 'eu' })).toBe('us-2:sticky-elsewhere');
  });

  it('elsewhere: the region has no open edge and nobody carries the room', () => {
    const full = [edge('eu-1', 'eu', { load: 1 }), edge('us-1', 'us', { load: 0.3 }), edge('us-2', 'us')];
    expect(outcome({ nodes: full, region: 'eu' })).toBe('us-2:elsewhere');
  });

  it('a region nobody serves goes elsewhere; no region asked takes every edge as in region', () => {
    expect(outcome({ nodes, region: 'ap' })).toBe('eu-1:elsewhere');
    expect(outcome({ nodes, roomNodes: carrying('us-2') })).toBe('us-2:sticky');
    expect(outcome({ nodes })).toBe('eu-1:region');
  });

  it('full edges are skipped: at capacity, or load ratio 1 and above', () => {
    const some = [
      edge('eu-1', 'eu', { participants: 100, capacity: 100 }),
      edge('eu-2', 'eu', { load: 1 }),
      edge('eu-3', 'eu', { load: 1.4 }),
      edge('eu-4', 'eu', { participants: 99, capacity: 100, load: 0.99 }),
    ];
    expect(outcome({ nodes: some, roomNodes: carrying('eu-1', 'eu-2', 'eu-3'), region: 'eu' })).toBe(
      'eu-4:region',
    );
    expect(outcome({ nodes: some.slice(0, 3), region: 'eu' })).toBe('all-full');
  });

  it('draining edges, relays and edges without a URL are never handed out', () => {
    const none = [
      edge('eu-1', 'eu', { state: 'draining' }),
      edge('eu-2', 'eu', { url: '' }),
      { ...edge('relay-eu', 'eu'), kind: 'relay' as const, capacity: 0 },
    ];
    expect(outcome({ nodes: none, roomNodes: carrying('eu-1', 'eu-2', 'relay-eu'), region: 'eu' })).toBe(
      'no-edges',
    );
    expect(outcome({ nodes: [...none, edge('us-1', 'us')], roomNodes: carrying('eu-1'), region: 'eu' })).toBe(
      'us-1:elsewhere',
    );
  });

  it('no edges at all', () => {
    expect(outcome({ nodes: [] })).toBe('no-edges');
  });

  it('ties: the least loaded, then the fewest participants, then the first heard', () => {
    const tied = [
      edge('eu-1', 'eu', { load: 0.3, participants: 10 }),
      edge('eu-2', 'eu', { load: 0.2, participants: 40 }),
      edge('eu-3', 'eu', { load: 0.2, participants: 20 }),
      edge('eu-4', 'eu', { load: 0.2, participants: 20 }),
    ];
    expect(outcome({ nodes: tied, region: 'eu' })).toBe('eu-3:region');
  });

  describe('edges the participant avoids (it could not reach them)', () => {
    it('are passed over in every tier while another edge can take the join', () => {
      expect(outcome({ nodes, roomNodes: carrying('eu-1'), region: 'eu', avoid: carrying('eu-1') })).toBe(
        'eu-2:region',
      );
      expect(outcome({ nodes, region: 'eu', avoid: carrying('eu-1', 'eu-2') })).toBe('us-1:elsewhere');
    });

    it('are still used when no other edge can take it: a hint, not a ban', () => {
      const one = [edge('eu-1', 'eu'), edge('us-1', 'us', { participants: 100 })];
      expect(outcome({ nodes: one, region: 'eu', avoid: carrying('eu-1') })).toBe('eu-1:region');
      expect(outcome({ nodes: [], avoid: carrying('eu-1') })).toBe('no-edges');
    });
  });

  describe('liveness from Redis', () => {
    const view = (expiries: Record<string, number>, now = 10_000): LivenessView => ({
      expiries: new Map(Object.entries(expiries)),
      now,
    });

    it('an edge whose liveness lapsed is skipped in every tier, though its last heartbeat looks fine', () => {
      const liveness = view({ 'eu-1': 9_999, 'eu-2': 10_000, 'us-1': 10_001, 'us-2': 12_000 });
      // eu-1 and eu-2 lapsed (at or before the read): the sticky and region tiers have nothing.
      expect(outcome({ nodes, liveness, roomNodes: carrying('eu-1', 'us-2'), region: 'eu' })).toBe(
        'us-2:sticky-elsewhere',
      );
      expect(outcome({ nodes, liveness, region: 'eu' })).toBe('us-1:elsewhere');
    });

    it('the one edge left lapsed: no edges, not a placement on a dead one', () => {
      expect(outcome({ nodes: [edge('eu-1', 'eu')], liveness: view({ 'eu-1': 5_000 }) })).toBe('no-edges');
    });

    it('an edge without a liveness record (Redis lost its data) is not skipped for it', () => {
      expect(outcome({ nodes, liveness: view({ 'eu-1': 1 }), region: 'eu' })).toBe('eu-2:region');
      expect(outcome({ nodes, liveness: view({}), region: 'eu' })).toBe('eu-1:region');
    });

    it('liveness not known (Redis away): nobody is skipped for it', () => {
      expect(outcome({ nodes, liveness: undefined, roomNodes: carrying('eu-1'), region: 'eu' })).toBe(
        'eu-1:sticky',
      );
    });

    it('a lapsed edge is not counted as full either: all-full only when live edges are full', () => {
      const some = [edge('eu-1', 'eu', { participants: 100 }), edge('eu-2', 'eu')];
      expect(outcome({ nodes: some, liveness: view({ 'eu-2': 0 }) })).toBe('all-full');
    });
  });
});
