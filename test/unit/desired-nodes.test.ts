import {
  type AutoscaleSettings,
  type Decision,
  decideDesiredNodes,
  emptyPolicyState,
  type PolicyState,
} from '@kaskade/control-plane';
import type { CapacityReservation, NodeReport } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { heartbeat } from '../helpers/heartbeats.ts';

const S = 1000;
const MIN = 60 * S;

const settings: AutoscaleSettings = {
  targetLoad: 0.6,
  headroomNodes: 0,
  stabilizationMs: 5 * MIN,
  scaleDownStep: 1,
  leadMs: 15 * MIN,
  nodeStartupMs: 2 * MIN,
  participantsPerEdge: 500,
  limits: (_region, kind) => (kind === 'edge' ? { min: 1, max: 20 } : { min: 0, max: 5 }),
};

let ids = 0;
/** An edge (or relay) of a region as its heartbeat tells it. */
function node(region: string, load: number, extra: Partial<NodeReport> = {}): NodeReport {
  return {
    nodeId: `${extra.kind ?? 'edge'}-${region}-${++ids}`,
    ...heartbeat({ region, load, workers: 2, ...extra }),
  };
}

/** A policy run over time: each step decides at `now` with what the nodes say then. */
class Run {
  state: PolicyState = emptyPolicyState();
  now = Date.parse('2026-12-01T10:00:00Z');
  reservations: CapacityReservation[] = [];
  readonly settings: AutoscaleSettings;

  constructor(overrides: Partial<AutoscaleSettings> = {}) {
    this.settings = { ...settings, ...overrides };
  }

  decide(nodes: NodeReport[], advanceMs = 10 * S): Decision[] {
    this.now += advanceMs;
    const { decisions, state } = decideDesiredNodes(
      { now: this.now, nodes, reservations: this.reservations },
      this.state,
      this.settings,
    );
    this.state = state;
    return decisions;
  }

  desired(nodes: NodeReport[], region = 'eu', kind: 'edge' | 'relay' = 'edge', advanceMs = 10 * S): number {
    return of(this.decide(nodes, advanceMs), region, kind).desired;
  }
}

const of = (decisions: Decision[], region: string, kind: 'edge' | 'relay' = 'edge') => {
  const found = decisions.find((d) => d.region === region && d.kind === kind);
  if (!found) throw new Error(`no decision for ${region}/${kind}`);
  return found;
};

/** `count` edges of a region sharing `total` load evenly, empty of rooms (nothing pins them). */
const spread = (region: string, count: number, total: number) =>
  Array.from({ length: count }, () => node(region, total / count));

