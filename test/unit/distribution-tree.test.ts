import { upstreamFor } from '@kaskade/edge';
import type { NodeReport } from '@kaskade/protocol';
import { describe, expect, it } from 'vitest';
import { heartbeat } from '../helpers/heartbeats.ts';

const NOW = 1_000_000;

function node(
  nodeId: string,
  kind: 'edge' | 'relay',
  region: string,
  rooms: string[] = [],
  extra: Partial<NodeReport> = {},
): NodeReport {
  return { ...heartbeat({ kind, region, rooms, ts: NOW }), nodeId, ...extra };
}

const decide = (
  nodes: NodeReport[],
  region: string,
  fanoutLimit = 4,
  room = 'r',
  unavailable: ReadonlySet<string> = new Set(),
) => upstreamFor({ room, origin: 'origin', region, nodes, unavailable, fanoutLimit });

describe('the distribution tree (which upstream an edge takes a stream from)', () => {
  const origin = node('origin', 'edge', 'eu', ['r']);

  it('a far region with one edge carrying the room pipes straight from the origin', () => {
    expect(decide([origin, node('us-1', 'edge', 'us', ['r']), node('relay-us', 'relay', 'us')], 'us')).toBe(
      'origin',
    );
  });

  it('a far region with two edges carrying the room goes through its relay', () => {
    const nodes = [
      origin,
      node('us-1', 'edge', 'us', ['r']),
      node('us-2', 'edge', 'us', ['r']),
      node('relay-us', 'relay', 'us'),
    ];
    expect(decide(nodes, 'us')).toBe('relay-us');
  });

  it('edges that do not carry the room do not count', () => {
    const nodes = [
      origin,
      node('us-1', 'edge', 'us', ['r']),
      node('us-2', 'edge', 'us', ['other']),
      node('relay-us', 'relay', 'us'),
    ];
    expect(decide(nodes, 'us')).toBe('origin');
  });

  it('in the origin’s region, edges are fed straight up to the fan-out limit, then through the relay', () => {
    const eu = (n: number) => Array.from({ length: n }, (_, i) => node(`eu-${i}`, 'edge', 'eu', ['r']));
    const relay = node('relay-eu', 'relay', 'eu');
    expect(decide([origin, ...eu(3), relay], 'eu', 4)).toBe('origin'); // origin + 3 = 4 edges
    expect(decide([origin, ...eu(4), relay], 'eu', 4)).toBe('relay-eu'); // 5 > 4
  });

  it('without a usable relay: straight from the origin (unavailable, draining or absent relays do not count)', () => {
    const edges = [origin, node('us-1', 'edge', 'us', ['r']), node('us-2', 'edge', 'us', ['r'])];
    expect(decide(edges, 'us')).toBe('origin');
    const relay = node('relay-us', 'relay', 'us');
    expect(decide([...edges, relay], 'us', 4, 'r', new Set(['relay-us']))).toBe('origin');
    const draining = node('relay-us', 'relay', 'us', [], { state: 'draining' });
    expect(decide([...edges, draining], 'us')).toBe('origin');
    const elsewhere = node('relay-eu', 'relay', 'eu');
    expect(decide([...edges, elsewhere], 'us')).toBe('origin');
  });

  it('a relay whose heartbeats are late still carries the room: only unavailability moves the tree', () => {
    const edges = [origin, node('us-1', 'edge', 'us', ['r']), node('us-2', 'edge', 'us', ['r'])];
    const late = node('relay-us', 'relay', 'us', [], { ts: NOW - 60_000 });
    expect(decide([...edges, late], 'us')).toBe('relay-us');
  });

  it('an unavailable relay is skipped for the next one of the region', () => {
    const relays = ['relay-us-a', 'relay-us-b'].map((id) => node(id, 'relay', 'us'));
    const edges = [origin, node('us-1', 'edge', 'us', ['r']), node('us-2', 'edge', 'us', ['r'])];
    const first = decide([...edges, ...relays], 'us');
    const second = decide([...edges, ...relays], 'us', 4, 'r', new Set([first]));
    expect(second).not.toBe(first);
    expect(second.startsWith('relay-us')).toBe(true);
  });

  it('every edge of a region picks the same relay for a room, whatever order it heard the nodes in', () => {
    const relays = ['relay-us-a', 'relay-us-b', 'relay-us-c'].map((id) => node(id, 'relay', 'us'));
    const edges = [origin, node('us-1', 'edge', 'us', ['lecture']), node('us-2', 'edge', 'us', ['lecture'])];
    const pick = (order: NodeReport[]) =>
      upstreamFor({
        room: 'lecture',
        origin: 'origin',
        region: 'us',
        nodes: order,
        unavailable: new Set(),
        fanoutLimit: 4,
      });
    const first = pick([...edges, ...relays]);
    expect(relays.map((r) => r.nodeId)).toContain(first);
    expect(pick([...relays].reverse().concat(edges))).toBe(first);
    // Rooms spread over the relays.
    const rooms = Array.from({ length: 30 }, (_, i) => `room-${i}`);
    const chosen = new Set(
      rooms.map((room) =>
        upstreamFor({
          room,
          origin: 'origin',
          region: 'us',
          nodes: [origin, node('us-1', 'edge', 'us', [room]), node('us-2', 'edge', 'us', [room]), ...relays],
          unavailable: new Set(),
          fanoutLimit: 4,
        }),
      ),
    );
    expect(chosen.size).toBeGreaterThan(1);
  });
});
