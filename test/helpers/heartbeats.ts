import type { NodeHeartbeat } from '@kaskade/protocol';

/** An idle, serving edge's heartbeat, with whatever a test sets on top. */
export function heartbeat(overrides: Partial<NodeHeartbeat> = {}): NodeHeartbeat {
  return {
    kind: 'edge',
    region: 'eu',
    url: '',
    state: 'serving',
    workers: 1,
    participants: 0,
    consumers: 0,
    producers: 0,
    load: 0,
    bitrateBps: { in: 0, out: 0 },
    capacity: 100,
    rooms: [],
    ts: 0,
    ...overrides,
  };
}