describe('desired nodes: load', () => {
  it('rises at once to what the load needs at the target load, per region, with its reasons', () => {
    const run = new Run();
    expect(run.desired(spread('eu', 2, 0.5))).toBe(1);
    // 2.7 nodes of work at 0.6 each: 5 nodes (4.5, rounded up), the very next decision.
    const decisions = run.decide([...spread('eu', 3, 2.7), ...spread('us', 1, 0.3)]);
    expect(of(decisions, 'eu').desired).toBe(5);
    expect(of(decisions, 'eu').nodes).toBe(3);
    expect(of(decisions, 'us').desired).toBe(1);
    expect(of(decisions, 'eu').reasons.join('\n')).toMatch(
      /load 2.7 over 3 serving edges[\s\S]*5 at target load 0.6/,
    );
    // A region has a decision for both kinds; relays nobody needs are 0.
    expect(of(decisions, 'eu', 'relay').desired).toBe(0);
    // Headroom: spare edges on top.
    expect(new Run({ headroomNodes: 2 }).desired(spread('eu', 3, 2.7))).toBe(7);
  });

  it('counts exact multiples as such (1.2 load at 0.6 is 2 nodes, not 3)', () => {
    expect(new Run().desired(spread('eu', 2, 1.2))).toBe(2);
  });

  it('adds the trend: a rising demand is projected ahead by the node startup time', () => {
    const run = new Run();
    // Demand rising 0.1 per 10 s: in the 2 minutes a node takes to start, 1.2 more.
    let desired = 0;
    for (let i = 1; i <= 13; i++) desired = run.desired(spread('eu', 4, 0.1 * i));
    const flat = new Run().desired(spread('eu', 4, 1.3)); // the same demand without a history
    expect(flat).toBe(3);
    expect(desired).toBe(5); // (1.3 + 1.2) / 0.6 = 4.17
    const reasons = of(run.decide(spread('eu', 4, 1.4)), 'eu').reasons.join('\n');
    expect(reasons).toMatch(/trend \+0.01\/s: 2.6 in 120 s/);
    // A falling trend projects nothing lower than the demand now.
    const falling = new Run({ stabilizationMs: 0 });
    for (let i = 13; i >= 1; i--) desired = falling.desired(spread('eu', 4, 0.1 * i));
    expect(desired).toBe(1);
  });

  it('falls only after the lower count was wanted for the stabilization window, one step at a time', () => {
    const run = new Run();
    expect(run.desired(spread('eu', 5, 2.9))).toBe(5);
    // The load drops: held for the whole window (5 minutes at 10 s per decision).
    const during: number[] = [];
    for (let t = 10 * S; t < 5 * MIN; t += 10 * S) during.push(run.desired(spread('eu', 5, 0.5)));
    expect(new Set(during)).toEqual(new Set([5]));
    expect(of(run.decide(spread('eu', 5, 0.5)), 'eu').reasons.join('\n')).toMatch(/held at 5/);
    // Then one node per decision, down to what the load wants.
    const after = [1, 2, 3, 4, 5].map(() => run.desired(spread('eu', 5, 0.5)));
    expect(after).toEqual([4, 3, 2, 1, 1]);
  });

  it('never flaps on a noisy load: rises at once, and the noise never lets it fall', () => {
    const run = new Run();
    const seen: number[] = [];
    // Load jittering between 1.1 and 1.3 (2 or 3 nodes wanted) every 10 s for 20 minutes.
    for (let i = 0; i < 120; i++) seen.push(run.desired(spread('eu', 3, i % 2 ? 1.1 : 1.3)));
    expect(seen[0]).toBe(3);
    expect(new Set(seen)).toEqual(new Set([3]));
    let changes = 0;
    for (let i = 1; i < seen.length; i++) if (seen[i] !== seen[i - 1]) changes++;
    expect(changes).toBe(0);
  });

  it('keeps the region and kind within its min and max, and says so', () => {
    const run = new Run({
      limits: (region, kind) =>
        kind === 'relay' ? { min: 1, max: 2 } : region === 'eu' ? { min: 2, max: 4 } : { min: 1, max: 20 },
    });
    const idle = run.decide([...spread('eu', 2, 0), ...spread('us', 2, 0)]);
    expect([of(idle, 'eu').desired, of(idle, 'us').desired, of(idle, 'eu', 'relay').desired]).toEqual([
      2, 1, 1,
    ]);
    expect(of(idle, 'eu').reasons).toContain('min 2');
    const busy = run.decide([...spread('eu', 4, 6), ...spread('us', 4, 6)]);
    expect([of(busy, 'eu').desired, of(busy, 'us').desired]).toEqual([4, 10]);
    expect(of(busy, 'eu').reasons).toContain('max 4 (wanted 10)');
    expect(of(busy, 'eu').wanted).toBe(10);
  });
});

