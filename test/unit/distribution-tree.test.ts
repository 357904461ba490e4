import { describe, expect, it } from 'vitest';
import type { NodeReport } from '../../control-plane/protocol/nats.ts';
import { type HeardNode, upstreamFor } from '../../edge/src/routing/distributionTree.ts';
import { heartbeat } from '../helpers/heartbeats.ts';

const NOW = 1_000_000;

function node(
  nodeId: string,
  kind: 'edge' | 'relay',
  region: string,
  rooms: string[] = [],
  extra: Partial<NodeReport> = {},
): HeardNode {
  return { heartbeat: { ...heartbeat({ kind, region, rooms, ts: NOW }), nodeId, ...extra }, seen: NOW };
}

const decide = (nodes: HeardNode[], region: string, fanoutLimit = 4, room = 'r') =>
  upstreamFor({ room, origin: 'origin', region, nodes, now: NOW, staleAfterMs: 1500, fanoutLimit });

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

  it('without a live relay: straight from the origin (stale, draining or absent relays do not count)', () => {
    const edges = [origin, node('us-1', 'edge', 'us', ['r']), node('us-2', 'edge', 'us', ['r'])];
    expect(decide(edges, 'us')).toBe('origin');
    const stale = { ...node('relay-us', 'relay', 'us'), seen: NOW - 2000 };
    expect(decide([...edges, stale], 'us')).toBe('origin');
    const draining = node('relay-us', 'relay', 'us', [], { state: 'draining' });
    expect(decide([...edges, draining], 'us')).toBe('origin');
    const elsewhere = node('relay-eu', 'relay', 'eu');
    expect(decide([...edges, elsewhere], 'us')).toBe('origin');
  });

  it('every edge of a region picks the same relay for a room, whatever order it heard the nodes in', () => {
    const relays = ['relay-us-a', 'relay-us-b', 'relay-us-c'].map((id) => node(id, 'relay', 'us'));
    const edges = [origin, node('us-1', 'edge', 'us', ['lecture']), node('us-2', 'edge', 'us', ['lecture'])];
    const pick = (order: HeardNode[]) =>
      upstreamFor({
        room: 'lecture',
        origin: 'origin',
        region: 'us',
        nodes: order,
        now: NOW,
        staleAfterMs: 1500,
        fanoutLimit: 4,
      });
    const first = pick([...edges, ...relays]);
    expect(relays.map((r) => r.heartbeat.nodeId)).toContain(first);
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
          now: NOW,
          staleAfterMs: 1500,
          fanoutLimit: 4,
        }),
      ),
    );
    expect(chosen.size).toBeGreaterThan(1);
  });
});