describe('desired nodes: live rooms and draining nodes', () => {
  it('never falls below the serving nodes that carry rooms, whatever the load says', () => {
    const run = new Run({ stabilizationMs: 0, limits: () => ({ min: 0, max: 2 }) });
    // Four edges with a participant or a lecture's origin each, almost no load: all four stay.
    const nodes = [
      node('eu', 0.01, { participants: 1, rooms: ['lecture'] }),
      node('eu', 0.01, { participants: 1, rooms: ['lecture'] }),
      node('eu', 0.02, { participants: 0, rooms: ['lecture'] }), // carries the room's streams
      node('eu', 0.01, { participants: 2, rooms: ['standup'] }),
      node('eu', 0),
      node('eu', 0),
    ];
    const eu = of(run.decide(nodes), 'eu');
    expect(eu.desired).toBe(4); // above the max: the floor is nodes that exist and carry rooms
    expect(eu.reasons).toContain('floor: 4 serving edges carry rooms');
    // As the rooms end, the floor goes with them.
    expect(run.desired([nodes[0]!, node('eu', 0), node('eu', 0)])).toBe(1);
    // Relays carrying a room's streams stay too.
    const relays = [
      node('eu', 0.05, { kind: 'relay', rooms: ['lecture'] }),
      node('eu', 0, { kind: 'relay' }),
    ];
    expect(run.desired(relays, 'eu', 'relay')).toBe(1);
  });

  it('does not count draining nodes as capacity: their load moves onto the serving ones', () => {
    const run = new Run();
    const nodes = [
      node('eu', 0.5, { participants: 40, rooms: ['a'] }),
      node('eu', 0.5, { participants: 40, rooms: ['b'] }),
      node('eu', 0.5, { participants: 40, rooms: ['c'], state: 'draining' }),
    ];
    const eu = of(run.decide(nodes), 'eu');
    expect(eu.nodes).toBe(2);
    expect(eu.desired).toBe(3); // 1.5 nodes of work at 0.6: 3 serving nodes wanted
    expect(eu.reasons[0]).toBe('load 1.5 over 2 serving edges and 1 draining');
    // A draining node carrying rooms does not hold the floor: it is leaving anyway.
    const idle = new Run({ stabilizationMs: 0 });
    expect(
      idle.desired([node('eu', 0, { state: 'draining', participants: 3, rooms: ['x'] }), node('eu', 0)]),
    ).toBe(1);
  });

  it('wants a relay where a room comes from another region over more than one edge', () => {
    const run = new Run();
    const nodes = [
      node('eu', 0.2, { participants: 3, rooms: ['lecture'] }),
      node('us', 0.2, { participants: 3, rooms: ['lecture'] }),
      node('us', 0.2, { participants: 3, rooms: ['lecture'] }),
      node('us', 0.1, { kind: 'relay' }),
    ];
    const decisions = run.decide(nodes);
    expect(of(decisions, 'us', 'relay').desired).toBe(1);
    expect(of(decisions, 'us', 'relay').reasons.join('\n')).toMatch(/1 rooms come from other regions/);
    expect(of(decisions, 'eu', 'relay').desired).toBe(0); // one eu edge: straight from the origin
    // Relay load counts like edge load: 1.5 relays' worth at 0.6 is 3.
    const busy = [...nodes, node('us', 0.9, { kind: 'relay' }), node('us', 0.5, { kind: 'relay' })];
    expect(run.desired(busy, 'us', 'relay')).toBe(3);
  });
});

describe('desired nodes: lecture pre-warm', () => {
  const reservation = (extra: Partial<CapacityReservation> = {}): CapacityReservation => ({
    id: 'lecture-1',
    startsAt: '2026-12-01T11:00:00.000Z',
    endsAt: '2026-12-01T12:00:00.000Z',
    expectedParticipants: 1200,
    regions: { eu: 3, us: 1 },
    kind: 'lecture',
    ...extra,
  });
  const idle = () => [...spread('eu', 1, 0), ...spread('us', 1, 0)];

  it('rises a lead time before the start, sized from the audience per region and per-edge capacity', () => {
    const run = new Run();
    run.reservations = [reservation()];
    // 10:00 + 10 s: more than the 15-minute lead before 11:00: nothing yet.
    expect(run.desired(idle())).toBe(1);
    run.now = Date.parse('2026-12-01T10:44:00Z');
    expect(run.desired(idle(), 'eu', 'edge', 0)).toBe(1);
    // 10:45: 900 participants in eu at 100 per edge and target 0.6: 15 edges; 300 in us: 5.
    run.now = Date.parse('2026-12-01T10:45:00Z');
    const decisions = run.decide(idle(), 0);
    expect([of(decisions, 'eu').desired, of(decisions, 'us').desired]).toEqual([15, 5]);
    expect(of(decisions, 'eu').reasons.join('\n')).toMatch(
      /reservation lecture-1 \(lecture, starts in 900 s\): 900 participants at 100 per edge: 15 edges/,
    );
    // It spans regions: a relay in each region that needs more than one edge for it.
    expect([of(decisions, 'eu', 'relay').desired, of(decisions, 'us', 'relay').desired]).toEqual([1, 1]);
  });

  it('holds during the lecture until real load exceeds it, then follows the load; falls after the end', () => {
    const run = new Run();
    run.reservations = [reservation()];
    run.now = Date.parse('2026-12-01T10:50:00Z');
    expect(run.desired(idle(), 'eu', 'edge', 0)).toBe(15);
    // 11:05, running, few have come yet: held at the reservation.
    run.now = Date.parse('2026-12-01T11:05:00Z');
    expect(run.desired(spread('eu', 15, 3), 'eu', 'edge', 0)).toBe(15);
    // The audience came (and more): the load asks for 17, the reservation is met and released.
    const busy = spread('eu', 15, 10.2).map((n) => ({ ...n, participants: 60, rooms: ['lecture-1'] }));
    const met = of(run.decide(busy), 'eu');
    expect(met.desired).toBe(17);
    expect(met.reasons.join('\n')).toMatch(/reservations met by the load, released: lecture-1\/eu\/edge/);
    // People leave early (11:20): capacity follows the load down, after the window, not held to 15.
    const leaving = () => [...spread('eu', 15, 1.2), ...spread('us', 1, 0)];
    run.now = Date.parse('2026-12-01T11:20:00Z');
    run.desired(leaving(), 'eu', 'edge', 0);
    for (let i = 0; i < 60; i++) run.desired(leaving());
    expect(run.desired(leaving())).toBe(2);
    // Without the load rising to it, a reservation holds until its end, and then goes.
    const quiet = new Run({ stabilizationMs: 0, scaleDownStep: 100 });
    quiet.reservations = [reservation()];
    quiet.now = Date.parse('2026-12-01T11:59:50Z');
    expect(quiet.desired(idle(), 'eu', 'edge', 0)).toBe(15);
    expect(quiet.desired(idle(), 'eu', 'edge', 10 * S)).toBe(1); // 12:00: ended
  });

  it('spreads an audience without region shares over the regions that have edges; adds concurrent ones', () => {
    const run = new Run();
    run.now = Date.parse('2026-12-01T10:59:00Z');
    run.reservations = [
      reservation({ regions: undefined, expectedParticipants: 600 }),
      reservation({ id: 'meeting-2', regions: { eu: 1 }, expectedParticipants: 120, kind: 'meeting' }),
    ];
    const decisions = run.decide([...idle(), node('ap', 0)], 0);
    // 600 over eu, us and ap: 200 each, 4 edges; eu also 120 for the meeting: 2 more.
    expect([of(decisions, 'eu').desired, of(decisions, 'us').desired, of(decisions, 'ap').desired]).toEqual([
      6, 4, 4,
    ]);
    // No edge reports a capacity: sized with the setting (500 per edge).
    const blind = new Run();
    blind.now = Date.parse('2026-12-01T10:59:00Z');
    blind.reservations = [reservation({ regions: { eu: 1 }, expectedParticipants: 1200 })];
    expect(blind.desired([node('eu', 0, { capacity: 0 })], 'eu', 'edge', 0)).toBe(4);
    // A region named only by a reservation gets a decision too (its edges scaled to zero).
    run.reservations = [reservation({ regions: { sa: 1 }, expectedParticipants: 60 })];
    expect(run.desired(idle(), 'sa', 'edge', 0)).toBe(1);
  });

  it('forgets a deleted reservation: capacity falls after the window as for any load', () => {
    const run = new Run({ stabilizationMs: 30 * S, scaleDownStep: 20 });
    run.reservations = [reservation()];
    run.now = Date.parse('2026-12-01T10:50:00Z');
    expect(run.desired(idle(), 'eu', 'edge', 0)).toBe(15);
    run.reservations = [];
    expect(run.desired(idle())).toBe(15);
    expect(run.desired(idle(), 'eu', 'edge', 30 * S)).toBe(1);
  });
});
